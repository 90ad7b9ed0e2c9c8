//! The body log: weigh-ins, body fat and girths, each measurement with its time.
//!
//! A body measurement is a third kind of log entry (`Entry<BodyMetricData>`), so it
//! has what entries have: ids a phone makes, its owner's calendar day, revisions,
//! the sync feed and the cache. One record holds what was measured at one moment;
//! any of its values may be missing, but not all of them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::entry::{DaySums, EntryData, EntryKind, PackageRef};
use super::health::HealthPlatform;
use super::values::{BodyFatPct, GirthCm, MeasurementName, Notes, WeightKg};

/// The most named measurements one record holds.
pub const MOST_MEASUREMENTS: usize = 20;

/// Where a body measurement comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MetricSource {
    /// Logged by the user.
    Manual,
    /// A weigh-in or body-fat reading from Android's Health Connect.
    HealthConnect,
    /// A weigh-in or body-fat reading from Apple's HealthKit.
    Healthkit,
}

impl From<HealthPlatform> for MetricSource {
    fn from(platform: HealthPlatform) -> Self {
        match platform {
            HealthPlatform::HealthConnect => Self::HealthConnect,
            HealthPlatform::Healthkit => Self::Healthkit,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BodyMetricData {
    pub measured_at: DateTime<Utc>,
    pub weight_kg: Option<WeightKg>,
    pub body_fat_pct: Option<BodyFatPct>,
    pub waist_cm: Option<GirthCm>,
    /// Other girths, by a name of the user's (`hips`, `chest`, `left-arm`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub measurements: BTreeMap<MeasurementName, GirthCm>,
    pub source: MetricSource,
    pub notes: Option<Notes>,
}

impl BodyMetricData {
    /// Whether the record measures anything: a record of nothing is refused.
    pub fn measures_anything(&self) -> bool {
        self.weight_kg.is_some()
            || self.body_fat_pct.is_some()
            || self.waist_cm.is_some()
            || !self.measurements.is_empty()
    }
}

impl EntryData for BodyMetricData {
    const KIND: EntryKind = EntryKind::BodyMetric;

    fn occurred_at(&self) -> DateTime<Utc> {
        self.measured_at
    }

    fn package(&self) -> Option<PackageRef> {
        None
    }

    /// A weigh-in adds its weight to the day's, so a summary shows the day's mean
    /// weight from the sums alone.
    fn sums(&self) -> DaySums {
        DaySums {
            entries: 1,
            weigh_ins: u64::from(self.weight_kg.is_some()),
            weight_kg: self.weight_kg.map_or(0.0, WeightKg::get),
            ..DaySums::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(weight: Option<f64>) -> BodyMetricData {
        BodyMetricData {
            measured_at: Utc::now(),
            weight_kg: weight.map(|kg| WeightKg::try_from(kg).unwrap()),
            body_fat_pct: None,
            waist_cm: None,
            measurements: BTreeMap::new(),
            source: MetricSource::Manual,
            notes: None,
        }
    }

    #[test]
    fn a_weigh_in_adds_its_weight_to_the_days_sums_and_a_girth_adds_none() {
        let sums = record(Some(80.5)).sums();
        assert_eq!((sums.entries, sums.weigh_ins, sums.weight_kg), (1, 1, 80.5));
        let mut girth = record(None);
        girth.waist_cm = Some(GirthCm::try_from(90.0).unwrap());
        assert!(girth.measures_anything());
        let sums = girth.sums();
        assert_eq!((sums.entries, sums.weigh_ins, sums.weight_kg), (1, 0, 0.0));
        assert!(!record(None).measures_anything());
    }
}
