//! Samples from Health Connect and HealthKit, as a companion app reads them there:
//! `POST /health-samples/batch` takes them, `GET /health-samples` lists them.
//!
//! A sample is named by its platform and the platform's record id, so a record
//! sent again changes nothing, a changed one updates it, and one sent as deleted
//! removes it. Weigh-ins and body-fat readings show in the body log
//! (`body_log`); steps and active energy are kept as they come.
//!
//! An exercise session becomes a workout entry (its id the sample's, so it follows
//! the record), titled by where it came from ("Running · com.strava via Health
//! Connect") so the user sees it was not logged by hand. The rule against counting
//! one workout twice: a session that overlaps in time a workout the user logged
//! themselves is kept as a sample only, and the logged workout stands.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

mod body_log;

use crate::api::account::auth::AuthUser;
use crate::api::entries::MAX_RANGE_DAYS;
use crate::api::entries::follow_up_quietly;
use crate::api::http::error::{ApiError, ApiResult, ErrorBody};
use crate::api::http::extract::{ValidJson, ValidQuery};
use crate::api::http::state::SharedState;
use crate::domain::{
    Activity, BodyMetricData, DurationSecs, Entry, EntryData, HealthSample, Kcal, Notes,
    SampleSource, SampleType, Title, User, WorkoutData, now, sample_id, to_millis,
};
use crate::store::{DateRange, EntryStore, Optional, StoreError, Written, all_entries};

/// The most samples one batch takes.
pub const MOST_SAMPLES: usize = 1_000;

/// The body limit of a batch of samples.
pub const SAMPLES_LIMIT_BYTES: usize = 2 * 1024 * 1024;

/// How long a sample may span: a week of steps at most, and a session a day.
const LONGEST_SPAN: TimeDelta = TimeDelta::days(7);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleBatch {
    /// At most 1,000, applied in order.
    samples: Vec<SampleInput>,
}

/// One record as the platform holds it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleInput {
    #[serde(rename = "type")]
    kind: SampleType,
    /// When it was measured, or when its span began.
    start: DateTime<Utc>,
    /// When its span ended; a weigh-in's is its start (the default).
    #[serde(default)]
    end: Option<DateTime<Utc>>,
    /// Required unless `deleted`.
    #[serde(default)]
    value: Option<f64>,
    /// `kg`, `lb` or `g` for weight; `percent` (or `%`) for body fat; `count` for
    /// steps; `kcal` or `kJ` for energy. Defaults to the type's stored unit.
    #[serde(default)]
    unit: Option<String>,
    source: SampleSource,
    /// The record was deleted on the platform: remove it here too.
    #[serde(default)]
    deleted: bool,
    /// Exercise sessions: what it was (`other` if not given).
    #[serde(default)]
    activity: Option<Activity>,
    /// Exercise sessions: its title on the platform.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 120)]
    title: Option<Title>,
}

/// What a batch did, sample by sample.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct SampleReport {
    created: usize,
    updated: usize,
    unchanged: usize,
    removed: usize,
    /// One per sample, in order.
    results: Vec<SampleResult>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SampleResult {
    /// The sample's id here (the same for every send of its record).
    id: Uuid,
    outcome: SampleOutcome,
    /// Exercise sessions: the workout entry it is logged as, unless it overlaps a
    /// workout the user logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    workout_entry_id: Option<Uuid>,
    /// Weigh-ins and body-fat readings: the body measurement it shows as, unless
    /// the body log holds that reading already.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    body_metric_id: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SampleOutcome {
    Created,
    Updated,
    Unchanged,
    Removed,
    /// Sent as deleted, and not here (never sent, or removed already).
    Absent,
}

/// A sample as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct SampleView {
    id: Uuid,
    #[serde(rename = "type")]
    kind: SampleType,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    value: f64,
    /// The stored unit of its type.
    unit: &'static str,
    source: SampleSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    activity: Option<Activity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, nullable = false)]
    title: Option<Title>,
}

impl From<HealthSample> for SampleView {
    fn from(sample: HealthSample) -> Self {
        Self {
            id: sample.id,
            kind: sample.kind,
            start: sample.start,
            end: sample.end,
            value: sample.value,
            unit: sample.kind.unit(),
            source: sample.source,
            activity: sample.activity,
            title: sample.title,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SampleList {
    items: Vec<SampleView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SampleQuery {
    #[serde(rename = "type")]
    #[param(rename = "type", required = true)]
    kind: Option<SampleType>,
    /// The first calendar day, in the user's time zone.
    #[param(required = true, example = "2026-03-01")]
    from: Option<NaiveDate>,
    /// The last, at most 366 days after `from`; defaults to `from`.
    to: Option<NaiveDate>,
}

/// Samples a companion app read from Health Connect or HealthKit.
///
/// Each sample is named by its platform and record id: sent again it changes
/// nothing, changed it updates, `deleted` removes it. An exercise session becomes a
/// workout entry titled by its source, unless it overlaps a workout the user logged
/// (then it is kept as a sample only). The batch is checked whole before anything
/// is written.
#[utoipa::path(
    post,
    path = "/api/v1/health-samples/batch",
    tag = "health data",
    operation_id = "add_health_samples",
    request_body = SampleBatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What each sample did", body = SampleReport),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 413, description = "More than 1,000 samples, or a body over 2 MiB", body = ErrorBody),
        (status = 422, description = "A sample that cannot be taken, named; nothing was written", body = ErrorBody),
    )
)]
pub async fn add(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    ValidJson(batch): ValidJson<SampleBatch, SAMPLES_LIMIT_BYTES>,
) -> ApiResult<Json<SampleReport>> {
    if batch.samples.len() > MOST_SAMPLES {
        return Err(ApiError::too_many_items("samples", MOST_SAMPLES));
    }
    let checked: Vec<Checked> = batch
        .samples
        .into_iter()
        .enumerate()
        .map(|(index, input)| {
            check(&user, input).map_err(|(field, message)| {
                ApiError::invalid(format!("samples[{index}].{field}"), message)
            })
        })
        .collect::<ApiResult<_>>()?;
    let mut report = SampleReport::default();
    let mut weigh_ins_changed = false;
    for sample in checked {
        let (result, weighed) = match sample {
            Checked::Deleted { id, kind } => remove(&state, &user, id, kind, &mut report).await?,
            Checked::Kept(sample) => keep(&state, &user, sample, &mut report).await?,
        };
        weigh_ins_changed |= weighed;
        report.results.push(result);
    }
    // The profile's weight follows the weigh-ins, once for the batch.
    if weigh_ins_changed {
        follow_up_quietly::<BodyMetricData>(&state, user.id).await;
    }
    Ok(Json(report))
}

/// The caller's samples of one type, by time.
#[utoipa::path(
    get,
    path = "/api/v1/health-samples",
    tag = "health data",
    operation_id = "list_health_samples",
    params(SampleQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The samples that start on those days, by start (at most 5,000)", body = SampleList),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "A type, or days, missing or out of range", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    ValidQuery(query): ValidQuery<SampleQuery>,
) -> ApiResult<Json<SampleList>> {
    let kind = query
        .kind
        .ok_or_else(|| ApiError::invalid("type", "is required"))?;
    let from = query
        .from
        .ok_or_else(|| ApiError::invalid("from", "is required (YYYY-MM-DD)"))?;
    let range = DateRange::new(from, query.to.unwrap_or(from))
        .map_err(|error| ApiError::invalid("to", error.0))?;
    if range.days() > MAX_RANGE_DAYS {
        return Err(ApiError::invalid(
            "to",
            format!("the range must span at most {MAX_RANGE_DAYS} days"),
        ));
    }
    let start = user.timezone.instant(range.from(), NaiveTime::MIN);
    let end_day = range.to().succ_opt().unwrap_or(range.to());
    let end = user.timezone.instant(end_day, NaiveTime::MIN);
    let samples = state
        .store
        .health_samples()
        .list(user.id, kind, start, end)
        .await?;
    Ok(Json(SampleList {
        items: samples.into_iter().map(SampleView::from).collect(),
    }))
}

/// A sample checked whole, before anything is written.
enum Checked {
    Deleted { id: Uuid, kind: SampleType },
    Kept(HealthSample),
}

/// `input` as a sample of `user`'s, or the field that is wrong and why.
fn check(user: &User, input: SampleInput) -> Result<Checked, (&'static str, String)> {
    let id = sample_id(
        user.id,
        input.source.platform,
        input.source.record_id.as_str(),
    );
    if input.deleted {
        return Ok(Checked::Deleted {
            id,
            kind: input.kind,
        });
    }
    // To the millisecond, as the stores keep times: a record sent again must
    // compare equal to what was stored of it.
    let start = to_millis(input.start);
    let end = to_millis(input.end.unwrap_or(input.start));
    if !crate::domain::is_plausible_time(start) {
        return Err((
            "start",
            "must be between 2000-01-01 and one day from now".into(),
        ));
    }
    if end < start || end - start > LONGEST_SPAN {
        return Err((
            "end",
            "must be at or after start, and at most 7 days later".into(),
        ));
    }
    let session = input.kind == SampleType::ExerciseSession;
    if session && (end == start || end - start > TimeDelta::days(1)) {
        return Err((
            "end",
            "an exercise session lasts more than nothing and at most a day".into(),
        ));
    }
    if !session && (input.activity.is_some() || input.title.is_some()) {
        return Err(("activity", "is for exercise sessions only".into()));
    }
    let value = input.value.ok_or((
        "value",
        "is required unless the sample is deleted".to_owned(),
    ))?;
    let unit = input.unit.as_deref().unwrap_or(input.kind.unit());
    let value = input
        .kind
        .normalized(value, unit)
        .map_err(|message| ("value", message))?;
    Ok(Checked::Kept(HealthSample {
        id,
        user_id: user.id,
        kind: input.kind,
        start,
        end,
        value,
        source: input.source,
        activity: session.then(|| input.activity.unwrap_or(Activity::Other)),
        title: input.title,
        updated_at: now(),
    }))
}

/// Keeps `sample`, and shows it as what it stands for; answers its result, and
/// whether the body log's weigh-ins may have changed.
async fn keep(
    state: &SharedState,
    user: &User,
    sample: HealthSample,
    report: &mut SampleReport,
) -> ApiResult<(SampleResult, bool)> {
    let written = state.store.health_samples().put(sample.clone()).await?;
    let outcome = match written {
        Written::Created(_) => SampleOutcome::Created,
        Written::Replaced { .. } => SampleOutcome::Updated,
        Written::Unchanged(_) => SampleOutcome::Unchanged,
    };
    count(report, outcome);
    let workout_entry_id = if sample.kind == SampleType::ExerciseSession {
        log_session(state, user, &sample).await?
    } else {
        None
    };
    let (body_metric_id, weighed) = if body_log::is_body_reading(sample.kind) {
        body_log::keep(state, user, &sample, outcome == SampleOutcome::Unchanged).await?
    } else {
        (None, false)
    };
    let result = SampleResult {
        id: sample.id,
        outcome,
        workout_entry_id,
        body_metric_id,
    };
    Ok((result, weighed))
}

async fn remove(
    state: &SharedState,
    user: &User,
    id: Uuid,
    kind: SampleType,
    report: &mut SampleReport,
) -> ApiResult<(SampleResult, bool)> {
    let removed = state
        .store
        .health_samples()
        .remove(user.id, id)
        .await
        .optional()?;
    let outcome = match removed {
        Some(_) => SampleOutcome::Removed,
        None => SampleOutcome::Absent,
    };
    // By what was stored, whatever type the deletion names.
    let kind = removed.as_ref().map_or(kind, |sample| sample.kind);
    // What it was shown as goes with it.
    if kind == SampleType::ExerciseSession {
        unshow(state.store.workout_entries(), user, id).await?;
    }
    let mut weighed = false;
    if body_log::is_body_reading(kind) {
        // Only a reading that was shown leaves room for those it held back.
        let shown = unshow(state.store.body_metrics(), user, id).await?;
        if let (Some(removed), true) = (&removed, shown) {
            body_log::reconsider(state, user, removed).await?;
            weighed = kind == SampleType::Weight;
        }
    }
    count(report, outcome);
    let result = SampleResult {
        id,
        outcome,
        workout_entry_id: None,
        body_metric_id: None,
    };
    Ok((result, weighed))
}

fn count(report: &mut SampleReport, outcome: SampleOutcome) {
    match outcome {
        SampleOutcome::Created => report.created += 1,
        SampleOutcome::Updated => report.updated += 1,
        SampleOutcome::Unchanged => report.unchanged += 1,
        SampleOutcome::Removed => report.removed += 1,
        SampleOutcome::Absent => {}
    }
}

/// Logs an exercise session as a workout entry (the sample's id), unless it
/// overlaps a workout the user logged; returns the entry's id when it is logged.
async fn log_session(
    state: &SharedState,
    user: &User,
    sample: &HealthSample,
) -> ApiResult<Option<Uuid>> {
    let workouts = state.store.workout_entries();
    let day = user.timezone.local_date(sample.start);
    let around = DateRange::new(day.pred_opt().unwrap_or(day), day.succ_opt().unwrap_or(day))
        .map_err(|error| ApiError::internal(error.0))?;
    // Workouts logged from other sessions are not the user's: only theirs count.
    let sessions: std::collections::HashSet<Uuid> = state
        .store
        .health_samples()
        .list(
            user.id,
            SampleType::ExerciseSession,
            sample.start - TimeDelta::days(2),
            sample.end + TimeDelta::days(2),
        )
        .await?
        .into_iter()
        .map(|session| session.id)
        .collect();
    let overlaps = all_entries(workouts, user.id, around)
        .await?
        .into_iter()
        .filter(|logged| !sessions.contains(&logged.id))
        .any(|logged| {
            let ends = logged.data.started_at
                + TimeDelta::seconds(i64::from(logged.data.duration_s.get()));
            logged.data.started_at < sample.end && sample.start < ends
        });
    if overlaps {
        unshow(workouts, user, sample.id).await?;
        return Ok(None);
    }
    show(workouts, user, sample, session_workout(sample)?).await
}

/// Shows `sample` as an entry of `data` under the sample's id, so the record's
/// changes replace it; returns its id.
async fn show<D: EntryData>(
    entries: &dyn EntryStore<D>,
    user: &User,
    sample: &HealthSample,
    data: D,
) -> ApiResult<Option<Uuid>> {
    let entry = Entry {
        id: sample.id,
        user_id: user.id,
        local_date: user.timezone.local_date(sample.start),
        data,
        created_at: now(),
        updated_at: now(),
    };
    entries.put(entry).await?;
    Ok(Some(sample.id))
}

/// Removes the entry sample `id` is shown as, if it is shown; whether it was.
async fn unshow<D: EntryData>(
    entries: &dyn EntryStore<D>,
    user: &User,
    id: Uuid,
) -> ApiResult<bool> {
    match entries.delete(user.id, id).await {
        Ok(_) => Ok(true),
        Err(StoreError::NotFound) => Ok(false),
        Err(other) => Err(other.into()),
    }
}

/// The workout an exercise session is logged as.
fn session_workout(sample: &HealthSample) -> ApiResult<WorkoutData> {
    let activity = sample.activity.unwrap_or(Activity::Other);
    let name = match &sample.title {
        Some(title) => title.as_str(),
        None => activity.label(),
    };
    let platform = sample.source.platform.display_name();
    let origin = match &sample.source.app {
        Some(app) => format!("{app} via {platform}"),
        None => platform.to_owned(),
    };
    let title = Title::cut(&format!("{name} · {origin}")).map_err(|e| ApiError::internal(e.0))?;
    let seconds = (sample.end - sample.start).num_seconds().clamp(1, 86_400);
    let duration = DurationSecs::try_from(seconds).map_err(|e| ApiError::internal(e.0))?;
    let kcal = Kcal::try_from(crate::domain::to_tenth(sample.value))
        .map_err(|e| ApiError::internal(e.0))?;
    let notes = Notes::cut(&format!(
        "Recorded by {origin}; a change there replaces this entry, a deletion removes it."
    ))
    .ok();
    Ok(WorkoutData {
        started_at: sample.start,
        activity,
        title,
        duration_s: duration,
        kcal_burned: kcal,
        effort: None,
        distance_km: None,
        avg_heart_rate: None,
        package: None,
        notes,
        sets: Vec::new(),
        kcal_estimated: false,
    })
}
