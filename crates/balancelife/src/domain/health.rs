//! Samples a phone's companion app reads from a health platform (Android's Health
//! Connect, Apple's HealthKit): weight, body fat, steps, active energy and exercise
//! sessions, each named by the platform's own record id so a record sent again
//! updates what it sent before instead of counting twice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Activity, Text, Title};

/// What a sample measures, each in one unit once stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SampleType {
    /// A weigh-in, in kilograms.
    Weight,
    /// Body fat, in percent of body mass.
    BodyFat,
    /// Steps taken between `start` and `end`.
    Steps,
    /// Energy burned by activity between `start` and `end`, in kilocalories.
    ActiveEnergy,
    /// A workout the platform recorded; its value is the energy it burned (kcal).
    ExerciseSession,
}

impl SampleType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Weight => "weight",
            Self::BodyFat => "body_fat",
            Self::Steps => "steps",
            Self::ActiveEnergy => "active_energy",
            Self::ExerciseSession => "exercise_session",
        }
    }

    /// The unit a sample is stored in.
    pub fn unit(self) -> &'static str {
        match self {
            Self::Weight => "kg",
            Self::BodyFat => "percent",
            Self::Steps => "count",
            Self::ActiveEnergy | Self::ExerciseSession => "kcal",
        }
    }

    /// The sensible range of a stored value: past it, a unit or a typo is wrong.
    pub fn range(self) -> (f64, f64) {
        match self {
            Self::Weight => (20.0, 500.0),
            Self::BodyFat => (1.0, 75.0),
            Self::Steps => (0.0, 200_000.0),
            Self::ActiveEnergy | Self::ExerciseSession => (0.0, 20_000.0),
        }
    }

    /// `value` in `unit` as this type stores it, or why not.
    pub fn normalized(self, value: f64, unit: &str) -> Result<f64, String> {
        let factor = match (self, unit) {
            (Self::Weight, "kg") | (Self::BodyFat, "percent" | "%") | (Self::Steps, "count") => 1.0,
            (Self::Weight, "g") => 0.001,
            (Self::Weight, "lb") => 0.453_592_37,
            (Self::ActiveEnergy | Self::ExerciseSession, "kcal") => 1.0,
            (Self::ActiveEnergy | Self::ExerciseSession, "kJ" | "kj") => 1.0 / 4.184,
            _ => {
                return Err(format!(
                    "is not a unit of {} (use {})",
                    self.as_str(),
                    self.unit()
                ));
            }
        };
        let stored = value * factor;
        let (low, high) = self.range();
        if !stored.is_finite() || stored < low || stored > high {
            return Err(format!(
                "must be between {low} and {high} {} once converted",
                self.unit()
            ));
        }
        Ok((stored * 1000.0).round() / 1000.0)
    }
}

/// The health platform a sample comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthPlatform {
    HealthConnect,
    Healthkit,
}

impl HealthPlatform {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HealthConnect => "health_connect",
            Self::Healthkit => "healthkit",
        }
    }

    /// As people know it, for an entry's title.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::HealthConnect => "Health Connect",
            Self::Healthkit => "Apple Health",
        }
    }
}

/// Where a sample comes from: the platform, the app that wrote it there, and the
/// platform's id of the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SampleSource {
    pub platform: HealthPlatform,
    /// The app that recorded it (e.g. `com.strava`), as the platform names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, max_length = 200, nullable = false)]
    pub app: Option<Text<200>>,
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    pub record_id: Text<200>,
}

/// One stored sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthSample {
    /// Made from the user, the platform and its record id (`sample_id`).
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: SampleType,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// In the type's unit (`SampleType::unit`).
    pub value: f64,
    pub source: SampleSource,
    /// Exercise sessions only: what it was, and its title on the platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<Activity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Title>,
    pub updated_at: DateTime<Utc>,
}

impl HealthSample {
    /// Whether `other` says the same (bookkeeping aside).
    pub fn same_content(&self, other: &HealthSample) -> bool {
        self.kind == other.kind
            && self.start == other.start
            && self.end == other.end
            && self.value == other.value
            && self.source == other.source
            && self.activity == other.activity
            && self.title == other.title
    }
}

/// The id of a user's sample of `platform`'s record `record_id` (`derived_id`), so
/// the same record always lands on the same sample (and an exercise session on the
/// same workout entry).
pub fn sample_id(user_id: Uuid, platform: HealthPlatform, record_id: &str) -> Uuid {
    super::derived_id(user_id, &format!("health:{}", platform.as_str()), record_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_stored_in_one_unit_per_type_and_refused_out_of_range() {
        assert_eq!(SampleType::Weight.normalized(154.0, "lb"), Ok(69.853));
        assert_eq!(SampleType::Weight.normalized(70_500.0, "g"), Ok(70.5));
        assert_eq!(SampleType::ActiveEnergy.normalized(418.4, "kJ"), Ok(100.0));
        assert_eq!(SampleType::BodyFat.normalized(18.5, "%"), Ok(18.5));
        assert!(SampleType::Weight.normalized(70.0, "kcal").is_err());
        assert!(SampleType::Weight.normalized(7.0, "kg").is_err(), "a typo");
        assert!(SampleType::Steps.normalized(f64::NAN, "count").is_err());
    }

    #[test]
    fn one_record_has_one_id_per_user_and_platform() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let id = sample_id(a, HealthPlatform::HealthConnect, "r1");
        assert_eq!(id, sample_id(a, HealthPlatform::HealthConnect, "r1"));
        assert_ne!(id, sample_id(b, HealthPlatform::HealthConnect, "r1"));
        assert_ne!(id, sample_id(a, HealthPlatform::Healthkit, "r1"));
        assert_ne!(id, sample_id(a, HealthPlatform::HealthConnect, "r2"));
    }
}
