//! Strength numbers from sets: the estimated one-repetition maximum, personal
//! records, the next weight by double progression, and a session's energy from
//! its MET value.
//!
//! **Estimated one-repetition maximum: Epley (1985),** `weight × (1 + reps ÷ 30)`.
//! A single is its own maximum (Epley's formula would add 3 %), and past 12
//! repetitions no estimate is made: the formulas scatter widely there, and a set of
//! fifteen says more about endurance than about a maximum. Chosen over Brzycki's
//! `weight × 36 ÷ (37 − reps)`, which agrees with it within 3 % up to 10 reps,
//! because Epley's is the one most trackers show, so records read the same.
//! Worked example: 100 kg × 5 → 100 × (1 + 5 ÷ 30) = 116.7 kg.
//!
//! **Personal records** of an exercise: for each repetition count logged, the
//! heaviest weight lifted for at least that many (five at 100 kg beats three at
//! 95 kg for three, too), the first day it was lifted; and the best estimated
//! maximum, with the set that gave it.
//!
//! **Double progression:** an exercise is done for a range of repetitions (say 8
//! to 12) at one weight. When every working set of the last session reached the
//! top of the range, the next session adds the weight step (2.5 kg unless the
//! exercise says otherwise) and starts again at the bottom; otherwise it keeps the
//! weight and aims for one more repetition on the sets that fell short.
//!
//! **Energy of a session:** `MET × body weight (kg) × hours`, the Compendium of
//! Physical Activities' definition of a MET as 1 kcal per kg per hour (the values
//! are in `met`). Worked example: 45 minutes of resistance training (MET 3.5) at
//! 80 kg: 3.5 × 80 × 0.75 = 210 kcal.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

/// The most repetitions a set may have to give an estimated maximum.
pub const MAX_REPS_FOR_ESTIMATE: u32 = 12;

/// The weight added when a range is completed, unless the exercise says otherwise.
pub const DEFAULT_STEP_KG: f64 = 2.5;

/// The estimated one-repetition maximum of `weight_kg` lifted `reps` times, as the
/// module says; `None` for no repetitions or more than `MAX_REPS_FOR_ESTIMATE`.
pub fn estimated_one_rep_max(weight_kg: f64, reps: u32) -> Option<f64> {
    match reps {
        0 => None,
        1 => Some(weight_kg),
        reps if reps <= MAX_REPS_FOR_ESTIMATE => Some(weight_kg * (1.0 + f64::from(reps) / 30.0)),
        _ => None,
    }
}

/// A set of an exercise as logged, on its day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lift {
    pub date: NaiveDate,
    pub reps: u32,
    pub weight_kg: f64,
}

/// An exercise's personal records, as the module says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Records {
    /// For each repetition count logged, the record lift.
    pub by_reps: BTreeMap<u32, Lift>,
    /// The best estimated one-repetition maximum, and the lift that gave it.
    pub best_estimate: Option<(f64, Lift)>,
}

/// The personal records in `lifts` (one exercise's, in any order).
pub fn personal_records(lifts: &[Lift]) -> Records {
    let mut records = Records::default();
    let mut by_date = lifts.to_vec();
    by_date.sort_by_key(|lift| lift.date);
    let counts: BTreeSet<u32> = lifts
        .iter()
        .map(|lift| lift.reps)
        .filter(|&reps| reps > 0)
        .collect();
    for lift in &by_date {
        // Strictly heavier only: a record is kept by the day it was first set.
        for &reps in counts.range(..=lift.reps) {
            let record = records.by_reps.entry(reps).or_insert(*lift);
            if lift.weight_kg > record.weight_kg {
                *record = *lift;
            }
        }
        if let Some(estimate) = estimated_one_rep_max(lift.weight_kg, lift.reps)
            && records
                .best_estimate
                .is_none_or(|(best, _)| estimate > best)
        {
            records.best_estimate = Some((estimate, *lift));
        }
    }
    records
}

/// One working set as logged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkingSet {
    pub reps: u32,
    pub weight_kg: f64,
}

/// What the next session of an exercise should aim for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NextSession {
    /// Every set reached the top of the range: more weight, from the bottom again.
    AddWeight { weight_kg: f64, reps: u32 },
    /// The same weight, one more repetition where a set fell short.
    AddReps { weight_kg: f64 },
}

/// The double-progression suggestion after `last` (the working sets of the last
/// session of one exercise, at one weight: the heaviest is taken) for a range of
/// `low..=high` repetitions; `None` without sets.
pub fn next_session(last: &[WorkingSet], low: u32, high: u32, step_kg: f64) -> Option<NextSession> {
    let weight_kg = last.iter().map(|set| set.weight_kg).reduce(f64::max)?;
    let working: Vec<&WorkingSet> = last
        .iter()
        .filter(|set| set.weight_kg == weight_kg)
        .collect();
    Some(if working.iter().all(|set| set.reps >= high) {
        NextSession::AddWeight {
            weight_kg: weight_kg + step_kg,
            reps: low,
        }
    } else {
        NextSession::AddReps { weight_kg }
    })
}

/// The energy (kcal) of `minutes` of an activity of `met` for a body of `weight_kg`.
pub fn session_energy(met: f64, weight_kg: f64, minutes: f64) -> f64 {
    met * weight_kg * minutes / 60.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn epley_estimates_a_maximum_from_up_to_twelve_repetitions() {
        let five = estimated_one_rep_max(100.0, 5).unwrap();
        assert!(close(five, 100.0 * 35.0 / 30.0), "{five}");
        assert!((five - 116.7).abs() < 0.05);
        assert_eq!(estimated_one_rep_max(140.0, 1), Some(140.0), "a single");
        assert!(close(estimated_one_rep_max(60.0, 12).unwrap(), 84.0));
        assert_eq!(estimated_one_rep_max(60.0, 13), None);
        assert_eq!(estimated_one_rep_max(60.0, 0), None);
    }

    fn sets(pairs: &[(u32, f64)]) -> Vec<WorkingSet> {
        pairs
            .iter()
            .map(|&(reps, weight_kg)| WorkingSet { reps, weight_kg })
            .collect()
    }

    #[test]
    fn double_progression_adds_weight_once_every_set_reaches_the_top() {
        let done = sets(&[(12, 60.0), (12, 60.0), (12, 60.0)]);
        assert_eq!(
            next_session(&done, 8, 12, DEFAULT_STEP_KG),
            Some(NextSession::AddWeight {
                weight_kg: 62.5,
                reps: 8
            })
        );
        let short = sets(&[(12, 60.0), (11, 60.0), (9, 60.0)]);
        assert_eq!(
            next_session(&short, 8, 12, DEFAULT_STEP_KG),
            Some(NextSession::AddReps { weight_kg: 60.0 })
        );
        // A lighter warm-up set does not hold the progression back.
        let warmed = sets(&[(10, 40.0), (12, 60.0), (12, 60.0)]);
        assert!(matches!(
            next_session(&warmed, 8, 12, 5.0),
            Some(NextSession::AddWeight { weight_kg, reps: 8 }) if close(weight_kg, 65.0)
        ));
        assert_eq!(next_session(&[], 8, 12, DEFAULT_STEP_KG), None);
    }

    /// Worked by hand: 3 × 95 kg on the 1st, 5 × 100 kg on the 8th, 1 × 110 kg on
    /// the 15th, 5 × 100 kg again on the 22nd.
    /// - Singles: 110 (15th). Threes: 100 (8th; five at 100 counts for three).
    ///   Fives: 100 (8th, not the 22nd: the record is kept by the day first set).
    /// - Estimates: 95 × 1.1 = 104.5; 100 × 35 ÷ 30 = 116.7; a single of 110 is
    ///   110. Best: 116.7, the five on the 8th.
    #[test]
    fn personal_records_by_repetitions_and_the_best_estimate() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let lift = |d, reps, weight_kg| Lift {
            date: day(d),
            reps,
            weight_kg,
        };
        let lifts = [
            lift(22, 5, 100.0),
            lift(1, 3, 95.0),
            lift(15, 1, 110.0),
            lift(8, 5, 100.0),
        ];
        let records = personal_records(&lifts);
        let by_reps: Vec<(u32, f64, NaiveDate)> = records
            .by_reps
            .iter()
            .map(|(reps, lift)| (*reps, lift.weight_kg, lift.date))
            .collect();
        assert_eq!(
            by_reps,
            [(1, 110.0, day(15)), (3, 100.0, day(8)), (5, 100.0, day(8))]
        );
        let (estimate, from) = records.best_estimate.unwrap();
        assert!(close(estimate, 100.0 * 35.0 / 30.0), "{estimate}");
        assert_eq!(from, lift(8, 5, 100.0));
        assert_eq!(personal_records(&[]), Records::default());
    }

    #[test]
    fn a_sessions_energy_is_met_times_weight_times_hours() {
        assert!(close(session_energy(3.5, 80.0, 45.0), 210.0));
    }
}
