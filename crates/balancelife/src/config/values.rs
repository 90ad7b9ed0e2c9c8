//! Value types of settings that check themselves as they are read, so an invalid value
//! is refused with its variable's name (figment names the key) and nothing downstream
//! checks again. Each accepts its value as TOML writes it and as the text of an
//! environment variable; secrets print masked.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::mask::mask_uri_credentials;

/// A whole number from `MIN` to `MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Bounded<const MIN: u64, const MAX: u64>(u64);

impl<const MIN: u64, const MAX: u64> Bounded<MIN, MAX> {
    /// For defaults: a default out of its bounds panics (in every test that loads
    /// settings), and fails to compile where used in a `const`.
    pub const fn new(value: u64) -> Self {
        assert!(MIN <= value && value <= MAX, "a default out of its bounds");
        Self(value)
    }

    pub fn get(self) -> u64 {
        self.0
    }

    pub fn millis(self) -> Duration {
        Duration::from_millis(self.0)
    }

    pub fn secs(self) -> Duration {
        Duration::from_secs(self.0)
    }

    fn checked<E: de::Error>(value: u64) -> Result<Self, E> {
        if (MIN..=MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(E::custom(format_args!("must be from {MIN} to {MAX}")))
        }
    }
}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct WholeNumber<const MIN: u64, const MAX: u64>;

        impl<const MIN: u64, const MAX: u64> Visitor<'_> for WholeNumber<MIN, MAX> {
            type Value = Bounded<MIN, MAX>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a whole number from {MIN} to {MAX}")
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
                Bounded::checked(value)
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
                u64::try_from(value).map_or_else(|_| Err(E::custom(&self)), Bounded::checked)
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                let value = text.trim().parse().map_err(|_| E::custom(&self))?;
                Bounded::checked(value)
            }
        }

        impl<const MIN: u64, const MAX: u64> fmt::Display for WholeNumber<MIN, MAX> {
            fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "must be a whole number from {MIN} to {MAX}")
            }
        }

        deserializer.deserialize_any(WholeNumber::<MIN, MAX>)
    }
}

/// `true` or `false`, also as text (any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Boolean;

        impl Visitor<'_> for Boolean {
            type Value = Flag;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true or false")
            }

            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Flag, E> {
                Ok(Flag(value))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Flag, E> {
                match text.trim().to_ascii_lowercase().as_str() {
                    "true" => Ok(Flag(true)),
                    "false" => Ok(Flag(false)),
                    _ => Err(E::custom("must be true or false")),
                }
            }
        }

        deserializer.deserialize_any(Boolean)
    }
}

/// Text checked by `check` as it is read; `check` says what is wrong, without the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Checked<C>(String, #[serde(skip)] PhantomData<C>);

/// A rule for `Checked` text.
pub trait TextRule {
    fn check(text: &str) -> Result<(), String>;
}

impl<C: TextRule> Checked<C> {
    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        assert!(C::check(&text).is_ok(), "a default that breaks its rule");
        Self(text, PhantomData)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<'de, C: TextRule> Deserialize<'de> for Checked<C> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        C::check(&text).map_err(de::Error::custom)?;
        Ok(Self(text, PhantomData))
    }
}

/// A MongoDB database name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseName;

impl TextRule for DatabaseName {
    fn check(name: &str) -> Result<(), String> {
        let valid = !name.is_empty()
            && name.len() <= 63
            && !name.contains(['/', '\\', '.', ' ', '"', '$', '\0']);
        valid
            .then_some(())
            .ok_or_else(|| "must be a valid MongoDB database name".to_owned())
    }
}

/// The first part of every cache key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyNamespace;

impl TextRule for KeyNamespace {
    fn check(namespace: &str) -> Result<(), String> {
        let valid = (1..=64).contains(&namespace.len())
            && namespace
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        valid
            .then_some(())
            .ok_or_else(|| "must be 1 to 64 characters of a-z, A-Z, 0-9, '-' and '_'".to_owned())
    }
}

/// A `tracing` filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFilter;

impl TextRule for LogFilter {
    fn check(filter: &str) -> Result<(), String> {
        tracing_subscriber::EnvFilter::try_new(filter)
            .map(drop)
            .map_err(|_| format!("{filter:?} is not a valid log filter"))
    }
}

/// Reads a secret's text. Anything else is refused without repeating it, where
/// serde's own message would quote the value (`invalid type: integer 12345678`).
fn secret_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SecretString, D::Error> {
    struct Text;

    impl Visitor<'_> for Text {
        type Value = SecretString;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("text")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<SecretString, E> {
            Ok(SecretString::from(text))
        }

        fn visit_bool<E: de::Error>(self, _: bool) -> Result<SecretString, E> {
            Err(not_text())
        }

        fn visit_i64<E: de::Error>(self, _: i64) -> Result<SecretString, E> {
            Err(not_text())
        }

        fn visit_u64<E: de::Error>(self, _: u64) -> Result<SecretString, E> {
            Err(not_text())
        }

        fn visit_f64<E: de::Error>(self, _: f64) -> Result<SecretString, E> {
            Err(not_text())
        }
    }

    fn not_text<E: de::Error>() -> E {
        E::custom("must be text (in a TOML file: in quotes)")
    }

    deserializer.deserialize_any(Text)
}

/// A secret that prints as `***`.
#[derive(Debug, Clone)]
pub struct Secret(pub SecretString);

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        secret_text(deserializer).map(Self)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("***")
    }
}

/// A connection string that may embed credentials: it prints with them masked.
#[derive(Debug, Clone)]
pub struct SecretUri(pub SecretString);

impl<'de> Deserialize<'de> for SecretUri {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        secret_text(deserializer).map(Self)
    }
}

impl Serialize for SecretUri {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&mask_uri_credentials(self.0.expose_secret()))
    }
}

/// The token signing secret: long enough for HS256.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct TokenSecret(Secret);

impl TokenSecret {
    pub fn into_secret(self) -> SecretString {
        self.0.0
    }
}

impl<'de> Deserialize<'de> for TokenSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let secret = secret_text(deserializer)?;
        let least = crate::auth::TokenKeys::MIN_SECRET_BYTES;
        if secret.expose_secret().len() < least {
            // Never the value itself: it is a secret, however wrong.
            return Err(de::Error::custom(format_args!(
                "must be at least {least} bytes"
            )));
        }
        Ok(Self(Secret(secret)))
    }
}
