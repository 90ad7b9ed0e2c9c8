//! Value types that cannot hold an invalid value.
//!
//! Each one is built through a fallible constructor (`TryFrom` or `parse`) and is also
//! the `Deserialize` target at the API edge, so a request that reaches a handler has
//! already been checked, and the error names the field that was wrong.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::openapi::{KnownFormat, RefOr, schema::Schema};

use super::schema;

/// Why a value was refused. The caller adds the field name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

impl InvalidValue {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Defines a finite `f64` newtype bounded to an inclusive range.
macro_rules! bounded_f64 {
    ($(#[doc = $doc:literal])* $name:ident, $min:expr, $max:expr) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "f64", into = "f64")]
        pub struct $name(f64);

        impl $name {
            pub const MIN: f64 = $min;
            pub const MAX: f64 = $max;

            pub fn get(self) -> f64 {
                self.0
            }
        }

        impl TryFrom<f64> for $name {
            type Error = $crate::domain::values::InvalidValue;

            fn try_from(value: f64) -> Result<Self, Self::Error> {
                if value.is_finite() && (Self::MIN..=Self::MAX).contains(&value) {
                    Ok(Self(value))
                } else {
                    Err($crate::domain::values::InvalidValue(format!(
                        "must be a number from {} to {}",
                        Self::MIN,
                        Self::MAX
                    )))
                }
            }
        }

        impl From<$name> for f64 {
            fn from(value: $name) -> f64 {
                value.0
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::domain::schema::number(Self::MIN, Self::MAX, concat!($($doc, "\n"),*))
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}
pub(crate) use bounded_f64;

/// Defines an unsigned integer newtype bounded to an inclusive range.
macro_rules! bounded_int {
    ($(#[doc = $doc:literal])* $name:ident, $int:ty, $min:expr, $max:expr) => {
        $(#[doc = $doc])*
        // Read through `f64` so that `3.0`, a whole number to JSON Schema, is accepted
        // like `3`; every bound is far inside the range `f64` holds exactly.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "f64", into = "i64")]
        pub struct $name($int);

        impl $name {
            pub const MIN: $int = $min;
            pub const MAX: $int = $max;

            pub fn get(self) -> $int {
                self.0
            }
        }

        impl TryFrom<i64> for $name {
            type Error = InvalidValue;

            fn try_from(value: i64) -> Result<Self, Self::Error> {
                <$int>::try_from(value)
                    .ok()
                    .filter(|v| (Self::MIN..=Self::MAX).contains(v))
                    .map(Self)
                    .ok_or_else(|| {
                        InvalidValue(format!(
                            "must be a whole number from {} to {}",
                            Self::MIN,
                            Self::MAX
                        ))
                    })
            }
        }

        impl TryFrom<f64> for $name {
            type Error = InvalidValue;

            fn try_from(value: f64) -> Result<Self, Self::Error> {
                let whole = value.fract() == 0.0 && value.abs() < 2_f64.powi(53);
                // `as` is exact here: a whole number of at most 53 bits.
                #[allow(clippy::cast_possible_truncation)]
                let value = if whole { value as i64 } else { i64::MIN };
                Self::try_from(value)
            }
        }

        impl From<$name> for i64 {
            fn from(value: $name) -> i64 {
                i64::from(value.0)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                schema::integer(
                    Self::MIN.into(),
                    Self::MAX.into(),
                    concat!($($doc, "\n"),*),
                )
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

bounded_f64!(
    /// Food energy or energy burned, in kilocalories. The ceiling is a whole day of
    /// extreme intake, so a typo like 25000 is caught.
    Kcal,
    0.0,
    20_000.0
);

impl Kcal {
    pub const ZERO: Self = Self(0.0);
}
bounded_f64!(
    /// A mass in grams (macronutrients, fibre, sugar, portions).
    Grams,
    0.0,
    5_000.0
);
bounded_f64!(
    /// A daily energy target: below 500 kcal is starvation, above 10000 a typo.
    KcalTarget,
    500.0,
    10_000.0
);
bounded_f64!(
    /// A daily macronutrient target in grams.
    GramsTarget,
    0.0,
    1_000.0
);
bounded_f64!(
    /// A mass in milligrams (sodium).
    Milligrams,
    0.0,
    100_000.0
);
bounded_f64!(
    /// How much of a food was eaten, in the entry's unit.
    Quantity,
    0.001,
    100_000.0
);
bounded_f64!(
    /// Body height in centimetres.
    HeightCm,
    50.0,
    280.0
);
bounded_f64!(
    /// Body weight in kilograms.
    WeightKg,
    20.0,
    500.0
);
bounded_f64!(
    /// Body fat in percent of body mass: below 1 or above 75 is a wrong unit or a
    /// typo (the health platforms' own range).
    BodyFatPct,
    1.0,
    75.0
);
bounded_f64!(
    /// A girth of the body (waist, hips, an arm) in centimetres.
    GirthCm,
    5.0,
    300.0
);
bounded_f64!(
    /// A distance in kilometres covered in one workout.
    DistanceKm,
    0.0,
    1_000.0
);
bounded_int!(
    /// Perceived effort on the usual 1–10 scale.
    Effort,
    u8,
    1,
    10
);
bounded_f64!(
    /// The load of a set in kilograms, besides the body.
    LoadKg,
    0.0,
    1_000.0
);
bounded_f64!(
    /// Rate of perceived exertion of a set: 10 is a set taken to failure, 8 leaves
    /// two repetitions in reserve.
    Rpe,
    1.0,
    10.0
);
bounded_int!(
    /// Repetitions of a set; 0 for an attempt that failed.
    Reps,
    u16,
    0,
    1_000
);
bounded_int!(
    /// Average heart rate in beats per minute.
    HeartRate,
    u16,
    25,
    250
);
bounded_int!(
    /// A workout's length in seconds: at most a day.
    DurationSecs,
    u32,
    1,
    86_400
);
bounded_int!(
    /// A 1-based day of a meal package (a year at most).
    PackageDay,
    u16,
    1,
    366
);
bounded_int!(
    /// A 1-based week of a workout package (a year at most).
    PackageWeek,
    u8,
    1,
    52
);
bounded_int!(
    /// A 1-based session day within a week of a workout package.
    SessionDay,
    u8,
    1,
    7
);
bounded_int!(
    /// A package's revision number; entries copy it so later edits are traceable.
    Version,
    u32,
    1,
    1_000_000
);

impl Version {
    /// The revision after this one; `None` past the last.
    pub fn next(self) -> Option<Self> {
        Self::try_from(i64::from(self.get()) + 1).ok()
    }
}

/// Trimmed, non-empty text of at most `MAX` characters, without control characters
/// other than newlines and tabs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `text` trimmed and cut to `MAX` characters: a longer name (a food's, another
    /// app's) given to a shorter field. Refused only when nothing is left.
    pub fn cut(text: &str) -> Result<Self, InvalidValue> {
        let cut: String = text.trim().chars().take(MAX).collect();
        Self::try_from(cut.trim_end().to_owned())
    }
}

/// `value` to a tenth, as nutrition labels print and entries keep their numbers.
pub fn to_tenth(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

impl<const MAX: usize> TryFrom<String> for Text<MAX> {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        // Length and characters are checked on the value as sent, so the OpenAPI
        // schema (`maxLength`, `schema::TEXT`) says exactly what is accepted.
        if value.chars().count() > MAX {
            return Err(InvalidValue(format!("must be at most {MAX} characters")));
        }
        if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(InvalidValue::new("must not contain control characters"));
        }
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(InvalidValue::new("must not be empty"));
        }
        Ok(Self(trimmed.to_owned()))
    }
}

impl<const MAX: usize> TryFrom<&str> for Text<MAX> {
    type Error = InvalidValue;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::try_from(value.to_owned())
    }
}

impl<const MAX: usize> From<Text<MAX>> for String {
    fn from(value: Text<MAX>) -> String {
        value.0
    }
}

impl<const MAX: usize> fmt::Display for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const MAX: usize> utoipa::PartialSchema for Text<MAX> {
    fn schema() -> RefOr<Schema> {
        schema::string(
            MAX,
            schema::TEXT,
            "Text without control characters other than line breaks and tabs; \
             surrounding white space is trimmed.",
        )
        .into()
    }
}

impl<const MAX: usize> utoipa::ToSchema for Text<MAX> {
    fn name() -> std::borrow::Cow<'static, str> {
        match MAX {
            100 => "Name".into(),
            120 => "Title".into(),
            2_000 => "Notes".into(),
            other => format!("Text{other}").into(),
        }
    }
}

/// A person's or a thing's display name.
pub type Name = Text<100>;
/// A title of a workout or a meal.
pub type Title = Text<120>;
/// Free-form notes and descriptions.
pub type Notes = Text<2_000>;

/// A lower-case identifier-like word: `a-z`, `0-9` and `-`, starting with a letter
/// or digit. Used for tags and slugs, so it can never carry query syntax.
fn check_word(value: &str, max: usize) -> Result<(), InvalidValue> {
    let valid = !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-');
    if valid {
        Ok(())
    } else {
        Err(InvalidValue(format!(
            "must be 1 to {max} characters of a-z, 0-9 and '-', not starting with '-'"
        )))
    }
}

/// What `check_word` accepts, for the OpenAPI document.
const WORD_PATTERN: &str = "^[a-z0-9][a-z0-9-]*$";

macro_rules! word_type {
    ($(#[doc = $doc:literal])* $name:ident, $max:expr) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MAX_LEN: usize = $max;

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                check_word(&value, Self::MAX_LEN)?;
                Ok(Self(value))
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::try_from(value.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                schema::string(Self::MAX_LEN, WORD_PATTERN, concat!($($doc, "\n"),*)).into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

word_type!(
    /// A catalogue tag such as `high-protein` or `no-equipment`.
    Tag,
    32
);
word_type!(
    /// The name of a body measurement of the user's choosing, such as `hips` or
    /// `left-thigh`.
    MeasurementName,
    32
);
word_type!(
    /// A package's stable, URL-friendly name, unique within its catalogue.
    Slug,
    64
);
word_type!(
    /// An exercise's id: a slug such as `barbell-squat` for one of the bundled
    /// library, a UUID for one an administrator added.
    ExerciseId,
    64
);

impl ExerciseId {
    /// The id of the custom exercise `id`: its UUID, hyphenated, lower case.
    pub fn of_custom(id: uuid::Uuid) -> Self {
        Self(id.hyphenated().to_string())
    }

    /// The custom exercise this id names, if it names one: a UUID spelled as
    /// `of_custom` spells it (one exercise, one id).
    pub fn custom(&self) -> Option<uuid::Uuid> {
        uuid::Uuid::try_parse(&self.0)
            .ok()
            .filter(|id| Self::of_custom(*id) == *self)
    }
}

/// An e-mail address, stored lower-cased so that uniqueness is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A name for the address that does not reveal it, for key names: the first
    /// 128 bits of its SHA-256, in hex.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(&Sha256::digest(self.0.as_bytes())[..16])
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        let normalized = value.trim().to_lowercase();
        // Both as sent (what the OpenAPI `maxLength` says) and as stored.
        let well_formed = value.chars().count() <= Self::MAX_LEN
            && normalized.len() <= Self::MAX_LEN
            && email_address::EmailAddress::from_str(&normalized).is_ok()
            // The crate accepts quoted locals and IP-literal domains; we want the
            // plain address a person types into a sign-up form.
            && normalized.split_once('@').is_some_and(|(local, domain)| {
                !local.contains('"')
                    && domain.contains('.')
                    && !domain.starts_with('[')
                    && !domain.ends_with('.')
            });
        if well_formed {
            Ok(Self(normalized))
        } else {
            Err(InvalidValue::new("must be a valid e-mail address"))
        }
    }
}

impl FromStr for Email {
    type Err = InvalidValue;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::try_from(value.to_owned())
    }
}

impl From<Email> for String {
    fn from(value: Email) -> String {
        value.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl utoipa::PartialSchema for Email {
    fn schema() -> RefOr<Schema> {
        let text = schema::string(
            Self::MAX_LEN,
            "@",
            "An e-mail address; compared and stored lower-cased.",
        );
        schema::with_format(text, KnownFormat::Email).into()
    }
}

impl utoipa::ToSchema for Email {}

/// An IANA time zone such as `Europe/Berlin`; it decides which calendar day an entry
/// belongs to for its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timezone(chrono_tz::Tz);

impl Timezone {
    pub fn utc() -> Self {
        Self(chrono_tz::UTC)
    }

    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    /// The instant at which the wall clock in this zone shows `time` on `date`. A time
    /// skipped by a daylight-saving change is read an hour later, as clocks do.
    pub fn instant(
        self,
        date: chrono::NaiveDate,
        time: chrono::NaiveTime,
    ) -> chrono::DateTime<chrono::Utc> {
        use chrono::TimeZone;
        let local = date.and_time(time);
        self.0
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                // Checked: a date at the edge of what chrono holds has no hour after.
                let later = local.checked_add_signed(chrono::Duration::hours(1))?;
                self.0.from_local_datetime(&later).earliest()
            })
            .map_or_else(|| local.and_utc(), |at| at.with_timezone(&chrono::Utc))
    }

    /// The calendar day, in this zone, on which the instant falls.
    pub fn local_date(self, at: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
        at.with_timezone(&self.0).date_naive()
    }
}

impl TryFrom<String> for Timezone {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value
            .parse::<chrono_tz::Tz>()
            .map(Self)
            .map_err(|_| InvalidValue::new("must be an IANA time zone name such as Europe/Berlin"))
    }
}

impl FromStr for Timezone {
    type Err = InvalidValue;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::try_from(value.to_owned())
    }
}

impl From<Timezone> for String {
    fn from(value: Timezone) -> String {
        value.0.name().to_owned()
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

/// The characters of IANA zone names (`America/Port-au-Prince`, `Etc/GMT+1`).
pub const TIMEZONE_PATTERN: &str = "^[A-Za-z0-9/_+-]+$";

impl Timezone {
    /// Every zone's name, as `GET /api/v1/time-zones` lists them.
    pub fn names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }

    fn longest_name() -> usize {
        Self::names().map(str::len).max().unwrap_or(1)
    }
}

/// A string, not an enum of the ~600 names: code generators turn enum values into
/// identifiers, and `GMT0`, `GMT+0` and `GMT-0` become the same one. The list is
/// served by `GET /api/v1/time-zones`; an unknown name is a 422.
impl utoipa::PartialSchema for Timezone {
    fn schema() -> RefOr<Schema> {
        schema::string(
            Self::longest_name(),
            TIMEZONE_PATTERN,
            "An IANA time zone name, one of those `GET /api/v1/time-zones` lists; it \
             decides which calendar day an entry falls on.",
        )
        .examples(["Europe/Berlin"])
        .into()
    }
}

impl utoipa::ToSchema for Timezone {}

/// A client-supplied entity id: any RFC 9562 UUID, versions 1 to 8, so an offline
/// client can use what its platform makes (`crypto.randomUUID()`, iOS `UUID()` and
/// Android `UUID.randomUUID()` make v4). Lists are ordered by position, not by id, so
/// nothing depends on ids being time-ordered; the service's own ids stay v7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(uuid::Uuid);

impl ClientId {
    pub fn get(self) -> uuid::Uuid {
        self.0
    }
}

impl TryFrom<uuid::Uuid> for ClientId {
    type Error = InvalidValue;

    /// The nil and max UUIDs, other variants (Microsoft's, NCS) and version numbers
    /// RFC 9562 does not define are refused: they are not ids a client makes.
    fn try_from(id: uuid::Uuid) -> Result<Self, Self::Error> {
        let version = id.get_version_num();
        if (1..=8).contains(&version) && id.get_variant() == uuid::Variant::RFC4122 {
            Ok(Self(id))
        } else {
            Err(InvalidValue::new(CLIENT_ID_RULE))
        }
    }
}

impl TryFrom<String> for ClientId {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl FromStr for ClientId {
    type Err = InvalidValue;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match uuid::Uuid::try_parse(value) {
            Ok(id) if value.len() == HYPHENATED_LEN => id.try_into(),
            _ => Err(InvalidValue::new(CLIENT_ID_RULE)),
        }
    }
}

/// What a refused client id is told.
const CLIENT_ID_RULE: &str = "must be an RFC 9562 UUID (version 1 to 8) in its hyphenated form";

/// What `ClientId` accepts, for the OpenAPI document: the version digit 1–8 and the
/// RFC 9562 variant (the first digit of the fourth group is 8, 9, a or b).
pub const CLIENT_ID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$";

/// The length of a UUID in its hyphenated form, the only form ids are accepted in.
pub const HYPHENATED_LEN: usize = 36;

impl utoipa::PartialSchema for ClientId {
    fn schema() -> RefOr<Schema> {
        let id = schema::string(
            HYPHENATED_LEN,
            CLIENT_ID_PATTERN,
            "A UUID (RFC 9562, any version: v4 as phones make them, or v7) chosen by \
             the client, which makes the write idempotent.",
        )
        .min_length(Some(HYPHENATED_LEN));
        schema::with_format(id, KnownFormat::Uuid).into()
    }
}

impl utoipa::ToSchema for ClientId {}

impl From<ClientId> for String {
    fn from(value: ClientId) -> String {
        value.0.to_string()
    }
}

/// The current time at millisecond precision. Every store can keep that exactly (BSON
/// dates are milliseconds), so what is written reads back equal.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    to_millis(chrono::Utc::now())
}

/// Drops sub-millisecond precision, for the reason given at `now`.
pub fn to_millis(at: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::DurationRound;
    at.duration_trunc(chrono::TimeDelta::milliseconds(1))
        .unwrap_or(at)
}

/// A fresh, time-ordered id for a new entity.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// The id of what `key` names in `namespace` (another app's export, a health
/// platform) for user `user_id`: a UUID (version 8) of a SHA-256 of the three, so
/// the same thing sent again lands on the same id, and two users' never meet.
pub fn derived_id(user_id: uuid::Uuid, namespace: &str, key: &str) -> uuid::Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(user_id.as_bytes())
        .chain_update(namespace.as_bytes())
        .chain_update([0])
        .chain_update(key.as_bytes())
        .finalize();
    let mut bytes = [0; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Uuid::new_v8(bytes)
}

/// Whether `at` is a time a record can be about: from 2000 (earlier is a garbled
/// or swapped date) to a day from now (clocks and time zones).
pub fn is_plausible_time(at: chrono::DateTime<chrono::Utc>) -> bool {
    let earliest = chrono::DateTime::<chrono::Utc>::from_timestamp(946_684_800, 0)
        .expect("2000-01-01T00:00:00Z");
    at >= earliest && at <= chrono::Utc::now() + chrono::TimeDelta::days(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_e_mail_addresses_display_as_written() {
        let title: Text<40> = "Green bowl".try_into().unwrap();
        assert_eq!(title.to_string(), "Green bowl");
        let email: Email = "Ada@Example.com".parse().unwrap();
        assert_eq!(email.to_string(), email.as_str());
    }

    #[test]
    fn a_time_zone_knows_its_zone_and_reads_a_skipped_hour_an_hour_later() {
        let new_york: Timezone = "America/New_York".parse().unwrap();
        assert_eq!(new_york.tz(), chrono_tz::America::New_York);
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        // 02:30 does not exist that night: clocks jump from 02:00 to 03:00 (EDT).
        let skipped = chrono::NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        assert_eq!(
            new_york.instant(day, skipped).to_rfc3339(),
            "2026-03-08T07:30:00+00:00"
        );
    }

    #[test]
    fn a_client_id_becomes_its_hyphenated_form() {
        let id = uuid::Uuid::now_v7();
        let client_id: ClientId = id.to_string().parse().unwrap();
        assert_eq!(String::from(client_id), id.hyphenated().to_string());
    }

    #[test]
    fn bounded_numbers_refuse_values_outside_their_range() {
        assert!(Kcal::try_from(-1.0).is_err());
        assert!(Kcal::try_from(f64::NAN).is_err());
        assert!(Kcal::try_from(20_000.1).is_err());
        assert_eq!(Kcal::try_from(350.5).unwrap().get(), 350.5);
        assert!(Effort::try_from(0).is_err());
        assert!(Effort::try_from(11).is_err());
        assert!(Effort::try_from(-3).is_err());
        assert_eq!(Effort::try_from(7).unwrap().get(), 7);
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_zero_fraction() {
        let read = |json: &str| serde_json::from_str::<Effort>(json);
        assert_eq!(read("7").unwrap().get(), 7);
        assert_eq!(read("7.0").unwrap().get(), 7);
        assert!(read("7.5").is_err());
        assert!(read("0").is_err());
        assert!(read("1e300").is_err());
        assert!(read("-3").is_err());
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(Name::try_from("  Ada ").unwrap().as_str(), "Ada");
        assert!(Name::try_from("   ").is_err());
        assert!(Name::try_from("a".repeat(101)).is_err());
        // The length is the value's as sent, as the OpenAPI document states it.
        assert!(Name::try_from(format!(" {}", "a".repeat(100))).is_err());
        assert!(Name::try_from("a".repeat(100)).is_ok());
        // U+FEFF is not white space to `trim`, and the document's pattern agrees.
        assert!(Name::try_from("\u{feff}").is_ok());
        assert!(Name::try_from("bell\u{7}").is_err());
        assert!(Notes::try_from("line one\nline two").is_ok());
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            Email::from_str(" Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "\"a b\"@example.com",
            "{\"$gt\":\"\"}",
        ] {
            assert!(Email::from_str(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn tags_allow_only_plain_words() {
        assert!(Tag::from_str("high-protein").is_ok());
        for bad in ["", "-x", "High", "a b", "$gt", "a.b", &"a".repeat(33)] {
            assert!(Tag::from_str(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn timezones_must_be_real() {
        assert!(Timezone::from_str("Europe/Berlin").is_ok());
        assert!(Timezone::from_str("Mars/Olympus").is_err());
    }

    #[test]
    fn every_time_zone_name_fits_the_documented_pattern_and_length() {
        let pattern = regex::Regex::new(TIMEZONE_PATTERN).unwrap();
        let longest = Timezone::longest_name();
        for name in Timezone::names() {
            assert!(pattern.is_match(name), "{name}");
            assert!(name.len() <= longest);
            assert!(Timezone::from_str(name).is_ok(), "{name}");
        }
        assert!(Timezone::names().any(|name| name == "Etc/GMT+1"));
    }

    #[test]
    fn client_ids_are_any_rfc_9562_uuid() {
        let pattern = regex::Regex::new(CLIENT_ID_PATTERN).unwrap();
        let accepted = [
            new_id().to_string(),
            uuid::Uuid::new_v4().to_string(),
            // v1 and v6 (time and node), v8 (custom), upper case as some platforms print.
            "c232ab00-9414-11ec-b3c8-9f6bdeced846".to_owned(),
            "1ec9414c-232a-6b00-b3c8-9e6bdeced846".to_owned(),
            "2489e9ad-2ee2-8e00-8ec9-32d5f69181c0".to_owned(),
            uuid::Uuid::new_v4().to_string().to_uppercase(),
        ];
        for id in accepted {
            assert!(ClientId::from_str(&id).is_ok(), "{id} was refused");
            assert!(pattern.is_match(&id), "the document refuses {id}");
        }
        let refused = [
            uuid::Uuid::nil().to_string(),
            uuid::Uuid::max().to_string(),
            // Version 9 is not defined; a v4 with the Microsoft variant (c).
            "2f1e3d4c-5b6a-9978-8c9d-0e1f2a3b4c5d".to_owned(),
            "2f1e3d4c-5b6a-4978-cc9d-0e1f2a3b4c5d".to_owned(),
            "not-a-uuid".to_owned(),
        ];
        for id in refused {
            assert!(ClientId::from_str(&id).is_err(), "{id} was accepted");
            assert!(!pattern.is_match(&id), "the document accepts {id}");
        }
        // Only the hyphenated form, as the OpenAPI pattern states.
        let id = new_id();
        for other_form in [
            id.simple().to_string(),
            id.braced().to_string(),
            id.urn().to_string(),
        ] {
            assert!(ClientId::from_str(&other_form).is_err(), "{other_form}");
        }
    }
}
