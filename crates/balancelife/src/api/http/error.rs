//! The one error type every handler returns, and its stable JSON body:
//! `{"error": {"code": "...", "message": "...", "field": "..."}}`.
//!
//! Internal causes are logged here and replaced by a generic message, so nothing
//! about the backend ever reaches a client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::StoreError;
use crate::telemetry::ErrorChain;

#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
    /// Seconds, for the `Retry-After` header of a 429.
    retry_after: Option<u64>,
}

/// The body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail<'a> {
    /// A stable, machine-readable code such as `validation_failed`, `not_found`,
    /// `unauthorized`, `conflict` or `too_many_requests`.
    #[schema(example = "validation_failed")]
    code: &'a str,
    /// A sentence for people; it may change between versions.
    message: &'a str,
    /// The path of the offending field or parameter, for `validation_failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    field: Option<&'a str>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required",
        )
    }

    pub fn invalid_credentials() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "the e-mail address or the password is wrong",
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this method is not allowed on this resource",
        )
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// What the request names is gone for good; `message` says what to do instead.
    pub fn gone(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, code, message)
    }

    /// A conflict over one field's value (a slug another package holds).
    pub fn conflict_about(field: &str, message: impl Into<String>) -> Self {
        Self {
            message: format!("{field}: {}", message.into()),
            field: Some(field.to_owned()),
            ..Self::new(StatusCode::CONFLICT, "conflict", "")
        }
    }

    /// Signed in, but not allowed. Says no more than that the operation exists.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this operation is for administrators only",
        )
    }

    /// A write the session cookie authenticates that does not come from the app.
    pub fn cross_site() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "cross_site_request",
            "a write signed in by cookie needs the X-CSRF-Token header the app sends",
        )
    }

    /// `If-Match` names a revision that is no longer the current one.
    pub fn precondition_failed() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            "it was changed since the revision If-Match names; read it again",
        )
    }

    pub fn payload_too_large(limit_bytes: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body must not exceed {limit_bytes} bytes"),
        )
    }

    /// A list in the body longer than the service takes in one request.
    pub fn too_many_items(field: &str, most: usize) -> Self {
        Self {
            field: Some(field.to_owned()),
            ..Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("{field}: at most {most} in one request; send the rest in another"),
            )
        }
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the request body must be JSON with Content-Type: application/json",
        )
    }

    /// A well-formed request with a value that is not acceptable.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        Self {
            message: format!("{field}: {message}"),
            field: Some(field),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "")
        }
    }

    /// The same error about a field inside `prefix` (e.g. `meal_entries[3]`).
    pub fn within(mut self, prefix: &str) -> Self {
        match self.field.take() {
            Some(field) => {
                let message = self
                    .message
                    .strip_prefix(&format!("{field}: "))
                    .unwrap_or(&self.message)
                    .to_owned();
                let field = format!("{prefix}.{field}");
                self.message = format!("{field}: {message}");
                self.field = Some(field);
            }
            None => {
                self.message = format!("{prefix}: {}", self.message);
                self.field = Some(prefix.to_owned());
            }
        }
        self
    }

    pub fn too_many_requests(wait: std::time::Duration) -> Self {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Self {
            retry_after: Some(seconds.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "too many attempts; wait before trying again",
            )
        }
    }

    pub fn timeout() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request took too long; try again shortly",
        )
    }

    /// More work waiting than the service takes on (password hashes): try again in a
    /// second.
    pub fn busy() -> Self {
        Self {
            retry_after: Some(1),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the service is busy; try again shortly",
            )
        }
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the service is temporarily unavailable; try again shortly",
        )
    }

    /// Logs `cause` and answers with a message that reveals nothing of it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::not_found("resource"),
            StoreError::Conflict(message) => Self::conflict(message),
            StoreError::Invalid(message) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                message,
            ),
            StoreError::Stale => Self::precondition_failed(),
            error @ StoreError::Unavailable { .. } => {
                tracing::warn!(error = %ErrorChain(&error), "store unavailable");
                Self::unavailable()
            }
            error @ StoreError::Internal { .. } => Self::internal(ErrorChain(&error)),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: &self.message,
                field: self.field.as_deref(),
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// What a handler answers when the store says "not found", in one call instead of a
/// match arm; every other store error maps as `From` says.
pub trait NotFoundAs<T> {
    /// 404 naming `noun`: the same answer whether it does not exist or belongs to
    /// someone else, so nobody learns which.
    fn or_not_found(self, noun: &str) -> ApiResult<T>;

    /// `instead`, e.g. 401 when the caller's own account was deleted meanwhile.
    fn or_if_gone(self, instead: fn() -> ApiError) -> ApiResult<T>;
}

impl<T> NotFoundAs<T> for Result<T, StoreError> {
    fn or_not_found(self, noun: &str) -> ApiResult<T> {
        not_found_as(self, || ApiError::not_found(noun))
    }

    fn or_if_gone(self, instead: fn() -> ApiError) -> ApiResult<T> {
        not_found_as(self, instead)
    }
}

fn not_found_as<T>(
    result: Result<T, StoreError>,
    instead: impl FnOnce() -> ApiError,
) -> ApiResult<T> {
    result.map_err(|error| match error {
        StoreError::NotFound => instead(),
        other => other.into(),
    })
}
