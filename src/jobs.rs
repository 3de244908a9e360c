//! Background jobs of `serve`: blocking database work on an interval, off the async workers.

use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;

/// Run `work` every `every` until the task is aborted. A failed or panicking run is logged
/// and the next one happens on schedule; runs never overlap.
pub async fn every<T: Send + 'static>(
    every: Duration,
    what: &'static str,
    work: impl Fn() -> Result<T, Error> + Send + Sync + 'static,
) {
    let work = Arc::new(work);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let run = work.clone();
        match tokio::task::spawn_blocking(move || run()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, job = what, "background job failed"),
            Err(e) => tracing::error!(error = %e, job = what, "background job panicked"),
        }
    }
}
