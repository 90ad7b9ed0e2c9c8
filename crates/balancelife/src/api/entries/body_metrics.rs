//! The body log's request and response shapes (`/body-metrics`); the routes are
//! the entries' own (`entries`), and `profile_weight` keeps the profile's weight on
//! the newest weigh-in.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::entries::EntryResource;
use crate::api::http::error::{ApiError, ApiResult};
use crate::api::http::patch::{non_null, nullable, set};
use crate::api::http::state::SharedState;
use crate::domain::{
    BodyFatPct, BodyMetricData, ClientId, Entry, GirthCm, MOST_MEASUREMENTS, MeasurementName,
    MetricSource, Notes, Version, WeightKg, to_millis,
};
use crate::store::{EntryStore, Store, StoreResult};

pub mod profile_weight;

/// The body of `POST /body-metrics` and `PUT /body-metrics/{id}`: what was measured
/// at one moment. Any value may be left out, but not all of them.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BodyMetricInput {
    id: Option<ClientId>,
    /// When it was measured: from 2000-01-01 to one day from now.
    #[schema(example = "2026-11-20T07:00:00Z")]
    measured_at: DateTime<Utc>,
    weight_kg: Option<WeightKg>,
    body_fat_pct: Option<BodyFatPct>,
    waist_cm: Option<GirthCm>,
    /// Other girths in centimetres, by a name of the user's (`hips`, `chest`,
    /// `left-arm`): at most 20.
    #[schema(value_type = Option<BTreeMap<String, GirthCm>>)]
    measurements: Option<BTreeMap<MeasurementName, GirthCm>>,
    notes: Option<Notes>,
    /// Where the reading came from: `manual` (the default) unless an export says
    /// otherwise.
    source: Option<MetricSource>,
}

/// The body of `PATCH /body-metrics/{id}`: absent fields stay, `null` clears.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BodyMetricPatch {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    measured_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "nullable")]
    weight_kg: Option<Option<WeightKg>>,
    #[serde(default, deserialize_with = "nullable")]
    body_fat_pct: Option<Option<BodyFatPct>>,
    #[serde(default, deserialize_with = "nullable")]
    waist_cm: Option<Option<GirthCm>>,
    /// Replaces every named girth; `null` or `{}` clears them.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<BTreeMap<String, GirthCm>>)]
    measurements: Option<Option<BTreeMap<MeasurementName, GirthCm>>>,
    #[serde(default, deserialize_with = "nullable")]
    notes: Option<Option<Notes>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BodyMetricView {
    id: Uuid,
    user_id: Uuid,
    measured_at: DateTime<Utc>,
    local_date: NaiveDate,
    #[schema(required = true)]
    weight_kg: Option<WeightKg>,
    #[schema(required = true)]
    body_fat_pct: Option<BodyFatPct>,
    #[schema(required = true)]
    waist_cm: Option<GirthCm>,
    #[schema(value_type = BTreeMap<String, GirthCm>)]
    measurements: BTreeMap<MeasurementName, GirthCm>,
    /// `manual`, or the health platform the reading came from.
    source: MetricSource,
    #[schema(required = true)]
    notes: Option<Notes>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A record that measures something, with no more named girths than allowed.
fn checked(data: BodyMetricData) -> ApiResult<BodyMetricData> {
    if data.measurements.len() > MOST_MEASUREMENTS {
        return Err(ApiError::invalid(
            "measurements",
            format!("at most {MOST_MEASUREMENTS} named measurements"),
        ));
    }
    if !data.measures_anything() {
        return Err(ApiError::invalid(
            "weight_kg",
            "a record needs one of weight_kg, body_fat_pct, waist_cm or measurements",
        ));
    }
    Ok(data)
}

#[async_trait]
impl EntryResource for BodyMetricData {
    const NOUN: &'static str = "body measurement";
    const COLLECTION_PATH: &'static str = "/api/v1/body-metrics";
    const OCCURRED_AT_FIELD: &'static str = "measured_at";
    type Input = BodyMetricInput;
    type Patch = BodyMetricPatch;
    type View = BodyMetricView;

    fn entries(store: &dyn Store) -> &dyn EntryStore<Self> {
        store.body_metrics()
    }

    fn from_input(input: BodyMetricInput) -> ApiResult<(Option<ClientId>, Self)> {
        let data = BodyMetricData {
            measured_at: to_millis(input.measured_at),
            weight_kg: input.weight_kg,
            body_fat_pct: input.body_fat_pct,
            waist_cm: input.waist_cm,
            measurements: input.measurements.unwrap_or_default(),
            source: input.source.unwrap_or(MetricSource::Manual),
            notes: input.notes,
        };
        Ok((input.id, checked(data)?))
    }

    fn apply_patch(&mut self, patch: BodyMetricPatch) -> ApiResult<()> {
        set(&mut self.measured_at, patch.measured_at.map(to_millis));
        set(&mut self.weight_kg, patch.weight_kg);
        set(&mut self.body_fat_pct, patch.body_fat_pct);
        set(&mut self.waist_cm, patch.waist_cm);
        set(
            &mut self.measurements,
            patch.measurements.map(Option::unwrap_or_default),
        );
        set(&mut self.notes, patch.notes);
        *self = checked(self.clone())?;
        Ok(())
    }

    /// Body measurements come from no package.
    async fn package_version(_store: &dyn Store, _id: Uuid) -> StoreResult<Option<Version>> {
        Ok(None)
    }

    fn view(entry: Entry<Self>) -> BodyMetricView {
        let Entry {
            id,
            user_id,
            local_date,
            data,
            created_at,
            updated_at,
        } = entry;
        BodyMetricView {
            id,
            user_id,
            measured_at: data.measured_at,
            local_date,
            weight_kg: data.weight_kg,
            body_fat_pct: data.body_fat_pct,
            waist_cm: data.waist_cm,
            measurements: data.measurements,
            source: data.source,
            notes: data.notes,
            created_at,
            updated_at,
        }
    }

    /// A weigh-in added, removed, or changed in its weight or its time moves the
    /// profile's weight; a note or a girth does not.
    fn follows_up(before: Option<&Self>, after: Option<&Self>) -> bool {
        let weigh_in = |data: Option<&Self>| {
            data.and_then(|data| Some((data.weight_kg?.get(), data.measured_at)))
        };
        weigh_in(before) != weigh_in(after)
    }

    async fn follow_up(state: &SharedState, user_id: Uuid) -> ApiResult<()> {
        profile_weight::follow(state, user_id).await
    }
}

crate::api::entries::entry_endpoints! {
    data: BodyMetricData,
    input: BodyMetricInput,
    patch: BodyMetricPatch,
    view: BodyMetricView,
    collection: "/api/v1/body-metrics",
    item: "/api/v1/body-metrics/{id}",
    tag: "body metrics",
    singular: "body_metric",
    plural: "body_metrics",
}
