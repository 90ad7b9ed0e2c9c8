//! A device's session: opened by signing in, renewed by its refresh token, closed
//! by signing out or from another device. Below the endpoints that do these
//! (`auth`, `session`, `devices`), so none of them imports another for it.
//!
//! An API client gets a short-lived access token (`AUTH_ACCESS_TTL_SECS`, 15
//! minutes) and a refresh token, whose each use gives the next one
//! (`auth::refresh`). A refresh token used a second time signs the whole device
//! out, as someone kept a copy; but a second use within a few seconds of the first,
//! by the same device's racing requests, is only refused.

use std::time::Duration;

use chrono::TimeDelta;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::record::{Change, change_user};
use crate::api::http::error::{ApiError, ApiResult};
use crate::api::http::state::SharedState;
use crate::auth::refresh::{RefreshTokens, Verdict};
use crate::domain::{Device, DeviceName, Platform, User, now, with_device};

/// How long after a refresh the token it replaced is only refused, not taken as
/// stolen: a phone that sent one refresh twice (a retry on a flaky network, two
/// requests at once) must not be signed out for it.
const RACE_GRACE: TimeDelta = TimeDelta::seconds(10);

/// The device a client says it is, when it signs in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceInput {
    /// What the user calls it, e.g. "Ada's phone".
    pub name: DeviceName,
    pub platform: Platform,
}

/// The tokens of a device's session: an access token good for `expires_in`
/// seconds, and the refresh token that renews it.
#[derive(Debug)]
pub struct DeviceTokens {
    pub token: String,
    pub expires_in: u64,
    pub refresh_token: String,
    pub device_id: Uuid,
}

/// A device named by the client, or one named for it.
pub fn device_of(input: Option<DeviceInput>, fallback: Platform) -> Device {
    let (name, platform) = match input {
        Some(input) => (input.name, input.platform),
        None => (
            DeviceName::try_from(
                match fallback {
                    Platform::Web => "Web browser",
                    _ => "API client",
                }
                .to_owned(),
            )
            .expect("a short name"),
            fallback,
        ),
    };
    Device::new(name, platform, now())
}

/// Signs `device` in for `user`: added to their record (the one seen longest ago
/// signed out past `MAX_DEVICES`).
pub async fn open(state: &SharedState, user: &User, device: Device) -> ApiResult<(User, Device)> {
    let (user, ()) = change_user(state, user.id, |user| {
        with_device(&mut user.devices, device.clone());
        Ok(Change::Write(()))
    })
    .await?;
    Ok((user, device))
}

/// An access token for `device` (good for `ttl`) and its current refresh token.
pub fn tokens(state: &SharedState, user: &User, device: &Device, ttl: Duration) -> DeviceTokens {
    DeviceTokens {
        token: state.tokens.issue_for(user, Some(device.id), ttl),
        expires_in: ttl.as_secs(),
        refresh_token: state
            .tokens
            .refresh()
            .token(user.id, device, device.generation),
        device_id: device.id,
    }
}

/// Signs device `device_id` of `user_id` out; whether it was signed in.
pub async fn close(state: &SharedState, user_id: Uuid, device_id: Uuid) -> ApiResult<bool> {
    let (_, closed) = change_user(state, user_id, |user| {
        let before = user.devices.len();
        user.devices.retain(|device| device.id != device_id);
        Ok(if user.devices.len() == before {
            Change::Keep(false)
        } else {
            Change::Write(true)
        })
    })
    .await?;
    Ok(closed)
}

/// Exchanges refresh token `token` for the next one and a new access token.
pub async fn refresh(state: &SharedState, token: &str) -> ApiResult<(User, DeviceTokens)> {
    let refused = || ApiError::unauthorized();
    let presented = RefreshTokens::parse(token).ok_or_else(refused)?;
    let keys = state.tokens.refresh().clone();
    let (user, outcome) = change_user(state, presented.user_id, |user| {
        let at = now();
        let Some(device) = user
            .devices
            .iter_mut()
            .find(|device| device.id == presented.device_id)
        else {
            // Signed out, from this device or another.
            return Ok(Change::Keep(Outcome::Refused));
        };
        match keys.check(&presented, device) {
            Verdict::Forged => Ok(Change::Keep(Outcome::Refused)),
            Verdict::Reused
                if presented.generation + 1 == device.generation
                    && at - device.rotated_at < RACE_GRACE =>
            {
                Ok(Change::Keep(Outcome::Refused))
            }
            Verdict::Reused => {
                let device_id = device.id;
                user.devices.retain(|device| device.id != device_id);
                Ok(Change::Write(Outcome::Reused(device_id)))
            }
            Verdict::Current => {
                device.generation += 1;
                device.rotated_at = at;
                device.last_seen_at = at;
                Ok(Change::Write(Outcome::Renewed(device.id)))
            }
        }
    })
    .await?;
    match outcome {
        Outcome::Refused => Err(refused()),
        Outcome::Reused(device_id) => {
            tracing::warn!(user_id = %user.id, %device_id,
                "a refresh token was used again: the device is signed out");
            Err(refused())
        }
        Outcome::Renewed(device_id) => {
            let device = user
                .devices
                .iter()
                .find(|device| device.id == device_id)
                .expect("the device just renewed")
                .clone();
            let tokens = tokens(state, &user, &device, state.tokens.access_ttl());
            Ok((user, tokens))
        }
    }
}

/// What a refresh came to.
enum Outcome {
    Refused,
    Reused(Uuid),
    Renewed(Uuid),
}
