//! The cache on a Redis Cluster: found by itself, shown on `/health`, every script on
//! one slot, and a master lost under traffic costing no request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::json;

use balancelife::config::{RedisMode, RedisSettings, Settings};
use balancelife::store::Store;
use balancelife::store::cache::RedisCache;
use balancelife::store::cache::keys::KEY_VERSION;

use balancelife_testkit::fixtures::{at, date, entry, meal_package, unique_email, user};
use balancelife_testkit::servers::cluster::{self, RedisCluster};
use balancelife_testkit::servers::mongo;

use crate::support::{Cached, TestApp, until};

#[tokio::test]
async fn a_cluster_is_recognised_and_health_counts_its_masters() {
    let cached = Cached::on_cluster(&cluster::SHARED).await;
    let app = TestApp::cached(cached.store.clone());

    let health = app.get("/health", None).await;

    let redis = &health.body["components"]["redis"];
    assert_eq!(redis["mode"], "cluster", "{redis}");
    assert_eq!(redis["masters"], 3, "{redis}");
    assert_eq!(redis["status"], "up", "{redis}");
}

#[tokio::test]
async fn a_database_number_with_a_cluster_is_a_configuration_error() {
    let mut settings = cluster::SHARED.settings();
    settings.db = 2;

    let refused = RedisCache::start(&settings, &Settings::default().cache).await;

    let message = refused.err().expect("refused").to_string();
    assert!(message.contains("REDIS_DB"), "{message}");
    settings.mode = RedisMode::Cluster;
    assert!(
        RedisCache::start(&settings, &Settings::default().cache)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn every_cached_read_and_write_runs_on_one_slot() {
    use balancelife::domain::MealData;
    use balancelife::store::{DateRange, PageLimit, PageRequest};
    let cached = Cached::on_cluster(&cluster::SHARED).await;
    let store = cached.store.clone();
    let owner = store
        .create_user(user(unique_email("slots")))
        .await
        .unwrap();
    let package = meal_package("cluster-bowl", &["quick"], true);
    store.meal_packages().upsert(package.clone()).await.unwrap();
    let meal = entry::<MealData>(owner.id, 1, at("2026-02-02", "08:00"));
    store.meal_entries().create(meal.clone()).await.unwrap();
    let week = DateRange::new(date("2026-02-01"), date("2026-02-07")).unwrap();

    for _ in 0..2 {
        store.get_user(owner.id).await.unwrap();
        store.get_user_by_email(&owner.email).await.unwrap();
        store.meal_packages().get(package.id).await.unwrap();
        store
            .meal_packages()
            .list(&Default::default(), PageRequest::first(PageLimit::DEFAULT))
            .await
            .unwrap();
        store
            .meal_entries()
            .list(owner.id, week, PageRequest::first(PageLimit::DEFAULT))
            .await
            .unwrap();
    }
    store
        .meal_entries()
        .delete(owner.id, meal.id)
        .await
        .unwrap();
    store.delete_user(owner.id).await.unwrap();

    let metrics = &store.cache().metrics;
    // A read by e-mail also reads the user's own record, a hit in both rounds.
    assert_eq!(
        cached.cache_hits(),
        7,
        "the second round came from the cluster"
    );
    assert_eq!(
        (
            metrics.redis_errors.get(),
            metrics.invalidation_failures.get()
        ),
        (0, 0),
        "no script was refused (a cross-slot script would be)"
    );
}

#[tokio::test]
async fn a_master_killed_under_traffic_fails_no_request_and_hits_return() {
    let mut cluster = RedisCluster::start();
    let cached = Cached::redis_only(
        mongo::SHARED.settings(&mongo::fresh_database()),
        cluster.settings(),
    )
    .await;
    let app = Arc::new(TestApp::cached(cached.store.clone()));
    let user = app.register("cluster-traffic", json!({})).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (served, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let traffic = {
        let (app, stop, served, failed) =
            (app.clone(), stop.clone(), served.clone(), failed.clone());
        let token = user.token.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::Acquire) {
                for path in ["/api/v1/users/me", "/api/v1/meal-packages?limit=5"] {
                    let response = app.get(path, Some(&token)).await;
                    let counter = if response.status == StatusCode::OK {
                        &served
                    } else {
                        &failed
                    };
                    counter.fetch_add(1, Ordering::AcqRel);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;

    let victim = cluster.masters()[0];
    cluster.kill_node(victim);
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, Ordering::Release);
    traffic.await.unwrap();

    assert_eq!(failed.load(Ordering::Acquire), 0, "no request failed");
    assert!(served.load(Ordering::Acquire) > 20);
    let cache = cached.store.cache().clone();
    until("the cache serving again", Duration::from_secs(15), || {
        cache.is_serving()
    })
    .await;
    let hits = cache.metrics.hits.get();
    for _ in 0..3 {
        app.get("/api/v1/users/me", Some(&user.token)).await;
        app.get("/api/v1/meal-packages?limit=5", Some(&user.token))
            .await;
    }
    assert!(
        cache.metrics.hits.get() > hits,
        "hits again after the failover"
    );
}

#[tokio::test]
async fn slots_moved_under_traffic_fail_no_request_and_serve_nothing_stale() {
    let cluster = RedisCluster::start();
    let cached = Cached::with(
        mongo::SHARED.settings(&mongo::fresh_database()),
        cluster.settings(),
    )
    .await;
    let app = Arc::new(TestApp::cached(cached.store.clone()));
    let people = [
        app.register("reshard-a", json!({})).await,
        app.register("reshard-b", json!({})).await,
        app.register("reshard-c", json!({})).await,
    ];
    let stop = Arc::new(AtomicBool::new(false));
    let (failed, stale, rounds) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    // Each person in turn: a new name, then reads that must show it.
    let traffic = {
        let (app, stop) = (app.clone(), stop.clone());
        let (failed, stale, rounds) = (failed.clone(), stale.clone(), rounds.clone());
        tokio::spawn(async move {
            let mut round = 0;
            while !stop.load(Ordering::Acquire) {
                for person in &people {
                    round += 1;
                    let name = format!("Name {round}");
                    let written = app
                        .patch(
                            "/api/v1/users/me",
                            Some(&person.token),
                            json!({ "name": name }),
                        )
                        .await;
                    if written.status != StatusCode::OK {
                        failed.fetch_add(1, Ordering::AcqRel);
                        continue;
                    }
                    for path in ["/api/v1/users/me", "/api/v1/meal-packages?limit=3"] {
                        let read = app.get(path, Some(&person.token)).await;
                        if read.status != StatusCode::OK {
                            failed.fetch_add(1, Ordering::AcqRel);
                        } else if path.ends_with("/me") && read.body["name"] != json!(name) {
                            stale.fetch_add(1, Ordering::AcqRel);
                        }
                    }
                }
                rounds.fetch_add(1, Ordering::AcqRel);
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;

    let masters = cluster.masters();
    let (from, to) = (masters[0], masters[1]);
    tokio::task::spawn_blocking(move || {
        cluster.move_slots(from, to, 1500);
        cluster
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Release);
    traffic.await.unwrap();

    assert!(
        rounds.load(Ordering::Acquire) > 3,
        "traffic ran through the move"
    );
    assert_eq!(failed.load(Ordering::Acquire), 0, "no request failed");
    assert_eq!(
        stale.load(Ordering::Acquire),
        0,
        "no read older than its write"
    );
    assert!(cached.cache_hits() > 0);
}

/// Heartbeats cost what the instances are, not its square: each instance's go on a
/// channel of its own, which only it listens to, and none on the invalidation
/// channel every instance listens to.
#[tokio::test]
async fn each_instance_hears_its_own_heartbeats_and_no_one_elses() {
    use futures_util::StreamExt;
    let first = Cached::on_cluster(&cluster::SHARED).await;
    let second = first.second_process().await;
    first.l1_ready().await;
    second.l1_ready().await;
    let prefix = format!("{}:{KEY_VERSION}:l1", first.redis_settings.namespace);
    let seed = &cluster::SHARED.seed_addrs()[0];
    let mut listener = redis::Client::open(format!("redis://{seed}"))
        .unwrap()
        .get_async_pubsub()
        .await
        .unwrap();
    listener.psubscribe(format!("{prefix}*")).await.unwrap();
    let mut messages = listener.into_on_message();

    let mut heard: Vec<(String, String)> = Vec::new();
    let listening = tokio::time::sleep(Duration::from_secs(1));
    tokio::pin!(listening);
    loop {
        tokio::select! {
            message = messages.next() => {
                let message = message.expect("the subscription lives");
                heard.push((message.get_channel_name().to_owned(), message.get_payload().unwrap()));
            }
            () = &mut listening => break,
        }
    }

    let heartbeats: Vec<&(String, String)> = heard
        .iter()
        .filter(|(_, payload)| payload.starts_with("h\n"))
        .collect();
    assert!(!heartbeats.is_empty(), "both instances send heartbeats");
    assert!(
        heartbeats.iter().all(|(channel, _)| *channel != prefix),
        "no heartbeat on the channel every instance listens to"
    );
    let mut channels: Vec<&str> = heartbeats
        .iter()
        .map(|(channel, _)| channel.as_str())
        .collect();
    channels.sort_unstable();
    channels.dedup();
    assert_eq!(channels.len(), 2, "a channel per instance: {channels:?}");
    for channel in channels {
        assert_eq!(subscribers(channel), 1, "{channel} has its instance alone");
    }
}

/// Subscribers of `channel` over every node of the shared cluster.
fn subscribers(channel: &str) -> i64 {
    cluster::SHARED
        .seed_addrs()
        .iter()
        .map(|node| {
            let mut connection = redis::Client::open(format!("redis://{node}"))
                .unwrap()
                .get_connection()
                .unwrap();
            let counts: Vec<(String, i64)> = redis::cmd("PUBSUB")
                .arg("NUMSUB")
                .arg(channel)
                .query(&mut connection)
                .unwrap();
            counts.iter().map(|(_, count)| count).sum::<i64>()
        })
        .sum()
}

/// The product's promise for a master's failover: every instance serves cache hits
/// again, steadily, within 3 s of the replica's promotion. Asserted with a second
/// of margin for a loaded machine. Meanwhile a client writing alone, through
/// either instance in turn, never sees a conflict and reads its writes back; and
/// once the cluster has moved on nobody dials the dead master any more.
#[tokio::test]
async fn after_a_master_fails_over_every_instance_serves_hits_again_within_three_seconds() {
    const PROMISE: Duration = Duration::from_secs(3);
    const MARGIN: Duration = Duration::from_secs(1);
    let mut cluster = RedisCluster::start();
    let first = Cached::with(
        mongo::SHARED.settings(&mongo::fresh_database()),
        at_default_deadline(&cluster),
    )
    .await;
    let second = first.second_process().await;
    first.l1_ready().await;
    second.l1_ready().await;
    let instances = [
        (TestApp::cached(first.store.clone()), &first),
        (TestApp::cached(second.store.clone()), &second),
    ];
    let writer = instances[0].0.register("failover", json!({})).await;
    // The master serving the writer's scope: its reads and writes go through the
    // failover, not around it.
    let victim = cluster.master_serving(&format!("{{u:{}}}", writer.id));

    let killed = Instant::now();
    cluster.kill_node(victim);
    let cluster = Arc::new(cluster);
    let promotion = {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || {
            while killed.elapsed() < Duration::from_secs(30) {
                let masters = cluster.masters();
                if masters.len() == 3 && !masters.contains(&victim) {
                    return Some(Instant::now());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            None
        })
    };
    let mut promotion = promotion;
    let (mut promoted_at, mut dialed) = (None, None);
    let mut samples: Vec<(Instant, bool)> = Vec::new();
    let (mut writes, mut last_name) = (Vec::new(), String::new());
    loop {
        if promoted_at.is_none() && promotion.is_finished() {
            let at = (&mut promotion).await.unwrap();
            promoted_at = Some(at.expect("the replica was promoted within 30 s"));
        }
        let since_promotion = promoted_at.map(|at: Instant| at.elapsed());
        if dialed.is_none() && since_promotion.is_some_and(|since| since > Duration::from_secs(1)) {
            dialed = Some(dials_of(victim));
        }
        if since_promotion.is_some_and(|since| since > PROMISE + MARGIN + Duration::from_secs(3)) {
            break;
        }
        let (app, _) = &instances[writes.len() % 2];
        last_name = format!("Name {}", writes.len());
        let written = app
            .patch(
                "/api/v1/users/me",
                Some(&writer.token),
                json!({ "name": last_name }),
            )
            .await;
        writes.push(written.status);
        let mut all_hit = true;
        for (app, cached) in &instances {
            all_hit &= serves_hits(app, cached, &writer.token).await;
        }
        samples.push((Instant::now(), all_hit));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (promoted_at, dialed) = (promoted_at.unwrap(), dialed.unwrap());
    let steady_from = samples
        .iter()
        .rposition(|(_, all_hit)| !all_hit)
        .map_or(samples[0].0, |last_miss| samples[last_miss + 1].0);
    assert!(
        steady_from.saturating_duration_since(promoted_at) <= PROMISE + MARGIN,
        "steady hits {:?} after the promotion ({:?} after the kill)",
        steady_from.saturating_duration_since(promoted_at),
        promoted_at - killed
    );
    assert!(
        writes.iter().all(|status| *status == StatusCode::OK),
        "the only writer was answered {writes:?}"
    );
    for (app, _) in &instances {
        let app_name = || async {
            app.get("/api/v1/users/me", Some(&writer.token)).await.body["name"].clone()
        };
        assert_eq!(
            app_name().await,
            json!(last_name),
            "the last write is read back everywhere"
        );
    }
    assert_eq!(
        dialed.load(Ordering::Acquire),
        0,
        "the dead master was dialed again"
    );
}

/// Whether `app` answers the writer's user and a catalogue page from a cache tier
/// (the second read of each), says it is cached, and its in-process tier serves.
async fn serves_hits(app: &TestApp, cached: &Cached, token: &str) -> bool {
    let health = app.get("/health", None).await;
    let mut hits = 0;
    for path in ["/api/v1/users/me", "/api/v1/meal-packages?limit=5"] {
        app.get(path, Some(token)).await;
        let before = cached.cache_hits();
        let read = app.get(path, Some(token)).await;
        hits += usize::from(read.status == StatusCode::OK && cached.cache_hits() > before);
    }
    health.body["store"] == "cached"
        && health.body["components"]["redis"]["status"] == "up"
        && cached.store.cache().l1().is_some_and(|l1| l1.is_serving())
        && hits == 2
}

/// Counts connections to `port` (a dead node's) from now on.
fn dials_of(port: u16) -> Arc<AtomicUsize> {
    let dials = Arc::new(AtomicUsize::new(0));
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("the dead node's port");
    let counted = dials.clone();
    std::thread::spawn(move || {
        for connection in listener.incoming() {
            counted.fetch_add(1, Ordering::AcqRel);
            drop(connection);
        }
    });
    dials
}

/// One master's trouble sends only the reads of its own slots to MongoDB: right
/// after a master dies (before the cluster agrees it failed, which takes at least
/// half its node timeout), a user whose scope another master serves is still read
/// from Redis every time.
#[tokio::test]
async fn a_dead_master_leaves_the_other_masters_slots_cached() {
    let mut cluster = RedisCluster::start();
    let cached = Cached::redis_only(
        mongo::SHARED.settings(&mongo::fresh_database()),
        at_default_deadline(&cluster),
    )
    .await;
    let store = cached.store.clone();
    let on_victim = store
        .create_user(user(unique_email("victim")))
        .await
        .unwrap();
    let victim = cluster.master_serving(&format!("{{u:{}}}", on_victim.id));
    let mut elsewhere = store
        .create_user(user(unique_email("elsewhere")))
        .await
        .unwrap();
    while cluster.master_serving(&format!("{{u:{}}}", elsewhere.id)) == victim {
        elsewhere = store
            .create_user(user(unique_email("elsewhere")))
            .await
            .unwrap();
    }
    for reader in [&on_victim, &elsewhere] {
        store.get_user(reader.id).await.unwrap();
    }

    cluster.kill_node(victim);
    let killed = Instant::now();
    let metrics = &store.cache().metrics;
    let mut missed = Vec::new();
    // Inside half the node timeout (1 s): the other masters still serve.
    while killed.elapsed() < Duration::from_millis(400) {
        // Reads of the dead master's slots fail (or time out) in a row, as a third
        // of the reads do on a cluster of three.
        for _ in 0..3 {
            assert_eq!(store.get_user(on_victim.id).await.unwrap(), on_victim);
        }
        let hits = metrics.hits.get();
        assert_eq!(store.get_user(elsewhere.id).await.unwrap(), elsewhere);
        if metrics.hits.get() == hits {
            missed.push(killed.elapsed());
        }
    }

    assert!(
        metrics.redis_errors.get() + metrics.redis_timeouts.get() > 0,
        "the dead master's reads failed"
    );
    assert!(
        missed.is_empty(),
        "reads of a healthy master's slot went to MongoDB at {missed:?}"
    );
}

/// Settings for a cache on `cluster` with the service's default deadline for a
/// Redis call (the testkit's is longer, for loaded machines).
fn at_default_deadline(cluster: &RedisCluster) -> RedisSettings {
    RedisSettings {
        timeout: RedisSettings::new("").timeout,
        ..cluster.settings()
    }
}
