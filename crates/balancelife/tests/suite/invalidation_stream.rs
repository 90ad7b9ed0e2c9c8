//! The promise across instances: once a write is acknowledged, every instance serves
//! it within a second, whatever happens to the instance that wrote it. Instances here
//! are cached stacks in this process on one MongoDB replica set and one Redis, each
//! with its own connections and its own change-stream invalidator; "killing" one
//! drops it with everything it runs, as SIGKILL would.

use std::future::Future;
use std::time::{Duration, Instant};

use balancelife::config::{MongoSettings, RedisSettings};
use balancelife::domain::MealData;
use balancelife::store::cache::invalidator::lease_id;
use balancelife::store::cache::keys::KEY_VERSION;
use balancelife::store::mongo::MongoStore;
use balancelife::store::{DateRange, PageLimit, PageRequest, Store};

use balancelife_testkit::fixtures::{at, date, entry, meal_package, renamed, unique_email, user};
use balancelife_testkit::proxy::TcpProxy;
use balancelife_testkit::servers::mongo::{SHARED_REPLICA_SET, fresh_database};
use balancelife_testkit::servers::redis::{RedisServer, SHARED as SHARED_REDIS};

use crate::support::{Cached, until};

/// The promise.
const WITHIN: Duration = Duration::from_secs(1);

/// Two instances' worth of settings: one database, one key namespace.
fn shared_settings() -> (MongoSettings, RedisSettings) {
    (
        SHARED_REPLICA_SET.settings(&fresh_database()),
        SHARED_REDIS.settings(),
    )
}

/// An instance that holds the invalidator's lease.
async fn consuming_instance(mongo: &MongoSettings, redis: &RedisSettings) -> Cached {
    let instance = Cached::instance(mongo.clone(), redis.clone()).await;
    let store = instance.store.clone();
    until("the lease taken", Duration::from_secs(5), || {
        store
            .invalidator()
            .is_some_and(|invalidator| invalidator.is_holder())
    })
    .await;
    instance
}

/// How long until `check` holds, polling every 5 ms; fails past three times the promise.
async fn time_until<F, Fut>(what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < WITHIN * 3,
            "{what}: not within {:?}",
            WITHIN * 3
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    started.elapsed()
}

#[tokio::test]
async fn changes_no_writer_invalidated_reach_every_instance_within_a_second() {
    let (mongo, redis) = shared_settings();
    let reader = consuming_instance(&mongo, &redis).await;
    assert!(
        !reader.mongo.deletion_notes().are_on(),
        "MongoDB keeps pre-images: an entry's deletion needs no note"
    );
    // Writes straight to MongoDB: writers that died before invalidating.
    let bare = MongoStore::connect(&mongo).await.unwrap();
    let stored = bare
        .create_user(user(unique_email("stream")))
        .await
        .unwrap();
    let package = meal_package("stream-bowl", &["quick"], true);
    bare.meal_packages().upsert(package.clone()).await.unwrap();
    let meal = entry::<MealData>(stored.id, 1, at("2026-06-01", "08:00"));
    bare.meal_entries().create(meal.clone()).await.unwrap();
    let day = DateRange::new(date("2026-06-01"), date("2026-06-01")).unwrap();
    let store = reader.store.clone();
    let day_list = || async {
        store
            .meal_entries()
            .list(stored.id, day, PageRequest::first(PageLimit::DEFAULT))
            .await
            .unwrap()
            .items
    };
    // Warm the reader's cache.
    for _ in 0..2 {
        store.get_user(stored.id).await.unwrap();
        store.meal_packages().get(package.id).await.unwrap();
        day_list().await;
    }
    assert!(
        reader.cache_hits() >= 3,
        "served from the cache before the changes"
    );

    let renamed_user = renamed(&stored, "Renamed Behind The Cache");
    bare.update_user(renamed_user.clone(), &stored)
        .await
        .unwrap();
    let user_seen = time_until("the user's change", || async {
        store.get_user(stored.id).await.unwrap() == renamed_user
    })
    .await;
    let mut revised = package.clone();
    revised.version = balancelife::domain::Version::try_from(2).unwrap();
    bare.meal_packages().upsert(revised.clone()).await.unwrap();
    let package_seen = time_until("the package's change", || async {
        store.meal_packages().get(package.id).await.unwrap() == revised
    })
    .await;
    bare.meal_entries()
        .delete(stored.id, meal.id)
        .await
        .unwrap();
    let delete_seen = time_until("the entry's deletion", || async {
        day_list().await.is_empty()
    })
    .await;

    println!("seen after: user {user_seen:?}, package {package_seen:?}, deletion {delete_seen:?}");
    for (what, seen) in [
        ("user", user_seen),
        ("package", package_seen),
        ("deletion", delete_seen),
    ] {
        assert!(seen <= WITHIN, "the {what} change took {seen:?}");
    }
    assert!(store.cache().metrics.stream_invalidations.get() >= 3);
}

#[tokio::test]
async fn a_writer_cut_off_from_redis_that_dies_is_covered_by_another_instance() {
    let (mongo, shared_redis) = shared_settings();
    let redis_server = RedisServer::start();
    let redis = RedisSettings {
        namespace: shared_redis.namespace.clone(),
        ..redis_server.settings()
    };
    // The writer reaches Redis through a proxy that can cut the link; it also holds
    // the invalidator's lease, so its death takes the consumer with it.
    let proxy = TcpProxy::start(redis_server.addr().parse().unwrap());
    let writer_redis = RedisSettings {
        addr: proxy.addr().into(),
        timeout: Duration::from_millis(100),
        ..redis.clone()
    };
    let writer = consuming_instance(&mongo, &writer_redis).await;
    let reader = Cached::instance(mongo.clone(), redis.clone()).await;
    let stored = writer
        .store
        .create_user(user(unique_email("partition")))
        .await
        .unwrap();
    // The stream's own invalidation of the creation may void the first fill.
    for _ in 0..20 {
        reader.store.get_user(stored.id).await.unwrap();
        if reader.cache_hits() >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(reader.cache_hits() >= 1, "the reader caches it");

    proxy.partition();
    let changed = renamed(&stored, "Written Then Gone");
    writer
        .store
        .update_user(changed.clone(), &stored)
        .await
        .expect("the write is acknowledged though its invalidation was lost");
    let acknowledged = Instant::now();
    drop(writer);
    proxy.heal();

    let store = reader.store.clone();
    time_until("the reader serving the write", || async {
        store.get_user(stored.id).await.unwrap() == changed
    })
    .await;
    let seen = acknowledged.elapsed();
    println!("seen {seen:?} after the acknowledgement");
    assert!(seen <= WITHIN, "took {seen:?}");
    // Under load a read can also reach MongoDB because Redis missed its deadline,
    // which serves the write before the stream does; the takeover follows anyway.
    let metrics = reader.store.cache().metrics.clone();
    until("the reader taking the lease over", WITHIN * 5, || {
        metrics.stream_lease_takeovers.get() >= 1
    })
    .await;
}

/// A rolling upgrade across a change of key version: the releases' caches are apart
/// (each reads and writes only its own version's keys), so each needs the stream
/// for itself, and a lease of its own to consume it by.
#[tokio::test]
async fn two_releases_of_different_key_versions_each_consume_the_stream_for_their_own_cache() {
    let (mongo, redis) = shared_settings();
    let current = Cached::instance(mongo.clone(), redis.clone()).await;
    let next = Cached::instance_at_key_version(mongo.clone(), redis.clone(), "v-next").await;
    let releases = [current.store.clone(), next.store.clone()];
    let stores = releases.clone();
    until(
        "each release holding its own lease",
        Duration::from_secs(5),
        || {
            stores
                .iter()
                .all(|store| store.invalidator().is_some_and(|stream| stream.is_holder()))
        },
    )
    .await;
    let bare = MongoStore::connect(&mongo).await.unwrap();
    let stored = bare
        .create_user(user(unique_email("upgrade")))
        .await
        .unwrap();
    // The stream's invalidation of the creation may void the first fills.
    for (store, instance) in releases.iter().zip([&current, &next]) {
        for _ in 0..50 {
            store.get_user(stored.id).await.unwrap();
            if instance.cache_hits() >= 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(instance.cache_hits() >= 1, "each release caches the user");
    }

    let changed = renamed(&stored, "Renamed Mid Upgrade");
    bare.update_user(changed.clone(), &stored).await.unwrap();
    for store in &releases {
        let seen = time_until("the change in each release's cache", || async {
            store.get_user(stored.id).await.unwrap() == changed
        })
        .await;
        assert!(seen <= WITHIN, "took {seen:?}");
    }
}

/// A consumer that has just died and a standby instance whose cache holds a user,
/// on a database of their own; and MongoDB bare, for writes no writer invalidates.
struct Handover {
    standby: Cached,
    bare: MongoStore,
    stored: balancelife::domain::User,
    redis: RedisSettings,
}

async fn consumer_dies_with_a_warm_standby(label: &str) -> Handover {
    let (mongo, redis) = shared_settings();
    let first = consuming_instance(&mongo, &redis).await;
    let standby = Cached::instance(mongo.clone(), redis.clone()).await;
    let bare = MongoStore::connect(&mongo).await.unwrap();
    let stored = bare.create_user(user(unique_email(label))).await.unwrap();
    standby.store.get_user(stored.id).await.unwrap();
    standby.store.get_user(stored.id).await.unwrap();
    // The first consumer has seen the creation and saved a token past it: what the
    // standby resumes from.
    let leases = bare
        .database()
        .collection::<bson::Document>("cache_invalidator");
    let first_metrics = first.store.cache().metrics.clone();
    time_until("the first consumer's token saved", || {
        let (leases, id) = (leases.clone(), lease_id(&redis.namespace, KEY_VERSION));
        let consumed = first_metrics.stream_invalidations.get() >= 1;
        async move {
            let lease = leases.find_one(bson::doc! { "_id": id }).await.unwrap();
            consumed && lease.is_some_and(|lease| lease.contains_key("token"))
        }
    })
    .await;
    first.store.invalidator().unwrap().kill();
    Handover {
        standby,
        bare,
        stored,
        redis,
    }
}

impl Handover {
    /// Renames the user behind the cache; returns how long until the standby serves it.
    async fn rename_behind_the_cache(&self, name: &str) -> Duration {
        let changed = renamed(&self.stored, name);
        self.bare
            .update_user(changed.clone(), &self.stored)
            .await
            .unwrap();
        let store = self.standby.store.clone();
        let id = self.stored.id;
        time_until("the change served by the standby", || {
            let (store, changed) = (store.clone(), changed.clone());
            async move { store.get_user(id).await.unwrap() == changed }
        })
        .await
    }
}

#[tokio::test]
async fn a_consumer_that_dies_is_replaced_and_the_new_one_resumes_from_its_token() {
    let handover = consumer_dies_with_a_warm_standby("consumer").await;

    let seen = handover
        .rename_behind_the_cache("Changed While Nobody Consumed")
        .await;

    println!("seen after {seen:?}");
    assert!(seen <= WITHIN, "took {seen:?}");
    // Under load a read can also reach MongoDB because Redis missed its deadline,
    // which serves the change before the stream does: wait for the takeover. The
    // lease can lapse and be taken again, so at least once each.
    let metrics = handover.standby.store.cache().metrics.clone();
    until("the standby resuming the stream", WITHIN * 5, || {
        metrics.stream_lease_takeovers.get() >= 1 && metrics.stream_resumes.get() >= 1
    })
    .await;
    assert_eq!(metrics.namespace_bumps.get(), 0, "with nothing to flush");
}

/// Three instances on one replica set and one Redis Cluster: random writes through
/// any instance, reads through every instance after each acknowledgement.
#[tokio::test]
async fn three_instances_on_a_cluster_see_every_acknowledged_write() {
    use axum::http::StatusCode;
    use rand::Rng;
    use serde_json::json;

    use crate::support::TestApp;

    let mongo = SHARED_REPLICA_SET.settings(&fresh_database());
    let redis = balancelife_testkit::servers::cluster::SHARED.settings();
    let mut instances = vec![consuming_instance(&mongo, &redis).await];
    for _ in 0..2 {
        instances.push(Cached::instance(mongo.clone(), redis.clone()).await);
    }
    let apps: Vec<TestApp> = instances
        .iter()
        .map(|instance| TestApp::cached(instance.store.clone()))
        .collect();
    let people = [
        apps[0].register("three-a", json!({})).await,
        apps[1].register("three-b", json!({})).await,
    ];
    let day = "2026-07-01";
    let list_path = format!("/api/v1/meal-entries?from={day}&to={day}");
    let mut server_errors = 0;
    let mut rng = rand::rng();

    for round in 0..40 {
        let person = &people[rng.random_range(0..people.len())];
        let writer = rng.random_range(0..apps.len());
        // A write through one instance: a new name, or one more meal on the day.
        let (path, expected) = if rng.random_bool(0.5) {
            let name = format!("Person Round {round}");
            let response = apps[writer]
                .patch(
                    "/api/v1/users/me",
                    Some(&person.token),
                    json!({ "name": name }),
                )
                .await;
            assert_eq!(response.status, StatusCode::OK, "{}", response.body);
            ("/api/v1/users/me".to_owned(), ("name", json!(name)))
        } else {
            let mut meal = TestApp::meal_body(&format!("{day}T12:{:02}:00Z", round));
            meal["name"] = json!(format!("Meal {round}"));
            let response = apps[writer]
                .post("/api/v1/meal-entries", Some(&person.token), meal)
                .await;
            assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
            let count = apps[writer].get(&list_path, Some(&person.token)).await.body["items"]
                .as_array()
                .map_or(0, Vec::len);
            (list_path.clone(), ("count", json!(count)))
        };
        // Every instance sees it: the writer at once, the others within the promise.
        for (reader, app) in apps.iter().enumerate() {
            let sees = |body: &serde_json::Value| match expected.0 {
                "name" => body["name"] == expected.1,
                _ => {
                    body["items"].as_array().map(|items| json!(items.len()))
                        == Some(expected.1.clone())
                }
            };
            let started = Instant::now();
            loop {
                let response = app.get(&path, Some(&person.token)).await;
                if response.status.is_server_error() {
                    server_errors += 1;
                }
                if sees(&response.body) {
                    break;
                }
                assert!(
                    reader != writer && started.elapsed() < WITHIN,
                    "round {round}: instance {reader} does not serve what instance {writer} acknowledged"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
    assert_eq!(server_errors, 0);
}

/// SecantusDB keeps its whole oplog, so a token it has moved past cannot be made
/// here; a token it does not know (as after a restore from a backup) is refused the
/// same way, and must be handled the same way: flush, then trust the stream again.
#[tokio::test]
async fn a_stream_that_cannot_be_resumed_flushes_the_whole_cache_first() {
    // The consumer dies, its saved token becomes one the server cannot resume from,
    // and a change comes that nobody invalidates.
    let handover = consumer_dies_with_a_warm_standby("history").await;
    let leases = handover
        .bare
        .database()
        .collection::<bson::Document>("cache_invalidator");
    leases
        .update_one(
            bson::doc! { "_id": lease_id(&handover.redis.namespace, KEY_VERSION) },
            bson::doc! { "$set": { "token": { "_data": "8200000000000000002B0229296E04" } } },
        )
        .await
        .unwrap();
    let seen = handover.rename_behind_the_cache("Lost In History").await;

    println!("seen after {seen:?}");
    assert!(seen <= WITHIN, "took {seen:?}");
    // As above, wait for the takeover; the flush comes with it (at least once:
    // under load the lease can change hands again, and the next holder may find
    // the refused token too).
    let metrics = handover.standby.store.cache().metrics.clone();
    until(
        "the standby flushing the cache it could not vouch for",
        WITHIN * 5,
        || metrics.stream_lease_takeovers.get() >= 1 && metrics.namespace_bumps.get() >= 1,
    )
    .await;
}

/// The same as `a_writer_cut_off_from_redis_that_dies_is_covered_by_another_instance`,
/// with two `balancelife serve` processes and a real SIGKILL.
#[test]
fn a_writer_process_killed_after_a_lost_invalidation_is_covered_by_another_process() {
    use serde_json::json;

    use crate::support::binary::{http, serve};

    let redis_server = RedisServer::start();
    let proxy = TcpProxy::start(redis_server.addr().parse().unwrap());
    let database = fresh_database();
    let namespace = format!("t{}", uuid::Uuid::now_v7().simple());
    let common = |command: &mut std::process::Command| {
        command
            .env("MONGODB_URI", SHARED_REPLICA_SET.uri())
            .env("MONGODB_DATABASE", &database)
            .env("REDIS_NAMESPACE", &namespace)
            .env("REDIS_TIMEOUT_MS", "100");
    };
    // The writer starts first, so it holds the invalidator's lease when it dies.
    let (mut writer, writer_addr) = serve(|command| {
        common(command);
        command.env("REDIS_ADDR", proxy.addr());
    });
    let invalidator_of = |addr: &str| {
        http::get(&format!("http://{addr}/health"))["components"]["invalidator"]["detail"].clone()
    };
    let started = Instant::now();
    while !invalidator_of(&writer_addr)
        .to_string()
        .contains("this instance tails")
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the writer never took the lease"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (_reader, reader_addr) = serve(|command| {
        common(command);
        command.env("REDIS_ADDR", redis_server.addr());
    });
    let email = format!("killed-{}@example.test", uuid::Uuid::now_v7().simple());
    let session = http::post(
        &format!("http://{writer_addr}/api/v1/auth/register"),
        None,
        json!({"email": email, "password": "a long enough password", "name": "Before", "timezone": "UTC"}),
    );
    let token = session["token"].as_str().expect("signed up").to_owned();
    let me = |addr: &str| http::get_with(&format!("http://{addr}/api/v1/users/me"), &token);
    assert_eq!(me(&reader_addr)["name"], "Before");
    assert_eq!(me(&reader_addr)["name"], "Before", "cached by the reader");

    proxy.partition();
    let renamed = http::patch(
        &format!("http://{writer_addr}/api/v1/users/me"),
        &token,
        json!({"name": "After"}),
    );
    let acknowledged = Instant::now();
    writer.0.kill().unwrap(); // SIGKILL
    writer.0.wait().unwrap();
    proxy.heal();
    assert_eq!(
        renamed["name"], "After",
        "the write was acknowledged: {renamed}"
    );

    while me(&reader_addr)["name"] != "After" {
        assert!(
            acknowledged.elapsed() < WITHIN * 3,
            "the reader still serves the old name"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let seen = acknowledged.elapsed();
    println!("seen {seen:?} after the acknowledgement");
    assert!(seen <= WITHIN, "took {seen:?}");
}
