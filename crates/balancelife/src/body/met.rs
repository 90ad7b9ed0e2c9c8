//! MET values: how many times its resting energy a body spends doing something,
//! from the Compendium of Physical Activities (Ainsworth et al., 2011 update).
//! A MET is 1 kcal per kilogram of body weight per hour, so a session of `minutes`
//! costs `MET × weight (kg) × minutes ÷ 60` (`strength::session_energy`).
//!
//! A workout logged as a whole takes its activity's value. A session logged set by
//! set takes the mean of its done sets' values, each set by its exercise's
//! category, so an hour of squats and stretching counts between the two.
//! Worked example: 12 sets of squats (strength, 3.5) and 4 of stretching (2.3)
//! over 50 minutes at 80 kg: MET (12 × 3.5 + 4 × 2.3) ÷ 16 = 3.2, and 3.2 × 80 ×
//! 50 ÷ 60 = 213.3 kcal.

use crate::domain::{Activity, ExerciseCategory};

/// The Compendium's value for a workout of `activity` at an ordinary effort.
pub fn activity_met(activity: Activity) -> f64 {
    match activity {
        Activity::Running => 8.0,  // running, general
        Activity::Walking => 3.5,  // walking, 2.8–3.2 mph, level, moderate pace
        Activity::Cycling => 7.5,  // bicycling, general
        Activity::Swimming => 6.0, // swimming, leisurely, general
        Activity::Rowing => 7.0,   // rowing, stationary, 100 watts, moderate effort
        Activity::Hiking => 6.0,   // hiking, cross country
        Activity::Strength => 3.5, // resistance training, multiple exercises, 8–15 reps
        Activity::Hiit => 8.0,     // circuit training, minimal rest, vigorous
        Activity::Yoga => 2.5,     // yoga, Hatha
        Activity::Pilates => 3.0,  // Pilates, general
        Activity::Other => 3.8,    // calisthenics, moderate effort
    }
}

/// The Compendium's value for a set of an exercise of `category`.
pub fn category_met(category: ExerciseCategory) -> f64 {
    match category {
        // resistance training, multiple exercises, 8–15 repetitions
        ExerciseCategory::Strength => 3.5,
        // resistance training, power lifting or body building, vigorous effort
        ExerciseCategory::Powerlifting
        | ExerciseCategory::OlympicWeightlifting
        | ExerciseCategory::Strongman => 6.0,
        // calisthenics (jumping jacks, burpees), vigorous effort
        ExerciseCategory::Plyometrics => 8.0,
        // aerobic, general
        ExerciseCategory::Cardio => 7.3,
        // stretching, mild
        ExerciseCategory::Stretching => 2.3,
    }
}

/// The mean MET of sets of `categories` (one item a set); `None` without sets.
pub fn mean_met(categories: impl IntoIterator<Item = ExerciseCategory>) -> Option<f64> {
    let (sum, count) = categories
        .into_iter()
        .fold((0.0, 0_u32), |(sum, count), c| {
            (sum + category_met(c), count + 1)
        });
    (count > 0).then(|| sum / f64::from(count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::strength::session_energy;

    #[test]
    fn a_mixed_session_takes_the_mean_of_its_sets() {
        let sets = std::iter::repeat_n(ExerciseCategory::Strength, 12)
            .chain(std::iter::repeat_n(ExerciseCategory::Stretching, 4));
        let met = mean_met(sets).unwrap();
        assert!((met - 3.2).abs() < 1e-9, "{met}");
        let kcal = session_energy(met, 80.0, 50.0);
        assert!((kcal - 213.333).abs() < 0.001, "{kcal}");
        assert_eq!(mean_met([]), None);
    }

    #[test]
    fn a_whole_workout_takes_its_activitys_value() {
        assert!((session_energy(activity_met(Activity::Running), 70.0, 30.0) - 280.0).abs() < 1e-9);
    }
}
