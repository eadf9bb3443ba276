//! Logging: tracing-subscriber to stderr, human or JSON.

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;

/// Installs the global subscriber. `RUST_LOG` wins over the configured level.
///
/// Lines go through a background writer thread: a request never waits on a write to
/// stderr (measured: an unbuffered write per access-log line cost a quarter of the
/// throughput of a cheap route). The writer blocks rather than drops when its buffer is
/// full, so no line is lost. Keep the returned guard alive until exit: dropping it flushes.
pub fn init(format: LogFormat, default_level: &str) -> WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("vault-log-writer")
        .finish(std::io::stderr());
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        // Colour codes only for a terminal; they garble files and log pipelines.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // A second init (tests building several apps in one process) keeps the first one.
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    guard
}
