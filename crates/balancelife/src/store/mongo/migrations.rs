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

use super::collections::{MEAL_PACKAGES, WORKOUT_PACKAGES};
use super::errors::{Rejected, bounded, bounded_write, insert_unless_taken};
use crate::store::{StoreError, StoreResult};

const RECORDS: &str = super::collections::MIGRATIONS;

/// Packages stored with `published: true|false` get `status`.
const PACKAGE_STATUS: &str = "2026-12-package-status";

/// Runs every migration the database has no record of.
pub async fn run(db: &Database, timeout: Duration) -> StoreResult<()> {
    let records = db.collection::<Document>(RECORDS);
    let done = bounded(timeout, records.find_one(doc! { "_id": PACKAGE_STATUS })).await?;
    if done.is_none() {
        let mut changed = 0;
        for collection in [MEAL_PACKAGES, WORKOUT_PACKAGES] {
            changed += package_status(db, collection, timeout).await?;
        }
        tracing::info!(
            migration = PACKAGE_STATUS,
            changed,
            "migrated stored packages"
        );
        let record = doc! { "_id": PACKAGE_STATUS, "at": bson::DateTime::now() };
        // Another instance may have recorded it meanwhile: that is as good.
        insert_unless_taken(timeout, &records, &record)
            .await
            .map_err(written)?;
    }
    Ok(())
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

fn written(rejected: Rejected) -> StoreError {
    match rejected {
        Rejected::Failed(error) => error,
        Rejected::Duplicate(_) => StoreError::internal("a migration met a unique index"),
    }
}
