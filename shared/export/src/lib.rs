//! Data out: the stored tables as Parquet (zstd, typed columns) or CSV, one dataset per table
//! in Hive-style partitions `<out>/<table>/sport=<key>/month=<YYYY-MM>/part-0.<ext>` that
//! DuckDB, pandas, polars, Spark and Athena read as they are.
//!
//! Rows stream from PostgreSQL in batches, so memory stays flat whatever the table's size.
//! Partitions are whole UTC months: a range is widened to the months it touches, and
//! re-exporting a month replaces that month's files and nothing else. Each file is written
//! beside its place and renamed into it once complete, so an error leaves no partial file.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use futures_util::{TryStreamExt, pin_mut};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde::Serialize;

use odds_core::time::utc_midnight;
use odds_research::closing::{Reference, closing_lines};
use odds_research::fair::FairMethod;
use odds_store::Store;

/// What can be exported.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::Display, strum::IntoStaticStr, strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum Table {
    Odds,
    Snapshots,
    Events,
    /// Each book's closing line of each game, with the reference's fair probability.
    Closing,
    FetchLogs,
}

odds_core::named!(Table, "table");

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::Display, strum::IntoStaticStr, strum::VariantArray,
)]
#[strum(serialize_all = "lowercase")]
pub enum Format {
    Parquet,
    Csv,
}

odds_core::named!(Format, "format");

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("nothing stored for {table} from {from} to {to}")]
    Empty {
        table: Table,
        from: NaiveDate,
        to: NaiveDate,
    },
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error(transparent)]
    Store(#[from] odds_store::StoreError),
    #[error("database: {0}")]
    Database(#[from] tokio_postgres::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Time,
    I32,
    I64,
    F64,
    Bool,
}

struct Column {
    name: &'static str,
    kind: Kind,
    nullable: bool,
}

const fn col(name: &'static str, kind: Kind, nullable: bool) -> Column {
    Column {
        name,
        kind,
        nullable,
    }
}

use Kind::*;

const ODDS: &[Column] = &[
    col("event_id", Text, false),
    col("sport_key", Text, false),
    col("snapshot_time", Time, false),
    col("bookmaker_key", Text, false),
    col("bookmaker_title", Text, false),
    col("market_key", Text, false),
    col("outcome_name", Text, false),
    col("description", Text, true),
    col("price", I32, false),
    col("point", F64, true),
    col("last_update", Time, true),
    col("is_valid", Bool, false),
    col("validation_notes", Text, true),
];

const SNAPSHOTS: &[Column] = &[
    col("id", I64, false),
    col("event_id", Text, false),
    col("sport_key", Text, false),
    col("snapshot_time", Time, false),
    col("fetch_tier", Text, false),
    col("hours_until_commence", F64, false),
    col("bookmaker_count", I32, false),
    col("raw_data", Text, false),
];

const EVENTS: &[Column] = &[
    col("id", Text, false),
    col("sport_key", Text, false),
    col("home_team", Text, false),
    col("away_team", Text, false),
    col("commence_time", Time, false),
    col("status", Text, false),
    col("home_score", I32, true),
    col("away_score", I32, true),
    col("completed_at", Time, true),
    col("listed_at", Time, true),
];

const CLOSING: &[Column] = &[
    col("event_id", Text, false),
    col("sport_key", Text, false),
    col("commence_time", Time, false),
    col("book", Text, false),
    col("market", Text, false),
    col("outcome", Text, false),
    col("description", Text, true),
    col("point", F64, true),
    col("price", I32, false),
    col("taken_at", Time, false),
    col("book_fair_probability", F64, true),
    col("fair_probability", F64, true),
    col("reference", Text, true),
];

const FETCH_LOGS: &[Column] = &[
    col("id", I64, false),
    col("fetched_at", Time, false),
    col("job_name", Text, true),
    col("endpoint", Text, false),
    col("sport_key", Text, true),
    col("http_status", I32, true),
    col("success", Bool, false),
    col("events_count", I32, true),
    col("credits_last", I64, true),
    col("credits_used", I64, true),
    col("credits_remaining", I64, true),
    col("duration_ms", I64, false),
    col("error", Text, true),
];

impl Table {
    fn columns(self) -> &'static [Column] {
        match self {
            Table::Odds => ODDS,
            Table::Snapshots => SNAPSHOTS,
            Table::Events => EVENTS,
            Table::Closing => CLOSING,
            Table::FetchLogs => FETCH_LOGS,
        }
    }

    /// The (sport, month) partitions holding rows in `[$1, $2)`.
    fn partitions_sql(self) -> &'static str {
        match self {
            Table::Odds | Table::Snapshots => {
                "SELECT DISTINCT e.sport_key, date_trunc('month', s.snapshot_time AT TIME ZONE 'UTC')::date
                   FROM odds_snapshots s JOIN events e ON e.id = s.event_id
                  WHERE s.snapshot_time >= $1 AND s.snapshot_time < $2 ORDER BY 1, 2"
            }
            Table::Events | Table::Closing => {
                "SELECT DISTINCT sport_key, date_trunc('month', commence_time AT TIME ZONE 'UTC')::date
                   FROM events WHERE commence_time >= $1 AND commence_time < $2 ORDER BY 1, 2"
            }
            Table::FetchLogs => {
                "SELECT DISTINCT COALESCE(sport_key, 'none'), date_trunc('month', fetched_at AT TIME ZONE 'UTC')::date
                   FROM fetch_logs WHERE fetched_at >= $1 AND fetched_at < $2 ORDER BY 1, 2"
            }
        }
    }

    /// The rows of one partition: sport `$1`, times in `[$2, $3)`, columns in `columns()` order.
    fn rows_sql(self) -> &'static str {
        match self {
            Table::Odds => {
                "SELECT o.event_id, e.sport_key, o.snapshot_time, o.bookmaker_key, o.bookmaker_title,
                        o.market_key, o.outcome_name, o.description, round(o.price)::int4, o.point,
                        o.last_update, o.is_valid, o.validation_notes::text
                   FROM odds o JOIN events e ON e.id = o.event_id
                  WHERE e.sport_key = $1 AND o.snapshot_time >= $2 AND o.snapshot_time < $3"
            }
            Table::Snapshots => {
                "SELECT s.id, s.event_id, e.sport_key, s.snapshot_time, s.fetch_tier,
                        s.hours_until_commence, s.bookmaker_count, s.raw_data::text
                   FROM odds_snapshots s JOIN events e ON e.id = s.event_id
                  WHERE e.sport_key = $1 AND s.snapshot_time >= $2 AND s.snapshot_time < $3
                  ORDER BY s.snapshot_time, s.event_id"
            }
            Table::Events | Table::Closing => {
                "SELECT id, sport_key, home_team, away_team, commence_time, status, home_score,
                        away_score, completed_at, listed_at
                   FROM events WHERE sport_key = $1 AND commence_time >= $2 AND commence_time < $3
                  ORDER BY commence_time, id"
            }
            Table::FetchLogs => {
                "SELECT id, fetched_at, job_name, endpoint, sport_key, http_status, success,
                        events_count, credits_last, credits_used, credits_remaining, duration_ms, error
                   FROM fetch_logs WHERE COALESCE(sport_key, 'none') = $1
                    AND fetched_at >= $2 AND fetched_at < $3
                  ORDER BY fetched_at, id"
            }
        }
    }
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Text(String),
    Time(DateTime<Utc>),
    I32(i32),
    I64(i64),
    F64(f64),
    Bool(bool),
}

fn cell(row: &tokio_postgres::Row, i: usize, kind: Kind) -> Cell {
    let or_null = |c: Option<Cell>| c.unwrap_or(Cell::Null);
    match kind {
        Text => or_null(row.get::<_, Option<String>>(i).map(Cell::Text)),
        Time => or_null(row.get::<_, Option<DateTime<Utc>>>(i).map(Cell::Time)),
        I32 => or_null(row.get::<_, Option<i32>>(i).map(Cell::I32)),
        I64 => or_null(row.get::<_, Option<i64>>(i).map(Cell::I64)),
        F64 => or_null(row.get::<_, Option<f64>>(i).map(Cell::F64)),
        Bool => or_null(row.get::<_, Option<bool>>(i).map(Cell::Bool)),
    }
}

/// The files a partition went to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportedFile {
    pub path: PathBuf,
    pub rows: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportReport {
    pub table: String,
    pub format: String,
    /// The months exported, widened from the range asked for.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub files: Vec<ExportedFile>,
    pub rows: usize,
}

/// Where an export goes and what it holds.
pub struct ExportRequest<'a> {
    pub table: Table,
    pub format: Format,
    /// US Eastern or UTC days alike: the months they fall in are exported whole.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub out: &'a Path,
    /// Rows per batch (and per Parquet row group, at most).
    pub batch_rows: usize,
}

/// Reports progress: rows written so far.
pub type Progress<'a> = &'a (dyn Fn(usize) + Sync);

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn next_month(d: NaiveDate) -> NaiveDate {
    first_of_month(d)
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(d)
}

/// Exports a table; see the module's documentation.
pub async fn export(
    store: &Store,
    request: &ExportRequest<'_>,
    progress: Progress<'_>,
) -> Result<ExportReport, ExportError> {
    let from = first_of_month(request.from);
    let end = next_month(request.to);
    let client = store
        .pool()
        .get()
        .await
        .map_err(odds_store::StoreError::from)?;
    let partitions: Vec<(String, NaiveDate)> = client
        .query(
            request.table.partitions_sql(),
            &[&utc_midnight(from), &utc_midnight(end)],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    if partitions.is_empty() {
        return Err(ExportError::Empty {
            table: request.table,
            from: request.from,
            to: request.to,
        });
    }
    let mut report = ExportReport {
        table: request.table.to_string(),
        format: request.format.to_string(),
        from,
        to: end.pred_opt().unwrap_or(end),
        files: Vec::new(),
        rows: 0,
    };
    for (sport, month) in partitions {
        let dir = request
            .out
            .join(request.table.as_str())
            .join(format!("sport={sport}"))
            .join(format!("month={:04}-{:02}", month.year(), month.month()));
        let file = dir.join(format!("part-0.{}", request.format.extension()));
        let mut sink = Sink::open(request.table, request.format, &dir, &file)?;
        let start = utc_midnight(month);
        let stop = utc_midnight(next_month(month));
        let written = match request.table {
            Table::Closing => {
                closing_rows(
                    store,
                    &client,
                    &sport,
                    start,
                    stop,
                    &mut sink,
                    request.batch_rows,
                )
                .await
            }
            table => {
                stream_rows(
                    &client,
                    table,
                    &sport,
                    start,
                    stop,
                    &mut sink,
                    request.batch_rows,
                    |n| progress(report.rows + n),
                )
                .await
            }
        };
        let rows = match written {
            Ok(rows) => rows,
            Err(e) => {
                sink.abandon();
                return Err(e);
            }
        };
        sink.finish()?;
        report.rows += rows;
        progress(report.rows);
        report.files.push(ExportedFile { path: file, rows });
    }
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
async fn stream_rows(
    client: &tokio_postgres::Client,
    table: Table,
    sport: &str,
    start: DateTime<Utc>,
    stop: DateTime<Utc>,
    sink: &mut Sink,
    batch_rows: usize,
    progress: impl Fn(usize),
) -> Result<usize, ExportError> {
    let columns = table.columns();
    let stmt = client.prepare(table.rows_sql()).await?;
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] = [&sport, &start, &stop];
    let stream = client.query_raw(&stmt, params).await?;
    pin_mut!(stream);
    let mut batch: Vec<Vec<Cell>> = Vec::with_capacity(batch_rows);
    let mut rows = 0;
    while let Some(row) = stream.try_next().await? {
        batch.push(
            columns
                .iter()
                .enumerate()
                .map(|(i, c)| cell(&row, i, c.kind))
                .collect(),
        );
        if batch.len() >= batch_rows {
            rows += batch.len();
            sink.write(&batch)?;
            batch.clear();
            progress(rows);
        }
    }
    rows += batch.len();
    sink.write(&batch)?;
    Ok(rows)
}

async fn closing_rows(
    store: &Store,
    client: &tokio_postgres::Client,
    sport: &str,
    start: DateTime<Utc>,
    stop: DateTime<Utc>,
    sink: &mut Sink,
    batch_rows: usize,
) -> Result<usize, ExportError> {
    let games = client
        .query(Table::Events.rows_sql(), &[&sport, &start, &stop])
        .await?;
    let reference = Reference::default_books();
    let mut batch: Vec<Vec<Cell>> = Vec::new();
    let mut rows = 0;
    for game in games {
        let (id, commence): (String, DateTime<Utc>) = (game.get(0), game.get(4));
        let lines = store.get_odds_at_time(&id, commence).await?;
        for l in closing_lines(&lines, &reference, FairMethod::Multiplicative) {
            let opt_f = |v: Option<f64>| v.map_or(Cell::Null, Cell::F64);
            batch.push(vec![
                Cell::Text(l.event_id),
                Cell::Text(sport.to_string()),
                Cell::Time(commence),
                Cell::Text(l.book),
                Cell::Text(l.market),
                Cell::Text(l.outcome),
                l.description.map_or(Cell::Null, Cell::Text),
                opt_f(l.point),
                Cell::I32(l.price.round() as i32),
                Cell::Time(l.taken_at),
                opt_f(l.book_fair_probability),
                opt_f(l.fair_probability),
                l.reference.map_or(Cell::Null, Cell::Text),
            ]);
        }
        if batch.len() >= batch_rows {
            rows += batch.len();
            sink.write(&batch)?;
            batch.clear();
        }
    }
    rows += batch.len();
    sink.write(&batch)?;
    Ok(rows)
}

/// A partition's file being written: beside its place until finished.
struct Sink {
    partial: PathBuf,
    file: PathBuf,
    dir: PathBuf,
    writer: Writer,
    columns: &'static [Column],
    schema: Arc<Schema>,
}

enum Writer {
    Parquet(Option<ArrowWriter<File>>),
    Csv(csv::Writer<File>),
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> ExportError {
    ExportError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn schema(columns: &[Column]) -> Arc<Schema> {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| {
                let kind = match c.kind {
                    Text => DataType::Utf8,
                    Time => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                    I32 => DataType::Int32,
                    I64 => DataType::Int64,
                    F64 => DataType::Float64,
                    Bool => DataType::Boolean,
                };
                Field::new(c.name, kind, c.nullable)
            })
            .collect::<Vec<_>>(),
    ))
}

impl Sink {
    fn open(table: Table, format: Format, dir: &Path, file: &Path) -> Result<Sink, ExportError> {
        std::fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
        let partial = file.with_extension(format!("{}.partial", format.extension()));
        let handle = File::create(&partial).map_err(|e| file_error(&partial, e))?;
        let columns = table.columns();
        let schema = schema(columns);
        let writer = match format {
            Format::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::default()))
                    .set_max_row_group_row_count(Some(128 * 1024))
                    .build();
                Writer::Parquet(Some(
                    ArrowWriter::try_new(handle, schema.clone(), Some(props))
                        .map_err(|e| file_error(&partial, e))?,
                ))
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(handle);
                w.write_record(columns.iter().map(|c| c.name))
                    .map_err(|e| file_error(&partial, e))?;
                Writer::Csv(w)
            }
        };
        Ok(Sink {
            partial,
            file: file.to_path_buf(),
            dir: dir.to_path_buf(),
            writer,
            columns,
            schema,
        })
    }

    fn write(&mut self, rows: &[Vec<Cell>]) -> Result<(), ExportError> {
        if rows.is_empty() {
            return Ok(());
        }
        match &mut self.writer {
            Writer::Parquet(Some(w)) => {
                let arrays: Vec<ArrayRef> = self
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| array(rows, i, c.kind))
                    .collect();
                let batch = RecordBatch::try_new(self.schema.clone(), arrays)
                    .map_err(|e| file_error(&self.partial, e))?;
                w.write(&batch).map_err(|e| file_error(&self.partial, e))
            }
            Writer::Parquet(None) => Ok(()),
            Writer::Csv(w) => {
                for row in rows {
                    w.write_record(row.iter().map(text))
                        .map_err(|e| file_error(&self.partial, e))?;
                }
                Ok(())
            }
        }
    }

    /// Closes the file and puts it in place of the partition's old files.
    fn finish(mut self) -> Result<(), ExportError> {
        let closed = match &mut self.writer {
            Writer::Parquet(w) => match w.take() {
                Some(w) => w
                    .close()
                    .map(|_| ())
                    .map_err(|e| file_error(&self.partial, e)),
                None => Ok(()),
            },
            Writer::Csv(w) => w.flush().map_err(|e| file_error(&self.partial, e)),
        };
        if let Err(e) = closed {
            self.abandon();
            return Err(e);
        }
        // A month's earlier files go: what replaces them is this one.
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if path != self.partial && name.starts_with("part-") && !name.ends_with(".partial")
                {
                    std::fs::remove_file(&path).map_err(|e| file_error(&path, e))?;
                }
            }
        }
        std::fs::rename(&self.partial, &self.file).map_err(|e| file_error(&self.file, e))
    }

    fn abandon(&self) {
        let _ = std::fs::remove_file(&self.partial);
    }
}

fn text(cell: &Cell) -> String {
    match cell {
        Cell::Null => String::new(),
        Cell::Text(s) => s.clone(),
        Cell::Time(t) => t.to_rfc3339_opts(SecondsFormat::Micros, true),
        Cell::I32(v) => v.to_string(),
        Cell::I64(v) => v.to_string(),
        Cell::F64(v) => v.to_string(),
        Cell::Bool(v) => v.to_string(),
    }
}

fn array(rows: &[Vec<Cell>], i: usize, kind: Kind) -> ArrayRef {
    let cells = rows.iter().map(|r| &r[i]);
    match kind {
        Text => {
            let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 16);
            for c in cells {
                match c {
                    Cell::Text(s) => b.append_value(s),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        Time => {
            let mut b = TimestampMicrosecondBuilder::with_capacity(rows.len()).with_timezone("UTC");
            for c in cells {
                match c {
                    Cell::Time(t) => b.append_value(t.timestamp_micros()),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        I32 => {
            let mut b = Int32Builder::with_capacity(rows.len());
            for c in cells {
                match c {
                    Cell::I32(v) => b.append_value(*v),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        I64 => {
            let mut b = Int64Builder::with_capacity(rows.len());
            for c in cells {
                match c {
                    Cell::I64(v) => b.append_value(*v),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        F64 => {
            let mut b = Float64Builder::with_capacity(rows.len());
            for c in cells {
                match c {
                    Cell::F64(v) => b.append_value(*v),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        Bool => {
            let mut b = BooleanBuilder::with_capacity(rows.len());
            for c in cells {
                match c {
                    Cell::Bool(v) => b.append_value(*v),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
    }
}
