//! One place for starting the service in tests, in the four ways the suite needs:
//! - `Backend`: which store (memory, MongoDB, MongoDB behind Redis), as a fresh store
//!   or as an app over one (`backend`);
//! - `TestApp`: the real router and state, driven request by request without a
//!   socket: the quick way, for most API tests (`app`);
//! - `RunningServer`: the real server in-process on port 0, for what needs a socket
//!   (timeouts, graceful shutdown) (`server`);
//! - the `balancelife` binary as a child process, for what an operator sees: exit
//!   codes, logs, signals (`binary`).

pub mod app;
pub mod backend;
pub mod binary;
pub mod server;

pub use app::{TestApp, TestResponse, TestUser, spawn_app};
pub use backend::{Backend, Cached};
pub use server::RunningServer;

/// Waits until `check` holds, failing the test if it does not within `within`:
/// `eventually`, for a check that need not wait for anything itself.
pub async fn until(what: &str, within: std::time::Duration, mut check: impl FnMut() -> bool) {
    eventually(what, within, || std::future::ready(check())).await;
}

/// How long until the asynchronous `check` holds, polling every 5 ms; fails the test
/// if it does not within `within`.
pub async fn eventually<F, Fut>(
    what: &str,
    within: std::time::Duration,
    mut check: F,
) -> std::time::Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < within,
            "{what} did not happen within {within:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    started.elapsed()
}
