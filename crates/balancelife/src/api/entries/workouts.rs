//! The workout entry's request and response shapes; the routes are in `entries`.
//! A workout is logged as a whole (an activity, a time, the energy burned) or set
//! by set; without a typed `kcal_burned` the service estimates it (`energy`).

use async_trait::async_trait;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

mod energy;

use crate::api::entries::{EntryResource, package_ref, patched_package, published_version};
use crate::api::http::error::{ApiError, ApiResult};
use crate::api::http::patch::{non_null, nullable, set};
use crate::domain::{
    Activity, ClientId, DistanceKm, DurationSecs, Effort, Entry, HeartRate, Kcal, LoggedSet,
    MOST_SETS, Notes, Title, User, Version, WorkoutData, to_millis,
};
use crate::exercise_book::{ExerciseBook, custom_ids};
use crate::store::{EntryStore, Store, StoreResult};

/// The body of `POST /workout-entries` and `PUT /workout-entries/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkoutEntryInput {
    id: Option<ClientId>,
    /// When it started: from 2000-01-01 to one day from now.
    #[schema(example = "2026-11-20T07:00:00Z")]
    started_at: DateTime<Utc>,
    activity: Activity,
    title: Title,
    duration_s: DurationSecs,
    /// The energy burned; absent or `null`, the service estimates it from MET
    /// values and the user's weight that day.
    kcal_burned: Option<Kcal>,
    /// True (as an export writes it) when the given `kcal_burned` is the service's
    /// estimate: it is estimated again, and kept as given only when no weight is
    /// known to estimate it from.
    #[serde(default)]
    kcal_estimated: bool,
    effort: Option<Effort>,
    distance_km: Option<DistanceKm>,
    avg_heart_rate: Option<HeartRate>,
    package_id: Option<Uuid>,
    package_version: Option<Version>,
    notes: Option<Notes>,
    /// The session set by set, in the order done.
    #[serde(default)]
    #[schema(max_items = 100)]
    sets: Vec<LoggedSet>,
}

/// The body of `PATCH /workout-entries/{id}`: absent fields stay, `null` clears.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkoutEntryPatch {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    started_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    activity: Option<Activity>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    title: Option<Title>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    duration_s: Option<DurationSecs>,
    /// A number types it; `null` asks the service to estimate it (and keep
    /// estimating it through later edits).
    #[serde(default, deserialize_with = "nullable")]
    kcal_burned: Option<Option<Kcal>>,
    #[serde(default, deserialize_with = "nullable")]
    effort: Option<Option<Effort>>,
    #[serde(default, deserialize_with = "nullable")]
    distance_km: Option<Option<DistanceKm>>,
    #[serde(default, deserialize_with = "nullable")]
    avg_heart_rate: Option<Option<HeartRate>>,
    #[serde(default, deserialize_with = "nullable")]
    package_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    package_version: Option<Option<Version>>,
    #[serde(default, deserialize_with = "nullable")]
    notes: Option<Option<Notes>>,
    /// The whole list of sets, replacing the one there.
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false, max_items = 100)]
    sets: Option<Vec<LoggedSet>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WorkoutEntryView {
    id: Uuid,
    user_id: Uuid,
    started_at: DateTime<Utc>,
    local_date: NaiveDate,
    activity: Activity,
    title: Title,
    duration_s: DurationSecs,
    kcal_burned: Kcal,
    /// Whether the service estimated `kcal_burned` rather than the user typed it.
    kcal_estimated: bool,
    #[schema(required = true)]
    effort: Option<Effort>,
    #[schema(required = true)]
    distance_km: Option<DistanceKm>,
    #[schema(required = true)]
    avg_heart_rate: Option<HeartRate>,
    #[schema(required = true)]
    package_id: Option<Uuid>,
    #[schema(required = true)]
    package_version: Option<Version>,
    #[schema(required = true)]
    notes: Option<Notes>,
    sets: Vec<LoggedSet>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[async_trait]
impl EntryResource for WorkoutData {
    const NOUN: &'static str = "workout entry";
    const COLLECTION_PATH: &'static str = "/api/v1/workout-entries";
    const OCCURRED_AT_FIELD: &'static str = "started_at";
    type Input = WorkoutEntryInput;
    type Patch = WorkoutEntryPatch;
    type View = WorkoutEntryView;

    fn entries(store: &dyn Store) -> &dyn EntryStore<Self> {
        store.workout_entries()
    }

    fn from_input(input: WorkoutEntryInput) -> ApiResult<(Option<ClientId>, Self)> {
        let data = WorkoutData {
            started_at: to_millis(input.started_at),
            activity: input.activity,
            title: input.title,
            duration_s: input.duration_s,
            kcal_burned: input.kcal_burned.unwrap_or(TO_ESTIMATE),
            kcal_estimated: input.kcal_estimated || input.kcal_burned.is_none(),
            effort: input.effort,
            distance_km: input.distance_km,
            avg_heart_rate: input.avg_heart_rate,
            package: package_ref(input.package_id, input.package_version)?,
            notes: input.notes,
            sets: checked_sets(input.sets)?,
        };
        Ok((input.id, data))
    }

    async fn complete(
        store: &dyn Store,
        user: &User,
        local_date: NaiveDate,
        data: &mut Self,
    ) -> ApiResult<()> {
        let named = || data.sets.iter().map(|set| &set.exercise_id);
        // Each is read to be checked: a made-up list must not cost a read a set.
        if custom_ids(named()).len() > MOST_CUSTOM_EXERCISES {
            return Err(ApiError::invalid(
                "sets",
                format!("a workout names at most {MOST_CUSTOM_EXERCISES} custom exercises"),
            ));
        }
        let book = ExerciseBook::of(store, named()).await?;
        if let Some(index) = data
            .sets
            .iter()
            .position(|set| book.get(&set.exercise_id).is_none())
        {
            return Err(ApiError::invalid(
                format!("sets[{index}].exercise_id"),
                "no such exercise in the library",
            ));
        }
        if !data.kcal_estimated {
            return Ok(());
        }
        match energy::estimate(store, user, local_date, data, &book).await {
            Ok(estimate) => data.kcal_burned = estimate,
            // An estimate made before (stored, or an export's), and no weight to
            // make it again: it stands.
            Err(refused)
                if refused.status() == StatusCode::UNPROCESSABLE_ENTITY
                    && data.kcal_burned != TO_ESTIMATE => {}
            Err(error) => return Err(error),
        }
        Ok(())
    }

    fn apply_patch(&mut self, patch: WorkoutEntryPatch) -> ApiResult<()> {
        set(&mut self.started_at, patch.started_at.map(to_millis));
        set(&mut self.activity, patch.activity);
        set(&mut self.title, patch.title);
        set(&mut self.duration_s, patch.duration_s);
        if let Some(sets) = patch.sets {
            self.sets = checked_sets(sets)?;
        }
        // An estimate is made again by every edit (`complete`).
        match patch.kcal_burned {
            Some(Some(typed)) => (self.kcal_burned, self.kcal_estimated) = (typed, false),
            Some(None) if !self.kcal_estimated => {
                (self.kcal_burned, self.kcal_estimated) = (TO_ESTIMATE, true);
            }
            Some(None) | None => {}
        }
        set(&mut self.effort, patch.effort);
        set(&mut self.distance_km, patch.distance_km);
        set(&mut self.avg_heart_rate, patch.avg_heart_rate);
        set(&mut self.notes, patch.notes);
        self.package = patched_package(self.package, patch.package_id, patch.package_version)?;
        Ok(())
    }

    async fn package_version(store: &dyn Store, id: Uuid) -> StoreResult<Option<Version>> {
        published_version(store.workout_packages().get(id).await, |p| p.version)
    }

    fn view(entry: Entry<Self>) -> WorkoutEntryView {
        let Entry {
            id,
            user_id,
            local_date,
            data,
            created_at,
            updated_at,
        } = entry;
        WorkoutEntryView {
            id,
            user_id,
            started_at: data.started_at,
            local_date,
            activity: data.activity,
            title: data.title,
            duration_s: data.duration_s,
            kcal_burned: data.kcal_burned,
            kcal_estimated: data.kcal_estimated,
            effort: data.effort,
            distance_km: data.distance_km,
            avg_heart_rate: data.avg_heart_rate,
            package_id: data.package.map(|p| p.package_id),
            package_version: data.package.map(|p| p.package_version),
            notes: data.notes,
            sets: data.sets,
            created_at,
            updated_at,
        }
    }
}

/// The most custom exercises (added by administrators) one workout's sets may
/// name; a session of that many different exercises is already a long one.
const MOST_CUSTOM_EXERCISES: usize = 20;

/// What `kcal_burned` holds until `complete` estimates it the first time: a number
/// no estimate of a real session comes to (it needs a second at least, by a body
/// of 20 kg at least, at a MET above 2, to be 0.0 kcal once rounded).
const TO_ESTIMATE: Kcal = Kcal::ZERO;

/// `sets` if there are not too many and each says how much was done (`complete`
/// checks that each names an exercise, which may take reading the store).
fn checked_sets(sets: Vec<LoggedSet>) -> ApiResult<Vec<LoggedSet>> {
    if sets.len() > MOST_SETS {
        return Err(ApiError::invalid(
            "sets",
            format!("a workout holds at most {MOST_SETS} sets"),
        ));
    }
    for (index, set) in sets.iter().enumerate() {
        if !set.has_amount() {
            return Err(ApiError::invalid(
                format!("sets[{index}]"),
                "needs reps, duration_s or distance_km",
            ));
        }
    }
    Ok(sets)
}

crate::api::entries::entry_endpoints! {
    data: WorkoutData,
    input: WorkoutEntryInput,
    patch: WorkoutEntryPatch,
    view: WorkoutEntryView,
    collection: "/api/v1/workout-entries",
    item: "/api/v1/workout-entries/{id}",
    tag: "workout entries",
    singular: "workout_entry",
    plural: "workout_entries",
}
