//! The JSON HTTP API: routes, extractors, errors and middleware. Handlers talk to the
//! storage layer only through `Arc<dyn Store>`.

mod account;
mod catalogue;
mod entries;
mod health;
pub mod http;
mod import_export;
mod summary;
mod time_zones;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use self::http::error::ApiError;
use self::http::extract::{self, BODY_LIMIT_BYTES};
use self::http::state::SharedState;
use self::http::{conditional, openapi, query_guard};
use crate::store::StoreKind;
use account::{auth, session, users};
use catalogue::admin::{meal_packages as meal_admin, workout_packages as workout_admin};
use catalogue::{apply, packages};
use entries::meals::endpoints as meals;
use entries::workouts::endpoints as workouts;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// On every answer of a store that keeps nothing across restarts (the memory store,
/// chosen or fallen back to), so no client takes a write for kept.
pub const STORE_WARNING: HeaderName = HeaderName::from_static("x-store-warning");

/// Every documented route, with its handler: the router and the OpenAPI document
/// are both made from this, so neither can list a route the other lacks.
pub fn documented_routes() -> OpenApiRouter<SharedState> {
    let (schemas, paths, import) = routes!(import_export::import);
    let import = import.layer(DefaultBodyLimit::max(import_export::IMPORT_LIMIT_BYTES));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(health::metrics))
        .routes(routes!(health::livez))
        .routes(routes!(openapi::openapi_json))
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(
            session::session_state,
            session::open_session,
            session::close_session
        ))
        .routes(routes!(session::register_session))
        .routes(routes!(users::get_me, users::update_me, users::delete_me))
        .routes(routes!(users::get_user))
        .routes(routes!(time_zones::list_time_zones))
        .routes(catalogue(routes!(
            packages::list_meal_packages,
            meal_admin::create
        )))
        .routes(catalogue(routes!(
            packages::get_meal_package,
            meal_admin::replace,
            meal_admin::update,
            meal_admin::delete
        )))
        .routes(routes!(meal_admin::publish))
        .routes(routes!(meal_admin::unpublish))
        .routes(routes!(meal_admin::archive))
        .routes(routes!(apply::apply_meal_package))
        .routes(catalogue(routes!(
            packages::list_workout_packages,
            workout_admin::create
        )))
        .routes(catalogue(routes!(
            packages::get_workout_package,
            workout_admin::replace,
            workout_admin::update,
            workout_admin::delete
        )))
        .routes(routes!(workout_admin::publish))
        .routes(routes!(workout_admin::unpublish))
        .routes(routes!(workout_admin::archive))
        .routes(routes!(apply::apply_workout_package))
        .routes(routes!(summary::summary))
        .routes(routes!(import_export::export))
        .routes((schemas, paths, import))
        .routes(routes!(meals::list, meals::create))
        .routes(routes!(meals::get, meals::put, meals::patch, meals::delete))
        .routes(routes!(workouts::list, workouts::create))
        .routes(routes!(
            workouts::get,
            workouts::put,
            workouts::patch,
            workouts::delete
        ))
}

/// Routes that take a whole package, with the catalogue's larger body limit.
fn catalogue(routes: UtoipaMethodRouter<SharedState>) -> UtoipaMethodRouter<SharedState> {
    let (schemas, paths, router) = routes;
    (
        schemas,
        paths,
        router.layer(DefaultBodyLimit::max(extract::CATALOGUE_LIMIT_BYTES)),
    )
}

/// The whole application: the documented routes, and the layers around them.
pub fn router(state: SharedState) -> Router {
    let (routes, _) = documented_routes().split_for_parts();
    let store_warning = (state.store.kind() == StoreKind::Memory).then(|| {
        HeaderValue::from_static("in-memory store: nothing written is kept across restarts")
    });
    routes
        .merge(crate::web::routes::<SharedState>())
        .fallback(|| async { ApiError::not_found("route") })
        .layer(axum::middleware::from_fn(
            query_guard::refuse_unexpected_query,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            deadline,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            conditional::conditional_get,
        ))
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(log_response),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                // A JSON API holding personal data: nothing is sniffed, framed, cached
                // by intermediaries, or sent on as a referrer.
                .layer(always("x-content-type-options", "nosniff"))
                .layer(always("x-frame-options", "DENY"))
                .layer(always(
                    "content-security-policy",
                    "default-src 'none'; frame-ancestors 'none'",
                ))
                .layer(always("referrer-policy", "no-referrer"))
                .layer(always("cache-control", "no-store"))
                .layer(SetResponseHeaderLayer::overriding(
                    STORE_WARNING,
                    store_warning,
                ))
                .layer(CatchPanicLayer::custom(panicked)),
        )
        .with_state(state)
}

/// Past the request deadline (`REQUEST_TIMEOUT_MS`) the client gets a 503 with the
/// JSON body, and the work is dropped. A write may have been applied by then; those
/// with a client-chosen id (PUT, POST with `id`, apply, import) can be retried safely.
async fn deadline(
    State(state): State<SharedState>,
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match tokio::time::timeout(state.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::timeout().into_response(),
    }
}

/// A handler's panic is logged, and the client gets the generic 500 body: the panic
/// message may hold internal details.
fn panicked(panic: Box<dyn std::any::Any + Send>) -> axum::response::Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    ApiError::internal(format!("a handler panicked: {message}")).into_response()
}

/// One of the headers every response carries; see `router` for the set.
fn always(name: &'static str, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    )
}

/// Spans are named by the route template, never the concrete path, so ids and other
/// user data stay out of span names; the request id ties log lines together.
fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!("request", method = %request.method(), route, request_id)
}

fn log_response<B>(response: &axum::http::Response<B>, latency: Duration, _span: &tracing::Span) {
    let status = response.status();
    let latency_ms = latency.as_secs_f64() * 1000.0;
    if status.is_server_error() {
        tracing::warn!(status = status.as_u16(), latency_ms, "response");
    } else if status == StatusCode::NOT_FOUND || status.is_success() {
        tracing::debug!(status = status.as_u16(), latency_ms, "response");
    } else {
        tracing::info!(status = status.as_u16(), latency_ms, "response");
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    async fn body_of(response: axum::response::Response) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_panic_answers_the_generic_500_without_its_message() {
        let response = panicked(Box::new("index 7 out of range in users.rs".to_owned()));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_of(response).await;
        assert!(body.contains(r#""code":"internal""#), "{body}");
        assert!(!body.contains("users.rs"), "{body}");
    }

    #[tokio::test]
    async fn an_internal_error_does_not_tell_its_cause() {
        use crate::store::StoreError;
        let cause = "connection to 10.0.0.7:27017 refused (user admin)";
        for error in [
            ApiError::internal(cause),
            ApiError::from(StoreError::internal(cause)),
            ApiError::from(StoreError::unavailable("x").because(std::io::Error::other(cause))),
        ] {
            let body = body_of(error.into_response()).await;
            assert!(!body.contains("10.0.0.7"), "{body}");
            assert!(!body.contains("admin"), "{body}");
        }
    }
}
