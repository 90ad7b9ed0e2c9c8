//! Logging set-up: `tracing` to stderr, as text or JSON, filtered by `LOG_LEVEL`.
//! Stderr keeps stdout free for command output such as `balancelife config`.

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, Settings};

/// Installs the global subscriber. Calling it again is harmless (tests do).
pub fn init(settings: &Settings) {
    // `Settings::load` has already checked that the filter parses.
    let filter = EnvFilter::try_new(&settings.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match settings.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
