//! Other apps' exports, read into meals and workouts: OpenNutriTracker's export
//! bundle, MyFitnessPal's nutrition CSV and Cronometer's servings CSV. A person
//! moving to BalanceLife brings their history along.
//!
//! Each reader turns a file into `Foreign` rows: local times (the apps write wall
//! clock times; the importer places them in the user's time zone), the numbers as
//! the file has them, and a key that names the row within its file, from which the
//! entry's id is made, so importing a file twice creates nothing the second time.
//! A row a reader cannot use is skipped and counted by reason, never guessed at.

mod cronometer;
mod myfitnesspal;
mod opennutritracker;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::{Activity, MealSlot, Unit};

/// The formats read besides BalanceLife's own export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// OpenNutriTracker's export bundle (`opennutritracker-export.zip`), or its
    /// `user_intake.json` alone.
    Opennutritracker,
    /// MyFitnessPal's "Nutrition Summary" CSV: one row per meal of a day.
    MyfitnesspalCsv,
    /// Cronometer's "Servings" CSV (`servings.csv`): one row per food logged.
    CronometerCsv,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opennutritracker => "opennutritracker",
            Self::MyfitnesspalCsv => "myfitnesspal-csv",
            Self::CronometerCsv => "cronometer-csv",
        }
    }
}

/// When something happened, as a file says it: a wall-clock time, which the
/// importer places in the user's time zone, or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Local(NaiveDateTime),
    Instant(DateTime<Utc>),
}

impl std::fmt::Display for When {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local(at) => write!(f, "{at}"),
            Self::Instant(at) => write!(f, "{}", at.to_rfc3339()),
        }
    }
}

/// A meal as another app logged it, per portion eaten.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignMeal {
    /// Names the row within its file, the same on every export of it.
    pub key: String,
    pub at: When,
    pub slot: MealSlot,
    pub name: String,
    pub quantity: f64,
    pub unit: Unit,
    pub kcal: f64,
    pub macros: Macros,
}

/// The nutrients beside energy an entry holds, each unknown when the file leaves
/// it blank.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Macros {
    pub protein_g: Option<f64>,
    pub carbs_g: Option<f64>,
    pub fat_g: Option<f64>,
    pub fiber_g: Option<f64>,
    pub sugar_g: Option<f64>,
    pub sodium_mg: Option<f64>,
}

/// Where a CSV keeps those nutrients: the first header found of each list of names.
struct MacroColumns([Option<usize>; 6]);

impl MacroColumns {
    /// Protein, carbohydrate, fat, fibre, sugars and sodium, each by its names.
    fn find(header: &csv::StringRecord, names: [&[&str]; 6]) -> Self {
        Self(names.map(|names| names.iter().find_map(|name| column(header, name))))
    }

    fn read(&self, row: &csv::StringRecord) -> Macros {
        let [protein_g, carbs_g, fat_g, fiber_g, sugar_g, sodium_mg] = self
            .0
            .map(|at| at.and_then(|at| row.get(at)).and_then(number));
        Macros {
            protein_g,
            carbs_g,
            fat_g,
            fiber_g,
            sugar_g,
            sodium_mg,
        }
    }
}

/// A workout as another app logged it.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignWorkout {
    pub key: String,
    pub at: When,
    pub title: String,
    pub activity: Activity,
    pub duration_s: f64,
    pub kcal: f64,
}

/// What a file held.
#[derive(Debug, Default)]
pub struct Read {
    pub meals: Vec<ForeignMeal>,
    pub workouts: Vec<ForeignWorkout>,
    /// Rows skipped, by reason.
    pub skipped: BTreeMap<&'static str, usize>,
}

impl Read {
    pub fn skip(&mut self, reason: &'static str) {
        *self.skipped.entry(reason).or_default() += 1;
    }
}

/// Why a file cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    #[error("{0}")]
    NotThisFormat(String),
}

/// Reads `bytes` as `format`.
pub fn read(format: Format, bytes: &[u8]) -> Result<Read, Unreadable> {
    match format {
        Format::Opennutritracker => opennutritracker::read(bytes),
        Format::MyfitnesspalCsv => myfitnesspal::read(bytes),
        Format::CronometerCsv => cronometer::read(bytes),
    }
}

/// A number as the apps write it: `.` or `,` as the decimal mark, a blank for
/// unknown.
fn number(cell: &str) -> Option<f64> {
    let cell = cell.trim();
    if cell.is_empty() {
        return None;
    }
    cell.replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

/// A meal slot by the name an app gives it ("Breakfast", "Snacks", "dinner").
fn slot_named(name: &str) -> Option<MealSlot> {
    match name.trim().to_lowercase().as_str() {
        "breakfast" => Some(MealSlot::Breakfast),
        "lunch" => Some(MealSlot::Lunch),
        "dinner" | "supper" => Some(MealSlot::Dinner),
        "snack" | "snacks" => Some(MealSlot::Snack),
        _ => None,
    }
}

/// When a meal of `slot` is placed on `day` when the file gives no time: the middle
/// of the slot's usual hours, so it lands on the right day in any time zone's
/// summaries.
fn usual_time(day: NaiveDate, slot: MealSlot) -> When {
    let (hour, minute) = match slot {
        MealSlot::Breakfast => (8, 0),
        MealSlot::Lunch => (12, 30),
        MealSlot::Dinner => (19, 0),
        MealSlot::Snack => (15, 30),
    };
    When::Local(day.and_time(NaiveTime::from_hms_opt(hour, minute, 0).expect("a time of day")))
}

/// A time of day as apps write it: `08:15`, `8:15 AM`, `08:15:00`.
fn time_of_day(cell: &str) -> Option<NaiveTime> {
    let cell = cell.trim();
    ["%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M:%S %p", "%I:%M%p"]
        .iter()
        .find_map(|format| NaiveTime::parse_from_str(cell, format).ok())
}

/// The CSV header's column of `name`, case and spaces aside.
fn column(header: &csv::StringRecord, name: &str) -> Option<usize> {
    header
        .iter()
        .position(|cell| cell.trim().eq_ignore_ascii_case(name))
}

/// A CSV reader that takes a byte-order mark and rows of varying length.
fn csv_reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_take_either_decimal_mark_and_a_blank_is_unknown() {
        assert_eq!(number("4.8"), Some(4.8));
        assert_eq!(number(" 4,8 "), Some(4.8));
        assert_eq!(number(""), None);
        assert_eq!(number("NaN"), None);
        assert_eq!(number("n/a"), None);
    }

    #[test]
    fn times_of_day_are_read_in_24_and_12_hour_forms() {
        let quarter_past_eight = NaiveTime::from_hms_opt(8, 15, 0);
        assert_eq!(time_of_day("08:15"), quarter_past_eight);
        assert_eq!(time_of_day("8:15 AM"), quarter_past_eight);
        assert_eq!(time_of_day("08:15:00"), quarter_past_eight);
        assert_eq!(time_of_day("8:15 PM"), NaiveTime::from_hms_opt(20, 15, 0));
        assert_eq!(time_of_day("soon"), None);
    }
}
