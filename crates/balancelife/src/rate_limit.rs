//! Counting attempts in a window, the one thing the log-in limits need from a
//! shared store: the API asks this interface, and the wiring decides what answers
//! it (Redis, when there is one; see `store::cache::redis`).

use std::time::Duration;

use async_trait::async_trait;

/// Counters shared by every instance of the service.
#[async_trait]
pub trait AttemptCounter: Send + Sync {
    /// Counts one attempt of `subject` against `per_minute` attempts in any minute:
    /// `Some(Ok)` allowed, `Some(Err(wait))` refused for `wait`, `None` when the
    /// counters did not answer (the caller then limits on its own).
    async fn count(&self, subject: &str, per_minute: u32) -> Option<Result<(), Duration>>;
}
