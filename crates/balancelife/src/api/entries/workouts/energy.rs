//! The energy of a workout the user did not type: MET values (`body::met`) times
//! the user's weight on its day times its duration.
//!
//! The weight is the newest weigh-in of the 90 days up to the workout's day, so a
//! session logged months late is judged by the body of then; without one, the
//! profile's weight; without that, the estimate cannot be made and the user is
//! asked to type the energy.

use chrono::{Days, NaiveDate};

use crate::api::http::error::{ApiError, ApiResult};
use crate::body::met::{activity_met, mean_met};
use crate::body::strength::session_energy;
use crate::domain::{Kcal, User, WorkoutData, to_tenth};
use crate::exercise_book::ExerciseBook;
use crate::store::{DateRange, Store, all_entries};

/// How far back a weigh-in still tells the weight of a workout's day.
const WEIGH_IN_REACH_DAYS: u64 = 90;

/// The estimated energy of `data`, done on `local_date` by `user`, its exercises
/// looked up in `book`.
pub async fn estimate(
    store: &dyn Store,
    user: &User,
    local_date: NaiveDate,
    data: &WorkoutData,
    book: &ExerciseBook,
) -> ApiResult<Kcal> {
    let weight_kg = weight_on(store, user, local_date).await?.ok_or_else(|| {
        ApiError::invalid(
            "kcal_burned",
            "is needed: no weight is known to estimate it from (log a weigh-in or set the profile's weight)",
        )
    })?;
    let met = session_met(data, book);
    let minutes = f64::from(data.duration_s.get()) / 60.0;
    Kcal::try_from(to_tenth(session_energy(met, weight_kg, minutes))).map_err(|_| {
        ApiError::invalid(
            "kcal_burned",
            "the estimate is out of range for so long a workout; type it",
        )
    })
}

/// The mean MET of the done sets, or the activity's for a workout without any.
pub fn session_met(data: &WorkoutData, book: &ExerciseBook) -> f64 {
    let categories = data
        .sets
        .iter()
        .filter(|set| set.done)
        .filter_map(|set| book.get(&set.exercise_id))
        .map(|exercise| exercise.category);
    mean_met(categories).unwrap_or_else(|| activity_met(data.activity))
}

/// The user's weight on `day`, as the module says.
async fn weight_on(store: &dyn Store, user: &User, day: NaiveDate) -> ApiResult<Option<f64>> {
    let from = day
        .checked_sub_days(Days::new(WEIGH_IN_REACH_DAYS))
        .unwrap_or(day);
    let range = DateRange::new(from, day).map_err(ApiError::internal)?;
    let metrics = all_entries(store.body_metrics(), user.id, range).await?;
    // Listed oldest first.
    let newest = metrics
        .iter()
        .rev()
        .find_map(|entry| entry.data.weight_kg.map(f64::from));
    Ok(newest.or_else(|| user.profile.weight_kg.map(f64::from)))
}
