//! Charts: a game's line movement by book, and a backtest's bankroll, as SVG or PNG (by the
//! file's extension). Text is drawn with DejaVu Sans, embedded in the binary, so no system font
//! or fontconfig is needed at build or run time.
//!
//! In the SVG, each book's line is one `<polyline>` two pixels wide in the book's colour (axes
//! and ticks are one pixel, black); markers are thin rectangles and legend swatches squares, so
//! a reader (or a test) can count the books.

use std::path::Path;
use std::sync::Once;

use chrono::{DateTime, Duration, Utc};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("{0}: the file must end in .svg or .png")]
    Format(String),
    #[error("nothing to draw: {0}")]
    Empty(String),
    #[error("drawing {path}: {message}")]
    Draw { path: String, message: String },
}

/// One book's line over time.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(DateTime<Utc>, f64)>,
}

/// A vertical marker: tip-off, a tier boundary.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub at: DateTime<Utc>,
    pub label: String,
}

/// What a line-movement chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Movement {
    pub title: String,
    /// What the y axis is (`home spread`, `total`, `home price`).
    pub y_label: String,
    pub series: Vec<Series>,
    pub markers: Vec<Marker>,
}

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 700;
const FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// The embedded font, registered once for every family the charts name.
fn fonts() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// The pixel size of the PNG charts.
pub fn png_size() -> (u32, u32) {
    (WIDTH, HEIGHT)
}

fn colour(i: usize) -> RGBColor {
    const PALETTE: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    PALETTE[i % PALETTE.len()]
}

/// Draws onto an SVG or PNG file, as its extension says.
fn render(
    out: &Path,
    draw: impl FnOnce(DrawingArea<SVGBackend, Shift>) -> Result<(), String>,
    draw_png: impl FnOnce(DrawingArea<BitMapBackend, Shift>) -> Result<(), String>,
) -> Result<(), ChartError> {
    fonts();
    let name = out.display().to_string();
    let failed = |message: String| ChartError::Draw {
        path: name.clone(),
        message,
    };
    match out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_lowercase)
        .as_deref()
    {
        Some("svg") => {
            let root = SVGBackend::new(out, (WIDTH, HEIGHT)).into_drawing_area();
            draw(root).map_err(failed)
        }
        Some("png") => {
            let root = BitMapBackend::new(out, (WIDTH, HEIGHT)).into_drawing_area();
            draw_png(root).map_err(failed)
        }
        _ => Err(ChartError::Format(name)),
    }
}

/// A line-movement chart of `m` into `out` (`.svg` or `.png`).
pub fn movement(m: &Movement, out: &Path) -> Result<(), ChartError> {
    let points: Vec<&(DateTime<Utc>, f64)> = m.series.iter().flat_map(|s| &s.points).collect();
    if points.is_empty() {
        return Err(ChartError::Empty(m.title.clone()));
    }
    render(
        out,
        |root| draw_movement(root, m),
        |root| draw_movement(root, m),
    )
}

fn span<T: PartialOrd + Copy>(values: impl Iterator<Item = T>) -> Option<(T, T)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((if v < lo { v } else { lo }, if v > hi { v } else { hi })),
    })
}

fn draw_movement<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    m: &Movement,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let e = |err: DrawingAreaErrorKind<DB::ErrorType>| err.to_string();
    root.fill(&WHITE).map_err(e)?;
    let times = m
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .chain(m.markers.iter().map(|k| k.at));
    let (t0, t1) = span(times).ok_or("no times")?;
    let (y0, y1) =
        span(m.series.iter().flat_map(|s| s.points.iter().map(|p| p.1))).ok_or("no values")?;
    let pad = ((y1 - y0) * 0.15).max(0.5);
    let t1 = if t1 > t0 { t1 } else { t0 + Duration::hours(1) };
    let mut chart = ChartBuilder::on(&root)
        .caption(&m.title, ("sans-serif", 24))
        .margin(20)
        .margin_right(90)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(t0..t1, (y0 - pad)..(y1 + pad))
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("UTC")
        .y_desc(m.y_label.as_str())
        .x_label_formatter(&|t: &DateTime<Utc>| t.format("%m-%d %H:%M").to_string())
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    for marker in &m.markers {
        // A thin rectangle, not a line: the SVG's polylines are the books alone.
        let width = (t1 - t0) / 1500;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(marker.at, y0 - pad), (marker.at + width, y1 + pad)],
                BLACK.mix(0.5).filled(),
            )))
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(Text::new(
                marker.label.clone(),
                (marker.at, y1 + pad * 0.8),
                ("sans-serif", 13).into_font(),
            )))
            .map_err(e)?;
    }
    for (i, s) in m.series.iter().enumerate() {
        let c = colour(i);
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), c.stroke_width(2)))
            .map_err(e)?
            .label(s.label.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()));
        // The close: the book's last value, labelled.
        if let Some(&(t, v)) = s.points.last() {
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("close {v}"),
                    (t, v),
                    ("sans-serif", 12).into_font().color(&c),
                )))
                .map_err(e)?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    root.present().map_err(e)
}

/// A backtest's bankroll after each night, and the starting bankroll as a marker.
pub fn equity(
    title: &str,
    start: f64,
    curve: &[(DateTime<Utc>, f64)],
    out: &Path,
) -> Result<(), ChartError> {
    if curve.is_empty() {
        return Err(ChartError::Empty(format!("{title}: no bets")));
    }
    let m = Movement {
        title: title.to_string(),
        y_label: "bankroll".into(),
        series: vec![Series {
            label: format!("bankroll (start {start})"),
            points: curve.to_vec(),
        }],
        markers: Vec::new(),
    };
    render(
        out,
        |root| draw_movement(root, &m),
        |root| draw_movement(root, &m),
    )
}
