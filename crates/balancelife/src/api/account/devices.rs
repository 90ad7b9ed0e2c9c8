//! `GET /devices`, `DELETE /devices/{id}` and `POST /auth/refresh`: the devices a
//! user is signed in on, signing one out, and renewing a device's access.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::{AuthSession, SessionResponse};
use super::device_sessions;
use crate::api::http::error::{ApiError, ApiResult, ErrorBody};
use crate::api::http::extract::{PathId, ValidJson};
use crate::api::http::state::SharedState;
use crate::domain::{DeviceName, Platform};

/// A signed-in device, as its user sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    id: Uuid,
    name: DeviceName,
    platform: Platform,
    created_at: DateTime<Utc>,
    /// When it last signed in or renewed its access.
    last_seen_at: DateTime<Utc>,
    /// Whether it is the device asking.
    current: bool,
}

/// A refresh token to exchange.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    refresh_token: String,
}

/// The devices the caller is signed in on, the latest seen first.
#[utoipa::path(
    get,
    path = "/api/v1/devices",
    tag = "auth",
    operation_id = "list_devices",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "At most 20 devices", body = Vec<DeviceView>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
pub async fn list(AuthSession { user, device }: AuthSession) -> Json<Vec<DeviceView>> {
    let mut devices: Vec<DeviceView> = user
        .devices
        .into_iter()
        .map(|each| DeviceView {
            current: Some(each.id) == device,
            id: each.id,
            name: each.name,
            platform: each.platform,
            created_at: each.created_at,
            last_seen_at: each.last_seen_at,
        })
        .collect();
    devices.sort_by(|a, b| b.last_seen_at.cmp(&a.last_seen_at).then(a.id.cmp(&b.id)));
    Json(devices)
}

/// Signs one of the caller's devices out.
///
/// Its access and refresh tokens are refused from then on, by every instance
/// within a second. Signing out the device asking is signing out.
#[utoipa::path(
    delete,
    path = "/api/v1/devices/{id}",
    tag = "auth",
    operation_id = "sign_out_device",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The device's id")),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such device of the caller's", body = ErrorBody),
        (status = 409, description = "The account kept changing; try again", body = ErrorBody),
    )
)]
pub async fn sign_out(
    State(state): State<SharedState>,
    AuthSession { user, .. }: AuthSession,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    if device_sessions::close(&state, user.id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("device"))
    }
}

/// Renews a device's access with its refresh token.
///
/// Answers a new access token and the next refresh token; the one sent is spent.
/// The token spent last, sent again within 10 seconds, gets the current tokens
/// again (a retry whose answer was lost); any other spent token signs the device
/// out, as someone else may hold a copy.
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    tag = "auth",
    operation_id = "refresh",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = SessionResponse),
        (status = 401, description = "Not a refresh token of a signed-in device, or one \
            spent already", body = ErrorBody),
        (status = 409, description = "The account kept changing; try again", body = ErrorBody),
        (status = 429, description = "Renewed less than a second ago: use the tokens it gave",
            body = ErrorBody,
            headers(("retry-after" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn refresh(
    State(state): State<SharedState>,
    ValidJson(request): ValidJson<RefreshRequest>,
) -> ApiResult<Json<SessionResponse>> {
    let (user, tokens) = device_sessions::refresh(&state, &request.refresh_token).await?;
    Ok(Json(SessionResponse::of(tokens, &user)))
}
