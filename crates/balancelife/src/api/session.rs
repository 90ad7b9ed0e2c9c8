//! The web app's session: the token in an `HttpOnly`, `SameSite=Strict` cookie, so
//! no page script can read it, beside a readable cross-site request forgery token.
//!
//! `POST /api/v1/session` signs in, `POST /api/v1/session/register` signs up, both
//! answering without the token in the body; `DELETE /api/v1/session` signs out. The
//! API accepts the cookie beside the bearer header (`AuthUser`). A write the cookie
//! authenticates must carry the CSRF token in `X-CSRF-Token` (double submit: only a
//! page of the app's origin can read the cookie that holds it), and an `Origin`, if
//! the browser sends one, must be the service's own.

use axum::Json;
use axum::extract::State;
use axum::http::header::{COOKIE, HOST, ORIGIN, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use super::auth::{LoginRequest, RegisterRequest, sign_in, sign_up};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::ValidJson;
use super::limits::ClientAddress;
use super::state::SharedState;
use super::users::UserView;
use crate::domain::User;

/// The cookie that holds the session token (`HttpOnly`).
pub const SESSION_COOKIE: &str = "bl_session";
/// The cookie that holds the CSRF token, readable by the app's scripts.
pub const CSRF_COOKIE: &str = "bl_csrf";
/// The header a cookie-authenticated write repeats the CSRF token in.
pub const CSRF_HEADER: HeaderName = HeaderName::from_static("x-csrf-token");

/// A session held in cookies: who it is and for how long, never the token.
#[derive(Serialize, ToSchema)]
pub struct CookieSession {
    /// Seconds until the session expires.
    expires_in: u64,
    user: UserView,
}

/// Signs in and keeps the session in cookies (the web app's way).
#[utoipa::path(
    post,
    path = "/api/v1/session",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; the session is in cookies", body = CookieSession,
            headers(("set-cookie" = String,
                description = "`bl_session` (HttpOnly) and `bl_csrf`, both SameSite=Strict"))),
        (status = 401, description = "Wrong e-mail address or password", body = ErrorBody),
        (status = 429, description = "Too many attempts for this address or e-mail",
            body = ErrorBody,
            headers(("retry-after" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn open_session(
    State(state): State<SharedState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    ValidJson(request): ValidJson<LoginRequest>,
) -> ApiResult<Response> {
    let user = sign_in(&state, address, request).await?;
    Ok(with_cookies(&state, &headers, StatusCode::OK, &user))
}

/// Creates an account and keeps its session in cookies (the web app's way).
#[utoipa::path(
    post,
    path = "/api/v1/session/register",
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered; the session is in cookies",
            body = CookieSession,
            headers(("set-cookie" = String,
                description = "`bl_session` (HttpOnly) and `bl_csrf`, both SameSite=Strict"))),
        (status = 409, description = "The e-mail address is taken", body = ErrorBody),
        (status = 429, description = "Too many attempts for this address or e-mail",
            body = ErrorBody,
            headers(("retry-after" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn register_session(
    State(state): State<SharedState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    ValidJson(request): ValidJson<RegisterRequest>,
) -> ApiResult<Response> {
    let user = sign_up(&state, address, request).await?;
    Ok(with_cookies(&state, &headers, StatusCode::CREATED, &user))
}

/// Signs out: both cookies are cleared.
#[utoipa::path(
    delete,
    path = "/api/v1/session",
    tag = "auth",
    responses((status = 204, description = "Signed out",
        headers(("set-cookie" = String, description = "Both cookies, expired"))))
)]
pub async fn close_session(headers: HeaderMap) -> Response {
    let secure = is_secure(&headers);
    let mut response = StatusCode::NO_CONTENT.into_response();
    for name in [SESSION_COOKIE, CSRF_COOKIE] {
        append_cookie(
            &mut response,
            &cookie(name, "", 0, name == SESSION_COOKIE, secure),
        );
    }
    response
}

fn with_cookies(
    state: &SharedState,
    headers: &HeaderMap,
    status: StatusCode,
    user: &User,
) -> Response {
    let ttl = state.tokens.ttl().as_secs();
    let secure = is_secure(headers);
    let csrf = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
    };
    let body = CookieSession {
        expires_in: ttl,
        user: UserView::from(user),
    };
    let mut response = (status, Json(body)).into_response();
    let token = state.tokens.issue(user);
    append_cookie(
        &mut response,
        &cookie(SESSION_COOKIE, &token, ttl, true, secure),
    );
    append_cookie(
        &mut response,
        &cookie(CSRF_COOKIE, &csrf, ttl, false, secure),
    );
    response
}

fn append_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

/// One `Set-Cookie` value; `Secure` when the client reached the service over TLS.
fn cookie(name: &str, value: &str, max_age: u64, http_only: bool, secure: bool) -> String {
    let mut cookie = format!("{name}={value}; Path=/; Max-Age={max_age}; SameSite=Strict");
    if http_only {
        cookie.push_str("; HttpOnly");
    }
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// Whether the client came over TLS, as a proxy in front that ends it says.
fn is_secure(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

/// The value of cookie `name`, if the request has it.
fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, value)| *key == name && !value.is_empty())
        .map(|(_, value)| value)
}

/// The session token of the cookie, if the request has one.
pub fn token(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE).map(str::to_owned)
}

/// For a request the session cookie authenticates: a read passes; a write must come
/// from the app's own pages (the CSRF token repeated in its header, an `Origin` of
/// this service if any), or it is refused with 403.
pub fn check_same_origin(method: &Method, uri: &Uri, headers: &HeaderMap) -> ApiResult<()> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let expected = cookie_value(headers, CSRF_COOKIE);
    let sent = headers.get(&CSRF_HEADER).and_then(|v| v.to_str().ok());
    let tokens_agree = match (expected, sent) {
        // Constant time: how far a guess matched must not show in the answer's timing.
        (Some(expected), Some(sent)) => bool::from(expected.as_bytes().ct_eq(sent.as_bytes())),
        _ => false,
    };
    let origin_ok = match headers.get(ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => same_origin(origin, uri, headers),
    };
    if tokens_agree && origin_ok {
        Ok(())
    } else {
        Err(ApiError::cross_site())
    }
}

/// Whether `origin` names this service: its host and port as the client addressed
/// it, which a proxy in front passes as `X-Forwarded-Host` (it may rewrite `Host`),
/// HTTP/2 as the request's authority, HTTP/1.1 as `Host`. When none of them is
/// there, nothing contradicts the origin and the CSRF token decides alone.
fn same_origin(origin: &str, uri: &Uri, headers: &HeaderMap) -> bool {
    let Some((_, authority)) = origin.split_once("://") else {
        return false;
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let ours: Vec<&str> = [
        header("x-forwarded-host"),
        uri.authority().map(|a| a.as_str()),
        header(HOST.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    ours.is_empty() || ours.iter().any(|ours| ours.eq_ignore_ascii_case(authority))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn cookies_are_read_by_name_from_every_cookie_header() {
        let map = headers(&[("cookie", "a=1; bl_session=tok"), ("cookie", "bl_csrf=c")]);
        assert_eq!(token(&map).as_deref(), Some("tok"));
        assert_eq!(cookie_value(&map, CSRF_COOKIE), Some("c"));
        assert_eq!(token(&headers(&[("cookie", "bl_session=")])), None);
    }

    #[test]
    fn a_cookie_write_needs_the_csrf_token_and_its_own_origin() {
        let cookies = ("cookie", "bl_session=t; bl_csrf=secret");
        let (post, path) = (Method::POST, Uri::from_static("/api/v1/meal-entries"));
        let check = |method: &Method, pairs: &[(&str, &str)]| {
            check_same_origin(method, &path, &headers(pairs)).is_ok()
        };
        assert!(check(&Method::GET, &[cookies]));
        assert!(!check(&post, &[cookies]));
        assert!(!check(&post, &[cookies, ("x-csrf-token", "wrong")]));
        let sent = ("x-csrf-token", "secret");
        assert!(check(&post, &[cookies, sent]));
        let host = ("host", "app.example:8080");
        let ours = ("origin", "https://App.example:8080");
        let theirs = ("origin", "https://evil.example");
        assert!(check(&post, &[cookies, sent, host, ours]));
        assert!(!check(&post, &[cookies, sent, host, theirs]));
        // Behind a proxy that rewrites Host, and over HTTP/2 (the authority).
        let proxied = [
            cookies,
            sent,
            ("host", "10.0.0.5:8080"),
            ("x-forwarded-host", "app.example:8080"),
        ];
        assert!(check(&post, &[&proxied[..], &[ours]].concat()));
        let http2 = Uri::from_static("https://app.example:8080/api/v1/meal-entries");
        assert!(check_same_origin(&post, &http2, &headers(&[cookies, sent, ours])).is_ok());
        assert!(check_same_origin(&post, &http2, &headers(&[cookies, sent, theirs])).is_err());
    }

    #[test]
    fn the_session_cookie_is_http_only_strict_and_secure_behind_tls() {
        let session = cookie(SESSION_COOKIE, "t", 60, true, true);
        assert_eq!(
            session,
            "bl_session=t; Path=/; Max-Age=60; SameSite=Strict; HttpOnly; Secure"
        );
        let csrf = cookie(CSRF_COOKIE, "c", 60, false, false);
        assert!(!csrf.contains("HttpOnly") && !csrf.contains("Secure"));
        assert!(is_secure(&headers(&[("x-forwarded-proto", "https")])));
        assert!(!is_secure(&headers(&[])));
    }
}
