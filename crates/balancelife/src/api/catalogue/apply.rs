//! `POST /meal-packages/{id}/apply` and `POST /workout-packages/{id}/apply`: log a
//! package's day in one action. Each entry's id is derived from the request, so
//! applying the same day twice finds the entries already there and creates nothing.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::account::auth::AuthUser;
use crate::api::entries::meals::MealEntryView;
use crate::api::entries::workouts::WorkoutEntryView;
use crate::api::entries::{EntryResource, check_occurred_at};
use crate::api::http::error::{ApiError, ApiResult, ErrorBody};
use crate::api::http::extract::{PathId, ValidJson};
use crate::api::http::state::SharedState;
use crate::domain::{
    Activity, DurationSecs, Entry, EntryData, ExerciseDose, LoadKg, LoggedSet, MOST_SETS, MealData,
    MealSlot, PackageDay, PackageRef, PackageWeek, SessionDay, User, WorkoutData, WorkoutPackage,
    WorkoutSession, now,
};
use crate::store::{Optional, StoreError, Written};
use crate::training::suggested_load;
use crate::workout_history::all_workouts;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyMealPackage {
    /// The calendar day to log the meals on, in the user's time zone.
    date: NaiveDate,
    #[schema(example = 1)]
    day: PackageDay,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyWorkoutPackage {
    /// The calendar day to log the session on, in the user's time zone.
    date: NaiveDate,
    #[schema(example = 1)]
    week: PackageWeek,
    #[schema(example = 1)]
    day: SessionDay,
}

#[derive(Serialize, ToSchema)]
pub struct Applied<V> {
    /// How many entries this request created (0 when it was applied before).
    created: usize,
    entries: Vec<V>,
}

/// Logs one day of a meal package.
///
/// One entry per meal, at fixed local times. Applying the same day again creates
/// nothing.
#[utoipa::path(
    post,
    path = "/api/v1/meal-packages/{id}/apply",
    tag = "catalogue",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The package's id")),
    request_body = ApplyMealPackage,
    responses(
        (status = 201, description = "Logged", body = Applied<MealEntryView>),
        (status = 200, description = "Already logged before; nothing created",
            body = Applied<MealEntryView>),
        (status = 404, description = "No such published package", body = ErrorBody),
    )
)]
pub async fn apply_meal_package(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    ValidJson(request): ValidJson<ApplyMealPackage>,
) -> ApiResult<(StatusCode, Json<Applied<<MealData as EntryResource>::View>>)> {
    let package = published(state.store.meal_packages().get(id).await, "meal package")?;
    if request.day.get() > package.duration_days {
        return Err(ApiError::invalid(
            "day",
            format!("must be from 1 to {}", package.duration_days),
        ));
    }
    let reference = reference(package.id, package.version);
    let mut entries = Vec::new();
    for (index, item) in package
        .items
        .iter()
        .filter(|i| i.day == request.day.get())
        .enumerate()
    {
        let eaten_at = user.timezone.instant(request.date, slot_time(item.slot));
        check_occurred_at::<MealData>(eaten_at).map_err(|_| date_out_of_range())?;
        let data = item.logged_at(eaten_at, reference);
        // Not the version: re-applying a day after the package was revised must not
        // log that day twice.
        let key = format!(
            "meal|{}|{}|{}|{index}",
            package.id,
            request.date,
            request.day.get()
        );
        entries.push(entry(&user, &key, data));
    }
    let (created, entries) = store_all::<MealData>(&state, entries).await?;
    Ok(respond(created, entries))
}

/// Logs one session of a workout package. Applying it again creates nothing.
#[utoipa::path(
    post,
    path = "/api/v1/workout-packages/{id}/apply",
    tag = "catalogue",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The package's id")),
    request_body = ApplyWorkoutPackage,
    responses(
        (status = 201, description = "Logged", body = Applied<WorkoutEntryView>),
        (status = 200, description = "Already logged before; nothing created",
            body = Applied<WorkoutEntryView>),
        (status = 404, description = "No such published package", body = ErrorBody),
    )
)]
pub async fn apply_workout_package(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    ValidJson(request): ValidJson<ApplyWorkoutPackage>,
) -> ApiResult<(
    StatusCode,
    Json<Applied<<WorkoutData as EntryResource>::View>>,
)> {
    let package = published(
        state.store.workout_packages().get(id).await,
        "workout package",
    )?;
    if request.week.get() > package.duration_weeks {
        return Err(ApiError::invalid(
            "week",
            format!("must be from 1 to {}", package.duration_weeks),
        ));
    }
    let session = package
        .sessions
        .iter()
        .find(|s| s.week == request.week.get() && s.day == request.day.get())
        .ok_or_else(|| {
            ApiError::invalid("day", "the package has no session on that day of that week")
        })?;
    let started_at = user.timezone.instant(
        request.date,
        NaiveTime::from_hms_opt(7, 0, 0).expect("a valid time"),
    );
    check_occurred_at::<WorkoutData>(started_at).map_err(|_| date_out_of_range())?;
    let data = WorkoutData {
        started_at,
        activity: activity_of(&package),
        title: session.title.clone(),
        duration_s: DurationSecs::try_from(i64::from(package.minutes_per_session) * 60)
            .map_err(ApiError::internal)?,
        kcal_burned: package.kcal_per_session,
        effort: None,
        distance_km: None,
        avg_heart_rate: None,
        package: Some(reference(package.id, package.version)),
        notes: None,
        sets: planned_sets(&state, &user, session).await?,
        kcal_estimated: false,
    };
    let key = format!(
        "workout|{}|{}|{}|{}",
        package.id,
        request.date,
        request.week.get(),
        request.day.get()
    );
    let (created, entries) =
        store_all::<WorkoutData>(&state, vec![entry(&user, &key, data)]).await?;
    Ok(respond(created, entries))
}

/// The sets `session` prescribes of exercises of the library, planned (not yet
/// done) for the user to fill in: so many repetitions (or seconds) each, at the
/// load double progression suggests from the user's last session of the exercise,
/// with the prescription as the range's top. Exercises the library lacks stay in
/// the package's description alone.
async fn planned_sets(
    state: &SharedState,
    user: &User,
    session: &WorkoutSession,
) -> ApiResult<Vec<LoggedSet>> {
    if session.exercises.iter().all(|e| e.exercise_id.is_none()) {
        return Ok(Vec::new());
    }
    let history = all_workouts(state.store.as_ref(), user).await?;
    let mut planned = Vec::new();
    for exercise in &session.exercises {
        let load = match (&exercise.exercise_id, exercise.dose) {
            (Some(id), ExerciseDose::Reps(reps)) => suggested_load(&history, id, u32::from(reps)),
            _ => None,
        };
        // Past what a set may hold (a kilogram from a tonne), no load is planned.
        let load = load.and_then(|kg| LoadKg::try_from(kg).ok());
        planned.extend(exercise.prescribed_sets(load, false));
    }
    // The catalogue refuses more; a package stored before the rule is cut short.
    planned.truncate(MOST_SETS);
    Ok(planned)
}

fn published<P: crate::domain::Package>(found: Result<P, StoreError>, noun: &str) -> ApiResult<P> {
    found
        .optional()?
        .filter(|package| package.published())
        .ok_or_else(|| ApiError::not_found(noun))
}

fn reference(package_id: Uuid, package_version: crate::domain::Version) -> PackageRef {
    PackageRef {
        package_id,
        package_version,
    }
}

fn date_out_of_range() -> ApiError {
    ApiError::invalid("date", "must be between 2000-01-01 and tomorrow")
}

/// When a meal of each slot is logged, in the user's local time.
fn slot_time(slot: MealSlot) -> NaiveTime {
    let (hour, minute) = match slot {
        MealSlot::Breakfast => (8, 0),
        MealSlot::Lunch => (12, 30),
        MealSlot::Snack => (16, 0),
        MealSlot::Dinner => (19, 0),
    };
    NaiveTime::from_hms_opt(hour, minute, 0).expect("a valid time")
}

fn activity_of(package: &WorkoutPackage) -> Activity {
    let has = |tag: &str| package.tags.iter().any(|t| t.as_str() == tag);
    if has("mobility") || has("yoga") {
        Activity::Yoga
    } else if has("hiit") || has("cardio") {
        Activity::Hiit
    } else {
        Activity::Strength
    }
}

/// An entry whose id follows from the user and `key` (what was applied), so a
/// repeated request names the same entries. A UUIDv7 at the entry's own time.
fn entry<D: EntryData>(user: &User, key: &str, data: D) -> Entry<D> {
    let digest = Sha256::digest(format!("{}|{key}", user.id).as_bytes());
    let mut random = [0_u8; 10];
    random.copy_from_slice(&digest[..10]);
    let millis = u64::try_from(data.occurred_at().timestamp_millis()).unwrap_or_default();
    let at = now();
    Entry {
        id: uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid(),
        user_id: user.id,
        local_date: user.timezone.local_date(data.occurred_at()),
        data,
        created_at: at,
        updated_at: at,
    }
}

async fn store_all<E: EntryResource>(
    state: &SharedState,
    entries: Vec<Entry<E>>,
) -> ApiResult<(usize, Vec<E::View>)> {
    let mut created = 0;
    let mut views = Vec::new();
    let store = E::entries(state.store.as_ref());
    for entry in entries {
        let (user_id, id) = (entry.user_id, entry.id);
        match store.create(entry).await {
            Ok(Written::Created(entry)) => {
                created += 1;
                views.push(E::view(entry));
            }
            Ok(written) => views.push(E::view(written.into_inner())),
            // Applied before and edited since (or the package was revised): the day
            // is already logged; show the entry as it is.
            Err(StoreError::Conflict(_)) => views.push(E::view(store.get(user_id, id).await?)),
            Err(other) => return Err(other.into()),
        }
    }
    Ok((created, views))
}

fn respond<V>(created: usize, entries: Vec<V>) -> (StatusCode, Json<Applied<V>>) {
    let status = if created > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(Applied { created, entries }))
}
