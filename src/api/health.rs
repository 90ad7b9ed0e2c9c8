//! `GET /health`: which store serves requests, why, and the state of each part.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::state::SharedState;
use crate::store::ComponentHealth;

#[derive(Serialize)]
pub struct HealthReport {
    /// `ok` when everything is up, `degraded` when serving from a fallback or with a
    /// component down.
    status: &'static str,
    store: &'static str,
    store_reason: String,
    components: BTreeMap<&'static str, ComponentHealth>,
    version: &'static str,
}

pub async fn health(State(state): State<SharedState>) -> (StatusCode, Json<HealthReport>) {
    let components: BTreeMap<_, _> = state.store.health().await.into_iter().collect();
    let all_up = components.values().all(|c| c.status == "up");
    let status = if all_up && !state.store_choice.degraded {
        "ok"
    } else {
        "degraded"
    };
    let report = HealthReport {
        status,
        store: state.store.kind().as_str(),
        store_reason: state.store_choice.reason.clone(),
        components,
        version: env!("CARGO_PKG_VERSION"),
    };
    // Degraded still serves requests, so the probe stays 200; the body tells why.
    (StatusCode::OK, Json(report))
}

/// `GET /metrics`: Prometheus text exposition of the cache and store metrics.
pub async fn metrics(State(state): State<SharedState>) -> impl axum::response::IntoResponse {
    let body = crate::metrics::render(state.store_choice.cache_metrics.as_ref());
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
}

/// `GET /livez`: the process answers HTTP. Touches no store, so it also serves as the
/// ceiling of what this machine's HTTP stack can do in the benchmark.
pub async fn livez() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}
