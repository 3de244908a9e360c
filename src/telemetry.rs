//! Structured logs with `tracing`: pretty for people, JSON for machines.

use tracing_subscriber::{fmt, EnvFilter};

/// Install the global subscriber. `RUST_LOG` overrides the default filter.
pub fn init(default_filter: &str, json: bool) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // try_init: tests may install a subscriber more than once per process.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
