//! Energy targets from the body: what a user burns at rest and in a day, the
//! target for a chosen weekly rate, and what the log says they really burn.
//!
//! **Resting energy, Mifflin–St Jeor (1990):**
//!
//! ```text
//! resting = 10 × weight (kg) + 6.25 × height (cm) − 5 × age (years) + s
//! s = +5 for men, −161 for women, −78 (their midpoint) otherwise
//! ```
//!
//! **A day's expenditure** is resting energy times an activity factor: sedentary
//! 1.2, light 1.375, moderate 1.55, active 1.725, very active 1.9.
//!
//! **A computed target** adds the energy of the chosen weekly rate of change, at
//! 7,700 kcal per kilogram of body mass: `rate (kg/week) × 7,700 ÷ 7` a day.
//!
//! Worked example: a woman of 35, 165 cm and 70 kg, moderately active, who wants
//! to lose 0.5 kg a week. Resting: 700 + 1,031.25 − 175 − 161 = 1,395.25 kcal.
//! A day: 1,395.25 × 1.55 = 2,162.64 kcal. Target: 2,162.64 − 0.5 × 7,700 ÷ 7 =
//! 2,162.64 − 550 = 1,612.64, shown as 1,613 kcal.
//!
//! **An adaptive estimate** reads the expenditure off the log instead:
//!
//! ```text
//! expenditure = mean intake of the logged days − trend change (kg) × 7,700 ÷ days
//! ```
//!
//! over a window of days: the intake of each day in it that has meals logged (a
//! day with nothing logged is left out, not counted as eating nothing), and the
//! weight trend's change from the day before the window to its last day. It needs
//! at least 14 logged days and a trend at both ends. Worked example: 14 logged
//! days of 2,100 kcal in a window of 15 days (one day with nothing logged), the
//! trend from 80.0 kg to 79.7 kg: 2,100 − (−0.3 × 7,700 ÷ 15) = 2,100 + 154 =
//! 2,254 kcal a day. To lose 0.5 kg a week on it: 2,254 − 550 = 1,704 kcal.

use chrono::{Days, NaiveDate};

use super::trend::TrendDay;
use crate::domain::{ActivityLevel, Sex};

/// The energy of a kilogram of body mass gained or lost (fat with some lean
/// tissue), the figure trackers use.
pub const KCAL_PER_KG: f64 = 7_700.0;

/// The fewest logged days an adaptive estimate is made from.
pub const MIN_LOGGED_DAYS: usize = 14;

/// Resting energy (kcal a day) by Mifflin–St Jeor.
pub fn resting_energy(sex: Sex, age_years: u32, height_cm: f64, weight_kg: f64) -> f64 {
    let constant = match sex {
        Sex::Male => 5.0,
        Sex::Female => -161.0,
        // No constant was fitted for anyone else: the midpoint of the two.
        Sex::Other => -78.0,
    };
    10.0 * weight_kg + 6.25 * height_cm - 5.0 * f64::from(age_years) + constant
}

/// How many times resting energy a day of this activity burns.
pub fn activity_factor(level: ActivityLevel) -> f64 {
    match level {
        ActivityLevel::Sedentary => 1.2,
        ActivityLevel::Light => 1.375,
        ActivityLevel::Moderate => 1.55,
        ActivityLevel::Active => 1.725,
        ActivityLevel::VeryActive => 1.9,
    }
}

/// The daily energy that changes body mass by `kg_per_week` (negative to lose).
pub fn daily_energy_of_rate(kg_per_week: f64) -> f64 {
    kg_per_week * KCAL_PER_KG / 7.0
}

/// A day's intake: the energy of the meals logged on it. Only days with meals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntakeDay {
    pub date: NaiveDate,
    pub kcal: f64,
}

/// Why the log cannot tell the expenditure yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooLittleData {
    /// Fewer days with meals logged in the window than `MIN_LOGGED_DAYS`.
    LoggedDays { logged: usize },
    /// No weight trend the day before the window or on its last day.
    NoTrend,
}

/// The expenditure (kcal a day) the log of `from..=to` shows, as the module says.
pub fn adaptive_expenditure(
    intake: &[IntakeDay],
    trend: &[TrendDay],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<f64, TooLittleData> {
    let logged: Vec<f64> = intake
        .iter()
        .filter(|day| (from..=to).contains(&day.date))
        .map(|day| day.kcal)
        .collect();
    if logged.len() < MIN_LOGGED_DAYS {
        return Err(TooLittleData::LoggedDays {
            logged: logged.len(),
        });
    }
    let trend_on = |date: Option<NaiveDate>| {
        let date = date?;
        trend
            .iter()
            .find(|day| day.date == date)
            .map(|day| day.trend_kg)
    };
    let before = from.checked_sub_days(Days::new(1));
    let (Some(start), Some(end)) = (trend_on(before), trend_on(Some(to))) else {
        return Err(TooLittleData::NoTrend);
    };
    let days = ((to - from).num_days() + 1) as f64;
    let mean_intake = logged.iter().sum::<f64>() / logged.len() as f64;
    Ok(mean_intake - (end - start) * KCAL_PER_KG / days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// The module's first worked example.
    #[test]
    fn a_computed_target_for_a_moderately_active_woman_losing_half_a_kilo_a_week() {
        let resting = resting_energy(Sex::Female, 35, 165.0, 70.0);
        assert!(close(resting, 1_395.25), "{resting}");
        let day = resting * activity_factor(ActivityLevel::Moderate);
        assert!(close(day, 2_162.637_5), "{day}");
        let target = day + daily_energy_of_rate(-0.5);
        assert!(close(target, 1_612.637_5), "{target}");
    }

    #[test]
    fn each_sex_has_its_constant() {
        let man = resting_energy(Sex::Male, 40, 180.0, 80.0);
        // 800 + 1,125 − 200 + 5
        assert!(close(man, 1_730.0), "{man}");
        let other = resting_energy(Sex::Other, 40, 180.0, 80.0);
        assert!(close(other, 1_730.0 - 83.0), "{other}");
    }

    fn trend_at(pairs: &[(&str, f64)]) -> Vec<TrendDay> {
        pairs
            .iter()
            .map(|(date, kg)| TrendDay {
                date: day(date),
                weight_kg: None,
                trend_kg: *kg,
            })
            .collect()
    }

    /// The module's second worked example: a day with nothing logged is left out.
    #[test]
    fn the_log_tells_the_expenditure_leaving_out_days_with_nothing_logged() {
        let (from, to) = (day("2026-03-01"), day("2026-03-15"));
        let intake: Vec<IntakeDay> = from
            .iter_days()
            .take(15)
            .filter(|date| *date != day("2026-03-08"))
            .map(|date| IntakeDay {
                date,
                kcal: 2_100.0,
            })
            .collect();
        assert_eq!(intake.len(), 14);
        let trend = trend_at(&[("2026-02-28", 80.0), ("2026-03-15", 79.7)]);
        let expenditure = adaptive_expenditure(&intake, &trend, from, to).unwrap();
        assert!(close(expenditure, 2_254.0), "{expenditure}");
        let target = expenditure + daily_energy_of_rate(-0.5);
        assert!(close(target, 1_704.0), "{target}");
    }

    #[test]
    fn too_little_log_gives_no_estimate() {
        let (from, to) = (day("2026-03-01"), day("2026-03-20"));
        let thirteen: Vec<IntakeDay> = from
            .iter_days()
            .take(13)
            .map(|date| IntakeDay {
                date,
                kcal: 2_000.0,
            })
            .collect();
        let trend = trend_at(&[("2026-02-28", 80.0), ("2026-03-20", 79.0)]);
        assert_eq!(
            adaptive_expenditure(&thirteen, &trend, from, to),
            Err(TooLittleData::LoggedDays { logged: 13 })
        );
        // Days outside the window do not count.
        let mut outside = thirteen.clone();
        outside.push(IntakeDay {
            date: day("2026-02-27"),
            kcal: 2_000.0,
        });
        assert_eq!(
            adaptive_expenditure(&outside, &trend, from, to),
            Err(TooLittleData::LoggedDays { logged: 13 })
        );
        let mut fourteen = thirteen;
        fourteen.push(IntakeDay {
            date: day("2026-03-19"),
            kcal: 2_000.0,
        });
        let no_start = trend_at(&[("2026-03-20", 79.0)]);
        assert_eq!(
            adaptive_expenditure(&fourteen, &no_start, from, to),
            Err(TooLittleData::NoTrend)
        );
        // 2,000 − (−1.0 × 7,700 ÷ 20) = 2,385
        let expenditure = adaptive_expenditure(&fourteen, &trend, from, to).unwrap();
        assert!(close(expenditure, 2_385.0), "{expenditure}");
    }
}
