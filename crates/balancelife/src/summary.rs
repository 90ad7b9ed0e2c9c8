//! The daily energy and macro balance: the one function that computes it, for every
//! caller, from the per-day sums the store (and so the cache) returns: its cost grows
//! with the days asked for, not with the entries logged on them.
//!
//! A day is the user's calendar day (`local_date`, fixed when an entry is written).
//! Days without entries appear with zeros, so a week is always seven rows.

use serde::Serialize;
use uuid::Uuid;

use crate::domain::{DaySums, User};
use crate::store::{DateRange, Store, StoreResult};

#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Totals {
    pub kcal_in: f64,
    pub kcal_out: f64,
    /// `kcal_in - kcal_out`.
    pub net: f64,
    /// The daily target times the number of days; `None` without a target.
    #[schema(required = true)]
    pub target: Option<f64>,
    /// `target - net`.
    #[schema(required = true)]
    pub remaining: Option<f64>,
    /// The macros of the meals that gave them; see `meal_entries_without_macros`.
    pub protein_g: f64,
    pub carbs_g: f64,
    pub fat_g: f64,
    #[schema(required = true)]
    pub protein_g_target: Option<f64>,
    #[schema(required = true)]
    pub carbs_g_target: Option<f64>,
    #[schema(required = true)]
    pub fat_g_target: Option<f64>,
    pub meal_entries: usize,
    /// Meals logged without one or more of protein, carbs and fat (a coffee by its
    /// calories alone): the macro sums leave them out, so they are a lower bound.
    pub meal_entries_without_macros: usize,
    pub workout_entries: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Day {
    pub date: chrono::NaiveDate,
    #[serde(flatten)]
    pub totals: Totals,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub user_id: Uuid,
    pub timezone: String,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub days: Vec<Day>,
    pub totals: Totals,
}

/// The balance of every day in `range` for `user`, and its totals.
pub async fn summarize(store: &dyn Store, user: &User, range: DateRange) -> StoreResult<Summary> {
    let (meals, workouts) = futures_util::try_join!(
        store.meal_entries().day_sums(user.id, range),
        store.workout_entries().day_sums(user.id, range),
    )?;
    // The range's totals are the sums of the same day sums, rounded once.
    let (mut all_meals, mut all_workouts) = (DaySums::default(), DaySums::default());
    let days: Vec<Day> = range
        .dates()
        .map(|date| {
            let meal = meals.get(&date).copied().unwrap_or_default();
            let workout = workouts.get(&date).copied().unwrap_or_default();
            all_meals.add(&meal);
            all_workouts.add(&workout);
            Day {
                date,
                totals: finish(totals_of(&meal, &workout), user, 1.0),
            }
        })
        .collect();
    let day_count = days.len() as f64;
    Ok(Summary {
        user_id: user.id,
        timezone: user.timezone.to_string(),
        from: range.from(),
        to: range.to(),
        totals: finish(totals_of(&all_meals, &all_workouts), user, day_count),
        days,
    })
}

/// What meals and workouts add up to, before targets and rounding.
fn totals_of(meal: &DaySums, workout: &DaySums) -> Totals {
    let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    Totals {
        kcal_in: meal.kcal,
        kcal_out: workout.kcal,
        protein_g: meal.protein_g,
        carbs_g: meal.carbs_g,
        fat_g: meal.fat_g,
        meal_entries: count(meal.entries),
        meal_entries_without_macros: count(meal.without_macros),
        workout_entries: count(workout.entries),
        ..Totals::default()
    }
}

/// Derives net, targets and remaining for `days` days, rounded to 0.1 so sums of
/// floats never show as 1899.9999999.
fn finish(mut totals: Totals, user: &User, days: f64) -> Totals {
    let round = crate::domain::to_tenth;
    let p = &user.profile;
    totals.kcal_in = round(totals.kcal_in);
    totals.kcal_out = round(totals.kcal_out);
    totals.net = round(totals.kcal_in - totals.kcal_out);
    totals.protein_g = round(totals.protein_g);
    totals.carbs_g = round(totals.carbs_g);
    totals.fat_g = round(totals.fat_g);
    totals.target = p.daily_kcal_target.map(|t| round(t.get() * days));
    totals.remaining = totals.target.map(|t| round(t - totals.net));
    totals.protein_g_target = p.protein_g_target.map(|t| round(t.get() * days));
    totals.carbs_g_target = p.carbs_g_target.map(|t| round(t.get() * days));
    totals.fat_g_target = p.fat_g_target.map(|t| round(t.get() * days));
    totals
}
