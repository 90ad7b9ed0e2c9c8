//! `MongoStore` beyond the contract: indexes, the stored documents' shape, sample data,
//! persistence, TLS.

use bson::{Bson, Document, doc};
use futures_util::TryStreamExt;
use serde_json::json;

use balancelife::store::Store;
use balancelife::store::mongo::MongoStore;

use crate::support::TestApp;
use balancelife_testkit::servers::mongo::{MongoServer, SHARED, fresh_database};

async fn connect_fresh() -> MongoStore {
    MongoStore::connect(&SHARED.settings(&fresh_database()))
        .await
        .unwrap()
}

/// One index as the tests compare them: collection, name, keys in order, unique.
type IndexSummary = (String, String, Vec<(String, Bson)>, bool);

/// Keys in their order, which a compound index depends on (`Document`'s `==` does not
/// look at the order).
fn summary(collection: &str, name: &str, keys: &Document, unique: bool) -> IndexSummary {
    let keys = keys.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    (collection.to_owned(), name.to_owned(), keys, unique)
}

fn sorted(mut indexes: Vec<IndexSummary>) -> Vec<IndexSummary> {
    indexes.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    indexes
}

/// Every index on every collection of the store's database.
async fn live_indexes(store: &MongoStore) -> Vec<IndexSummary> {
    let db = store.database();
    let mut live = Vec::new();
    for collection in db.list_collection_names().await.unwrap() {
        let indexes: Vec<_> = db
            .collection::<Document>(&collection)
            .list_indexes()
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        for index in indexes {
            let options = index.options.unwrap_or_default();
            // `_id` is unique by nature; the server does not flag it.
            let unique = options.unique == Some(true) || index.keys == doc! { "_id": 1 };
            let name = options.name.unwrap_or_default();
            live.push(summary(&collection, &name, &index.keys, unique));
        }
    }
    sorted(live)
}

#[tokio::test]
async fn indexes_exist_with_the_intended_keys_and_uniqueness() {
    // The indexes `ensure` makes, written out here rather than read from its table,
    // so that a wrong entry there fails this test.
    let id = doc! { "_id": 1 };
    #[rustfmt::skip]
    let expected = sorted(vec![
        summary("users",            "_id_",             &id,                                   true),
        summary("users",            "email_unique",     &doc! { "email": 1 },                  true),
        summary("meal_entries",     "_id_",             &id,                                   true),
        summary("meal_entries",     "user_position",    &doc! { "user_id": 1, "position": 1 }, false),
        summary("meal_entries",     "package_id",       &doc! { "package_id": 1 },             false),
        summary("workout_entries",  "_id_",             &id,                                   true),
        summary("workout_entries",  "user_position",    &doc! { "user_id": 1, "position": 1 }, false),
        summary("workout_entries",  "package_id",       &doc! { "package_id": 1 },             false),
        summary("body_metrics",     "_id_",             &id,                                   true),
        summary("body_metrics",     "user_position",    &doc! { "user_id": 1, "position": 1 }, false),
        summary("meal_packages",    "_id_",             &id,                                   true),
        summary("meal_packages",    "slug_unique",      &doc! { "slug": 1 },                   true),
        summary("meal_packages",    "search_tags_slug", &doc! { "search_tags": 1, "slug": 1 }, false),
        summary("workout_packages", "_id_",             &id,                                   true),
        summary("workout_packages", "slug_unique",      &doc! { "slug": 1 },                   true),
        summary("workout_packages", "search_tags_slug", &doc! { "search_tags": 1, "slug": 1 }, false),        summary("workout_packages", "level_slug",       &doc! { "level": 1, "slug": 1 },       false),
        summary("custom_exercises", "_id_",             &id,                                   true),
        summary("custom_exercises", "slug_unique",      &doc! { "slug": 1 },                   true),
        summary("entry_deletions",  "_id_",             &id,                                   true),
        summary("entry_deletions",  "deleted_at_ttl",   &doc! { "deleted_at": 1 },             false),
        summary("foods",            "_id_",             &id,                                   true),
        summary("foods",            "source_key_unique", &doc! { "source_key": 1 },            true),
        summary("foods",            "barcodes",         &doc! { "barcodes": 1 },               false),
        summary("foods",            "owner",            &doc! { "owner": 1 },                  false),
        summary("foods",            "changed_at_id",    &doc! { "changed_at": 1, "_id": 1 },   false),
        summary("foods",            "deleted_at_ttl",   &doc! { "deleted_at": 1 },             false),
        summary("sync_markers",     "_id_",             &id,                                   true),
        summary("sync_markers",     "user_seq_kind_id", &doc! { "u": 1, "seq": 1, "k": 1, "i": 1 }, false),
        summary("sync_markers",     "expires_at_ttl",   &doc! { "expires_at": 1 },             false),
        summary("sync_batches",     "_id_",             &id,                                   true),
        summary("sync_batches",     "u",                &doc! { "u": 1 },                      false),
        summary("health_samples",   "_id_",             &id,                                   true),
        summary("health_samples",   "user_kind_start",  &doc! { "user_id": 1, "kind": 1, "start": 1 }, false),
        summary("sync_batches",     "expires_at_ttl",   &doc! { "expires_at": 1 },             false),
        summary("kept_answers",     "_id_",             &id,                                   true),
        summary("kept_answers",     "u",                &doc! { "u": 1 },                      false),
        summary("kept_answers",     "expires_at_ttl",   &doc! { "expires_at": 1 },             false),
        // Not an index of ours: the record of the migrations that ran.
        summary("migrations",       "_id_",             &id,                                   true),
    ]);

    let store = connect_fresh().await;
    let live = live_indexes(&store).await;

    assert_eq!(live, expected, "no index missing, none extra");
}

#[tokio::test]
async fn connecting_twice_keeps_the_same_indexes() {
    let database = fresh_database();
    MongoStore::connect(&SHARED.settings(&database))
        .await
        .unwrap();

    let again = MongoStore::connect(&SHARED.settings(&database)).await;

    assert!(
        again.is_ok(),
        "creating existing indexes is a no-op: {:?}",
        again.err()
    );
}

#[tokio::test]
async fn stored_documents_use_snake_case_native_types_and_no_clear_password() {
    let store = std::sync::Arc::new(connect_fresh().await);
    let app = TestApp::new(store.clone());
    let user = app.register("shape", json!({"height_cm": 172})).await;
    app.post(
        "/api/v1/meal-entries",
        Some(&user.token),
        crate::support::TestApp::meal_body("2026-02-01T12:00:00Z"),
    )
    .await;
    let db = store.database();

    let user_doc = db
        .collection::<Document>("users")
        .find_one(doc! {})
        .await
        .unwrap()
        .unwrap();
    let entry_doc = db
        .collection::<Document>("meal_entries")
        .find_one(doc! {})
        .await
        .unwrap()
        .unwrap();

    assert!(
        matches!(user_doc.get("_id"), Some(Bson::Binary(b)) if b.subtype == bson::spec::BinarySubtype::Uuid)
    );
    assert!(user_doc.get("id").is_none(), "the id lives in _id only");
    assert_eq!(user_doc.get_str("email").unwrap(), user.email);
    assert!(
        user_doc
            .get_str("password_hash")
            .unwrap()
            .starts_with("$argon2id$")
    );
    assert!(matches!(
        user_doc.get("created_at"),
        Some(Bson::DateTime(_))
    ));
    assert_eq!(
        user_doc
            .get_document("profile")
            .unwrap()
            .get_f64("height_cm")
            .unwrap(),
        172.0
    );
    let everything = format!("{user_doc:?}");
    assert!(
        !everything.contains("a long enough password"),
        "the password is never stored"
    );
    for field in [
        "user_id",
        "local_date",
        "position",
        "eaten_at",
        "slot",
        "nutrition",
        "source",
        "created_at",
        "updated_at",
    ] {
        assert!(
            entry_doc.contains_key(field),
            "meal entry lacks {field}: {entry_doc:?}"
        );
    }
    assert!(matches!(entry_doc.get("eaten_at"), Some(Bson::DateTime(_))));
    assert_eq!(entry_doc.get_str("local_date").unwrap(), "2026-02-01");
    assert_eq!(
        entry_doc
            .get_document("nutrition")
            .unwrap()
            .get_f64("kcal")
            .unwrap(),
        420.0
    );
}

#[tokio::test]
async fn loading_the_sample_data_twice_changes_nothing() {
    let store = connect_fresh().await;
    let now = balancelife::domain::now();

    let first = balancelife::sample::load(&store, now).await.unwrap();
    let counts = collection_counts(&store).await;
    let second = balancelife::sample::load(&store, now).await.unwrap();

    assert!(first.created > 0);
    assert_eq!(second.created, 0, "{second:?}");
    assert_eq!(second.unchanged, first.created);
    assert_eq!(collection_counts(&store).await, counts);
    assert!(counts.iter().all(|(_, n)| *n > 0), "{counts:?}");
}

async fn collection_counts(store: &MongoStore) -> Vec<(&'static str, u64)> {
    let mut counts = Vec::new();
    for name in [
        "users",
        "meal_packages",
        "workout_packages",
        "meal_entries",
        "workout_entries",
    ] {
        let n = store
            .database()
            .collection::<Document>(name)
            .count_documents(doc! {})
            .await
            .unwrap();
        counts.push((name, n));
    }
    counts
}

#[tokio::test]
async fn acknowledged_writes_are_read_back_by_a_new_connection() {
    let database = fresh_database();
    let first = std::sync::Arc::new(
        MongoStore::connect(&SHARED.settings(&database))
            .await
            .unwrap(),
    );
    let app = TestApp::new(first);
    let user = app.register("durable", json!({})).await;
    let created = app
        .post(
            "/api/v1/workout-entries",
            Some(&user.token),
            crate::support::TestApp::workout_body("2026-02-02T07:00:00Z"),
        )
        .await;

    let second = MongoStore::connect(&SHARED.settings(&database))
        .await
        .unwrap();

    let id = created.body["id"].as_str().unwrap().parse().unwrap();
    let entry = second.workout_entries().get(user.id, id).await.unwrap();
    assert_eq!(entry.data.title.as_str(), "Morning run");
    assert_eq!(
        second.get_user(user.id).await.unwrap().email.as_str(),
        user.email
    );
}

#[tokio::test]
async fn tls_connects_with_the_right_ca_and_refuses_a_wrong_one() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (server_files, right_ca) = crate::tls::make_tls(dir.path(), "right");
    let (_, wrong_ca) = crate::tls::make_tls(dir.path(), "wrong");
    let server = MongoServer::start_with_tls(Some(server_files));
    let settings = |ca: Option<&std::path::Path>| {
        let mut settings = server.settings(&fresh_database());
        settings.cert_path = ca.map(|p| p.to_owned());
        settings.timeout = std::time::Duration::from_secs(2);
        settings
    };

    let trusted = MongoStore::connect(&settings(Some(&right_ca))).await;
    let untrusted = MongoStore::connect(&settings(Some(&wrong_ca))).await;
    let plain = MongoStore::connect(&settings(None)).await;

    let store = trusted.expect("the server's own CA is trusted");
    let user =
        balancelife_testkit::fixtures::user(balancelife_testkit::fixtures::unique_email("tls"));
    store.create_user(user.clone()).await.unwrap();
    assert_eq!(store.get_user(user.id).await.unwrap(), user);
    assert!(
        matches!(
            untrusted,
            Err(balancelife::store::StoreError::Unavailable { .. })
        ),
        "a wrong CA is refused"
    );
    assert!(plain.is_err(), "plain text to a TLS server fails");
}

/// What the server did to answer a one-day list for `user_id`.
async fn explain_one_day(
    store: &MongoStore,
    user_id: uuid::Uuid,
    day: &str,
    next_day: &str,
) -> (i64, i64, String) {
    let command = doc! {
        "explain": {
            "find": "meal_entries",
            "filter": { "user_id": bson::Uuid::from(user_id), "position": { "$gte": day, "$lt": next_day } },
            "sort": { "position": 1 },
            "limit": 51,
        },
        "verbosity": "executionStats",
    };
    let explained = store.database().run_command(command).await.unwrap();
    let stats = explained.get_document("executionStats").unwrap();
    let number = |key: &str| {
        stats
            .get_i64(key)
            .or_else(|_| stats.get_i32(key).map(i64::from))
            .unwrap()
    };
    let plan = format!("{:?}", explained.get_document("queryPlanner").unwrap());
    (number("totalDocsExamined"), number("nReturned"), plan)
}

#[tokio::test]
async fn a_one_day_query_examines_only_that_day_however_long_the_history() {
    let store = connect_fresh().await;
    let user = store
        .create_user(balancelife_testkit::fixtures::user(
            balancelife_testkit::fixtures::unique_email("history"),
        ))
        .await
        .unwrap();
    let log_days = |first_day: u32| {
        let store = &store;
        async move {
            for day in first_day..first_day + 10 {
                for hour in [7, 10, 13, 16, 19] {
                    let at = balancelife_testkit::fixtures::at(
                        &format!("2026-01-{day:02}"),
                        &format!("{hour:02}:00"),
                    );
                    let entry = balancelife_testkit::fixtures::entry::<balancelife::domain::MealData>(
                        user.id, hour, at,
                    );
                    store.meal_entries().create(entry).await.unwrap();
                }
            }
        }
    };

    log_days(1).await;
    let (examined_small, returned_small, plan) =
        explain_one_day(&store, user.id, "2026-01-05", "2026-01-06").await;
    log_days(11).await;
    log_days(21).await;
    let (examined_large, returned_large, _) =
        explain_one_day(&store, user.id, "2026-01-05", "2026-01-06").await;

    assert!(
        plan.contains("IXSCAN") && plan.contains("user_position"),
        "{plan}"
    );
    assert_eq!(
        (examined_small, returned_small),
        (5, 5),
        "only the day's documents are read"
    );
    assert_eq!(
        (examined_large, returned_large),
        (5, 5),
        "three times the history, the same work"
    );
}

#[tokio::test]
async fn on_a_replica_set_a_user_and_their_entries_are_deleted_in_one_transaction() {
    let server = MongoServer::start_replica_set();
    let store = MongoStore::connect(&server.settings(&fresh_database()))
        .await
        .unwrap();
    let user = store
        .create_user(balancelife_testkit::fixtures::user(
            balancelife_testkit::fixtures::unique_email("tx"),
        ))
        .await
        .unwrap();
    let at = balancelife_testkit::fixtures::at("2026-02-07", "12:00");
    let meal =
        balancelife_testkit::fixtures::entry::<balancelife::domain::MealData>(user.id, 1, at);
    let workout =
        balancelife_testkit::fixtures::entry::<balancelife::domain::WorkoutData>(user.id, 1, at);
    store.meal_entries().create(meal.clone()).await.unwrap();
    store
        .workout_entries()
        .create(workout.clone())
        .await
        .unwrap();

    store.delete_user(user.id).await.unwrap();

    assert!(
        store.supports_transactions(),
        "the replica set offers transactions"
    );
    assert!(store.get_user(user.id).await.is_err());
    let db = store.database();
    for collection in ["meal_entries", "workout_entries"] {
        let left = db
            .collection::<Document>(collection)
            .count_documents(doc! {})
            .await
            .unwrap();
        assert_eq!(
            left, 0,
            "{collection} still holds the deleted user's entries"
        );
    }
    assert!(matches!(
        store.delete_user(user.id).await,
        Err(balancelife::store::StoreError::NotFound)
    ));
}

/// A meal package as the release before catalogue editing stored it: `published`
/// instead of `status`, no authorship.
fn package_in_the_old_shape(slug: &str, published: bool) -> (uuid::Uuid, Document) {
    let mut package = balancelife::sample::meal_packages().remove(0);
    package.id = uuid::Uuid::now_v7();
    package.slug = slug.parse().unwrap();
    let mut document = bson::to_document(&package).unwrap();
    for new_field in [
        "id",
        "status",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
    ] {
        document.remove(new_field);
    }
    document.insert("_id", bson::Uuid::from(package.id));
    document.insert("published", published);
    document.insert("search_tags", vec!["vegetarian"]);
    (package.id, document)
}

/// The ids of the first page of meal packages with `status`.
async fn listed(store: &MongoStore, status: balancelife::domain::StatusFilter) -> Vec<uuid::Uuid> {
    let filter = balancelife::domain::PackageFilter {
        status,
        ..Default::default()
    };
    let first = balancelife::store::PageRequest::first(10.try_into().unwrap());
    let page = store.meal_packages().list(&filter, first).await.unwrap();
    page.items.iter().map(|p| p.id).collect()
}

#[tokio::test]
async fn packages_an_older_release_stored_are_migrated_once_and_read_right() {
    use balancelife::domain::{PackageStatus, StatusFilter};

    let settings = SHARED.settings(&fresh_database());
    let client = mongodb::Client::with_uri_str(SHARED.uri()).await.unwrap();
    let raw = client
        .database(&settings.database)
        .collection::<Document>("meal_packages");
    let (live, live_document) = package_in_the_old_shape("old-live", true);
    let (draft, draft_document) = package_in_the_old_shape("old-draft", false);
    raw.insert_many([live_document, draft_document])
        .await
        .unwrap();

    let store = MongoStore::connect(&settings).await.unwrap();
    let public = listed(&store, StatusFilter::Published).await;
    let drafts = listed(&store, StatusFilter::Draft).await;
    let stored = store.meal_packages().get(live).await.unwrap();

    assert_eq!((public, drafts), (vec![live], vec![draft]));
    assert_eq!(stored.status, PackageStatus::Published);
    assert_eq!((stored.created_by, stored.updated_at), (None, None));
    let migrated = raw
        .find_one(doc! { "_id": bson::Uuid::from(live) })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(migrated.get_str("status"), Ok("published"));
    assert_eq!(
        migrated.get_bool("published"),
        Ok(true),
        "kept for instances of the release before"
    );

    // Recorded: a later start does not run it again, and a document in the old shape
    // (an older instance still writing) is read right all the same.
    let (late, late_document) = package_in_the_old_shape("old-late", false);
    raw.insert_one(late_document).await.unwrap();
    let restarted = MongoStore::connect(&settings).await.unwrap();
    let untouched = raw
        .find_one(doc! { "_id": bson::Uuid::from(late) })
        .await
        .unwrap()
        .unwrap();
    assert!(!untouched.contains_key("status"), "the migration ran once");
    let read = restarted.meal_packages().get(late).await.unwrap();
    assert_eq!(read.status, PackageStatus::Draft);
    assert_eq!(
        listed(&restarted, StatusFilter::Draft).await,
        [draft, late],
        "listed by its status too, in slug order"
    );
    let records = client
        .database(&settings.database)
        .collection::<Document>("migrations")
        .count_documents(doc! {})
        .await
        .unwrap();
    assert_eq!(
        records, 3,
        "the packages', the sync markers' and the targets'"
    );
}

/// A user stored with targets and no plans, as the release before plans wrote
/// them: the migration dates the targets from the first entry, so past days keep
/// being judged by them and a change from today leaves those days alone.
#[tokio::test]
async fn targets_an_older_release_stored_are_dated_from_the_first_entry() {
    use balancelife::domain::{KcalTarget, MealData, TargetBasis};
    use balancelife_testkit::fixtures::{at, date, entry, unique_email, user};

    let settings = SHARED.settings(&fresh_database());
    let setup = MongoStore::connect(&settings).await.unwrap();
    let mut old = user(unique_email("old-targets"));
    old.profile.daily_kcal_target = Some(KcalTarget::try_from(2100.0).unwrap());
    let old = setup.create_user(old).await.unwrap();
    let mut bare = user(unique_email("no-targets"));
    bare.profile.daily_kcal_target = None;
    let bare = setup.create_user(bare).await.unwrap();
    for day in ["2026-02-10", "2026-01-05"] {
        let meal = entry::<MealData>(old.id, 1, at(day, "12:00"));
        setup.meal_entries().create(meal).await.unwrap();
    }
    // As the release before left it: no record of this migration, no plans.
    let client = mongodb::Client::with_uri_str(SHARED.uri()).await.unwrap();
    let database = client.database(&settings.database);
    database
        .collection::<Document>("migrations")
        .delete_one(doc! { "_id": "2026-12-target-plans" })
        .await
        .unwrap();
    database
        .collection::<Document>("users")
        .update_many(doc! {}, doc! { "$unset": { "profile.target_plans": "" } })
        .await
        .unwrap();

    let store = MongoStore::connect(&settings).await.unwrap();
    let migrated = store.get_user(old.id).await.unwrap();
    let plans = &migrated.profile.target_plans;
    assert_eq!(plans.len(), 1, "{plans:?}");
    assert_eq!(plans[0].from, date("2026-01-05"), "the first entry's day");
    assert_eq!(plans[0].basis, TargetBasis::Fixed);
    assert_eq!(
        plans[0].targets.daily_kcal_target,
        old.profile.daily_kcal_target
    );
    let on = |day: &str| migrated.profile.targets_on(date(day)).daily_kcal_target;
    assert_eq!(on("2026-01-04"), None, "no target before the first entry");
    assert_eq!(on("2026-02-10"), old.profile.daily_kcal_target);
    let untouched = store.get_user(bare.id).await.unwrap();
    assert!(
        untouched.profile.target_plans.is_empty(),
        "no targets, no plan"
    );
}
