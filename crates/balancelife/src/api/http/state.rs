//! What every handler can reach.

use std::sync::Arc;

use crate::auth::{PasswordHasher, TokenKeys};
use crate::metrics::Exposition;
use crate::rate_limit::AttemptCounter;
use crate::search::FoodSearch;
use crate::store::Store;

/// Why the running store was chosen (`/health` reports it), and what comes with
/// it: built by the wiring (`startup`), which alone knows the concrete store.
#[derive(Clone, Default)]
pub struct StoreChoice {
    pub reason: String,
    /// Set when the service runs on a fallback rather than what was configured.
    pub degraded: bool,
    /// What `/metrics` shows: the connections', and the cache's when there is one.
    pub metrics: Arc<Exposition>,
    /// The counters the log-in limits share across instances, when there are any.
    pub shared_attempts: Option<Arc<dyn AttemptCounter>>,
}

pub struct AppState {
    pub store: Arc<dyn Store>,
    /// The food index of this instance.
    pub foods: Arc<FoodSearch>,
    pub store_choice: StoreChoice,
    pub tokens: TokenKeys,
    pub hasher: PasswordHasher,
    pub auth_limits: crate::api::http::limits::AuthLimits,
    /// The longest a request may take (`REQUEST_TIMEOUT_MS`).
    pub request_timeout: std::time::Duration,
    /// How long anyone may keep a catalogue read (`CATALOGUE_MAX_AGE_SECS`).
    pub catalogue_max_age: std::time::Duration,
    /// When the session cookies are `Secure` (`COOKIE_SECURE`).
    pub cookie_secure: crate::config::CookieSecure,
    /// The training log's answers, kept by the user's sync feed head.
    pub training: crate::training::TrainingMemo,
}

pub type SharedState = Arc<AppState>;

/// The state of default settings on an empty memory store, for unit tests of the
/// HTTP machinery.
#[cfg(test)]
pub fn for_tests() -> SharedState {
    crate::startup::app_state(
        &crate::config::Settings::default(),
        Arc::new(crate::store::memory::MemoryStore::new()),
        Default::default(),
    )
    .expect("the food index starts in a temporary directory")
}
