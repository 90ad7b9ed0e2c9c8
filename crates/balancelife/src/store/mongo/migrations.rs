//! One-time changes to data an older release stored, run at start-up and recorded in
//! the `migrations` collection so that each runs once per database. Reads and lists
//! also understand the old shape, for documents an instance of the release before
//! writes during a rolling upgrade, after the migration ran.
//!
//! Every step is idempotent (it only touches documents still in the old shape), so
//! instances that start together and both run it do no harm: the record only spares
//! later starts the work. A migration rather than defaults on read, because the
//! catalogue is queried by the new fields: a list of published packages must find
//! the documents an older release wrote.

use std::time::Duration;

use bson::{Document, doc};
use mongodb::Database;

use futures_util::TryStreamExt;

use super::collections::{
    MEAL_ENTRIES, MEAL_PACKAGES, SYNC_MARKERS, USERS, WORKOUT_ENTRIES, WORKOUT_PACKAGES,
};
use super::errors::{Rejected, bounded, bounded_write, insert_unless_taken};
use crate::store::{StoreError, StoreResult};

const RECORDS: &str = super::collections::MIGRATIONS;

/// Packages stored with `published: true|false` get `status`.
const PACKAGE_STATUS: &str = "2026-12-package-status";

/// Profiles and entries stored before the sync feed get its marker, numbered 0.
const SYNC_MARKERS_BACKFILL: &str = "2026-12-sync-markers";

/// Targets set before they had dates get one: in force from the user's first entry.
const TARGET_PLANS: &str = "2026-12-target-plans";

/// Runs every migration the database has no record of.
pub async fn run(db: &Database, timeout: Duration) -> StoreResult<()> {
    let records = db.collection::<Document>(RECORDS);
    for migration in [PACKAGE_STATUS, SYNC_MARKERS_BACKFILL, TARGET_PLANS] {
        let done = bounded(timeout, records.find_one(doc! { "_id": migration })).await?;
        if done.is_some() {
            continue;
        }
        let changed = match migration {
            PACKAGE_STATUS => {
                let mut changed = 0;
                for collection in [MEAL_PACKAGES, WORKOUT_PACKAGES] {
                    changed += package_status(db, collection, timeout).await?;
                }
                changed
            }
            SYNC_MARKERS_BACKFILL => sync_markers(db, timeout).await?,
            _ => target_plans(db, timeout).await?,
        };
        tracing::info!(migration, changed, "migrated stored data");
        let record = doc! { "_id": migration, "at": bson::DateTime::now() };
        // Another instance may have recorded it meanwhile: that is as good.
        insert_unless_taken(timeout, &records, &record)
            .await
            .map_err(written)?;
    }
    Ok(())
}

/// One marker, numbered 0, for each user's profile and each entry that has none
/// (see `feed`): a first sync then lists what was stored before the feed began.
/// Idempotent: a marker that exists (numbered 0 or by a write since) stays.
async fn sync_markers(db: &Database, timeout: Duration) -> StoreResult<u64> {
    let markers = db.collection::<Document>(SYNC_MARKERS);
    let sources = [
        (USERS, "profile", "_id"),
        (MEAL_ENTRIES, "meal_entry", "user_id"),
        (WORKOUT_ENTRIES, "workout_entry", "user_id"),
    ];
    let mut added = 0;
    for (collection, kind, owner_field) in sources {
        let things = db.collection::<Document>(collection);
        let mut cursor = bounded(
            timeout,
            things
                .find(doc! {})
                .projection(doc! { "_id": 1, owner_field: 1 }),
        )
        .await?;
        while let Some(thing) = bounded(timeout, cursor.try_next()).await? {
            let (Some(id), Some(owner)) = (uuid_in(&thing, "_id"), uuid_in(&thing, owner_field))
            else {
                continue;
            };
            let marker = doc! {
                "_id": format!("{owner}:{kind}:{id}"),
                "u": bson::Uuid::from(owner),
                "k": kind,
                "i": bson::Uuid::from(id),
                "seq": 0_i64,
                "at": bson::DateTime::now(),
            };
            if insert_unless_taken(timeout, &markers, &marker)
                .await
                .map_err(written)?
            {
                added += 1;
            }
        }
    }
    Ok(added)
}

/// A profile with targets and no plans gets one plan of those targets, in force
/// from the day of the user's first meal or workout (the account's first day
/// without any): how each past day was judged stays as it was, and a change of
/// targets from now on leaves those days alone. Only profiles still without plans
/// are written, so a plan added meanwhile is never overwritten.
async fn target_plans(db: &Database, timeout: Duration) -> StoreResult<u64> {
    let users = db.collection::<Document>(USERS);
    let targets = [
        "daily_kcal_target",
        "protein_g_target",
        "carbs_g_target",
        "fat_g_target",
    ];
    let with_targets: Vec<Document> = targets
        .iter()
        .map(|field| doc! { format!("profile.{field}"): { "$type": "number" } })
        .collect();
    let old_shape = doc! { "profile.target_plans": { "$exists": false }, "$or": with_targets };
    let mut cursor = bounded(timeout, users.find(old_shape)).await?;
    let mut changed = 0;
    while let Some(user) = bounded(timeout, cursor.try_next()).await? {
        let Some(id) = uuid_in(&user, "_id") else {
            continue;
        };
        let Some(from) = first_day(db, id, &user, timeout).await? else {
            continue;
        };
        let profile = user.get_document("profile").ok();
        let number = |field: &str| profile.and_then(|p| p.get(field)).cloned();
        let mut plan = doc! { "from": from.to_string(), "basis": "fixed" };
        for field in targets {
            plan.insert(field, number(field).unwrap_or(bson::Bson::Null));
        }
        let still_old =
            doc! { "_id": bson::Uuid::from(id), "profile.target_plans": { "$exists": false } };
        let dated = doc! { "$set": { "profile.target_plans": [plan] } };
        let result = bounded_write(timeout, users.update_one(still_old, dated))
            .await
            .map_err(written)?;
        changed += result.modified_count;
    }
    Ok(changed)
}

/// The local day of user `id`'s first meal or workout, or of the account's
/// creation when that is earlier (a user whose only entries are ahead keeps a
/// target today) or there is none.
async fn first_day(
    db: &Database,
    id: uuid::Uuid,
    user: &Document,
    timeout: Duration,
) -> StoreResult<Option<chrono::NaiveDate>> {
    let mut first: Option<chrono::NaiveDate> = None;
    for collection in [MEAL_ENTRIES, WORKOUT_ENTRIES] {
        let entries = db.collection::<Document>(collection);
        // Along the `user_position` index: the first position is the first day.
        let found = bounded(
            timeout,
            entries
                .find_one(doc! { "user_id": bson::Uuid::from(id) })
                .sort(doc! { "user_id": 1, "position": 1 })
                .projection(doc! { "local_date": 1 }),
        )
        .await?;
        let day = found
            .as_ref()
            .and_then(|entry| entry.get_str("local_date").ok())
            .and_then(|day| day.parse().ok());
        first = match (first, day) {
            (Some(earlier), Some(day)) => Some(earlier.min(day)),
            (earlier, day) => earlier.or(day),
        };
    }
    let created = user
        .get_datetime("created_at")
        .ok()
        .map(|at| at.to_chrono());
    let timezone: Option<crate::domain::Timezone> = user
        .get_str("timezone")
        .ok()
        .and_then(|zone| zone.parse().ok());
    let joined = created.zip(timezone).map(|(at, zone)| zone.local_date(at));
    Ok(match (first, joined) {
        (Some(first), Some(joined)) => Some(first.min(joined)),
        (first, joined) => first.or(joined),
    })
}

/// `published: true` gets `status: "published"`, `false` gets `"draft"`. `published`
/// stays (and every write keeps it) for instances of the release before, which may
/// still run during the upgrade.
async fn package_status(db: &Database, collection: &str, timeout: Duration) -> StoreResult<u64> {
    let packages = db.collection::<Document>(collection);
    let mut changed = 0;
    for (published, status) in [(true, "published"), (false, "draft")] {
        let old_shape = doc! { "status": { "$exists": false }, "published": published };
        let new_shape = doc! { "$set": { "status": status } };
        let result = bounded_write(timeout, packages.update_many(old_shape, new_shape))
            .await
            .map_err(written)?;
        changed += result.modified_count;
    }
    Ok(changed)
}

fn uuid_in(document: &Document, field: &str) -> Option<uuid::Uuid> {
    match document.get(field) {
        Some(bson::Bson::Binary(binary)) => uuid::Uuid::from_slice(&binary.bytes).ok(),
        _ => None,
    }
}

fn written(rejected: Rejected) -> StoreError {
    match rejected {
        Rejected::Failed(error) => error,
        Rejected::Duplicate(_) => StoreError::internal("a migration met a unique index"),
    }
}
