//! Devices: each signed-in phone, tablet or browser of a user. A device holds the
//! state of its refresh tokens (which generation is current, and when it was
//! issued) but never a token: each generation's token is a MAC of the device and
//! its generation, worked out again when one is presented (`auth::refresh`).
//!
//! Devices live in the user's record, which every request reads anyway: a device
//! removed there is refused by every instance as soon as that instance's copy of
//! the user is renewed, which is the cache's promise (within a second).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::values::Text;

/// A device's name as its user or its app gives it ("Ada's phone").
pub type DeviceName = Text<80>;

/// What kind of client a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Web,
    Ios,
    Android,
    Desktop,
    Other,
}

/// A signed-in device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    pub id: Uuid,
    pub name: DeviceName,
    pub platform: Platform,
    pub created_at: DateTime<Utc>,
    /// When it last signed in or renewed its access: the record is not written on
    /// every request.
    pub last_seen_at: DateTime<Utc>,
    /// The generation of refresh token that is current; every refresh moves it on.
    pub generation: u32,
    /// A random value of this device's, mixed into each of its refresh tokens, so
    /// a device id alone never makes one.
    pub salt: String,
    /// When the current generation was issued: the grace of a refresh raced by
    /// another one of the same device counts from here.
    pub rotated_at: DateTime<Utc>,
}

/// The most devices a user keeps signed in: a new one past it signs out the one
/// seen longest ago.
pub const MAX_DEVICES: usize = 20;

impl Device {
    /// A new device, at generation 1.
    pub fn new(name: DeviceName, platform: Platform, now: DateTime<Utc>) -> Self {
        use base64::Engine;
        let salt: [u8; 16] = rand::random();
        Self {
            id: super::new_id(),
            name,
            platform,
            created_at: now,
            last_seen_at: now,
            generation: 1,
            salt: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(salt),
            rotated_at: now,
        }
    }
}

/// `devices` with `device` added, the one seen longest ago signed out when there
/// are already `MAX_DEVICES`.
pub fn with_device(devices: &mut Vec<Device>, device: Device) {
    while devices.len() >= MAX_DEVICES {
        let oldest = devices
            .iter()
            .enumerate()
            .min_by_key(|(_, device)| device.last_seen_at)
            .map(|(at, _)| at)
            .expect("a full list is not empty");
        devices.remove(oldest);
    }
    devices.push(device);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn a_new_device_past_the_limit_signs_out_the_one_seen_longest_ago() {
        let start = Utc::now();
        let mut devices: Vec<Device> = (0..MAX_DEVICES)
            .map(|n| {
                let mut device = Device::new(
                    DeviceName::try_from(format!("phone {n}")).unwrap(),
                    Platform::Android,
                    start,
                );
                // The third was seen first of all.
                let minutes = if n == 2 {
                    -10
                } else {
                    i64::try_from(n).unwrap()
                };
                device.last_seen_at = start + TimeDelta::minutes(minutes);
                device
            })
            .collect();
        let oldest = devices[2].id;
        let new = Device::new(
            DeviceName::try_from("tablet".to_owned()).unwrap(),
            Platform::Ios,
            start,
        );

        with_device(&mut devices, new.clone());

        assert_eq!(devices.len(), MAX_DEVICES);
        assert!(devices.iter().all(|device| device.id != oldest));
        assert_eq!(devices.last(), Some(&new));
    }

    #[test]
    fn each_device_has_a_salt_of_its_own() {
        let name = || DeviceName::try_from("phone".to_owned()).unwrap();
        let one = Device::new(name(), Platform::Ios, Utc::now());
        let two = Device::new(name(), Platform::Ios, Utc::now());
        assert_ne!(one.salt, two.salt);
        assert_eq!(one.salt.len(), 22, "128 bits, base64url");
    }
}
