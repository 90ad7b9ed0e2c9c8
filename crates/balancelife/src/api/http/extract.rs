//! Extractors that turn every malformed or invalid request into an `ApiError`, so
//! all endpoints answer bad input with the same JSON shape.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::api::http::error::ApiError;

/// The largest request body accepted.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// The largest body of a catalogue write: a package holds up to a few hundred meals
/// or sessions. The routes that take one are given this limit (`api::router`).
pub const CATALOGUE_LIMIT_BYTES: usize = 512 * 1024;

/// A JSON body, parsed into a type whose fields validate themselves. Syntax errors are
/// 400; a wrong type or an invalid value is 422 naming the field's path. `LIMIT` is
/// the body limit of the route, for the 413's message.
pub struct ValidJson<T, const LIMIT: usize = BODY_LIMIT_BYTES>(pub T);

impl<S: Send + Sync, T: DeserializeOwned, const LIMIT: usize> FromRequest<S>
    for ValidJson<T, LIMIT>
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(ApiError::unsupported_media_type());
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::payload_too_large(LIMIT)
                } else {
                    ApiError::bad_request("unreadable_body", "the request body could not be read")
                }
            })?;
        parse_json(&bytes).map(ValidJson)
    }
}

/// Whether the request says its body is JSON: `application/json`, or a JSON-based
/// type (`application/…+json`), whatever its parameters.
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim();
            mime.eq_ignore_ascii_case("application/json")
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
}

/// `parse_json` for a value already parsed, such as one entry of an imported file:
/// read as it is, not written out and parsed again.
pub fn from_json_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        data_error(&path, &error.into_inner().to_string())
    })
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // serde would read a JSON array positionally into a struct; every body of this
    // API is an object, so anything else is refused before it gets that far.
    let starts_as_object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !starts_as_object && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => data_error(&path, &inner.to_string()),
            // serde_json reports some type errors (`null` for an enum) as syntax
            // errors; if the document parses on its own, the value was the problem.
            serde_json::error::Category::Syntax
                if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() =>
            {
                data_error(&path, &inner.to_string())
            }
            _ => ApiError::bad_request(
                "malformed_json",
                format!("the request body is not valid JSON: {inner}"),
            ),
        }
    })?;
    Ok(value)
}

/// Every data error is a 422 naming the field: a wrong type, an invalid value, a
/// missing field, and an unknown or duplicate one alike.
fn data_error(path: &str, message: &str) -> ApiError {
    // serde_json appends " at line N column M"; the field name says more.
    let message = message.split(" at line ").next().unwrap_or(message);
    // serde words these as "unknown field `x`, expected ..." and "duplicate field `x`".
    // Either is a value the API does not accept, named like any other (422), so a
    // key such as `$where` can never pass for a query operator.
    for (prefix, why) in [
        ("unknown field `", "is not a known field"),
        ("duplicate field `", "is given twice"),
    ] {
        if let Some(name) = message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
        {
            // The path already ends with the offending key when serde knows it.
            let field = if path == "." || path.is_empty() {
                name.to_owned()
            } else {
                path.to_owned()
            };
            return ApiError::invalid(field, why);
        }
    }
    let field = if path == "." || path.is_empty() {
        missing_field(message).unwrap_or("body").to_owned()
    } else {
        path.to_owned()
    };
    ApiError::invalid(field, message.to_owned())
}

/// serde reports a missing field at the parent's path; name the field itself.
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

/// A query string parsed like `ValidJson` parses a body.
pub struct ValidQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ValidQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ValidQuery)
            .map_err(|error| {
                let path = error.path().to_string();
                data_error(&path, &error.into_inner().to_string())
            })
    }
}

/// An entity id in the path, in the hyphenated form only (as the OpenAPI document's
/// `format: uuid` says). A malformed one is refused before any lookup.
pub struct PathId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::invalid("id", "must be a UUID"))?;
        Uuid::try_parse(&raw)
            .ok()
            .filter(|_| raw.len() == crate::domain::HYPHENATED_LEN)
            .map(PathId)
            .ok_or_else(|| ApiError::invalid("id", "must be a UUID"))
    }
}
/// `object` for a PATCH field (with `#[serde(default)]`): absent stays `None`, and
/// `null` is refused like an array.
pub fn object_or_absent<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    object(deserializer).map(Some)
}

/// `deserialize_with` for a struct field that must be a JSON object. A struct whose
/// fields are all optional would also accept an array (serde reads a struct from a
/// sequence too), which its schema, an object, forbids. The map is handed on as it
/// is, so an error inside still names its field (`nutrients.fat_g`).
pub fn object<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    struct ObjectOnly<T>(std::marker::PhantomData<T>);

    impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for ObjectOnly<T> {
        type Value = T;

        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("an object")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }
    }

    deserializer.deserialize_map(ObjectOnly(std::marker::PhantomData))
}
