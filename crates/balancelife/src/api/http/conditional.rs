//! HTTP caching for reads: an `ETag` on every JSON read of the API, `304 Not
//! Modified` without a body when the client's `If-None-Match` names it, and a
//! `Cache-Control` that says who may keep the answer.
//!
//! The tag is a digest of the body itself, so it changes exactly when the answer
//! does, whatever the store. The public catalogue may be kept by anyone for
//! `CATALOGUE_MAX_AGE_SECS` (a CDN in front serves it); personal data is
//! `private, no-cache`: a phone keeps it and revalidates every time, which costs a
//! 304 instead of the body. Everything else (sign-in answers with tokens, exports,
//! health) keeps the `no-store` every response gets by default.

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::http::state::AppState;

/// The largest body that is read whole to be hashed; a larger read is answered as
/// it is, untagged, unless it was encoded with its tag (`PrecomputedTag`).
const HASHED_UP_TO_BYTES: u64 = 4 * 1024 * 1024;

/// Who may keep an answer to a read of `path`, or `None` to leave it uncached. A
/// read of the catalogue with credentials may show drafts (to an administrator), so
/// it is private: only the anonymous catalogue is for everyone.
pub(super) fn policy(
    path: &str,
    catalogue_max_age_secs: u64,
    with_credentials: bool,
) -> Option<String> {
    let api = path.strip_prefix("/api/v1/")?;
    let catalogue = ["meal-packages", "workout-packages", "custom-exercises"]
        .iter()
        .any(|kind| api.starts_with(kind));
    if api == "time-zones" || (catalogue && !with_credentials) {
        Some(format!("public, max-age={catalogue_max_age_secs}"))
    } else if catalogue
        || api.starts_with("users/me")
        || api.starts_with("meal-entries")
        || api.starts_with("workout-entries")
        || api.starts_with("summary")
    {
        Some("private, no-cache".to_owned())
    } else {
        None
    }
}

/// A read that HTTP caching applies to: who may keep its answer, and the tags the
/// client already holds. Taken from the request before it is handled.
pub struct ConditionalRead {
    cache_control: HeaderValue,
    if_none_match: Option<HeaderValue>,
}

impl ConditionalRead {
    /// `None` unless `request` is a `GET` of something with a caching policy.
    pub fn of(request: &Request, state: &AppState) -> Option<Self> {
        if request.method() != Method::GET {
            return None;
        }
        let with_credentials =
            crate::api::http::cookies::has_credentials(request.headers(), state.cookie_secure);
        let max_age = state.catalogue_max_age.as_secs();
        let cache_control = policy(request.uri().path(), max_age, with_credentials)?;
        Some(Self {
            cache_control: HeaderValue::from_str(&cache_control).expect("an ASCII policy"),
            if_none_match: request.headers().get(header::IF_NONE_MATCH).cloned(),
        })
    }

    /// Tags a successful JSON answer, or turns it into a 304 when the client's
    /// `If-None-Match` names its tag.
    pub async fn answer(self, response: Response) -> Response {
        let is_json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|kind| kind.as_bytes().starts_with(b"application/json"));
        if response.status() != StatusCode::OK || !is_json {
            return response;
        }
        let (mut parts, body) = response.into_parts();
        // A body encoded once comes with its tag (`PrecomputedTag`), whatever its size;
        // others are read whole and hashed, if their size says they may be.
        let (tag, body) = match parts.extensions.remove::<PrecomputedTag>() {
            Some(PrecomputedTag(tag)) => (tag, body),
            None if body
                .size_hint()
                .upper()
                .is_none_or(|size| size > HASHED_UP_TO_BYTES) =>
            {
                return Response::from_parts(parts, body);
            }
            None => {
                let limit = usize::try_from(HASHED_UP_TO_BYTES).unwrap_or(usize::MAX);
                let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
                    return crate::api::http::error::ApiError::internal(
                        "a response body could not be read",
                    )
                    .into_response();
                };
                (entity_tag(&bytes), Body::from(bytes))
            }
        };
        parts.headers.insert(header::ETAG, tag.clone());
        parts
            .headers
            .insert(header::CACHE_CONTROL, self.cache_control);
        // The answer depends on who asks (an admin sees more of the catalogue).
        parts.headers.insert(
            header::VARY,
            HeaderValue::from_static("authorization, cookie"),
        );
        if self
            .if_none_match
            .is_some_and(|names| matches(&names, &tag))
        {
            let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
            copy_validators(&parts.headers, not_modified.headers_mut());
            return not_modified;
        }
        Response::from_parts(parts, body)
    }
}

/// The tag of a body that was encoded with it (`Encoded`), so it is not hashed
/// again on every answer.
#[derive(Debug, Clone)]
pub struct PrecomputedTag(pub HeaderValue);

/// A strong tag: the first 128 bits of the body's SHA-256, quoted.
fn entity_tag(body: &[u8]) -> HeaderValue {
    HeaderValue::from_str(&crate::store::tag_of(body)).expect("hex is a valid header value")
}

/// A body encoded once, answered as it is, with its tag for the layer above.
impl IntoResponse for crate::store::Encoded {
    fn into_response(self) -> Response {
        let mut response = (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            Body::from(self.bytes),
        )
            .into_response();
        if let Ok(tag) = HeaderValue::from_str(&self.tag) {
            response.extensions_mut().insert(PrecomputedTag(tag));
        }
        response
    }
}

/// Whether `If-None-Match` names `tag`: `*`, or a comma-separated list of tags,
/// compared weakly (a `W/` prefix is ignored), as RFC 9110 asks for this header.
fn matches(if_none_match: &HeaderValue, tag: &HeaderValue) -> bool {
    let Ok(names) = if_none_match.to_str() else {
        return false;
    };
    let tag = tag.to_str().unwrap_or_default();
    names
        .split(',')
        .map(str::trim)
        .any(|name| name == "*" || name.strip_prefix("W/").unwrap_or(name) == tag)
}

/// What a 304 repeats of the 200 it stands for (RFC 9110 15.4.5), plus the security
/// headers the outer layers add anyway.
fn copy_validators(from: &HeaderMap, to: &mut HeaderMap) {
    for name in [header::ETAG, header::CACHE_CONTROL, header::VARY] {
        if let Some(value) = from.get(&name) {
            to.insert(name, value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_of_the_catalogue_are_public_and_personal_reads_private() {
        assert_eq!(
            policy("/api/v1/meal-packages/x", 60, false).as_deref(),
            Some("public, max-age=60")
        );
        assert_eq!(
            policy("/api/v1/workout-packages", 5, false).as_deref(),
            Some("public, max-age=5")
        );
        assert_eq!(
            policy("/api/v1/meal-packages/x", 60, true).as_deref(),
            Some("private, no-cache"),
            "an administrator's answer may show a draft"
        );
        for personal in [
            "/api/v1/users/me",
            "/api/v1/meal-entries",
            "/api/v1/workout-entries/x",
            "/api/v1/summary",
        ] {
            assert_eq!(
                policy(personal, 60, true).as_deref(),
                Some("private, no-cache"),
                "{personal}"
            );
        }
        for uncached in [
            "/api/v1/export",
            "/api/v1/auth/login",
            "/health",
            "/openapi.json",
        ] {
            assert_eq!(policy(uncached, 60, false), None, "{uncached}");
        }
    }

    /// A personal read of `size` bytes through the layer, as the router wraps it.
    async fn read_of(size: usize) -> Response {
        use tower::ServiceExt;
        let state = crate::api::http::state::for_tests();
        let json = (
            [(header::CONTENT_TYPE, "application/json")],
            vec![b' '; size],
        );
        let router = axum::Router::new()
            .route(
                "/api/v1/users/me",
                axum::routing::get(move || async move { json.clone() }),
            )
            .layer(crate::api::http::envelope::EnvelopeLayer::new(state));
        let request = axum::http::Request::get("/api/v1/users/me")
            .body(Body::empty())
            .unwrap();
        router.oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn a_read_too_large_to_hash_is_answered_whole_and_untagged() {
        let limit = usize::try_from(HASHED_UP_TO_BYTES).unwrap();
        let small = read_of(1024).await;
        assert_eq!(small.status(), StatusCode::OK);
        assert!(small.headers().contains_key(header::ETAG));

        let large = read_of(limit + 1).await;
        assert_eq!(large.status(), StatusCode::OK);
        assert!(!large.headers().contains_key(header::ETAG));
        let body = axum::body::to_bytes(large.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(body.len(), limit + 1);
    }

    #[test]
    fn if_none_match_names_a_tag_in_a_list_weakly_or_by_star() {
        let tag = entity_tag(b"{}");
        let header = |text: &str| HeaderValue::from_str(text).unwrap();
        let quoted = tag.to_str().unwrap().to_owned();
        assert!(matches(&header(&quoted), &tag));
        assert!(matches(&header(&format!("\"other\", W/{quoted}")), &tag));
        assert!(matches(&header("*"), &tag));
        assert!(!matches(&header("\"other\""), &tag));
        assert_ne!(entity_tag(b"{}"), entity_tag(b"[]"));
    }
}
