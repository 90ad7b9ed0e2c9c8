//! What every write the MongoDB store makes asks of the server, seen through the
//! driver's command monitoring on a real connection to a replica set:
//! - acknowledgement by a majority, as reads see only majority-committed data (a
//!   write acknowledged by the primary alone could be missed by the read after it,
//!   which would cache the old value again);
//! - a time limit on the server within `MONGODB_TIMEOUT_MS`, so a write the client
//!   gave up on takes effect within a known bound of reaching the server, or never,
//!   and the cache can void again once that bound has passed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bson::Document;
use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;

use balancelife::domain::{MealData, PackageStatus};
use balancelife::store::Store;
use balancelife::store::mongo::MongoStore;
use balancelife_testkit::fixtures::{at, entry, meal_package, renamed, unique_email, user};
use balancelife_testkit::servers::mongo::{SHARED_REPLICA_SET, fresh_database};

const WRITES: [&str; 5] = [
    "insert",
    "update",
    "delete",
    "findAndModify",
    "commitTransaction",
];

/// Every write command each kind of store write sends, as the server receives it.
async fn every_write_sent(timeout: Duration) -> Vec<Document> {
    let sent: Arc<Mutex<Vec<Document>>> = Arc::default();
    let seen = sent.clone();
    let events = EventHandler::callback(move |event: CommandEvent| {
        if let CommandEvent::Started(started) = event
            && WRITES.contains(&started.command_name.as_str())
        {
            seen.lock().unwrap().push(started.command);
        }
    });
    let mut settings = SHARED_REPLICA_SET.settings(&fresh_database());
    settings.timeout = timeout;
    let mongo = MongoStore::connect_reporting(&settings, events)
        .await
        .unwrap();
    sent.lock().unwrap().clear();

    let person = mongo
        .create_user(user(unique_email("writes")))
        .await
        .unwrap();
    let changed = renamed(&person, "Written Again");
    mongo.update_user(changed.clone(), &person).await.unwrap();
    let meals = mongo.meal_entries();
    let meal = entry::<MealData>(person.id, 1, at("2026-06-01", "08:00"));
    meals.create(meal.clone()).await.unwrap();
    // A phone's batch: its entries and their markers written together.
    let batch = (2..4)
        .map(|n| entry::<MealData>(person.id, n, at("2026-06-02", "08:00")))
        .collect();
    let written = meals.put_many(batch).await.unwrap();
    assert!(written.iter().all(Result::is_ok), "{written:?}");
    let mut replaced = meal.clone();
    replaced.data.eaten_at = at("2026-06-01", "09:00");
    let replaced = meals.put(replaced).await.unwrap().into_inner();
    let mut updated = replaced.clone();
    updated.updated_at = replaced.updated_at + chrono::Duration::milliseconds(1);
    meals.update(updated, replaced.updated_at).await.unwrap();
    meals.delete(person.id, meal.id).await.unwrap();
    let packages = mongo.meal_packages();
    let package = meal_package("written-bowl", &["quick"], false);
    packages.upsert(package.clone()).await.unwrap();
    let read = packages.get(package.id).await.unwrap();
    let mut published = read.clone();
    published.status = PackageStatus::Published;
    let stored = packages.replace(published, &read).await.unwrap();
    packages
        .delete(package.id, &stored.into_inner())
        .await
        .unwrap();
    mongo.delete_user(person.id).await.unwrap();

    let sent = sent.lock().unwrap().clone();
    for command in ["findAndModify", "commitTransaction"] {
        assert!(
            sent.iter().any(|sent| sent.contains_key(command)),
            "no {command} was sent: {sent:?}"
        );
    }
    let many_at_once = |target: &str| {
        sent.iter().any(|sent| {
            sent.get_str("update") == Ok(target)
                && sent
                    .get_array("updates")
                    .is_ok_and(|updates| updates.len() == 2)
        })
    };
    assert!(
        many_at_once("meal_entries") && many_at_once("sync_markers"),
        "the batch's entries and markers were not written together: {sent:?}"
    );
    sent
}

/// Whether `command` is a statement inside a transaction (whose write concern and
/// time limit are the commit's).
fn in_transaction(command: &Document) -> bool {
    command.get_bool("autocommit") == Ok(false) && !command.contains_key("commitTransaction")
}

#[tokio::test]
async fn on_a_replica_set_every_write_waits_for_a_majority_to_acknowledge_it() {
    let sent = every_write_sent(Duration::from_secs(5)).await;

    for command in sent.iter().filter(|command| !in_transaction(command)) {
        let w = command
            .get_document("writeConcern")
            .ok()
            .and_then(|concern| concern.get("w"));
        assert_eq!(
            w.and_then(bson::Bson::as_str),
            Some("majority"),
            "{command}"
        );
    }
}

/// Whether `command` inserts a document unless its id is taken (an upsert that
/// only sets fields on insert): the driver can give it no time limit, and the
/// `findAndModify` that could carry one does not tell an insert from a match on
/// every server (see `insert_unless_taken` in the store's `errors`).
fn inserts_unless_taken(command: &Document) -> bool {
    let updates = command.get_array("updates").into_iter().flatten();
    command.keys().next().is_some_and(|name| name == "update")
        && updates.into_iter().all(|update| {
            update.as_document().is_some_and(|update| {
                update.get_bool("upsert") == Ok(true)
                    && update
                        .get_document("u")
                        .is_ok_and(|u| u.keys().eq(["$setOnInsert"]))
            })
        })
}

/// Whether `command` is the sync feed's bookkeeping (its clocks and markers):
/// each such write is conditional on a number that only rises, so one applied late
/// changes nothing a reader relies on, and needs no time limit.
fn keeps_the_sync_feed(command: &Document) -> bool {
    command
        .iter()
        .next()
        .and_then(|(_, target)| target.as_str())
        .is_some_and(|target| ["sync_clocks", "sync_markers"].contains(&target))
}

#[tokio::test]
async fn every_write_that_changes_or_deletes_is_bounded_on_the_server_by_the_mongodb_timeout() {
    let timeout = Duration::from_millis(4_321);
    let sent = every_write_sent(timeout).await;

    let bounded: Vec<&Document> = sent
        .iter()
        .filter(|command| {
            !in_transaction(command)
                && !inserts_unless_taken(command)
                && !keeps_the_sync_feed(command)
        })
        .collect();
    // A user's update, a meal's replacement, update and deletion, a package's
    // upsert, replacement and deletion, a user's deletion's commit.
    assert!(bounded.len() >= 8, "{bounded:?}");
    for command in bounded {
        let limit = command
            .get("maxTimeMS")
            .and_then(|limit| limit.as_i64().or(limit.as_i32().map(i64::from)));
        assert!(
            limit.is_some_and(|limit| limit > 0 && limit <= 4_321),
            "{command}"
        );
    }
}
