//! Logging set-up: `tracing` to stderr, as text or JSON, filtered by `LOG_LEVEL`.
//! Stderr keeps stdout free for command output such as `balancelife config`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber. Calling it again is harmless (tests do).
pub fn init(settings: &LogSettings) {
    // `Settings::load` has already checked that the filter parses.
    let filter = EnvFilter::try_new(&settings.level).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal: in a file or the journal the escape
    // codes are noise (`\x1b[2m…`).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match settings.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// An error and every error beneath it, as one line for the logs (`a: b: c`), the way
/// anyhow's `{:#}` prints: a store error alone would not say what the driver said.
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
