//! What every request and every answer passes through, in one layer: the request
//! id, the request's span and its log line, the query guard, the deadline, HTTP
//! caching of reads, the headers every answer carries, and a handler's panic turned
//! into the generic 500.
//!
//! These were once a stack of ten `tower-http` layers and three `from_fn`
//! middlewares. Each of those costs little, but a request paid for all of them: a
//! boxed clone of the routed service per `from_fn`, a future per layer, the id
//! formatted twice. On `GET /livez` that stack was about a third of the server's CPU
//! per request (a profile with `perf`, 2026-12-07). Here a request costs one boxed
//! future, and the inner service is called without a further clone.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use futures_util::future::Either;
use tower::{Layer, Service};
use tracing::Instrument;

use crate::api::http::conditional::ConditionalRead;
use crate::api::http::error::ApiError;
use crate::api::http::query_guard;
use crate::api::http::state::SharedState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// On every answer of a store that keeps nothing across restarts (the memory store,
/// chosen or fallen back to), so no client takes a write for kept.
pub const STORE_WARNING: HeaderName = HeaderName::from_static("x-store-warning");

/// A JSON API holding personal data: nothing is sniffed, framed, cached by
/// intermediaries, or sent on as a referrer. Each is set unless the handler (or
/// HTTP caching, for `cache-control`) set its own.
const ALWAYS: [(HeaderName, HeaderValue); 5] = [
    (
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    ),
    (
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    ),
    (
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    ),
    (
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    ),
    (
        HeaderName::from_static("cache-control"),
        HeaderValue::from_static("no-store"),
    ),
];

/// What the envelope needs of the application, read once when the router is built.
struct Settings {
    state: SharedState,
    store_warning: Option<HeaderValue>,
}

/// Wraps each route (and the fallbacks) in the envelope.
#[derive(Clone)]
pub struct EnvelopeLayer {
    settings: Arc<Settings>,
}

impl EnvelopeLayer {
    pub fn new(state: SharedState) -> Self {
        let store_warning = (state.store.kind() == crate::store::StoreKind::Memory).then(|| {
            HeaderValue::from_static("in-memory store: nothing written is kept across restarts")
        });
        Self {
            settings: Arc::new(Settings {
                state,
                store_warning,
            }),
        }
    }
}

impl<S> Layer<S> for EnvelopeLayer {
    type Service = Envelope<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Envelope {
            inner,
            settings: Arc::clone(&self.settings),
        }
    }
}

#[derive(Clone)]
pub struct Envelope<S> {
    inner: S,
    settings: Arc<Settings>,
}

type Answer = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl<S> Service<Request> for Envelope<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Answer {
        let started = Instant::now();
        let request_id = request_id_of(&mut request);
        let span = request_span(&request, &request_id);
        let settings = Arc::clone(&self.settings);
        let deadline = settings.state.request_timeout;
        // A panic anywhere past this point, before or while the handler runs or
        // while its answer is tagged, is answered with the generic 500.
        let prepared = {
            let _entered = span.enter();
            std::panic::catch_unwind(AssertUnwindSafe(|| {
                let conditional = ConditionalRead::of(&request, &settings.state);
                let answer = match query_guard::refusal(&request) {
                    Some(refusal) => Either::Left(std::future::ready(Ok(refusal.into_response()))),
                    None => Either::Right(self.inner.call(request)),
                };
                (conditional, answer)
            }))
        };
        let work = async move {
            let answered = match prepared {
                Ok((conditional, answer)) => {
                    AssertUnwindSafe(answer_within(deadline, answer, conditional))
                        .catch_unwind()
                        .await
                }
                Err(panic) => Err(panic),
            };
            let mut response = answered.unwrap_or_else(panicked);
            finish_headers(response.headers_mut(), &settings, request_id);
            log_response(response.status(), started.elapsed());
            Ok(response)
        };
        Box::pin(work.instrument(span))
    }
}

/// The handler's answer, or a 503 past the deadline, tagged for HTTP caching when
/// it is a read that takes part in it.
async fn answer_within(
    deadline: Duration,
    answer: impl Future<Output = Result<Response, Infallible>>,
    conditional: Option<ConditionalRead>,
) -> Response {
    let response = match tokio::time::timeout(deadline, answer).await {
        Ok(Ok(response)) => response,
        Ok(Err(never)) => match never {},
        // Past the deadline the work is dropped. A write may have been applied by
        // then; those with a client-chosen id can be retried safely.
        Err(_elapsed) => ApiError::timeout().into_response(),
    };
    match conditional {
        Some(read) => read.answer(response).await,
        None => response,
    }
}

/// The client's `x-request-id` if it sent one, else a new UUIDv4; set on the request
/// so handlers and the span see it.
fn request_id_of(request: &mut Request) -> HeaderValue {
    if let Some(id) = request.headers().get(&REQUEST_ID) {
        return id.clone();
    }
    // Formatted on the stack: the only allocation is the header value's own.
    let mut text = uuid::Uuid::encode_buffer();
    let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
    let id = HeaderValue::from_str(text).expect("a UUID is a valid header value");
    request.headers_mut().insert(REQUEST_ID, id.clone());
    id
}

/// Spans are named by the route template, never the concrete path, so ids and other
/// user data stay out of span names; the request id ties log lines together.
fn request_span(request: &Request, request_id: &HeaderValue) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let request_id = request_id.to_str().unwrap_or_default();
    // Each field as a `&str`: the subscriber records a string as it is, where a
    // `Display` value is formatted through `fmt` first.
    let method = request.method().as_str();
    tracing::info_span!("request", method, route, request_id)
}

/// The headers every answer carries (see `ALWAYS`), the store's warning, and the
/// request id.
fn finish_headers(headers: &mut HeaderMap, settings: &Settings, request_id: HeaderValue) {
    // Room for them all at once, rather than growing the map as they come.
    headers.reserve(ALWAYS.len() + 2);
    for (name, value) in &ALWAYS {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    if let Some(warning) = &settings.store_warning {
        headers.insert(STORE_WARNING, warning.clone());
    }
    headers.entry(REQUEST_ID).or_insert(request_id);
}

/// A handler's panic is logged, and the client gets the generic 500 body: the panic
/// message may hold internal details.
fn panicked(panic: Box<dyn std::any::Any + Send>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    ApiError::internal(format!("a handler panicked: {message}")).into_response()
}

/// One line per answer, in the request's span: server errors as errors (once: the
/// trace layer this replaces added a second, "response failed"), client errors
/// (but 404) at `info`, the rest at `debug`.
fn log_response(status: StatusCode, latency: Duration) {
    let latency_ms = latency.as_secs_f64() * 1000.0;
    let status = status.as_u16();
    if (500..600).contains(&status) {
        tracing::error!(status, latency_ms, "response");
    } else if status == 404 || (200..300).contains(&status) {
        tracing::debug!(status, latency_ms, "response");
    } else {
        tracing::info!(status, latency_ms, "response");
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    /// A router with one route, `/boom`, whose handler panics, in the envelope.
    fn panicking_app() -> axum::Router {
        let state = crate::api::http::state::for_tests();
        axum::Router::new()
            .route(
                "/boom",
                axum::routing::get(|| async {
                    panic!("index 7 out of range in users.rs");
                    #[allow(unreachable_code)]
                    ""
                }),
            )
            .layer(EnvelopeLayer::new(state))
    }

    #[tokio::test]
    async fn a_panic_answers_the_generic_500_without_its_message_and_with_every_header() {
        let request = Request::get("/boom")
            .header(REQUEST_ID, "client-chosen-id")
            .body(Body::empty())
            .unwrap();

        let response = panicking_app().oneshot(request).await.unwrap();

        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers();
        assert_eq!(headers[REQUEST_ID], "client-chosen-id");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["cache-control"], "no-store");
        assert!(
            headers.contains_key(STORE_WARNING),
            "the memory store warns"
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains(r#""code":"internal""#), "{body}");
        assert!(!body.contains("users.rs"), "{body}");
    }

    #[tokio::test]
    async fn a_request_without_an_id_gets_a_new_uuid_on_its_answer() {
        let request = Request::get("/nowhere").body(Body::empty()).unwrap();

        let response = panicking_app().oneshot(request).await.unwrap();

        let id = response.headers()[REQUEST_ID].to_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
}
