//! The cache's scopes and the races they close: a lost invalidation voids only
//! the scopes its write touched, list guards are compared one by one, a failed load
//! gives its fill lease back, and a deleted user's current e-mail is voided.

use std::sync::Arc;
use std::time::Duration;

use balancelife::config::MongoSettings;
use balancelife::domain::{Entry, MealData};
use balancelife::store::cache::keys::{KEY_VERSION, Scope};
use balancelife::store::{DateRange, PageLimit, PageRequest, Store};

use balancelife_testkit::fixtures::{EntryFixture, at, date, entry, unique_email, user};
use balancelife_testkit::servers::mongo::{self, MongoServer};
use balancelife_testkit::servers::redis::{RedisServer, SHARED as SHARED_REDIS};

use crate::support::{Cached, until};

async fn redis_connection(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(format!("redis://{}/", server.addr()))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_lost_invalidation_voids_only_the_scopes_its_write_touched() {
    let server = RedisServer::start();
    let mut settings = server.settings();
    settings.timeout = Duration::from_millis(50);
    let cached = Cached::with(mongo::SHARED.settings(&mongo::fresh_database()), settings).await;
    let store = &cached.store;
    let written = store.create_user(user(unique_email("lost"))).await.unwrap();
    let bystander = store
        .create_user(user(unique_email("bystander")))
        .await
        .unwrap();
    store.get_user(written.id).await.unwrap();
    store.get_user(bystander.id).await.unwrap();

    // The write's invalidation times out: Redis is frozen.
    server.freeze();
    let mut renamed = written.clone();
    renamed.name = "Renamed Meanwhile".try_into().unwrap();
    let renamed = store.update_user(renamed, &written).await.unwrap();
    server.thaw();
    let cache = store.cache().clone();
    until(
        "the lost invalidation's scopes renewed",
        Duration::from_secs(10),
        || cache.is_serving() && cache.health().status == balancelife::store::ComponentStatus::Up,
    )
    .await;

    assert!(
        cache.metrics.invalidation_failures.get() > 0,
        "the invalidation was lost"
    );
    let hits = cached.cache_hits();
    assert_eq!(store.get_user(bystander.id).await.unwrap(), bystander);
    assert_eq!(
        cached.cache_hits(),
        hits + 1,
        "another user's cached record survived the renewal"
    );
    assert_eq!(store.get_user(written.id).await.unwrap(), renamed);
    let second_process = cached.second_process().await;
    assert_eq!(
        second_process.store.get_user(written.id).await.unwrap(),
        renamed,
        "no process serves the value from before the write"
    );
}

#[tokio::test]
async fn list_guards_are_compared_one_by_one_not_by_their_sum() {
    // Without the in-process tier: the guards are moved in Redis behind the cache's
    // back, where no invalidation message tells the tier.
    let cached = Cached::redis_only(
        mongo::SHARED.settings(&mongo::fresh_database()),
        SHARED_REDIS.settings(),
    )
    .await;
    let owner = cached
        .store
        .create_user(user(unique_email("guards")))
        .await
        .unwrap();
    let range = DateRange::new(date("2026-03-02"), date("2026-03-03")).unwrap();
    let list = || async {
        cached
            .store
            .meal_entries()
            .list(owner.id, range, PageRequest::first(PageLimit::DEFAULT))
            .await
            .unwrap()
            .items
    };
    let mut redis = redis_connection(&SHARED_REDIS).await;
    let cache = cached.store.cache();
    let scope = Scope::user(owner.id);
    let monday = cache.key(&scope, "meal-day:2026-03-02");
    let tuesday = cache.key(&scope, "meal-day:2026-03-03");
    // Monday's guard stands at 1 (a write there), Tuesday's at 0; the list is cached.
    let _: () = redis::cmd("SET")
        .arg(&monday)
        .arg(1)
        .arg("PX")
        .arg(60_000)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(list().await.is_empty());
    // An entry arrives on Tuesday behind the cache's back, and the guards move in
    // opposite ways: Monday's is evicted (back to 0), Tuesday's is bumped to 1.
    let tuesdays = entry::<MealData>(owner.id, 1, at("2026-03-03", "08:00"));
    cached
        .mongo
        .meal_entries()
        .create(tuesdays.clone())
        .await
        .unwrap();
    let _: () = redis::cmd("DEL")
        .arg(&monday)
        .query_async(&mut redis)
        .await
        .unwrap();
    let _: () = redis::cmd("INCR")
        .arg(&tuesday)
        .query_async(&mut redis)
        .await
        .unwrap();

    assert_eq!(
        list().await,
        vec![tuesdays],
        "the guards' sum is unchanged, but the list was read under others"
    );
}

#[tokio::test]
async fn a_failed_load_gives_its_fill_lease_back() {
    let mongo_server = MongoServer::start();
    let mongo_settings = MongoSettings {
        timeout: Duration::from_millis(300),
        ..mongo_server.settings(&mongo::fresh_database())
    };
    let cached = Cached::with(mongo_settings, SHARED_REDIS.settings()).await;
    let stored = cached
        .store
        .create_user(user(unique_email("lease")))
        .await
        .unwrap();
    let lease = format!(
        "{}:lease",
        cached.store.cache().key(&Scope::user(stored.id), "user")
    );

    mongo_server.freeze();
    let failed = cached.store.get_user(stored.id).await;
    let mut redis = redis_connection(&SHARED_REDIS).await;
    let lease_left: i64 = redis::cmd("EXISTS")
        .arg(&lease)
        .query_async(&mut redis)
        .await
        .unwrap();
    mongo_server.thaw();

    assert!(failed.is_err(), "MongoDB was frozen: {failed:?}");
    assert_eq!(
        lease_left, 0,
        "the lease was given back, so other readers need not wait out its 3 s"
    );
    assert_eq!(cached.store.get_user(stored.id).await.unwrap(), stored);
}

#[tokio::test]
async fn deleting_a_user_voids_the_e_mail_they_had_when_deleted() {
    let cached = Cached::on(&SHARED_REDIS).await;
    let store = cached.store.clone();
    let stored = store
        .create_user(user(unique_email("leaving")))
        .await
        .unwrap();
    // The deletion reads the user (address A) and is held there.
    let held = cached.probe.hold_next_user_read();
    let deletion = {
        let store = store.clone();
        tokio::spawn(async move { store.delete_user(stored.id).await })
    };
    held.read_done.await.unwrap();
    // Meanwhile the address changes to B, and a log-in caches B.
    let mut moved = stored.clone();
    moved.email = unique_email("new-address");
    moved.updated_at = stored.updated_at + chrono::Duration::milliseconds(1);
    store.update_user(moved.clone(), &stored).await.unwrap();
    assert_eq!(store.get_user_by_email(&moved.email).await.unwrap(), moved);
    held.release.notify_one();
    deletion.await.unwrap().unwrap();

    assert!(
        store.get_user_by_email(&moved.email).await.is_err(),
        "the deleted user cannot be found (nor log in) by the address they had last"
    );
    assert!(store.get_user_by_email(&stored.email).await.is_err());
}

/// The same entry moved to `day` at noon, as a later version.
fn moved_to(original: &Entry<MealData>, day: &str, later_ms: i64) -> Entry<MealData> {
    let mut moved = original.clone();
    moved.data = <MealData as EntryFixture>::sample(1, at(day, "12:00"));
    moved.local_date = date(day);
    moved.updated_at = original.updated_at + chrono::Duration::milliseconds(later_ms);
    moved
}

#[tokio::test]
async fn a_put_racing_a_move_leaves_no_days_list_stale() {
    let cached = Cached::on(&SHARED_REDIS).await;
    let store = cached.store.clone();
    let owner = store
        .create_user(user(unique_email("put-race")))
        .await
        .unwrap();
    let original = entry::<MealData>(owner.id, 1, at("2026-05-04", "12:00"));
    store.meal_entries().create(original.clone()).await.unwrap();
    let day_list = |source: Arc<dyn Store>, day: &'static str| async move {
        let range = DateRange::new(date(day), date(day)).unwrap();
        source
            .meal_entries()
            .list(owner.id, range, PageRequest::first(PageLimit::DEFAULT))
            .await
            .unwrap()
            .items
    };

    // A PUT moves the entry from Monday to Wednesday. Should it read the entry's day
    // before writing, it is held there while a PATCH moves the entry to Tuesday and
    // Tuesday's list is cached with it.
    let held = cached.probe.hold_next_meal_entry_read();
    let mut put = {
        let store = store.clone();
        let to_wednesday = moved_to(&original, "2026-05-06", 2);
        tokio::spawn(async move { store.meal_entries().put(to_wednesday).await })
    };
    let mut read_done = held.read_done;
    let put_finished_first = tokio::select! {
        _ = &mut read_done => {
            let to_tuesday = moved_to(&original, "2026-05-05", 1);
            store
                .meal_entries()
                .update(to_tuesday.clone(), original.updated_at)
                .await
                .unwrap();
            assert_eq!(day_list(store.clone(), "2026-05-05").await, vec![to_tuesday]);
            held.release.notify_one();
            false
        }
        _ = &mut put => true,
    };
    if !put_finished_first {
        put.await.unwrap().unwrap();
    }

    let stored: Arc<dyn Store> = cached.mongo.clone();
    for day in ["2026-05-04", "2026-05-05", "2026-05-06"] {
        assert_eq!(
            day_list(store.clone(), day).await,
            day_list(stored.clone(), day).await,
            "the cached list of {day} is what MongoDB holds"
        );
    }
}

#[tokio::test]
async fn a_lost_epoch_is_restored_and_every_process_converges_on_it() {
    let first = Cached::on(&SHARED_REDIS).await;
    assert!(first.store.cache().bump_namespace().await);
    let epoch = first.store.cache().epoch();
    // The key is lost (a restart without persistence, a failover that dropped it).
    let mut redis = redis_connection(&SHARED_REDIS).await;
    let epoch_key = format!("{}:{KEY_VERSION}:epoch", first.redis_settings.namespace);
    let _: () = redis::cmd("DEL")
        .arg(&epoch_key)
        .query_async(&mut redis)
        .await
        .unwrap();

    let second = first.second_process().await;
    let cache = second.store.cache().clone();
    until(
        "the new process on the running epoch",
        Duration::from_secs(5),
        || cache.epoch() == epoch,
    )
    .await;
    let held: u64 = redis::cmd("GET")
        .arg(&epoch_key)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(held, epoch, "written back by the process that knew it");
}

#[tokio::test]
async fn a_guard_absent_at_a_fill_outlives_the_value_filled_under_it() {
    let cached = Cached::on(&SHARED_REDIS).await;
    let owner = cached
        .store
        .create_user(user(unique_email("guard-ttl")))
        .await
        .unwrap();
    let day = DateRange::day(date("2026-04-01"));
    cached
        .store
        .meal_entries()
        .list(owner.id, day, PageRequest::first(PageLimit::DEFAULT))
        .await
        .unwrap();

    let cache = cached.store.cache();
    let scope = Scope::user(owner.id);
    let guard = cache.key(&scope, "meal-day:2026-04-01");
    let value = cache.key(
        &scope,
        &format!(
            "meal-entries:2026-04-01:2026-04-01:{}:-",
            PageLimit::DEFAULT.get()
        ),
    );
    let redis = redis_connection(&SHARED_REDIS).await;
    let ttl = |key: String| {
        let mut redis = redis.clone();
        async move {
            redis::cmd("PTTL")
                .arg(key)
                .query_async::<i64>(&mut redis)
                .await
                .unwrap()
        }
    };
    let (guard_ttl, value_ttl) = (ttl(guard).await, ttl(value).await);
    assert!(value_ttl > 0, "the list was cached");
    assert!(
        guard_ttl >= value_ttl,
        "the guard ({guard_ttl} ms) lives at least as long as the value ({value_ttl} ms)"
    );
}

/// What one Redis server counts: read events it processed (a pipeline of many
/// commands is a few, a command per round trip is one each) and calls of EVALSHA
/// (every script the cache runs).
async fn server_counters(server: &RedisServer) -> (u64, u64) {
    let mut redis = redis_connection(server).await;
    let stats: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(&mut redis)
        .await
        .unwrap();
    let commands: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut redis)
        .await
        .unwrap();
    let number = |text: &str, start: &str, end: char| -> u64 {
        text.lines()
            .find_map(|line| line.strip_prefix(start))
            .map_or(0, |rest| {
                rest.split(end).next().unwrap().trim().parse().unwrap()
            })
    };
    (
        number(&stats, "total_reads_processed:", '\r'),
        number(&commands, "cmdstat_evalsha:calls=", ','),
    )
}

/// A cache on a server of its own, serving, and `lost` invalidations of as many
/// users' scopes lost while the server was frozen (a Redis outage under many
/// writers); returns the server's counters from before the outage.
async fn scopes_lost_in_an_outage(server: &RedisServer, lost: usize) -> (Cached, (u64, u64)) {
    use balancelife::store::cache::keys::Invalidation;
    let mut settings = server.settings();
    settings.timeout = Duration::from_millis(50);
    let cached = Cached::with(mongo::SHARED.settings(&mongo::fresh_database()), settings).await;
    let cache = cached.store.cache().clone();
    until("the cache serving", Duration::from_secs(5), || {
        cache.is_serving()
    })
    .await;
    let before = server_counters(server).await;
    server.freeze();
    for _ in 0..lost {
        let write = Invalidation::keys(Scope::user(uuid::Uuid::now_v7()), &["user"]);
        assert!(!cache.invalidate(&[write]).await, "lost");
    }
    assert_eq!(cache.metrics.invalidation_failures.get(), lost as u64);
    // Out a little longer, as an outage is: the recovery rounds find it so.
    tokio::time::sleep(Duration::from_millis(600)).await;
    (cached, before)
}

#[tokio::test]
async fn thousands_of_scopes_lost_in_an_outage_are_renewed_in_a_few_round_trips() {
    const LOST: usize = 3000;
    let server = RedisServer::start();
    let (cached, before) = scopes_lost_in_an_outage(&server, LOST).await;
    let cache = cached.store.cache().clone();

    server.thaw();
    until("every scope renewed", Duration::from_secs(20), || {
        cache.health().status == balancelife::store::ComponentStatus::Up
    })
    .await;

    let (reads, scripts) = server_counters(&server).await;
    assert!(
        scripts - before.1 >= LOST as u64,
        "every scope's generation bumped"
    );
    assert_eq!(cache.metrics.scope_renewals.get(), LOST as u64);
    // Batches of 500: six round trips (twelve if every batch had to be sent
    // twice), where one a scope took three thousand.
    let round_trips = cache.metrics.renewal_round_trips.get();
    assert!((6..=12).contains(&round_trips), "{round_trips} round trips");
    assert!(
        reads - before.0 < (LOST / 5) as u64,
        "Redis read {} times for {LOST} renewals",
        reads - before.0
    );
}

#[tokio::test]
async fn scopes_lost_past_the_bound_are_renewed_by_one_whole_cache_flush() {
    let lost = balancelife::store::cache::RENEW_AT_MOST + 1;
    let server = RedisServer::start();
    let (cached, before) = scopes_lost_in_an_outage(&server, lost).await;
    let cache = cached.store.cache().clone();
    let epoch = cache.epoch();

    server.thaw();
    until("the whole cache flushed", Duration::from_secs(20), || {
        cache.health().status == balancelife::store::ComponentStatus::Up
    })
    .await;

    assert_eq!(cache.epoch(), epoch + 1, "one new namespace epoch");
    assert_eq!(cache.metrics.namespace_bumps.get(), 1);
    assert_eq!(
        cache.metrics.renewal_round_trips.get(),
        0,
        "no scope renewed one by one"
    );
    let (_, scripts) = server_counters(&server).await;
    assert!(
        scripts - before.1 < 100,
        "{} scripts ran",
        scripts - before.1
    );
}
