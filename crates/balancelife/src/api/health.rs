//! `GET /health`: which store serves requests, why, and the state of each part.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::http::state::SharedState;
use crate::store::{ComponentHealth, ComponentStatus, StoreKind};

#[derive(Serialize, utoipa::ToSchema)]
pub struct HealthReport {
    status: ServiceStatus,
    store: StoreKind,
    store_reason: String,
    /// Whether what is written is kept across restarts: `false` on the in-memory
    /// store, whose every answer then also carries `x-store-warning`.
    persistent: bool,
    components: BTreeMap<&'static str, ComponentHealth>,
    version: &'static str,
}

/// The service as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServiceStatus {
    /// Everything is up, on the store that was configured.
    Ok,
    /// Serving from a fallback, or with a component down.
    Degraded,
}

/// Which store serves requests, why, and the state of each part.
///
/// Always 200 while the process serves requests; `status` says whether it is
/// degraded.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses((status = 200, description = "The service's health", body = HealthReport))
)]
pub async fn health(State(state): State<SharedState>) -> (StatusCode, Json<HealthReport>) {
    let components: BTreeMap<_, _> = state.store.health().await.into_iter().collect();
    let all_up = components.values().all(|c| c.status == ComponentStatus::Up);
    let status = if all_up && !state.store_choice.degraded {
        ServiceStatus::Ok
    } else {
        ServiceStatus::Degraded
    };
    let report = HealthReport {
        status,
        store: state.store.kind(),
        store_reason: state.store_choice.reason.clone(),
        persistent: state.store.kind() != StoreKind::Memory,
        components,
        version: env!("CARGO_PKG_VERSION"),
    };
    // Degraded still serves requests, so the probe stays 200; the body tells why.
    (StatusCode::OK, Json(report))
}

/// Prometheus (OpenMetrics) text exposition of the connection, cache and store metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "The metrics", body = String,
        content_type = "application/openmetrics-text"))
)]
pub async fn metrics(State(state): State<SharedState>) -> impl axum::response::IntoResponse {
    let body = state.store_choice.metrics.render();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
}

/// The process answers HTTP.
///
/// Touches no store, so it also serves as the ceiling of what this machine's HTTP
/// stack can do in the benchmark.
#[utoipa::path(
    get,
    path = "/livez",
    tag = "operations",
    responses((status = 200, description = "The process is alive", body = Liveness))
)]
pub async fn livez() -> Json<Liveness> {
    Json(Liveness { status: "ok" })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Liveness {
    #[schema(example = "ok")]
    status: &'static str,
}
