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

/// Runs every migration the database has no record of.
pub async fn run(db: &Database, timeout: Duration) -> StoreResult<()> {
    let records = db.collection::<Document>(RECORDS);
    for migration in [PACKAGE_STATUS, SYNC_MARKERS_BACKFILL] {
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
            _ => sync_markers(db, timeout).await?,
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
