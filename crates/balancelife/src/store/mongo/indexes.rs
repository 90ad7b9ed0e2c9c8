//! The indexes every query relies on, created idempotently at start-up
//! (`createIndexes` with the same keys and options is a no-op).

use std::time::Duration;

use bson::{Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};

use super::collections::{
    BODY_METRICS, CUSTOM_EXERCISES, FOODS, HEALTH_SAMPLES, KEPT_ANSWERS, MEAL_ENTRIES,
    MEAL_PACKAGES, SYNC_BATCHES, SYNC_MARKERS, USERS, WORKOUT_ENTRIES, WORKOUT_PACKAGES,
};
use super::deletion_notes;
use super::errors::bounded;
use super::foods::tombstone_lifetime;
use crate::store::StoreResult;

/// (collection, index name, keys, unique) for every index the store needs.
fn expected_indexes() -> Vec<(&'static str, &'static str, Document, bool)> {
    vec![
        // Case-insensitive uniqueness: `Email` is stored lower-cased.
        (USERS, "email_unique", doc! { "email": 1 }, true),
        // One range per date range and cursor (see `documents::position_key`).
        (
            MEAL_ENTRIES,
            "user_position",
            doc! { "user_id": 1, "position": 1 },
            false,
        ),
        (
            WORKOUT_ENTRIES,
            "user_position",
            doc! { "user_id": 1, "position": 1 },
            false,
        ),
        (
            BODY_METRICS,
            "user_position",
            doc! { "user_id": 1, "position": 1 },
            false,
        ),
        // Whether a package may be deleted: does any entry name it?
        (MEAL_ENTRIES, "package_id", doc! { "package_id": 1 }, false),
        (
            WORKOUT_ENTRIES,
            "package_id",
            doc! { "package_id": 1 },
            false,
        ),
        (MEAL_PACKAGES, "slug_unique", doc! { "slug": 1 }, true),
        (
            MEAL_PACKAGES,
            "search_tags_slug",
            doc! { "search_tags": 1, "slug": 1 },
            false,
        ),
        (WORKOUT_PACKAGES, "slug_unique", doc! { "slug": 1 }, true),
        (CUSTOM_EXERCISES, "slug_unique", doc! { "slug": 1 }, true),
        (
            WORKOUT_PACKAGES,
            "search_tags_slug",
            doc! { "search_tags": 1, "slug": 1 },
            false,
        ),
        (
            WORKOUT_PACKAGES,
            "level_slug",
            doc! { "level": 1, "slug": 1 },
            false,
        ),
        // A barcode lookup, and a user's foods when the user goes.
        (FOODS, "barcodes", doc! { "barcodes": 1 }, false),
        (FOODS, "owner", doc! { "owner": 1 }, false),
        // The feed of changes search indexes follow, in its order.
        (
            FOODS,
            "changed_at_id",
            doc! { "changed_at": 1, "_id": 1 },
            false,
        ),
        // A user's health samples of one type, by time.
        (
            HEALTH_SAMPLES,
            "user_kind_start",
            doc! { "user_id": 1, "kind": 1, "start": 1 },
            false,
        ),
        // A deleted user's kept batch answers.
        (SYNC_BATCHES, "u", doc! { "u": 1 }, false),
        // A deleted user's kept answers.
        (KEPT_ANSWERS, "u", doc! { "u": 1 }, false),
        // A user's sync feed, in its order.
        (
            SYNC_MARKERS,
            "user_seq_kind_id",
            doc! { "u": 1, "seq": 1, "k": 1, "i": 1 },
            false,
        ),
    ]
}

pub async fn ensure(db: &Database, timeout: Duration) -> StoreResult<()> {
    for (collection, name, keys, unique) in expected_indexes() {
        let options = IndexOptions::builder()
            .name(name.to_owned())
            .unique(unique)
            .build();
        let model = IndexModel::builder().keys(keys).options(options).build();
        bounded(
            timeout,
            db.collection::<Document>(collection).create_index(model),
        )
        .await?;
    }
    // Notes of entry deletions expire (see `deletion_notes`).
    let options = IndexOptions::builder()
        .name("deleted_at_ttl".to_owned())
        .expire_after(deletion_notes::KEPT_FOR)
        .build();
    let expiry = IndexModel::builder()
        .keys(doc! { "deleted_at": 1 })
        .options(options)
        .build();
    let notes = db.collection::<Document>(deletion_notes::COLLECTION);
    bounded(timeout, notes.create_index(expiry)).await?;
    // A deletion's marker (its tombstone) carries when it expires; others never do.
    let options = IndexOptions::builder()
        .name("expires_at_ttl".to_owned())
        .expire_after(Duration::ZERO)
        .build();
    let expiry = IndexModel::builder()
        .keys(doc! { "expires_at": 1 })
        .options(options)
        .build();
    let markers = db.collection::<Document>(SYNC_MARKERS);
    bounded(timeout, markers.create_index(expiry.clone())).await?;
    // A batch's answer, kept for a resend, carries when it expires.
    let batches = db.collection::<Document>(SYNC_BATCHES);
    bounded(timeout, batches.create_index(expiry.clone())).await?;
    // A kept answer carries when it may be dropped.
    let answers = db.collection::<Document>(KEPT_ANSWERS);
    bounded(timeout, answers.create_index(expiry)).await?;
    ensure_food_indexes(db, timeout).await
}

/// The import's upsert by source (unique, and sparse: only imported foods have a
/// source key) and the expiry of deleted foods' tombstones.
async fn ensure_food_indexes(db: &Database, timeout: Duration) -> StoreResult<()> {
    let foods = db.collection::<Document>(FOODS);
    let by_source = IndexModel::builder()
        .keys(doc! { "source_key": 1 })
        .options(
            IndexOptions::builder()
                .name("source_key_unique".to_owned())
                .unique(true)
                .sparse(true)
                .build(),
        )
        .build();
    bounded(timeout, foods.create_index(by_source)).await?;
    let expiry = IndexModel::builder()
        .keys(doc! { "deleted_at": 1 })
        .options(
            IndexOptions::builder()
                .name("deleted_at_ttl".to_owned())
                .expire_after(tombstone_lifetime())
                .build(),
        )
        .build();
    bounded(timeout, foods.create_index(expiry)).await?;
    Ok(())
}
