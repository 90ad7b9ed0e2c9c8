//! What every handler can reach.

use std::sync::Arc;

use crate::auth::{PasswordHasher, TokenKeys};
use crate::store::Store;

/// Why the running store was chosen; `/health` reports it.
#[derive(Debug, Clone)]
pub struct StoreChoice {
    pub reason: String,
    /// Set when the service runs on a fallback rather than what was configured.
    pub degraded: bool,
}

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub store_choice: StoreChoice,
    pub tokens: TokenKeys,
    pub hasher: PasswordHasher,
}

pub type SharedState = Arc<AppState>;
