//! The session's cookies and the check that a write they authenticate comes from
//! the app's own pages: HTTP machinery that the sign-in extractor
//! (`account::auth`), the session endpoints (`account::session`) and conditional
//! requests (`conditional`, which must know whether a request carries credentials)
//! all need, below them all.

use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use subtle::ConstantTimeEq;

use crate::api::http::error::{ApiError, ApiResult};
use crate::auth::TokenKeys;
use crate::config::CookieSecure;

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
    pub(crate) fn set(self, session: bool, value: &str, max_age: u64) -> String {
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

/// Whether the request carries credentials of either kind: a bearer token or the
/// session cookie.
pub fn has_credentials(headers: &HeaderMap, cookies: CookieSecure) -> bool {
    headers.contains_key(AUTHORIZATION)
        || SessionCookies::of(headers, cookies)
            .token(headers)
            .is_some()
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
