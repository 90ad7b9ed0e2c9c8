//! The offline phone's figures, measured at the service: two instances of the API
//! (each its own cache with its in-process tier, one MongoDB and one Redis), called
//! in process through their routers, so the figures are the service's own cost
//! without a network in between.
//!
//! - batches of 500 entry writes (`POST /sync/batch`) on MongoDB behind the cache;
//! - a first sync of 10,000 changes, pages of 1,000, end to end;
//! - an empty incremental sync, with the store calls it made (none, it should be);
//! - a token refresh; a device signed out through one instance until the other
//!   refuses it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use balancelife::config::Settings;
use balancelife::store::Store;
use balancelife::store::cache::{CachedStore, RedisCache};
use balancelife::store::mongo::MongoStore;

use crate::bench::Servers;
use crate::measure::{histogram, one_at_a_time};
use crate::report::{Row, Target};

const GROUP: &str = "sync";
const TIER: &str = "cached, at the service";
pub const BATCH: &str = "batch of 500 entry writes";
pub const FIRST_SYNC: &str = "first sync, 10,000 changes, pages of 1,000";
pub const FIRST_SYNC_FLOOR: &str = "first sync's floor: the same documents through the driver";
pub const REFRESH_FLOOR: &str = "token refresh's floor: its read and write through the driver";
pub const EMPTY_SYNC: &str = "empty incremental sync";
pub const REFRESH: &str = "token refresh";
pub const REVOKED: &str = "device signed out -> refused by another instance";

/// The figures, and the store calls twenty empty syncs made.
pub struct SyncFigures {
    pub rows: Vec<Row>,
    pub empty_sync_store_calls: u64,
}

/// One instance of the service: its router and its cache.
struct Instance {
    router: Router,
    store: Arc<CachedStore>,
}

impl Instance {
    async fn start(
        mongo: &Arc<MongoStore>,
        servers: &Servers,
        settings: &Settings,
    ) -> anyhow::Result<Self> {
        let cache = RedisCache::start(&servers.redis, &servers.cache).await?;
        let store = Arc::new(CachedStore::new(mongo.clone(), cache));
        let state = balancelife::startup::app_state(
            settings,
            store.clone() as Arc<dyn Store>,
            Default::default(),
        )?;
        Ok(Self {
            router: balancelife::api::router(state),
            store,
        })
    }

    /// One request; its status and JSON body (`Null` when empty).
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(serde_json::to_vec(&body)?))?,
            None => request.body(Body::empty())?,
        };
        let response = self.router.clone().oneshot(request).await?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024).await?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)?
        };
        Ok((status, body))
    }
}

fn nanos(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_nanos())
        .unwrap_or(u64::MAX)
        .max(1)
}

fn row(operation: &'static str, latencies: &hdrhistogram::Histogram<u64>) -> Row {
    let stats = one_at_a_time(latencies);
    // As each row is done: a run cut short still tells what it measured.
    eprintln!(
        "sync: {operation}: {} ops, p50 {:.0} µs, p99 {:.0} µs",
        stats.ops, stats.p50_us, stats.p99_us
    );
    Row {
        group: GROUP,
        tier: TIER.to_owned(),
        operation,
        clients: 1,
        stats,
    }
}

pub async fn measure(
    mongo: &Arc<MongoStore>,
    servers: &Servers,
    quick: bool,
) -> anyhow::Result<SyncFigures> {
    let mut settings = Settings::default();
    // A batch is timed to its end, however long it takes on the servers at hand.
    settings.http.request_timeout = Duration::from_secs(600);
    // Forty sign-ins of one account within a minute: not password guessing here.
    settings.auth.attempts_per_minute = 10_000;
    // Both instances check each other's tokens, as a deployment's do.
    settings.auth.token_secret = Some(
        "a benchmark secret of more than thirty-two bytes"
            .to_owned()
            .into(),
    );
    let (first, second) = (
        Instance::start(mongo, servers, &settings).await?,
        Instance::start(mongo, servers, &settings).await?,
    );
    let email = format!("sync-{}@bench.example", uuid::Uuid::now_v7().simple());
    let password = "a long enough password";
    let (status, registered) = first
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({
            "email": email, "password": password, "name": "Sync Bench", "timezone": "UTC"})),
        )
        .await?;
    anyhow::ensure!(
        status == StatusCode::CREATED,
        "registering: {status} {registered}"
    );
    let token = registered["token"].as_str().context("a token")?.to_owned();
    let mut rows = Vec::new();

    // The cheap rows first, on the user as registered (a profile, nothing else).
    let (status, page) = first
        .call(Method::GET, "/api/v1/sync/changes", Some(&token), None)
        .await?;
    anyhow::ensure!(status == StatusCode::OK, "a first page: {status}");
    let cursor = page["cursor"].as_str().context("a cursor")?.to_owned();
    // Nothing changed since: polled, through the cache.
    let path = format!("/api/v1/sync/changes?since={cursor}");
    first.call(Method::GET, &path, Some(&token), None).await?;
    let store_calls = || first.store.cache().metrics.store_calls.get();
    let before = store_calls();
    let mut latencies = histogram();
    for _ in 0..if quick { 500 } else { 2_000 } {
        let started = Instant::now();
        let (status, page) = first.call(Method::GET, &path, Some(&token), None).await?;
        latencies.saturating_record(nanos(started));
        anyhow::ensure!(
            status == StatusCode::OK && page["changes"] == json!([]),
            "an empty sync: {status}"
        );
    }
    let empty_sync_store_calls = store_calls() - before;
    rows.push(row(EMPTY_SYNC, &latencies));

    // Twenty devices, each renewed once a second (the most a device may).
    let login = || {
        first.call(Method::POST, "/api/v1/auth/login", None, Some(json!({
        "email": email, "password": password, "device": {"name": "bench phone", "platform": "android"}})))
    };
    let mut refresh_tokens = Vec::new();
    for _ in 0..20 {
        let (status, session) = login().await?;
        anyhow::ensure!(status == StatusCode::OK, "signing in: {status}");
        refresh_tokens.push(session["refresh_token"].clone());
    }
    let mut latencies = histogram();
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        for refresh_token in &mut refresh_tokens {
            let started = Instant::now();
            let (status, renewed) = first
                .call(
                    Method::POST,
                    "/api/v1/auth/refresh",
                    None,
                    Some(json!({"refresh_token": refresh_token})),
                )
                .await?;
            latencies.saturating_record(nanos(started));
            anyhow::ensure!(status == StatusCode::OK, "a refresh: {status} {renewed}");
            *refresh_token = renewed["refresh_token"].clone();
        }
    }
    rows.push(row(REFRESH, &latencies));
    // Its floor: the read and the conditional write of the user record a renewal
    // needs, straight through the driver (the record written back as it was).
    let user_id: uuid::Uuid = registered["user"]["id"]
        .as_str()
        .context("a user id")?
        .parse()?;
    let mut latencies = histogram();
    for _ in 0..100 {
        let started = Instant::now();
        read_and_write_back_through_the_driver(mongo, user_id).await?;
        latencies.saturating_record(nanos(started));
    }
    rows.push(row(REFRESH_FLOOR, &latencies));

    // Signed out through one instance, until the other refuses the device: the
    // devices above make room (at most 20 per user), so each round signs one out.
    let mut latencies = histogram();
    for _ in 0..20 {
        let (_, session) = login().await?;
        let access = session["token"].as_str().context("a token")?.to_owned();
        let device = session["device_id"]
            .as_str()
            .context("a device")?
            .to_owned();
        for _ in 0..3 {
            let (status, _) = second
                .call(Method::GET, "/api/v1/users/me", Some(&access), None)
                .await?;
            anyhow::ensure!(status == StatusCode::OK, "the other instance: {status}");
        }
        let (status, _) = first
            .call(
                Method::DELETE,
                &format!("/api/v1/devices/{device}"),
                // Its own token: the sign-ins above pushed the registration's
                // device out (at most 20 per user).
                Some(&access),
                None,
            )
            .await?;
        anyhow::ensure!(status == StatusCode::NO_CONTENT, "signing out: {status}");
        let started = Instant::now();
        loop {
            let (status, _) = second
                .call(Method::GET, "/api/v1/users/me", Some(&access), None)
                .await?;
            if status == StatusCode::UNAUTHORIZED {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(5),
                "not refused within 5 s"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        latencies.saturating_record(nanos(started));
    }
    rows.push(row(REVOKED, &latencies));
    // A device of its own for the rest: the registration's was pushed out above.
    let (status, session) = login().await?;
    anyhow::ensure!(status == StatusCode::OK, "signing in: {status}");
    let token = session["token"].as_str().context("a token")?.to_owned();
    // Batches of 500 meals through the API, timed.
    let batches: u32 = if quick { 3 } else { 6 };
    let mut latencies = histogram();
    let today = chrono::Utc::now();
    for batch in 0..batches {
        let operations: Vec<Value> = (0..500)
            .map(|n| {
                let at = today - chrono::Duration::minutes(i64::from(batch * 500 + n) * 7 + 60);
                json!({"method": "PUT",
                    "path": format!("/api/v1/meal-entries/{}", uuid::Uuid::now_v7()),
                    "body": {"eaten_at": at, "slot": "snack", "name": "Apple", "quantity": 150,
                        "unit": "g", "kcal": 78, "protein_g": 0.4, "carbs_g": 21, "fat_g": 0.3}})
            })
            .collect();
        let started = Instant::now();
        let (status, answer) = first
            .call(
                Method::POST,
                "/api/v1/sync/batch",
                Some(&token),
                Some(json!({"id": uuid::Uuid::now_v7(), "operations": operations})),
            )
            .await?;
        latencies.saturating_record(nanos(started));
        anyhow::ensure!(status == StatusCode::OK, "a batch: {status}");
        let created = answer["results"].as_array().map_or(0, |results| {
            results
                .iter()
                .filter(|result| result["status"] == json!(201))
                .count()
        });
        anyhow::ensure!(created == 500, "a batch created {created} of 500");
    }
    rows.push(row(BATCH, &latencies));
    // The rest of 10,000 changes, 500 at a time straight through the cached store
    // (as a batch writes them, and numbered in the feed alike).
    let rest: Vec<u32> = (0..10_000 - 500 * batches).collect();
    for chunk in rest.chunks(500) {
        let entries = chunk
            .iter()
            .map(|&n| {
                let at = balancelife::domain::now()
                    - chrono::Duration::minutes(i64::from(n) * 7 + 20_000);
                balancelife_testkit::fixtures::entry::<balancelife::domain::MealData>(
                    user_id, n, at,
                )
            })
            .collect();
        for written in first.store.meal_entries().put_many(entries).await? {
            written?;
        }
    }

    // A phone's first sync: everything, a page of 1,000 at a time.
    let mut latencies = histogram();
    for _ in 0..3 {
        let started = Instant::now();
        let mut path = "/api/v1/sync/changes?limit=1000".to_owned();
        let mut changes = 0;
        loop {
            let (status, page) = first.call(Method::GET, &path, Some(&token), None).await?;
            anyhow::ensure!(status == StatusCode::OK, "a page: {status}");
            changes += page["changes"].as_array().map_or(0, Vec::len);
            let cursor = page["cursor"].as_str().context("a cursor")?;
            path = format!("/api/v1/sync/changes?limit=1000&since={cursor}");
            if page["more"] != json!(true) {
                break;
            }
        }
        latencies.saturating_record(nanos(started));
        anyhow::ensure!(changes == 10_001, "a first sync gave {changes} changes");
    }
    rows.push(row(FIRST_SYNC, &latencies));

    // The store's own floor for it: the same documents read straight through the
    // driver, a page at a time along their index, with nothing else the service
    // does.
    let mut latencies = histogram();
    for _ in 0..3 {
        let started = Instant::now();
        let read = read_everything_through_the_driver(mongo, user_id).await?;
        latencies.saturating_record(nanos(started));
        anyhow::ensure!(read == 10_001, "the driver read {read} things");
    }
    rows.push(row(FIRST_SYNC_FLOOR, &latencies));

    Ok(SyncFigures {
        rows,
        empty_sync_store_calls,
    })
}

/// Reads user `user_id`'s record and writes it back as it was, on the condition
/// that it is still the revision read, as a renewal does (one round trip each).
async fn read_and_write_back_through_the_driver(
    mongo: &MongoStore,
    user_id: uuid::Uuid,
) -> anyhow::Result<()> {
    use balancelife::store::mongo::collections::USERS;
    use bson::{Document, doc};

    let users = mongo.database().collection::<Document>(USERS);
    let id = bson::Uuid::from(user_id);
    let read = users
        .find_one(doc! { "_id": id })
        .await?
        .context("the user")?;
    let revision = read.get("updated_at").cloned().context("a revision")?;
    users
        .find_one_and_replace(doc! { "_id": id, "updated_at": revision }, read)
        .await?
        .context("replaced")?;
    Ok(())
}

/// Reads what a first sync of `user_id` must at least read, pages of 1,000
/// through the driver alone: the profile, then the meals along their
/// `{user_id, position}` index. How many things it read.
async fn read_everything_through_the_driver(
    mongo: &MongoStore,
    user_id: uuid::Uuid,
) -> anyhow::Result<usize> {
    use balancelife::store::mongo::collections::{MEAL_ENTRIES, USERS};
    use bson::{Document, doc};
    use futures_util::TryStreamExt;

    let owner = bson::Uuid::from(user_id);
    let users = mongo.database().collection::<Document>(USERS);
    users
        .find_one(doc! { "_id": owner })
        .await?
        .context("the user")?;
    let meals = mongo.database().collection::<Document>(MEAL_ENTRIES);
    let (mut after, mut read) = (String::new(), 1);
    loop {
        let page: Vec<Document> = meals
            .find(doc! { "user_id": owner, "position": { "$gt": &after } })
            .sort(doc! { "position": 1 })
            .limit(1_000)
            .await?
            .try_collect()
            .await?;
        let Some(last) = page.last() else {
            return Ok(read);
        };
        after = last.get_str("position")?.to_owned();
        read += page.len();
    }
}

/// The targets for these rows.
pub fn targets(rows: &[Row], empty_sync_store_calls: u64) -> Vec<Target> {
    let find = |operation: &str| {
        rows.iter()
            .find(|row| row.group == GROUP && row.operation == operation)
            .map(|row| row.stats)
    };
    let mut targets = Vec::new();
    if let Some(empty) = find(EMPTY_SYNC) {
        targets.push(Target {
            name: "empty incremental sync: p50 ≤ 1 ms at the service, no store query",
            measured: format!(
                "p50 {:.0} µs, {empty_sync_store_calls} store calls",
                empty.p50_us
            ),
            pass: empty.p50_us <= 1_000.0 && empty_sync_store_calls == 0,
        });
    }
    if let Some(first) = find(FIRST_SYNC) {
        let floor = find(FIRST_SYNC_FLOOR).map_or_else(String::new, |floor| {
            format!(
                "; the store's floor (the same documents through the driver) p50 {:.0} ms, \
                 the service ×{:.2} of it",
                floor.p50_us / 1e3,
                first.p50_us / floor.p50_us
            )
        });
        targets.push(Target {
            name: "first sync of 10k changes: ≤ 500 ms end to end, paged",
            measured: format!(
                "p50 {:.0} ms, worst of 3 {:.0} ms{floor}",
                first.p50_us / 1e3,
                first.p99_us / 1e3
            ),
            pass: first.p99_us <= 500_000.0,
        });
    }
    if let Some(batch) = find(BATCH) {
        targets.push(Target {
            name: "a batch of 500 entry writes: ≤ 2 s on the replica set",
            measured: format!(
                "p50 {:.2} s, worst {:.2} s",
                batch.p50_us / 1e6,
                batch.p99_us / 1e6
            ),
            pass: batch.p99_us <= 2_000_000.0,
        });
    }
    if let Some(refresh) = find(REFRESH) {
        let floor = find(REFRESH_FLOOR).map_or_else(String::new, |floor| {
            format!(
                "; the store's floor (its read and write through the driver) p50 {:.2} ms, \
                 the service ×{:.2} of it",
                floor.p50_us / 1e3,
                refresh.p50_us / floor.p50_us
            )
        });
        targets.push(Target {
            name: "token refresh: p50 ≤ 2 ms",
            measured: format!("p50 {:.2} ms{floor}", refresh.p50_us / 1e3),
            pass: refresh.p50_us <= 2_000.0,
        });
    }
    if let Some(revoked) = find(REVOKED) {
        targets.push(Target {
            name: "revocation seen by another instance: p99 ≤ 1 s",
            measured: format!("p99 (worst of 20) {:.0} ms", revoked.p99_us / 1e3),
            pass: revoked.p99_us <= 1_000_000.0,
        });
    }
    targets
}
