//! Meal and workout log entries.
//!
//! Both kinds share one shape, `Entry<D>`: the store-managed fields (owner, calendar
//! day, timestamps) around the client's data `D`. Stores, caches and routes are written
//! once over `D: EntryData` instead of once per kind.

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::exercise::LoggedSet;
use super::values::{
    DistanceKm, DurationSecs, Effort, Grams, HeartRate, Kcal, Milligrams, Notes, Quantity, Title,
    Version,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MealSlot {
    Breakfast,
    Lunch,
    Dinner,
    Snack,
}

/// The unit of a logged quantity; nutrition is always per entry, not per unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    G,
    Ml,
    Piece,
    Serving,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntrySource {
    Manual,
    Package,
    /// Logged from a food by weight or serving: the service worked out the numbers.
    Food,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    Running,
    Walking,
    Cycling,
    Swimming,
    Rowing,
    Hiking,
    Strength,
    Hiit,
    Yoga,
    Pilates,
    Other,
}

impl Activity {
    /// As a person names it, for a title made by the service.
    pub fn label(self) -> &'static str {
        match self {
            Self::Running => "Running",
            Self::Walking => "Walking",
            Self::Cycling => "Cycling",
            Self::Swimming => "Swimming",
            Self::Rowing => "Rowing",
            Self::Hiking => "Hiking",
            Self::Strength => "Strength training",
            Self::Hiit => "HIIT",
            Self::Yoga => "Yoga",
            Self::Pilates => "Pilates",
            Self::Other => "Workout",
        }
    }
}

/// Nutrition of one entry, copied in when it is logged so later catalogue edits never
/// rewrite history. Only energy is always known: a meal logged by hand may carry its
/// calories alone (a coffee), and an unknown macro is `None`, never a zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nutrition {
    pub kcal: Kcal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protein_g: Option<Grams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carbs_g: Option<Grams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fat_g: Option<Grams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiber_g: Option<Grams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sugar_g: Option<Grams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sodium_mg: Option<Milligrams>,
}

impl Nutrition {
    /// Whether protein, carbs and fat are all known, so the day's macro sums are whole.
    pub fn macros_known(&self) -> bool {
        self.protein_g.is_some() && self.carbs_g.is_some() && self.fat_g.is_some()
    }
}

/// Which food revision an entry was logged from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FoodRef {
    pub food_id: Uuid,
    pub food_version: Version,
    /// The weight logged (millilitres for a drink), also when it was logged by
    /// servings, so the meal can become a recipe's ingredient; unknown for entries
    /// of older releases and once the portion is edited by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grams: Option<Quantity>,
}

/// Which package revision an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRef {
    pub package_id: Uuid,
    pub package_version: Version,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MealData {
    pub eaten_at: DateTime<Utc>,
    pub slot: MealSlot,
    pub name: Title,
    pub quantity: Quantity,
    pub unit: Unit,
    pub nutrition: Nutrition,
    pub source: EntrySource,
    pub package: Option<PackageRef>,
    /// The food and its version it was logged from: its numbers are copied in, so
    /// a later edit of the food never rewrites the day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub food: Option<FoodRef>,
    pub notes: Option<Notes>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkoutData {
    pub started_at: DateTime<Utc>,
    pub activity: Activity,
    pub title: Title,
    pub duration_s: DurationSecs,
    pub kcal_burned: Kcal,
    pub effort: Option<Effort>,
    pub distance_km: Option<DistanceKm>,
    pub avg_heart_rate: Option<HeartRate>,
    pub package: Option<PackageRef>,
    pub notes: Option<Notes>,
    /// The session set by set, in the order done; none for a workout logged as a
    /// whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sets: Vec<LoggedSet>,
    /// Whether `kcal_burned` was estimated by the service from MET values and the
    /// user's weight, rather than typed: an estimate follows later edits.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub kcal_estimated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    Meal,
    Workout,
    BodyMetric,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Meal => "meal",
            Self::Workout => "workout",
            Self::BodyMetric => "body-metric",
        }
    }
}

/// What a kind of entry must tell the generic store and routes about itself.
pub trait EntryData:
    Clone + PartialEq + std::fmt::Debug + Serialize + DeserializeOwned + Send + Sync + 'static
{
    const KIND: EntryKind;

    /// The instant the entry is about; entries of a day are ordered by it.
    fn occurred_at(&self) -> DateTime<Utc>;

    /// What the entry adds to its day's sums.
    fn sums(&self) -> DaySums;

    /// The package it was logged from, if any.
    fn package(&self) -> Option<PackageRef>;
}

impl EntryData for MealData {
    const KIND: EntryKind = EntryKind::Meal;

    fn occurred_at(&self) -> DateTime<Utc> {
        self.eaten_at
    }

    fn package(&self) -> Option<PackageRef> {
        self.package
    }

    fn sums(&self) -> DaySums {
        let n = &self.nutrition;
        let known = |grams: Option<Grams>| grams.map_or(0.0, Grams::get);
        DaySums {
            entries: 1,
            without_macros: u64::from(!n.macros_known()),
            kcal: n.kcal.get(),
            protein_g: known(n.protein_g),
            carbs_g: known(n.carbs_g),
            fat_g: known(n.fat_g),
            ..DaySums::default()
        }
    }
}

impl EntryData for WorkoutData {
    const KIND: EntryKind = EntryKind::Workout;

    fn occurred_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    fn package(&self) -> Option<PackageRef> {
        self.package
    }

    fn sums(&self) -> DaySums {
        DaySums {
            entries: 1,
            kcal: self.kcal_burned.get(),
            ..DaySums::default()
        }
    }
}

/// The sums of one day's entries of one kind: what summaries are made of. For
/// workouts `kcal` is what they burned and the macros are zero. The macro sums add
/// what is known; `without_macros` counts the entries that left one or more out.
/// Body measurements add their weigh-ins' count and weight (the day's mean weight
/// is their quotient), and nothing else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct DaySums {
    pub entries: u64,
    pub without_macros: u64,
    pub kcal: f64,
    pub protein_g: f64,
    pub carbs_g: f64,
    pub fat_g: f64,
    #[serde(default)]
    pub weigh_ins: u64,
    #[serde(default)]
    pub weight_kg: f64,
}

impl DaySums {
    pub fn add(&mut self, other: &Self) {
        self.entries += other.entries;
        self.without_macros += other.without_macros;
        self.kcal += other.kcal;
        self.protein_g += other.protein_g;
        self.carbs_g += other.carbs_g;
        self.fat_g += other.fat_g;
        self.weigh_ins += other.weigh_ins;
        self.weight_kg += other.weight_kg;
    }

    /// The mean of the day's weigh-ins, if there were any.
    pub fn mean_weight_kg(&self) -> Option<f64> {
        (self.weigh_ins > 0).then(|| self.weight_kg / self.weigh_ins as f64)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry<D> {
    pub id: Uuid,
    pub user_id: Uuid,
    /// The owner's calendar day of `occurred_at`, fixed when the entry is written.
    pub local_date: NaiveDate,
    pub data: D,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub type MealEntry = Entry<MealData>;
pub type WorkoutEntry = Entry<WorkoutData>;

/// Where an entry sits in its owner's log; lists are ordered by it and cursors point
/// at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntryPosition {
    pub local_date: NaiveDate,
    pub occurred_at: DateTime<Utc>,
    pub id: Uuid,
}

impl<D: EntryData> Entry<D> {
    pub fn position(&self) -> EntryPosition {
        EntryPosition {
            local_date: self.local_date,
            occurred_at: self.data.occurred_at(),
            id: self.id,
        }
    }

    /// Whether two versions of an entry say the same thing, ignoring when they were
    /// written. A repeated create or replace with the same content changes nothing.
    pub fn same_content(&self, other: &Self) -> bool {
        self.id == other.id
            && self.user_id == other.user_id
            && self.local_date == other.local_date
            && self.data == other.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_kinds_have_the_names_cache_keys_and_logs_use() {
        assert_eq!(EntryKind::Meal.as_str(), "meal");
        assert_eq!(EntryKind::Workout.as_str(), "workout");
        assert_eq!(EntryKind::BodyMetric.as_str(), "body-metric");
    }
}
