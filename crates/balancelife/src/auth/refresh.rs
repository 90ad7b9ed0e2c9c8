//! Refresh tokens: one chain per device, each use giving the next link.
//!
//! A token is `rt1.<user>.<device>.<generation>.<mac>`, the MAC (HMAC-SHA-256,
//! keyed apart from the signing key) of the user, the device, the device's salt and
//! the generation. Nothing secret is stored: the device keeps its salt and which
//! generation is current, and any generation's token can be worked out again to
//! tell a genuine old one from a forged one. That is what reuse detection needs: a
//! genuine token of an earlier generation, presented again, means someone kept a
//! copy, and the whole device is signed out (OAuth 2.0 Security BCP, RFC 9700
//! §4.14.2).

use hmac::{Hmac, Mac};
use uuid::Uuid;

use crate::domain::Device;

const PREFIX: &str = "rt1";

/// Makes and checks refresh tokens.
#[derive(Clone)]
pub struct RefreshTokens {
    mac: Hmac<sha2::Sha256>,
}

/// What a refresh token says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presented<'a> {
    pub user_id: Uuid,
    pub device_id: Uuid,
    pub generation: u32,
    mac: &'a str,
}

/// What a presented token is, against its device as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The device's current token: it may be exchanged for the next.
    Current,
    /// A genuine token of an earlier generation: used again.
    Reused,
    /// Not one this service made for this device.
    Forged,
}

impl RefreshTokens {
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            mac: Hmac::new_from_slice(&key).expect("HMAC takes a key of any length"),
        }
    }

    /// `device`'s token of `generation`.
    pub fn token(&self, user_id: Uuid, device: &Device, generation: u32) -> String {
        format!(
            "{PREFIX}.{}.{}.{generation}.{}",
            user_id.simple(),
            device.id.simple(),
            self.mac_of(user_id, device, generation)
        )
    }

    /// The parts of a token, if it has the shape of one.
    pub fn parse(token: &str) -> Option<Presented<'_>> {
        let mut parts = token.split('.');
        let (prefix, user, device, generation, mac) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        if prefix != PREFIX || parts.next().is_some() {
            return None;
        }
        Some(Presented {
            user_id: Uuid::try_parse(user).ok()?,
            device_id: Uuid::try_parse(device).ok()?,
            generation: generation.parse().ok()?,
            mac,
        })
    }

    /// Whether `presented` is `device`'s current token, a genuine earlier one, or
    /// neither. The MAC is compared in constant time.
    pub fn check(&self, presented: &Presented<'_>, device: &Device) -> Verdict {
        use base64::Engine;
        let Ok(given) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(presented.mac)
        else {
            return Verdict::Forged;
        };
        if presented.device_id != device.id || presented.generation > device.generation {
            return Verdict::Forged;
        }
        let mac = self.keyed(presented.user_id, device, presented.generation);
        if mac.verify_slice(&given).is_err() {
            return Verdict::Forged;
        }
        if presented.generation == device.generation {
            Verdict::Current
        } else {
            Verdict::Reused
        }
    }

    fn keyed(&self, user_id: Uuid, device: &Device, generation: u32) -> Hmac<sha2::Sha256> {
        let mut mac = self.mac.clone();
        mac.update(user_id.as_bytes());
        mac.update(device.id.as_bytes());
        mac.update(device.salt.as_bytes());
        mac.update(&generation.to_be_bytes());
        mac
    }

    fn mac_of(&self, user_id: Uuid, device: &Device, generation: u32) -> String {
        use base64::Engine;
        let digest = self
            .keyed(user_id, device, generation)
            .finalize()
            .into_bytes();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DeviceName, Platform};

    fn device() -> Device {
        Device::new(
            DeviceName::try_from("phone".to_owned()).unwrap(),
            Platform::Android,
            chrono::Utc::now(),
        )
    }

    #[test]
    fn the_current_token_is_current_and_an_earlier_one_is_reused() {
        let tokens = RefreshTokens::new([7; 32]);
        let user = Uuid::now_v7();
        let mut phone = device();
        let first = tokens.token(user, &phone, 1);
        let parsed = RefreshTokens::parse(&first).unwrap();
        assert_eq!(
            (parsed.user_id, parsed.device_id, parsed.generation),
            (user, phone.id, 1)
        );
        assert_eq!(tokens.check(&parsed, &phone), Verdict::Current);

        phone.generation = 2;
        assert_eq!(tokens.check(&parsed, &phone), Verdict::Reused);
        let second = tokens.token(user, &phone, 2);
        assert_eq!(
            tokens.check(&RefreshTokens::parse(&second).unwrap(), &phone),
            Verdict::Current
        );
    }

    #[test]
    fn a_token_made_without_the_key_or_for_another_device_is_forged() {
        let ours = RefreshTokens::new([7; 32]);
        let theirs = RefreshTokens::new([8; 32]);
        let user = Uuid::now_v7();
        let phone = device();
        let other = device();
        for token in [
            theirs.token(user, &phone, 1),
            ours.token(user, &other, 1),
            ours.token(user, &phone, 2),
        ] {
            let parsed = RefreshTokens::parse(&token).unwrap();
            assert_eq!(ours.check(&parsed, &phone), Verdict::Forged, "{token}");
        }
        // Another user's name on this device's MAC.
        let genuine = ours.token(user, &phone, 1);
        let swapped = genuine.replace(
            &user.simple().to_string(),
            &Uuid::now_v7().simple().to_string(),
        );
        let parsed = RefreshTokens::parse(&swapped).unwrap();
        assert_eq!(ours.check(&parsed, &phone), Verdict::Forged);
    }

    #[test]
    fn only_the_shape_of_a_refresh_token_parses() {
        for bad in ["", "rt1", "rt2.a.b.1.c", "rt1.x.y.1.z", "rt1.a.b.c.d.e"] {
            assert!(RefreshTokens::parse(bad).is_none(), "{bad}");
        }
    }
}
