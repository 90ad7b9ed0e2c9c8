//! The training log's numbers (`/training`): each exercise's personal records,
//! last session and next step, and the weekly volume per muscle group, from the
//! sets of the signed-in user's workouts (`training`).

use axum::Json;
use axum::extract::State;
use chrono::{Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::account::auth::AuthUser;
use crate::api::entries::MAX_RANGE_DAYS;
use crate::api::http::error::{ApiError, ApiResult, ErrorBody};
use crate::api::http::extract::ValidQuery;
use crate::api::http::state::SharedState;
use crate::domain::ExerciseId;
use crate::store::DateRange;
use crate::training::{self, DEFAULT_REP_RANGE, ExerciseProgress, WeekVolume};

const TAG: &str = "training";

/// The most repetitions a range for double progression may top out at.
const MOST_RANGE_REPS: u32 = 100;

/// The weeks a volume report covers unless asked otherwise: the last twelve.
const DEFAULT_VOLUME_WEEKS: u64 = 12;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProgressQuery {
    /// Only this exercise.
    exercise_id: Option<ExerciseId>,
    /// The bottom of the repetition range the next step aims for (default 8).
    #[param(minimum = 1, maximum = 100)]
    low: Option<u32>,
    /// The top of the range (default 12): once every working set reaches it,
    /// the next step adds weight.
    #[param(minimum = 1, maximum = 100)]
    high: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressView {
    /// Every exercise the user has done a set of, by name.
    exercises: Vec<ExerciseProgress>,
}

/// Personal records, last session and next step of each exercise.
///
/// Records: for each repetition count, the heaviest load lifted for at least that
/// many, and the best estimated one-repetition maximum (Epley, up to 12
/// repetitions). Next step: double progression over the range `low`–`high`.
#[utoipa::path(
    get,
    path = "/api/v1/training/exercises",
    tag = TAG,
    operation_id = "training_progress",
    security(("bearer" = [])),
    params(ProgressQuery),
    responses(
        (status = 200, description = "Each exercise's progress", body = ProgressView),
        (status = 422, description = "A bad repetition range", body = ErrorBody),
    )
)]
pub async fn progress(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    ValidQuery(query): ValidQuery<ProgressQuery>,
) -> ApiResult<Json<ProgressView>> {
    let low = query.low.unwrap_or(DEFAULT_REP_RANGE.0);
    let high = query.high.unwrap_or(DEFAULT_REP_RANGE.1.max(low));
    if !(1..=MOST_RANGE_REPS).contains(&low) {
        return Err(ApiError::invalid(
            "low",
            format!("must be from 1 to {MOST_RANGE_REPS}"),
        ));
    }
    if !(low..=MOST_RANGE_REPS).contains(&high) {
        return Err(ApiError::invalid(
            "high",
            format!("must be from `low` to {MOST_RANGE_REPS}"),
        ));
    }
    let all = state
        .training
        .progress(state.store.as_ref(), &user, low, high)
        .await?;
    let exercises = all
        .iter()
        .filter(|progress| {
            query
                .exercise_id
                .as_ref()
                .is_none_or(|only| &progress.exercise_id == only)
        })
        .cloned()
        .collect();
    Ok(Json(ProgressView { exercises }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VolumeQuery {
    /// The first day, in the user's time zone; by default the Monday eleven weeks
    /// before `to`'s, so twelve weeks.
    from: Option<NaiveDate>,
    /// The last day, at most 366 days after `from`; by default today.
    to: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VolumeView {
    from: NaiveDate,
    to: NaiveDate,
    /// Every week from `from`'s Monday to `to`'s, oldest first.
    weeks: Vec<WeekVolume>,
}

/// Weekly volume per muscle group.
///
/// Working sets (done, not warm-ups) per muscle group and week, Monday first: 1
/// for each primary muscle of the exercise and ½ for each secondary one; the
/// repetitions and tonnage go to the primary muscles.
#[utoipa::path(
    get,
    path = "/api/v1/training/volume",
    tag = TAG,
    operation_id = "training_volume",
    security(("bearer" = [])),
    params(VolumeQuery),
    responses(
        (status = 200, description = "The weeks' volume", body = VolumeView),
        (status = 422, description = "A bad range", body = ErrorBody),
    )
)]
pub async fn volume(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    ValidQuery(query): ValidQuery<VolumeQuery>,
) -> ApiResult<Json<VolumeView>> {
    let to = query
        .to
        .unwrap_or_else(|| user.timezone.local_date(Utc::now()));
    let from = query.from.unwrap_or_else(|| {
        let monday = training::monday(to);
        monday
            .checked_sub_days(Days::new(7 * (DEFAULT_VOLUME_WEEKS - 1)))
            .unwrap_or(monday)
    });
    let range = DateRange::new(from, to).map_err(|e| ApiError::invalid("to", e.0))?;
    if range.days() > MAX_RANGE_DAYS {
        return Err(ApiError::invalid(
            "to",
            format!("the range must span at most {MAX_RANGE_DAYS} days"),
        ));
    }
    let weeks = state
        .training
        .weekly_volume(state.store.as_ref(), &user, range)
        .await?;
    Ok(Json(VolumeView {
        from,
        to,
        weeks: weeks.as_ref().clone(),
    }))
}
