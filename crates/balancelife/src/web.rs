//! The web app, served by the binary itself at `/`: three files embedded at build
//! time (`web/`), no build step and nothing fetched from elsewhere. The pages use only
//! the public JSON API, signed in by the session cookie (`api::account::session`).
//! It takes nothing from the API's code: the routes work on any router state.
//!
//! The pages get a Content-Security-Policy of their own: everything from this origin
//! only, no inline script or style, no frames. The API keeps its stricter one.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const INDEX: &str = include_str!("../web/index.html");
const SCRIPT: &str = include_str!("../web/app.js");
const STYLE: &str = include_str!("../web/app.css");
const ICON: &str = include_str!("../web/favicon.svg");

/// The policy of the pages and their assets.
pub const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `/`, its two assets and its icon. The icon is an SVG, linked from the page; it
/// answers `/favicon.ico` too, where browsers and other clients look by habit
/// (every current browser draws an SVG icon).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let icon = || async { page(ICON, "image/svg+xml") };
    Router::new()
        .route(
            "/",
            get(|| async { page(INDEX, "text/html; charset=utf-8") }),
        )
        .route(
            "/assets/app.js",
            get(|| async { page(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/assets/app.css",
            get(|| async { page(STYLE, "text/css; charset=utf-8") }),
        )
        .route("/favicon.svg", get(icon))
        .route("/favicon.ico", get(icon))
}

fn page(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_POLICY),
            ),
            // The assets change with the binary: revalidate rather than keep them.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}
