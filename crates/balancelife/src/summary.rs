//! The daily energy and macro balance: the one function that computes it, for every
//! caller, from the per-day sums the store (and so the cache) returns: its cost grows
//! with the days asked for, not with the entries logged on them.
//!
//! A day is the user's calendar day (`local_date`, fixed when an entry is written).
//! Days without entries appear with zeros, so a week is always seven rows.
//!
//! Each day also shows its weight (the mean of its weigh-ins) and the weight trend
//! (`body::trend`), from the body log's day sums. The weigh-ins read run from
//! `TREND_WARM_UP_DAYS` and one bridged gap (`trend::BRIDGED_GAP_DAYS`) before the
//! first day asked for (so the line into the warm-up is there) to one bridged gap
//! after the last (the line out of the range), so a day's trend is the same
//! whatever range it is asked in: a trend begun in the warm-up differs from one
//! begun earlier by 0.9^90 of their difference, under 1/10,000, and one begun after
//! a longer gap does not differ at all.

use chrono::{NaiveDate, TimeDelta};
use serde::Serialize;
use uuid::Uuid;

use crate::body::trend::{self, BRIDGED_GAP_DAYS, TrendDay, WeighIn};
use crate::domain::{DaySums, GramsTarget, KcalTarget, Targets, User};
use crate::store::{DateRange, DaySumsByDate, Store, StoreResult};

/// How many days before a summary's first day its weight trend begins.
pub const TREND_WARM_UP_DAYS: i64 = 90;

#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Totals {
    pub kcal_in: f64,
    pub kcal_out: f64,
    /// `kcal_in - kcal_out`.
    pub net: f64,
    /// The energy target: a day's own, the one in force that day; a range's, the
    /// sum of its days' (a day without one adds nothing); `None` when no day has
    /// one. The macro targets likewise.
    #[schema(required = true)]
    pub target: Option<f64>,
    /// `target - net`; a range's, the sum of its days' that have a target.
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
    /// The mean of the day's weigh-ins in kg, if there were any.
    #[schema(required = true)]
    pub weight_kg: Option<f64>,
    /// The smoothed weight trend in kg (an exponential moving average, a tenth a
    /// day); none before the first weigh-in.
    #[schema(required = true)]
    pub trend_kg: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub user_id: Uuid,
    pub timezone: String,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub days: Vec<Day>,
    pub totals: Totals,
    /// The weight trend on the last day that is not in the future (kg).
    #[schema(required = true)]
    pub trend_kg: Option<f64>,
    /// How fast the trend moves there, in kg per week (negative when losing): the
    /// least-squares slope of its last 14 days; none with under 7 days of trend or
    /// fewer than 2 weigh-ins among them.
    #[schema(required = true)]
    pub weekly_rate_kg: Option<f64>,
}

/// The balance of every day in `range` for `user`, and its totals.
pub async fn summarize(store: &dyn Store, user: &User, range: DateRange) -> StoreResult<Summary> {
    let weighed = trend_range(range);
    let (meals, workouts, body) = futures_util::try_join!(
        store.meal_entries().day_sums(user.id, range),
        store.workout_entries().day_sums(user.id, range),
        store.body_metrics().day_sums(user.id, weighed),
    )?;
    // The trend up to the last day shown, and its rate where the log ends today.
    let today = user.timezone.local_date(chrono::Utc::now());
    let trend = weight_trend(&body, range.to());
    let trend_on = |date: NaiveDate| {
        let first = trend.first()?.date;
        trend.get(usize::try_from((date - first).num_days()).ok()?)
    };
    let now = trend
        .iter()
        .rposition(|day| day.date <= today.min(range.to()));
    let weekly_rate_kg = now.and_then(|last| trend::weekly_rate(&trend[..=last]));
    let rounded = |kg: f64| (kg * 100.0).round() / 100.0;
    // The range's totals are the sums of the same day sums, rounded once, against
    // the sum of each day's own targets.
    let (mut all_meals, mut all_workouts) = (DaySums::default(), DaySums::default());
    let mut all_targets = TargetSums::default();
    let mut all_remaining: Option<f64> = None;
    let days: Vec<Day> = range
        .dates()
        .map(|date| {
            let meal = meals.get(&date).copied().unwrap_or_default();
            let workout = workouts.get(&date).copied().unwrap_or_default();
            all_meals.add(&meal);
            all_workouts.add(&workout);
            let targets = TargetSums::of(user.profile.targets_on(date));
            all_targets.add(&targets);
            let totals = finish(totals_of(&meal, &workout), &targets);
            if let Some(remaining) = totals.remaining {
                all_remaining = Some(all_remaining.unwrap_or(0.0) + remaining);
            }
            Day {
                date,
                totals,
                weight_kg: body
                    .get(&date)
                    .and_then(DaySums::mean_weight_kg)
                    .map(rounded),
                trend_kg: trend_on(date).map(|day| rounded(day.trend_kg)),
            }
        })
        .collect();
    Ok(Summary {
        user_id: user.id,
        timezone: user.timezone.to_string(),
        from: range.from(),
        to: range.to(),
        totals: Totals {
            // Days without a target have nothing remaining of one.
            remaining: all_remaining.map(crate::domain::to_tenth),
            ..finish(totals_of(&all_meals, &all_workouts), &all_targets)
        },
        days,
        trend_kg: now.map(|last| rounded(trend[last].trend_kg)),
        weekly_rate_kg: weekly_rate_kg.map(rounded),
    })
}

/// The days whose weigh-ins a summary of `range` reads for its trend (see the
/// module's note).
pub fn trend_range(range: DateRange) -> DateRange {
    let from = range
        .from()
        .checked_sub_signed(TimeDelta::days(TREND_WARM_UP_DAYS + BRIDGED_GAP_DAYS))
        .unwrap_or(NaiveDate::MIN);
    let to = range
        .to()
        .checked_add_signed(TimeDelta::days(BRIDGED_GAP_DAYS))
        .unwrap_or(NaiveDate::MAX);
    DateRange::new(from, to).unwrap_or(range)
}

/// The trend of each day from the first weigh-in of `body` through `through`.
pub fn weight_trend(body: &DaySumsByDate, through: NaiveDate) -> Vec<TrendDay> {
    let weigh_ins: Vec<WeighIn> = body
        .iter()
        .filter_map(|(&date, sums)| {
            Some(WeighIn {
                date,
                kg: sums.mean_weight_kg()?,
            })
        })
        .collect();
    trend::daily_trend(&weigh_ins, through)
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

/// The targets of some days added up: each `None` while no day had one (a day
/// without a target adds nothing).
#[derive(Debug, Clone, Copy, Default)]
struct TargetSums {
    kcal: Option<f64>,
    protein_g: Option<f64>,
    carbs_g: Option<f64>,
    fat_g: Option<f64>,
}

impl TargetSums {
    fn of(targets: Targets) -> Self {
        Self {
            kcal: targets.daily_kcal_target.map(KcalTarget::get),
            protein_g: targets.protein_g_target.map(GramsTarget::get),
            carbs_g: targets.carbs_g_target.map(GramsTarget::get),
            fat_g: targets.fat_g_target.map(GramsTarget::get),
        }
    }

    fn add(&mut self, other: &Self) {
        let plus = |sum: &mut Option<f64>, more: Option<f64>| {
            if let Some(more) = more {
                *sum = Some(sum.unwrap_or(0.0) + more);
            }
        };
        plus(&mut self.kcal, other.kcal);
        plus(&mut self.protein_g, other.protein_g);
        plus(&mut self.carbs_g, other.carbs_g);
        plus(&mut self.fat_g, other.fat_g);
    }
}

/// Derives net, targets and remaining against `targets`, rounded to 0.1 so sums
/// of floats never show as 1899.9999999.
fn finish(mut totals: Totals, targets: &TargetSums) -> Totals {
    let round = crate::domain::to_tenth;
    totals.kcal_in = round(totals.kcal_in);
    totals.kcal_out = round(totals.kcal_out);
    totals.net = round(totals.kcal_in - totals.kcal_out);
    totals.protein_g = round(totals.protein_g);
    totals.carbs_g = round(totals.carbs_g);
    totals.fat_g = round(totals.fat_g);
    totals.target = targets.kcal.map(round);
    totals.remaining = totals.target.map(|t| round(t - totals.net));
    totals.protein_g_target = targets.protein_g.map(round);
    totals.carbs_g_target = targets.carbs_g.map(round);
    totals.fat_g_target = targets.fat_g.map(round);
    totals
}
