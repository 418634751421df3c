//! Progress bars for long work (backfill, export, backtest, simulate), drawn only on a terminal
//! and never with `--quiet`, and the log writer that prints log lines above the bar instead of
//! through it.

use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressStyle};
use odds_jobs::backfill::Progress;
use tracing_subscriber::fmt::MakeWriter;

/// The progress bar of the moment, shared with the log writer so that a log line is printed
/// above the bar instead of through it.
#[derive(Clone)]
pub struct Bars {
    current: Arc<Mutex<Option<ProgressBar>>>,
    shown: bool,
}

impl Bars {
    /// Bars are drawn only on a terminal, and never with `--quiet`.
    pub fn new(quiet: bool) -> Bars {
        Bars {
            current: Arc::default(),
            shown: !quiet && io::stderr().is_terminal(),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Option<ProgressBar>) -> R) -> R {
        let mut guard = self.current.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }
}

impl Progress for Bars {
    fn begin(&self, what: &str, total: usize) {
        if !self.shown {
            return;
        }
        // Without a known total, a spinner and a count.
        let (bar, template) = if total == 0 {
            (ProgressBar::new_spinner(), "{spinner} {prefix} {pos} {msg}")
        } else {
            (
                ProgressBar::new(total as u64),
                "{prefix} [{bar:30}] {pos}/{len} {wide_msg} (eta {eta})",
            )
        };
        let bar = bar.with_prefix(what.to_string());
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        self.with(|current| *current = Some(bar));
    }

    fn step(&self, note: &str) {
        self.with(|current| {
            if let Some(bar) = current {
                bar.set_message(note.to_string());
                bar.inc(1);
            }
        });
    }

    fn at(&self, done: usize, note: &str) {
        self.with(|current| {
            if let Some(bar) = current {
                bar.set_position(done as u64);
                bar.set_message(note.to_string());
            }
        });
    }

    fn end(&self) {
        if let Some(bar) = self.with(Option::take) {
            bar.finish_and_clear();
        }
    }
}

/// Log lines written to stderr above the bar.
pub struct BarWriter(Bars);

impl Write for BarWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let bar = self.0.with(|current| current.clone());
        match bar {
            Some(bar) => bar.suspend(|| io::stderr().write_all(buf))?,
            None => io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for Bars {
    type Writer = BarWriter;

    fn make_writer(&'a self) -> BarWriter {
        BarWriter(self.clone())
    }
}
