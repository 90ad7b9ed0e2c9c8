//! A device's session: opened by signing in, renewed by its refresh token, closed
//! by signing out or from another device. Below the endpoints that do these
//! (`auth`, `session`, `devices`), so none of them imports another for it.
//!
//! An API client gets a short-lived access token (`AUTH_ACCESS_TTL_SECS`, 15
//! minutes) and a refresh token, whose each use gives the next one
//! (`auth::refresh`). A refresh token used a second time signs the whole device
//! out, as someone kept a copy; but the token spent last, sent again within a few
//! seconds of its use, gets the current tokens again (they can be made again: none
//! is stored): that is a phone retrying a renewal whose answer it lost.

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

/// How long after a refresh the token it replaced still gets the current tokens,
/// rather than being taken as stolen: a phone that sent one refresh twice (a retry
/// on a flaky network, two requests at once) must not be signed out for it. Counted
/// by the clocks of the instances involved, so their skew widens or narrows it.
const RACE_GRACE: TimeDelta = TimeDelta::seconds(10);

/// How soon a device may renew again: a thief refreshing in a loop must not keep
/// the record so busy that signing the device out cannot get a write in.
const RENEWAL_SPACING: TimeDelta = TimeDelta::seconds(1);

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
///
/// `checked` is the user whose password the sign-in checked, perhaps a cached copy:
/// if the password or e-mail changed since, the sign-in proved old credentials and
/// is refused, so no device outlives the change that should have signed it out.
pub async fn open(
    state: &SharedState,
    checked: &User,
    device: Device,
) -> ApiResult<(User, Device)> {
    let (user, ()) = change_user(state, checked.id, |user| {
        if user.password_hash != checked.password_hash || user.email != checked.email {
            return Err(ApiError::invalid_credentials());
        }
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

/// How stale a device's "last seen" may grow before a request of it renews it: a
/// web session renews no token, and its device must not look unused (and be the
/// first signed out past `MAX_DEVICES`) while it is used every day.
const SEEN_EVERY: TimeDelta = TimeDelta::hours(1);

/// Notes that `device` of `user` is in use, when its "last seen" is over an hour
/// old: in the background, as the request needs nothing of it, and at most once an
/// hour per device, so requests do not write the user's record.
pub fn seen_now_and_then(state: &SharedState, user: &User, device: Uuid) {
    let stale = user
        .devices
        .iter()
        .any(|known| known.id == device && now() - known.last_seen_at > SEEN_EVERY);
    if !stale {
        return;
    }
    let (state, user_id) = (state.clone(), user.id);
    tokio::spawn(async move {
        let noted = change_user(&state, user_id, |user| {
            let at = now();
            match user.devices.iter_mut().find(|known| known.id == device) {
                Some(known) if at - known.last_seen_at > SEEN_EVERY => {
                    known.last_seen_at = at;
                    Ok(Change::Write(()))
                }
                _ => Ok(Change::Keep(())),
            }
        })
        .await;
        if let Err(error) = noted {
            tracing::debug!(status = %error.status(), "a device's last-seen time was not renewed");
        }
    });
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
                Ok(Change::Keep(Outcome::Again(device.id)))
            }
            // The first renewal after signing in is never too soon.
            Verdict::Current
                if device.generation > 1 && at - device.rotated_at < RENEWAL_SPACING =>
            {
                Ok(Change::Keep(Outcome::TooSoon))
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
        Outcome::TooSoon => Err(ApiError::too_many_requests(Duration::from_secs(1))),
        Outcome::Reused(device_id) => {
            tracing::warn!(user_id = %user.id, %device_id,
                "a refresh token was used again: the device is signed out");
            Err(refused())
        }
        Outcome::Renewed(device_id) | Outcome::Again(device_id) => {
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
    /// Renewed less than `RENEWAL_SPACING` ago.
    TooSoon,
    /// A spent token used again: the device is signed out.
    Reused(Uuid),
    /// The current tokens, made anew.
    Renewed(Uuid),
    /// The token spent last, within its grace: the current tokens again.
    Again(Uuid),
}
