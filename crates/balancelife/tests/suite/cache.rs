//! The Redis cache in front of MongoDB: hits, the stale-set race, stampedes,
//! credentials and database numbers.

use std::sync::Arc;
use std::time::Duration;

use balancelife::config::MongoSettings;
use balancelife::store::Store;

use balancelife_testkit::fixtures::{renamed, unique_email, user};
use balancelife_testkit::servers::{mongo, redis};

use crate::support::Cached;

/// A database of its own on the shared SecantusDB.
fn fresh_mongo() -> MongoSettings {
    mongo::SHARED.settings(&mongo::fresh_database())
}

#[tokio::test]
async fn repeated_reads_are_served_from_redis() {
    let cached = Cached::redis_only(fresh_mongo(), redis::SHARED.settings()).await;
    let stored = cached
        .store
        .create_user(user(unique_email("hits")))
        .await
        .unwrap();

    for _ in 0..5 {
        assert_eq!(cached.store.get_user(stored.id).await.unwrap(), stored);
    }

    assert_eq!(
        cached.probe.user_reads(),
        1,
        "one store read, four cache hits"
    );
    let metrics = cached.store.cache().metrics.clone();
    assert_eq!(metrics.hits.get(), 4);
    assert_eq!(metrics.fills.get(), 1);
}

#[tokio::test]
async fn a_write_is_visible_at_once_through_every_cached_key() {
    let cached = Cached::on(&redis::SHARED).await;
    let stored = cached
        .store
        .create_user(user(unique_email("fresh")))
        .await
        .unwrap();
    cached.store.get_user(stored.id).await.unwrap();
    cached.store.get_user_by_email(&stored.email).await.unwrap();
    let mut moved = renamed(&stored, "Moved Person");
    moved.email = unique_email("moved");

    cached
        .store
        .update_user(moved.clone(), &stored)
        .await
        .unwrap();

    assert_eq!(cached.store.get_user(stored.id).await.unwrap(), moved);
    assert_eq!(
        cached.store.get_user_by_email(&moved.email).await.unwrap(),
        moved
    );
    assert!(
        cached.store.get_user_by_email(&stored.email).await.is_err(),
        "the old e-mail is gone"
    );
}

#[tokio::test]
async fn a_fill_cannot_overwrite_a_later_invalidation() {
    let cached = Cached::on(&redis::SHARED).await;
    let v1 = cached
        .store
        .create_user(user(unique_email("race")))
        .await
        .unwrap();
    let v2 = renamed(&v1, "Second Version");
    let held = cached.probe.hold_next_user_read();

    // Reader T1 misses and reads v1 from MongoDB, then stalls before filling.
    let reader = {
        let store = cached.store.clone();
        tokio::spawn(async move { store.get_user(v1.id).await })
    };
    held.read_done.await.unwrap();
    // Writer T2 stores v2 and invalidates while T1 is stalled.
    cached.store.update_user(v2.clone(), &v1).await.unwrap();
    // T1 now tries to fill with v1.
    held.release.notify_one();
    let t1_saw = reader.await.unwrap().unwrap();

    assert_eq!(
        t1_saw, v1,
        "T1 began before the write, so v1 is a fair answer for it"
    );
    let metrics = cached.store.cache().metrics.clone();
    assert_eq!(
        metrics.fills_rejected_stale.get(),
        1,
        "T1's fill was refused"
    );
    assert_eq!(
        cached.store.get_user(v1.id).await.unwrap(),
        v2,
        "after the write, only v2"
    );
    assert_eq!(
        cached.store.get_user(v1.id).await.unwrap(),
        v2,
        "and v2 is what got cached"
    );
}

#[tokio::test]
async fn concurrent_readers_and_writers_leave_the_cache_equal_to_the_store() {
    let cached = Cached::on(&redis::SHARED).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(
            cached
                .store
                .create_user(user(unique_email(&format!("mix{n}"))))
                .await
                .unwrap()
                .id,
        );
    }
    let ids = Arc::new(ids);

    let workers = (0..8_u64).map(|worker| {
        let store = cached.store.clone();
        let mongo = cached.mongo.clone();
        let ids = ids.clone();
        tokio::spawn(async move {
            let mut seed = worker.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            for op in 0..250 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let id = ids[usize::try_from(seed % 3).unwrap()];
                if seed % 4 == 0 {
                    let current = mongo.get_user(id).await.unwrap();
                    let next = renamed(&current, &format!("w{worker} op{op}"));
                    // A lost race with another writer is a conflict, which is fine.
                    let _ = store.update_user(next, &current).await;
                } else {
                    store.get_user(id).await.unwrap();
                }
            }
        })
    });
    for worker in futures_util::future::join_all(workers).await {
        worker.unwrap();
    }

    for &id in ids.iter() {
        let truth = cached.mongo.get_user(id).await.unwrap();
        assert_eq!(
            cached.store.get_user(id).await.unwrap(),
            truth,
            "cache == store for {id}"
        );
    }
    assert!(
        cached.store.cache().metrics.hits.get() > 0,
        "the cache was used"
    );
}

#[tokio::test]
async fn a_stampede_of_cold_reads_makes_one_store_read() {
    let cached = Cached::on(&redis::SHARED).await;
    let stored = cached
        .mongo
        .create_user(user(unique_email("stampede")))
        .await
        .unwrap();

    let readers = (0..64).map(|_| {
        let store = cached.store.clone();
        tokio::spawn(async move { store.get_user(stored.id).await })
    });
    let results = futures_util::future::join_all(readers).await;

    assert!(results.iter().all(|r| r.as_ref().unwrap().is_ok()));
    assert_eq!(
        cached.probe.user_reads(),
        1,
        "64 concurrent readers, one store read"
    );
}

#[tokio::test]
async fn a_second_process_waits_for_the_first_ones_fill_instead_of_reading_the_store() {
    let first = Cached::on(&redis::SHARED).await;
    let second = first.second_process().await;
    let stored = first
        .mongo
        .create_user(user(unique_email("processes")))
        .await
        .unwrap();

    let readers = (0..64).map(|n| {
        let store = if n % 2 == 0 {
            first.store.clone()
        } else {
            second.store.clone()
        };
        tokio::spawn(async move { store.get_user(stored.id).await })
    });
    let results = futures_util::future::join_all(readers).await;

    assert!(results.iter().all(|r| r.as_ref().unwrap().is_ok()));
    let store_reads = first.probe.user_reads() + second.probe.user_reads();
    assert!(
        store_reads <= 2,
        "two processes, 64 readers: {store_reads} store reads"
    );
}

#[tokio::test]
async fn not_found_is_cached_briefly_and_voided_by_a_create() {
    let cached = Cached::on(&redis::SHARED).await;
    let future_user = user(unique_email("later"));

    assert!(cached.store.get_user(future_user.id).await.is_err());
    assert!(cached.store.get_user(future_user.id).await.is_err());
    assert_eq!(
        cached.probe.user_reads(),
        1,
        "the second miss came from the negative entry"
    );
    cached.store.create_user(future_user.clone()).await.unwrap();

    assert_eq!(
        cached.store.get_user(future_user.id).await.unwrap(),
        future_user
    );
}

#[tokio::test]
async fn the_password_and_the_database_number_are_honoured() {
    let server = redis::RedisServer::start_with_password("cache-secret-pw");
    let mut settings = server.settings();
    settings.password = Some("cache-secret-pw".to_owned().into());
    settings.db = 5;
    let cached = Cached::redis_only(fresh_mongo(), settings.clone()).await;
    let stored = cached
        .store
        .create_user(user(unique_email("db5")))
        .await
        .unwrap();
    cached.store.get_user(stored.id).await.unwrap();
    cached.store.get_user(stored.id).await.unwrap();

    let keys_in = |db: u8| {
        let url = format!("redis://:cache-secret-pw@127.0.0.1:{}/{db}", server.port);
        let namespace = settings.namespace.clone();
        async move {
            let client = ::redis::Client::open(url).unwrap();
            let mut connection = client.get_multiplexed_async_connection().await.unwrap();
            ::redis::cmd("KEYS")
                .arg(format!("{namespace}:*"))
                .query_async::<Vec<String>>(&mut connection)
                .await
                .unwrap()
        }
    };
    assert!(
        !keys_in(5).await.is_empty(),
        "the cache writes to database 5"
    );
    assert!(keys_in(0).await.is_empty(), "and nothing to database 0");
    assert_eq!(cached.store.cache().metrics.hits.get(), 1);

    let mut wrong = settings.clone();
    wrong.password = Some("not-the-password".to_owned().into());
    let refused = Cached::with(cached.mongo_settings.clone(), wrong).await;
    assert!(
        !refused.store.cache().is_serving(),
        "a wrong password is refused"
    );
    assert_eq!(
        refused.store.get_user(stored.id).await.unwrap(),
        stored,
        "and MongoDB still answers"
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[tokio::test]
async fn rediss_connects_with_the_right_ca_and_refuses_a_wrong_one() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (files, right_ca) = crate::tls::make_tls(dir.path(), "redis-right");
    let (_, wrong_ca) = crate::tls::make_tls(dir.path(), "redis-wrong");
    let server = redis::RedisServer::start_tls(files, right_ca.clone());
    let base = server.settings();
    let with_ca = |ca: &std::path::Path| {
        let mut settings = base.clone();
        settings.addr = format!("rediss://127.0.0.1:{}", server.port).into();
        settings.cert_path = Some(ca.to_owned());
        settings
    };

    let trusted = Cached::redis_only(fresh_mongo(), with_ca(&right_ca)).await;
    let untrusted = Cached::with(trusted.mongo_settings.clone(), with_ca(&wrong_ca)).await;

    assert!(
        trusted.store.cache().is_serving(),
        "the server's own CA is trusted"
    );
    let stored = trusted
        .store
        .create_user(user(unique_email("rediss")))
        .await
        .unwrap();
    trusted.store.get_user(stored.id).await.unwrap();
    trusted.store.get_user(stored.id).await.unwrap();
    assert_eq!(
        trusted.store.cache().metrics.hits.get(),
        1,
        "served over TLS"
    );
    assert!(
        !untrusted.store.cache().is_serving(),
        "a wrong CA is refused"
    );
    assert_eq!(
        untrusted.store.get_user(stored.id).await.unwrap(),
        stored,
        "MongoDB still answers"
    );
}

#[tokio::test]
async fn an_entry_write_invalidates_exactly_the_lists_of_its_days() {
    use balancelife::domain::MealData;
    use balancelife::store::{DateRange, PageLimit, PageRequest};
    let cached = Cached::on(&redis::SHARED).await;
    let owner = cached
        .store
        .create_user(user(unique_email("days")))
        .await
        .unwrap();
    let at = |day: &str| balancelife_testkit::fixtures::at(day, "12:00");
    let monday = balancelife_testkit::fixtures::entry::<MealData>(owner.id, 1, at("2026-04-06"));
    cached
        .store
        .meal_entries()
        .create(monday.clone())
        .await
        .unwrap();
    let list = |from: &str, to: &str| {
        let store = cached.store.clone();
        let range = DateRange::new(
            balancelife_testkit::fixtures::date(from),
            balancelife_testkit::fixtures::date(to),
        )
        .unwrap();
        async move {
            store
                .meal_entries()
                .list(owner.id, range, PageRequest::first(PageLimit::DEFAULT))
                .await
                .unwrap()
                .items
        }
    };
    // In memory or in Redis: either is the cached list.
    let hits = || cached.cache_hits();
    list("2026-04-06", "2026-04-06").await;
    list("2026-04-07", "2026-04-07").await;
    list("2026-04-06", "2026-04-12").await;

    // A new entry on Tuesday.
    let tuesday = balancelife_testkit::fixtures::entry::<MealData>(owner.id, 2, at("2026-04-07"));
    cached
        .store
        .meal_entries()
        .create(tuesday.clone())
        .await
        .unwrap();
    let before = hits();
    let monday_list = list("2026-04-06", "2026-04-06").await;
    let after_monday = hits();
    let tuesday_list = list("2026-04-07", "2026-04-07").await;
    let week = list("2026-04-06", "2026-04-12").await;

    assert_eq!(monday_list, vec![monday.clone()]);
    assert_eq!(
        after_monday,
        before + 1,
        "Monday's cached list survived a write on Tuesday"
    );
    assert_eq!(
        tuesday_list,
        vec![tuesday.clone()],
        "Tuesday's list was invalidated"
    );
    assert_eq!(
        week,
        vec![monday.clone(), tuesday.clone()],
        "so was the week covering Tuesday"
    );
    assert_eq!(hits(), after_monday, "both came from the store");

    // Moving Tuesday's entry to Wednesday voids Tuesday and Wednesday, not Monday.
    let mut moved = tuesday.clone();
    moved.data =
        <MealData as balancelife_testkit::fixtures::EntryFixture>::sample(2, at("2026-04-08"));
    moved.local_date = balancelife_testkit::fixtures::date("2026-04-08");
    cached
        .store
        .meal_entries()
        .update(moved.clone(), tuesday.updated_at)
        .await
        .unwrap();
    assert!(list("2026-04-07", "2026-04-07").await.is_empty());
    assert_eq!(list("2026-04-08", "2026-04-08").await, vec![moved]);
    let before = hits();
    list("2026-04-06", "2026-04-06").await;
    assert_eq!(hits(), before + 1, "Monday still cached");
}

/// A write costs the next summary the day it touched: the month it voided is put
/// together again from its days' own cached sums, and that day alone is read from
/// the store, whatever else the month holds.
#[tokio::test]
async fn after_a_write_a_summary_reads_only_the_day_it_touched() {
    use balancelife::domain::MealData;
    use balancelife::store::DateRange;
    use balancelife_testkit::fixtures::{at, date, entry};
    let cached = Cached::on(&redis::SHARED).await;
    let owner = cached
        .store
        .create_user(user(unique_email("sums")))
        .await
        .unwrap();
    let meals = cached.store.meal_entries();
    for (n, day) in (1..).zip(["2026-01-28", "2026-02-03", "2026-02-10", "2026-02-20"]) {
        let made = entry::<MealData>(owner.id, n, at(day, "12:00"));
        meals.create(made).await.unwrap();
    }
    let summary = DateRange::new(date("2026-01-29"), date("2026-02-25")).unwrap();
    let read_from_store = || {
        let mut ranges: Vec<(String, String)> = cached
            .probe
            .take_meal_day_sums_read()
            .into_iter()
            .map(|range| (range.from().to_string(), range.to().to_string()))
            .collect();
        ranges.sort();
        ranges
    };
    let day = |day: &str| (day.to_owned(), day.to_owned());

    meals.day_sums(owner.id, summary).await.unwrap();
    let cold = read_from_store();
    meals.day_sums(owner.id, summary).await.unwrap();
    let warm = read_from_store();
    let late = entry::<MealData>(owner.id, 9, at("2026-02-10", "19:00"));
    meals.create(late).await.unwrap();
    let after_write = meals.day_sums(owner.id, summary).await.unwrap();
    let read_after_write = read_from_store();

    assert_eq!(
        cold,
        vec![
            ("2026-01-01".to_owned(), "2026-01-31".to_owned()),
            ("2026-02-01".to_owned(), "2026-02-28".to_owned()),
        ],
        "a cold month is one read over its days"
    );
    assert!(warm.is_empty(), "read again from the store: {warm:?}");
    assert_eq!(
        read_after_write,
        vec![day("2026-02-10")],
        "after a write, only its day is read again"
    );
    assert_eq!(after_write[&date("2026-02-10")].entries, 2);
    assert_eq!(after_write.len(), 3, "{after_write:?}");
}

#[tokio::test]
async fn reading_a_whole_history_bypasses_the_cache_and_keeps_it_healthy() {
    use balancelife::domain::MealData;
    use balancelife::store::{DateRange, all_entries};
    let cached = Cached::on(&redis::SHARED).await;
    let owner = cached
        .store
        .create_user(user(unique_email("history")))
        .await
        .unwrap();
    for day in ["2026-01-05", "2026-02-05", "2026-03-05"] {
        let entry = balancelife_testkit::fixtures::entry::<MealData>(
            owner.id,
            1,
            balancelife_testkit::fixtures::at(day, "12:00"),
        );
        cached.store.meal_entries().create(entry).await.unwrap();
    }
    let everything = DateRange::new(
        balancelife_testkit::fixtures::date("2000-01-01"),
        balancelife_testkit::fixtures::date("2200-01-01"),
    )
    .unwrap();

    let all = all_entries::<MealData>(cached.store.meal_entries(), owner.id, everything)
        .await
        .unwrap();

    assert_eq!(all.len(), 3);
    let metrics = &cached.store.cache().metrics;
    assert_eq!(
        metrics.redis_timeouts.get(),
        0,
        "no 73,000-guard script ran"
    );
    assert!(
        cached.store.cache().is_serving(),
        "the breaker stayed closed"
    );
}

#[tokio::test]
async fn health_shows_the_eviction_policy_and_is_degraded_unless_it_is_noeviction() {
    use balancelife::store::ComponentStatus;
    let server = redis::RedisServer::start();
    let command = |args: &'static [&'static str]| {
        let url = format!("redis://{}/", server.addr());
        async move {
            let client = ::redis::Client::open(url).unwrap();
            let mut connection = client.get_multiplexed_async_connection().await.unwrap();
            let mut command = ::redis::cmd(args[0]);
            command.arg(&args[1..]);
            command.query_async::<()>(&mut connection).await.unwrap();
        }
    };
    let health = |cached: Cached| cached.store.cache().health();

    let safe = health(Cached::redis_only(fresh_mongo(), server.settings()).await);
    command(&["CONFIG", "SET", "maxmemory-policy", "volatile-lru"]).await;
    let evicting = health(Cached::redis_only(fresh_mongo(), server.settings()).await);
    command(&[
        "ACL",
        "SETUSER",
        "cacheonly",
        "on",
        ">cache-pw",
        "~*",
        "&*",
        "+@all",
        "-config",
    ])
    .await;
    let mut restricted = server.settings();
    restricted.addr = format!("redis://cacheonly:cache-pw@{}/", server.addr()).into();
    let cached = Cached::redis_only(fresh_mongo(), restricted).await;
    let stored = cached
        .store
        .create_user(user(unique_email("acl")))
        .await
        .unwrap();
    cached.store.get_user(stored.id).await.unwrap();
    cached.store.get_user(stored.id).await.unwrap();

    assert_eq!(safe.eviction_policy.as_deref(), Some("noeviction"));
    assert_eq!(safe.status, ComponentStatus::Up);
    assert_eq!(evicting.eviction_policy.as_deref(), Some("volatile-lru"));
    assert_eq!(evicting.status, ComponentStatus::Degraded);
    assert!(evicting.detail.unwrap().contains("noeviction"));
    let unknown = health(cached.clone());
    assert_eq!(
        unknown.eviction_policy.as_deref(),
        Some("unknown"),
        "CONFIG refused, as on some managed services"
    );
    assert_eq!(unknown.status, ComponentStatus::Up);
    assert_eq!(
        cached.store.cache().metrics.hits.get(),
        1,
        "and the cache works without it"
    );
}

/// A client that is the only writer of its user must never be told it changed
/// meanwhile, even where the cache holds an older copy than MongoDB (another
/// instance's write whose invalidation has not arrived, a cache master failing
/// over): the update is conditional on the stored revision, not the cached one.
#[tokio::test]
async fn a_user_cached_older_than_the_store_fails_no_patch_of_its_only_writer() {
    use axum::http::StatusCode;
    use serde_json::json;

    let cached = Cached::on(&redis::SHARED).await;
    cached.l1_ready().await;
    let app = crate::support::TestApp::cached(cached.store.clone());
    let signed_up = app.register("only-writer", json!({})).await;
    for _ in 0..2 {
        app.get("/api/v1/users/me", Some(&signed_up.token)).await;
    }
    // The store moves on behind the cache's back.
    let stored = cached.mongo.get_user(signed_up.id).await.unwrap();
    let moved_on = renamed(&stored, "Written Elsewhere");
    cached.mongo.update_user(moved_on, &stored).await.unwrap();
    let cached_copy = app.get("/api/v1/users/me", Some(&signed_up.token)).await;
    assert_ne!(
        cached_copy.body["name"], "Written Elsewhere",
        "the cache is behind"
    );

    let patched = app
        .patch(
            "/api/v1/users/me",
            Some(&signed_up.token),
            json!({"name": "Written Here"}),
        )
        .await;

    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["name"], "Written Here");
    let read_back = app.get("/api/v1/users/me", Some(&signed_up.token)).await;
    assert_eq!(read_back.body["name"], "Written Here");
}
