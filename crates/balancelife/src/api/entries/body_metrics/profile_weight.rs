//! The profile's weight follows the newest weigh-in: after a write that adds,
//! changes or removes a weight, the profile takes the weight of the weigh-in
//! measured last. With no weigh-in left the profile keeps what it has (the user may
//! have typed it there). Energy targets computed from the profile use it.

use chrono::{TimeDelta, Utc};
use uuid::Uuid;

use crate::api::account::record::{Change, change_user};
use crate::api::http::error::ApiResult;
use crate::api::http::state::SharedState;
use crate::domain::{BodyMetricData, WeightKg};
use crate::store::{DateRange, EntryStore, StoreResult, all_entries};

/// How far back the newest weigh-in is looked for, widening: a month holds it for
/// anyone weighing in now and then, a year for nearly everyone else.
const LOOK_BACK_DAYS: [i64; 2] = [31, 400];

/// Sets user `user_id`'s profile weight to their newest weigh-in's.
pub async fn follow(state: &SharedState, user_id: Uuid) -> ApiResult<()> {
    let metrics = state.store.body_metrics();
    let mut newest = newest_weight(metrics, user_id).await?;
    // Twice at most: a weigh-in written by another request between the read and
    // the profile's write is seen by the second read (its own follow may have
    // written before this one did).
    for _ in 0..2 {
        let Some(weight) = newest else {
            return Ok(());
        };
        let (_, wrote) = change_user(state, user_id, |user| {
            if user.profile.weight_kg == Some(weight) {
                return Ok(Change::Keep(false));
            }
            user.profile.weight_kg = Some(weight);
            Ok(Change::Write(true))
        })
        .await?;
        if !wrote {
            return Ok(());
        }
        let again = newest_weight(metrics, user_id).await?;
        if again == newest {
            return Ok(());
        }
        newest = again;
    }
    Ok(())
}

/// The weight of `user_id`'s weigh-in measured last, if they have one.
pub async fn newest_weight(
    metrics: &dyn EntryStore<BodyMetricData>,
    user_id: Uuid,
) -> StoreResult<Option<WeightKg>> {
    // A day past tomorrow in UTC is past every time zone's today, and weigh-ins
    // are at most a day ahead.
    let last = (Utc::now() + TimeDelta::days(2)).date_naive();
    let mut windows: Vec<DateRange> = LOOK_BACK_DAYS
        .iter()
        .filter_map(|days| last.checked_sub_signed(TimeDelta::days(*days)))
        .filter_map(|first| DateRange::new(first, last).ok())
        .collect();
    windows.extend(DateRange::new(chrono::NaiveDate::MIN, last).ok());
    for range in windows {
        let found = all_entries(metrics, user_id, range).await?;
        // By the time measured, not the day filed under: a move of time zone
        // files days differently.
        let newest = found
            .iter()
            .filter(|entry| entry.data.weight_kg.is_some())
            .max_by_key(|entry| (entry.data.measured_at, entry.id));
        if let Some(entry) = newest {
            return Ok(entry.data.weight_kg);
        }
    }
    Ok(None)
}
