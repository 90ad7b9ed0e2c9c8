//! `GET /sync/changes`: what changed of the caller's data since they last looked,
//! for a phone that keeps a copy and was offline (see `store::sync_feed`).
//!
//! A cursor is opaque to the client: the feed position, the account it belongs to,
//! and when it was handed out. A first sync reads a snapshot of everything before
//! the feed (see `store::sync_snapshot`): the feed would look up every thing by its
//! id, the snapshot reads them in ranges. A cursor older than the tombstones are kept (less
//! the time a write may take) may have missed a deletion, so it is refused with 410
//! and the client reads everything again from no cursor.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::account::auth::AuthUser;
use crate::api::account::user_view::UserView;
use crate::api::entries::EntryResource;
use crate::api::entries::body_metrics::BodyMetricView;
use crate::api::entries::meals::MealEntryView;
use crate::api::entries::workouts::WorkoutEntryView;
use crate::api::http::error::{ApiError, ApiResult, ErrorBody};
use crate::api::http::extract::ValidQuery;
use crate::api::http::pagination;
use crate::api::http::state::SharedState;
use crate::domain::{BodyMetricData, MealData, WorkoutData};
use crate::store::Encoded;
use crate::store::sync_feed::{FeedKind, FeedPosition, FeedRecord, MAX_PAGE};
use crate::store::sync_snapshot::{self, SnapshotPosition};

/// Changes per page unless `limit` says otherwise.
const DEFAULT_LIMIT: usize = 500;

/// How much sooner than the tombstones' retention a cursor is refused: a write
/// may take that long to land behind a position already handed out, and a cached
/// head may lag by a second (a tenth of the retention where that is shorter).
const CURSOR_MARGIN: TimeDelta = TimeDelta::minutes(10);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The `cursor` of the last answer; without it, everything from the start.
    since: Option<String>,
    /// Changes per page.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// What the cursor holds, encoded opaquely.
#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    /// The account it was handed to.
    user: Uuid,
    /// In the feed. Absent from a snapshot's cursor, so a release that knows no
    /// snapshot refuses one (422: sync again) rather than read it as a place in
    /// the feed and skip the rest of the snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    position: Option<FeedPosition>,
    /// A first sync's snapshot, while it lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    snapshot: Option<SnapshotCursor>,
    /// When it was handed out, in Unix milliseconds.
    issued_ms: i64,
}

/// Where a first sync's snapshot goes on, and the horizon it is taken at.
#[derive(Debug, Serialize, Deserialize)]
struct SnapshotCursor {
    horizon: i64,
    at: SnapshotPosition,
}

/// One page of the caller's changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncChanges {
    /// In the order they were committed; each thing at most once, as it is now.
    changes: Vec<SyncChange>,
    /// Pass as `since` next time, and keep it: it moves on even when nothing changed.
    cursor: String,
    /// More changes are waiting: ask again at once with `cursor`.
    more: bool,
}

/// One thing that changed: its kind, its id, and either what it is now or when it
/// was deleted.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncChange {
    kind: FeedKind,
    id: Uuid,
    op: SyncOp,
    /// What it is now, as its own `GET` answers it; absent for a deletion.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    data: Option<SyncData>,
    /// Its `ETag`, as its own `GET` gives it: for `If-Match` on the next write of
    /// it. Absent for a deletion.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    etag: Option<String>,
    /// When it was deleted; only for a deletion.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncOp {
    /// Created or changed: `data` holds it.
    Upsert,
    /// Deleted: drop it.
    Delete,
}

/// A changed thing as its own `GET` answers it, by `kind`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SyncData {
    Profile(UserView),
    MealEntry(MealEntryView),
    WorkoutEntry(WorkoutEntryView),
    BodyMetric(BodyMetricView),
}

impl From<FeedRecord> for SyncChange {
    fn from(record: FeedRecord) -> Self {
        let (kind, id) = (record.kind(), record.id());
        let (data, deleted_at) = match record {
            FeedRecord::Profile(user) => (Some(SyncData::Profile(UserView::from(&*user))), None),
            FeedRecord::Meal(entry) => (Some(SyncData::MealEntry(MealData::view(entry))), None),
            FeedRecord::Workout(entry) => {
                (Some(SyncData::WorkoutEntry(WorkoutData::view(entry))), None)
            }
            FeedRecord::BodyMetric(entry) => (
                Some(SyncData::BodyMetric(BodyMetricData::view(entry))),
                None,
            ),
            FeedRecord::Deleted { at, .. } => (None, Some(at)),
        };
        let etag = data.as_ref().map(|data| Encoded::encode(data).tag);
        Self {
            kind,
            id,
            etag,
            op: if data.is_some() {
                SyncOp::Upsert
            } else {
                SyncOp::Delete
            },
            data,
            deleted_at,
        }
    }
}

/// What changed of the caller's data since `since`.
///
/// Every change to the caller's profile, meal and workout entries and body
/// measurements, in the
/// order they were committed; a deletion as a tombstone with its id and time. Without
/// `since` (a first sync), the pages give everything the caller has now (without
/// tombstones: there is nothing to delete yet), then what changed meanwhile. Keep
/// the answer's `cursor` and pass it as `since` next time (also when nothing
/// changed); while `more` is true, ask again at once. A page never skips a change
/// or repeats one the pages before it gave. A cursor older than the tombstones are
/// kept (`SYNC_TOMBSTONE_DAYS`, 30 days, less 10 minutes) is refused with 410: read
/// everything again without `since`, and replace the copy kept.
#[utoipa::path(
    get,
    path = "/api/v1/sync/changes",
    tag = "sync",
    operation_id = "sync_changes",
    params(ChangesQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changes after the cursor", body = SyncChanges),
        (status = 422, description = "A cursor the service did not issue, another account's, or a bad limit", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 410, description = "The cursor is older than the deletions kept: read everything again without `since`", body = ErrorBody),
    )
)]
pub async fn changes(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    ValidQuery(query): ValidQuery<ChangesQuery>,
) -> ApiResult<Json<SyncChanges>> {
    let limit = match query.limit {
        None => DEFAULT_LIMIT,
        Some(limit) => usize::try_from(limit)
            .ok()
            .filter(|limit| (1..=MAX_PAGE).contains(limit))
            .ok_or_else(|| ApiError::invalid("limit", "must be between 1 and 1000"))?,
    };
    let feed = state.store.sync_feed();
    let now = Utc::now();
    // When the client last read up to the head: what a cursor's age is counted
    // from, kept across the pages of one catch-up (a page that leaves more behind
    // has not seen the deletions after it).
    let mut caught_up = now;
    let not_issued = || ApiError::invalid("since", "is not a cursor this service issued");
    let (after, snapshot) = match query.since.as_deref() {
        // A first sync: everything the caller has now, as a snapshot at the
        // horizon, then the feed after it.
        None => {
            let horizon = feed.head(user.id).await?.seq;
            (
                FeedPosition::through(horizon),
                Some(SnapshotPosition::Profile),
            )
        }
        Some(text) => {
            let cursor: Cursor = pagination::decode(text).map_err(|_| not_issued())?;
            if cursor.user != user.id {
                return Err(ApiError::invalid(
                    "since",
                    "is another account's cursor; sync from the start",
                ));
            }
            let retention =
                TimeDelta::from_std(feed.tombstone_retention()).unwrap_or(TimeDelta::MAX);
            let issued = DateTime::from_timestamp_millis(cursor.issued_ms).unwrap_or_default();
            if now - issued > retention - CURSOR_MARGIN.min(retention / 10) {
                return Err(ApiError::gone(
                    "cursor_expired",
                    "this cursor is older than the deletions the service keeps; \
                     sync again without `since` and replace the data kept",
                ));
            }
            caught_up = issued;
            match (cursor.position, cursor.snapshot) {
                (Some(position), None) => (position, None),
                (None, Some(SnapshotCursor { horizon, at })) => {
                    (FeedPosition::through(horizon), Some(at))
                }
                _ => return Err(not_issued()),
            }
        }
    };
    let mut changes = Vec::new();
    if let Some(at) = snapshot {
        let store = state.store.as_ref();
        let page = sync_snapshot::snapshot(store, user.id, after.seq, at, limit).await?;
        changes = page.records;
        if page.next.is_some() || changes.len() == limit {
            // The rest of the snapshot, or (a full page that ended it) the feed.
            let (position, snapshot) = match page.next {
                Some(at) => {
                    let horizon = after.seq;
                    (None, Some(SnapshotCursor { horizon, at }))
                }
                None => (Some(after), None),
            };
            let cursor = Cursor {
                user: user.id,
                position,
                snapshot,
                issued_ms: caught_up.timestamp_millis(),
            };
            return Ok(Json(SyncChanges {
                changes: changes.into_iter().map(SyncChange::from).collect(),
                cursor: pagination::encode(&cursor),
                more: true,
            }));
        }
    }
    // The feed, after a snapshot that left room in the page too (a small account's
    // first sync is one request).
    let page = feed.changes(user.id, after, limit - changes.len()).await?;
    // A thing changed since the snapshot read it comes once, as it is now.
    let newer: HashSet<(FeedKind, Uuid)> = page
        .changes
        .iter()
        .map(|record| (record.kind(), record.id()))
        .collect();
    changes.retain(|record| !newer.contains(&(record.kind(), record.id())));
    changes.extend(page.changes);
    let issued = if page.more { caught_up } else { now };
    let cursor = Cursor {
        user: user.id,
        position: Some(page.next),
        snapshot: None,
        issued_ms: issued.timestamp_millis(),
    };
    Ok(Json(SyncChanges {
        changes: changes.into_iter().map(SyncChange::from).collect(),
        cursor: pagination::encode(&cursor),
        more: page.more,
    }))
}
