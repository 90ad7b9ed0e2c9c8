//! Weigh-ins and body-fat readings from a health platform, shown in the body log:
//! each is a body measurement whose id is the sample's, so the record sent again
//! lands on the same measurement, a change replaces it and a deletion removes it.
//!
//! The rule against showing one reading twice: a reading that the body log already
//! holds from another record (the same kind of value measured within ten minutes,
//! typed in by the user or sent by the other platform from the same scale) is kept
//! as a sample only.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use uuid::Uuid;

use crate::api::http::error::{ApiError, ApiResult};
use crate::api::http::state::SharedState;
use crate::domain::{
    BodyFatPct, BodyMetricData, HealthSample, MetricSource, SampleType, User, WeightKg,
};
use crate::store::{DateRange, Optional, all_entries};

/// How near in time two readings of one value are taken to be one weigh-in.
const SAME_READING: TimeDelta = TimeDelta::minutes(10);

/// Whether samples of `kind` belong in the body log.
pub fn is_body_reading(kind: SampleType) -> bool {
    matches!(kind, SampleType::Weight | SampleType::BodyFat)
}

/// Shows `sample` in the body log when the platform's record is new or changed;
/// returns the measurement's id, if it is shown, and whether the weigh-ins may have
/// changed. A record sent again unchanged leaves the body log as the user left it:
/// it neither brings back a reading they deleted nor undoes their edit.
pub async fn keep(
    state: &SharedState,
    user: &User,
    sample: &HealthSample,
    unchanged: bool,
) -> ApiResult<(Option<Uuid>, bool)> {
    if unchanged {
        let shown = state.store.body_metrics().get(user.id, sample.id).await;
        return Ok((shown.optional()?.map(|measurement| measurement.id), false));
    }
    let shown = show(state, user, sample).await?;
    Ok((shown, sample.kind == SampleType::Weight))
}

/// After `removed`'s reading left the body log: the readings of its kind near it
/// that were kept as samples only, because it held them, get their turn. Readings
/// shown already are left as they are (the user may have edited them).
pub async fn reconsider(state: &SharedState, user: &User, removed: &HealthSample) -> ApiResult<()> {
    let near = state
        .store
        .health_samples()
        .list(
            user.id,
            removed.kind,
            removed.start - SAME_READING,
            removed.start + SAME_READING + TimeDelta::milliseconds(1),
        )
        .await?;
    let metrics = state.store.body_metrics();
    for sample in near.iter().filter(|sample| sample.id != removed.id) {
        if metrics.get(user.id, sample.id).await.optional()?.is_none() {
            show(state, user, sample).await?;
        }
    }
    Ok(())
}

/// Shows `sample` (a weigh-in or body-fat reading) in the body log, unless the log
/// holds the reading already; returns the measurement's id when it is shown.
async fn show(state: &SharedState, user: &User, sample: &HealthSample) -> ApiResult<Option<Uuid>> {
    let metrics = state.store.body_metrics();
    let day = user.timezone.local_date(sample.start);
    let around = DateRange::new(day.pred_opt().unwrap_or(day), day.succ_opt().unwrap_or(day))
        .map_err(|error| ApiError::internal(error.0))?;
    let measures = |data: &BodyMetricData| match sample.kind {
        SampleType::Weight => data.weight_kg.is_some(),
        _ => data.body_fat_pct.is_some(),
    };
    let held = all_entries(metrics, user.id, around)
        .await?
        .into_iter()
        .filter(|logged| logged.id != sample.id)
        .any(|logged| {
            measures(&logged.data) && (logged.data.measured_at - sample.start).abs() <= SAME_READING
        });
    if held {
        super::unshow(metrics, user, sample.id).await?;
        return Ok(None);
    }
    super::show(metrics, user, sample, reading(sample)?).await
}

/// The body measurement a reading is shown as.
fn reading(sample: &HealthSample) -> ApiResult<BodyMetricData> {
    let invalid = |error: crate::domain::InvalidValue| ApiError::internal(error.0);
    let (weight_kg, body_fat_pct) = match sample.kind {
        SampleType::Weight => (
            Some(WeightKg::try_from(sample.value).map_err(invalid)?),
            None,
        ),
        _ => (
            None,
            Some(BodyFatPct::try_from(sample.value).map_err(invalid)?),
        ),
    };
    Ok(BodyMetricData {
        measured_at: sample.start,
        weight_kg,
        body_fat_pct,
        waist_cm: None,
        measurements: BTreeMap::new(),
        source: MetricSource::from(sample.source.platform),
        notes: None,
    })
}
