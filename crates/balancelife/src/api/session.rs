//! The web app's session: the token in an `HttpOnly`, `SameSite=Strict` cookie, so
//! no page script can read it, beside a readable cross-site request forgery token.
//!
//! `POST /api/v1/session` signs in, `POST /api/v1/session/register` signs up, both
//! answering without the token in the body; `DELETE /api/v1/session` signs out, and
//! `GET /api/v1/session` says whether one is open (200 either way: a page asking
//! before anyone signed in is no error). The
//! API accepts the cookie beside the bearer header (`AuthUser`). A write the cookie
//! authenticates must carry the session's CSRF token in `X-CSRF-Token`: a MAC of the
//! session token that only this service can make, handed to the app in a readable
//! cookie (only a page of the app's origin can read it), so a token someone planted
//! in a cookie of their own does not pass. An `Origin`, if the browser sends one,
//! must be the service's own.
//!
//! Over HTTPS the cookies are `Secure` and named `__Host-…`: a browser takes such a
//! cookie only from this very host over HTTPS, for the whole site, so neither a
//! sibling host nor a plain-HTTP answer can set or shadow them.

use axum::Json;
use axum::extract::State;
use axum::http::header::{COOKIE, HOST, ORIGIN, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use super::auth::{AuthUser, LoginRequest, RegisterRequest, sign_in, sign_up};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::ValidJson;
use super::limits::ClientAddress;
use super::state::SharedState;
use super::users::UserView;
use crate::auth::TokenKeys;
use crate::config::CookieSecure;
use crate::domain::User;

/// The header a cookie-authenticated write repeats the CSRF token in.
pub const CSRF_HEADER: HeaderName = HeaderName::from_static("x-csrf-token");

/// The session's cookies as one request sees them: over HTTPS `Secure` and named
/// `__Host-bl_session` (the token, `HttpOnly`) and `__Host-bl_csrf` (readable by the
/// app's scripts); over plain HTTP (a development machine) `bl_session` and
/// `bl_csrf`. Only the names of the request's own kind are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCookies {
    secure: bool,
}

impl SessionCookies {
    /// Those of a request with `headers`: secure when the operator says always, or
    /// when a proxy in front that ends TLS says the client came over HTTPS.
    pub fn of(headers: &HeaderMap, policy: CookieSecure) -> Self {
        let over_https = headers
            .get("x-forwarded-proto")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https"));
        Self {
            secure: policy == CookieSecure::Always || over_https,
        }
    }

    fn session(self) -> &'static str {
        if self.secure {
            "__Host-bl_session"
        } else {
            "bl_session"
        }
    }

    fn csrf(self) -> &'static str {
        if self.secure {
            "__Host-bl_csrf"
        } else {
            "bl_csrf"
        }
    }

    /// The session token of the request's cookie, if it has one.
    pub fn token(self, headers: &HeaderMap) -> Option<&str> {
        cookie_value(headers, self.session())
    }

    /// One `Set-Cookie` value: the token `HttpOnly`, the CSRF token readable.
    fn set(self, session: bool, value: &str, max_age: u64) -> String {
        let name = if session { self.session() } else { self.csrf() };
        let mut cookie = format!("{name}={value}; Path=/; Max-Age={max_age}; SameSite=Strict");
        if session {
            cookie.push_str("; HttpOnly");
        }
        if self.secure {
            cookie.push_str("; Secure");
        }
        cookie
    }
}

/// A session held in cookies: who it is and for how long, never the token.
#[derive(Serialize, ToSchema)]
pub struct CookieSession {
    /// Seconds until the session expires.
    expires_in: u64,
    user: UserView,
}

/// Whether a session is open, and whose.
#[derive(Serialize, ToSchema)]
pub struct SessionState {
    signed_in: bool,
    /// Who is signed in; `null` when nobody is.
    #[schema(required = true)]
    user: Option<UserView>,
}

/// Whether the client is signed in, and as whom.
///
/// By the session cookie or a bearer token; the web app asks it on opening, before
/// anyone may have signed in, so the answer is 200 either way.
#[utoipa::path(
    get,
    path = "/api/v1/session",
    tag = "auth",
    responses((status = 200, description = "Signed in or not: a token that is missing, \
        expired or void is `signed_in: false`", body = SessionState))
)]
pub async fn session_state(signed_in: Result<AuthUser, ApiError>) -> ApiResult<Json<SessionState>> {
    let user = match signed_in {
        Ok(AuthUser(user)) => Some(UserView::from(&user)),
        Err(error) if error.status() == StatusCode::UNAUTHORIZED => None,
        Err(error) => return Err(error),
    };
    Ok(Json(SessionState {
        signed_in: user.is_some(),
        user,
    }))
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
                description = "`bl_session` (HttpOnly) and `bl_csrf`, both SameSite=Strict; \
                    over HTTPS `__Host-bl_session` and `__Host-bl_csrf`, Secure"))),
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
                description = "`bl_session` (HttpOnly) and `bl_csrf`, both SameSite=Strict; \
                    over HTTPS `__Host-bl_session` and `__Host-bl_csrf`, Secure"))),
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
pub async fn close_session(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let cookies = SessionCookies::of(&headers, state.cookie_secure);
    let mut response = StatusCode::NO_CONTENT.into_response();
    for session in [true, false] {
        append_cookie(&mut response, &cookies.set(session, "", 0));
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
    let cookies = SessionCookies::of(headers, state.cookie_secure);
    let body = CookieSession {
        expires_in: ttl,
        user: UserView::from(user),
    };
    let mut response = (status, Json(body)).into_response();
    let token = state.tokens.issue(user);
    let csrf = state.tokens.csrf_token(&token);
    append_cookie(&mut response, &cookies.set(true, &token, ttl));
    append_cookie(&mut response, &cookies.set(false, &csrf, ttl));
    response
}

fn append_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
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

/// For a request the session cookie holding `session_token` authenticates: a read
/// passes; a write must come from the app's own pages (that session's CSRF token in
/// its header, an `Origin` of this service if any), or it is refused with 403.
pub fn check_same_origin(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    keys: &TokenKeys,
    session_token: &str,
) -> ApiResult<()> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let expected = keys.csrf_token(session_token);
    let sent = headers.get(&CSRF_HEADER).map(HeaderValue::as_bytes);
    // Constant time: how far a guess matched must not show in the answer's timing.
    let tokens_agree = sent.is_some_and(|sent| bool::from(expected.as_bytes().ct_eq(sent)));
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

    const PLAIN: SessionCookies = SessionCookies { secure: false };

    #[test]
    fn cookies_are_read_by_name_from_every_cookie_header() {
        let map = headers(&[("cookie", "a=1; bl_session=tok"), ("cookie", "bl_csrf=c")]);
        assert_eq!(PLAIN.token(&map), Some("tok"));
        assert_eq!(cookie_value(&map, PLAIN.csrf()), Some("c"));
        assert_eq!(PLAIN.token(&headers(&[("cookie", "bl_session=")])), None);
    }

    #[test]
    fn a_cookie_write_needs_the_sessions_csrf_token_and_its_own_origin() {
        let keys = TokenKeys::new(
            &"0123456789abcdef0123456789abcdef".to_owned().into(),
            std::time::Duration::from_secs(60),
        );
        let session = "the-session-token";
        let csrf = keys.csrf_token(session);
        let (post, path) = (Method::POST, Uri::from_static("/api/v1/meal-entries"));
        let check_at = |uri: &Uri, method: &Method, pairs: &[(&str, &str)]| {
            check_same_origin(method, uri, &headers(pairs), &keys, session).is_ok()
        };
        let check = |method: &Method, pairs: &[(&str, &str)]| check_at(&path, method, pairs);
        assert!(check(&Method::GET, &[]));
        assert!(!check(&post, &[]));
        assert!(!check(&post, &[("x-csrf-token", "wrong")]));
        let other_session = keys.csrf_token("another-session-token");
        assert!(!check(&post, &[("x-csrf-token", &other_session)]));
        let sent = ("x-csrf-token", csrf.as_str());
        assert!(check(&post, &[sent]));
        let host = ("host", "app.example:8080");
        let ours = ("origin", "https://App.example:8080");
        let theirs = ("origin", "https://evil.example");
        assert!(check(&post, &[sent, host, ours]));
        assert!(!check(&post, &[sent, host, theirs]));
        // Behind a proxy that rewrites Host, and over HTTP/2 (the authority).
        let proxied = [
            sent,
            ("host", "10.0.0.5:8080"),
            ("x-forwarded-host", "app.example:8080"),
        ];
        assert!(check(&post, &[&proxied[..], &[ours]].concat()));
        let http2 = Uri::from_static("https://app.example:8080/api/v1/meal-entries");
        assert!(check_at(&http2, &post, &[sent, ours]));
        assert!(!check_at(&http2, &post, &[sent, theirs]));
    }

    #[test]
    fn the_session_cookie_is_http_only_strict_and_host_only_and_secure_behind_tls() {
        let https = SessionCookies::of(
            &headers(&[("x-forwarded-proto", "https")]),
            CookieSecure::Auto,
        );
        assert_eq!(
            https.set(true, "t", 60),
            "__Host-bl_session=t; Path=/; Max-Age=60; SameSite=Strict; HttpOnly; Secure"
        );
        let csrf = PLAIN.set(false, "c", 60);
        assert!(csrf.starts_with("bl_csrf=c;"), "{csrf}");
        assert!(!csrf.contains("HttpOnly") && !csrf.contains("Secure"));
        assert_eq!(SessionCookies::of(&headers(&[]), CookieSecure::Auto), PLAIN);
        assert_eq!(
            SessionCookies::of(&headers(&[]), CookieSecure::Always),
            https
        );
    }
}
