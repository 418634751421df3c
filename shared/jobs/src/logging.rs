//! Tracing set-up shared by every binary: JSON lines for machines (Lambda, Railway), a compact
//! human format otherwise.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use odds_core::settings::LogFormat;

/// Installs the global subscriber once; later calls are ignored. `RUST_LOG`, when set, wins over
/// `level` so a single module can be turned up.
pub fn init(level: &str, format: LogFormat) {
    init_to(level, format, std::io::stderr);
}

/// [`init`] writing to `writer` (the command line's, which keeps log lines off its progress
/// bars).
pub fn init_to<W>(level: &str, format: LogFormat, writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colours())
        .with_writer(writer);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

/// Colours only on a terminal, and never with `NO_COLOR` set (to anything but empty).
fn colours() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
