//! `If-Match`: a write applied only to the revision the client last read, named
//! by its entity tag (the `ETag` its `GET` answered), `*`, or, for a package, its
//! version as `"3"`. Compared strongly, as RFC 9110 asks of `If-Match`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};

use crate::api::http::error::ApiError;

/// The `If-Match` header, if the request has one.
pub struct IfMatch(Option<HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.headers.get(header::IF_MATCH).cloned()))
    }
}

impl IfMatch {
    /// Whether the header names the current revision: its entity tag `tag`, `*`,
    /// or its `version` where it has one. No header admits anything.
    pub fn admits(&self, tag: &str, version: Option<&str>) -> bool {
        let Some(header) = &self.0 else {
            return true;
        };
        let Ok(names) = header.to_str() else {
            return false;
        };
        names.split(',').map(str::trim).any(|name| {
            name == "*"
                || name == tag
                || version.is_some_and(|version| name.trim_matches('"') == version)
                    && !name.is_empty()
        })
    }

    pub fn is_given(&self) -> bool {
        self.0.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(value: &str) -> IfMatch {
        IfMatch(Some(HeaderValue::from_str(value).unwrap()))
    }

    #[test]
    fn a_tag_a_star_or_a_version_is_admitted_and_nothing_else() {
        let tag = "\"0123\"";
        assert!(IfMatch(None).admits(tag, None));
        assert!(header("\"0123\"").admits(tag, None));
        assert!(header("\"x\", \"0123\"").admits(tag, None));
        assert!(header("*").admits(tag, None));
        assert!(header("\"3\"").admits(tag, Some("3")));
        assert!(!header("\"3\"").admits(tag, None));
        assert!(
            !header("W/\"0123\"").admits(tag, None),
            "weak tags do not match"
        );
        assert!(!header("\"0124\"").admits(tag, Some("3")));
    }
}
