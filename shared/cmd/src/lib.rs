//! How the command-line programs (`odds`, `local-harness`) start and end, so both behave alike:
//! a bad argument is one line and exit 2 (help and version print as usual); the command runs on
//! a tokio runtime; an error is one line, its cause chain, and exit 1, never a backtrace.

mod progress;

pub use progress::Bars;

use std::future::Future;
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

/// Parses the arguments as `C` and runs `command` with them to the end.
pub fn main<C, F>(command: impl FnOnce(C) -> F) -> ExitCode
where
    C: Parser,
    F: Future<Output = anyhow::Result<()>>,
{
    let args = C::try_parse().unwrap_or_else(|e| match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
        _ => {
            let text = e.render().to_string();
            eprintln!(
                "{}",
                text.lines().next().unwrap_or("error: invalid arguments")
            );
            std::process::exit(2)
        }
    });
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(command(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
