//! The sync feed over HTTP: what changed since a cursor, deletions as tombstones, a
//! cursor too old refused with 410, an empty poll answered without the store, and
//! phones paging while several instances write ending with exactly what is stored.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use uuid::Uuid;

use balancelife::store::memory::MemoryStore;
use balancelife_testkit::servers::redis;

use crate::support::{Cached, TestApp, TestUser};

on_every_store!(a_phone_gets_what_changed_with_deletions_and_a_cursor_to_keep);

/// Reads the feed from `since` to its end, `limit` at a time.
pub async fn sync(
    app: &TestApp,
    user: &TestUser,
    since: Option<&str>,
    limit: u32,
) -> (Vec<Value>, String) {
    let mut changes = Vec::new();
    let mut cursor = since.map(str::to_owned);
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/api/v1/sync/changes?limit={limit}&since={cursor}"),
            None => format!("/api/v1/sync/changes?limit={limit}"),
        };
        let page = app.get(&path, Some(&user.token)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        changes.extend(page.body["changes"].as_array().unwrap().iter().cloned());
        cursor = Some(page.body["cursor"].as_str().unwrap().to_owned());
        if page.body["more"] == json!(false) {
            return (changes, cursor.unwrap());
        }
    }
}

fn kinds_and_ops(changes: &[Value]) -> Vec<(String, String)> {
    changes
        .iter()
        .map(|change| {
            (
                change["kind"].as_str().unwrap().to_owned(),
                change["op"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn a_phone_gets_what_changed_with_deletions_and_a_cursor_to_keep(app: TestApp) {
    let user = app.register("phone", json!({})).await;
    let meal = app
        .post(
            "/api/v1/meal-entries",
            Some(&user.token),
            TestApp::meal_body("2026-03-02T12:00:00Z"),
        )
        .await;
    assert_eq!(meal.status, StatusCode::CREATED, "{}", meal.body);
    let run = app
        .post(
            "/api/v1/workout-entries",
            Some(&user.token),
            TestApp::workout_body("2026-03-02T07:00:00Z"),
        )
        .await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.body);

    let (first, cursor) = sync(&app, &user, None, 2).await;
    assert_eq!(
        kinds_and_ops(&first),
        [
            ("profile".to_owned(), "upsert".to_owned()),
            ("meal_entry".to_owned(), "upsert".to_owned()),
            ("workout_entry".to_owned(), "upsert".to_owned()),
        ]
    );
    assert_eq!(first[1]["data"], meal.body, "as its own GET answers it");
    assert_eq!(first[0]["data"]["id"], json!(user.id.to_string()));

    let (nothing, same) = sync(&app, &user, Some(&cursor), 2).await;
    assert!(nothing.is_empty());

    let meal_path = format!("/api/v1/meal-entries/{}", meal.body["id"].as_str().unwrap());
    let deleted = app.delete(&meal_path, Some(&user.token)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let renamed = app
        .patch(
            "/api/v1/users/me",
            Some(&user.token),
            json!({"name": "Offline Olga"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    let (since, _) = sync(&app, &user, Some(&same), 1).await;
    assert_eq!(
        kinds_and_ops(&since),
        [
            ("meal_entry".to_owned(), "delete".to_owned()),
            ("profile".to_owned(), "upsert".to_owned()),
        ]
    );
    assert_eq!(since[0]["id"], meal.body["id"]);
    assert!(since[0]["deleted_at"].is_string(), "{}", since[0]);
    assert!(since[0].get("data").is_none());
    assert_eq!(since[1]["data"]["name"], json!("Offline Olga"));

    // Another account's cursor, a made-up one and a limit out of range: 422.
    let other = app.register("other-phone", json!({})).await;
    for path in [
        format!("/api/v1/sync/changes?since={same}"),
        "/api/v1/sync/changes?since=not-a-cursor".to_owned(),
        "/api/v1/sync/changes?limit=0".to_owned(),
        "/api/v1/sync/changes?limit=1001".to_owned(),
    ] {
        let refused = app.get(&path, Some(&other.token)).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            refused.body
        );
    }
    // A cursor made up past every number is not a failure of the service.
    let far = json!({"user": user.id, "position": {"seq": i64::MAX, "tie": null},
        "issued_ms": chrono::Utc::now().timestamp_millis()});
    let far = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        serde_json::to_vec(&far).unwrap(),
    );
    let beyond = app
        .get(
            &format!("/api/v1/sync/changes?since={far}"),
            Some(&user.token),
        )
        .await;
    assert_eq!(beyond.status, StatusCode::OK, "{}", beyond.body);
    assert_eq!(beyond.body["changes"], json!([]));

    let anonymous = app.get("/api/v1/sync/changes", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_cursor_older_than_the_tombstones_kept_is_gone_and_a_full_sync_works() {
    let store = Arc::new(MemoryStore::with_tombstone_retention(Duration::from_secs(
        2,
    )));
    let app = TestApp::new(store);
    let user = app.register("long-away", json!({})).await;
    let (_, cursor) = sync(&app, &user, None, 10).await;

    tokio::time::sleep(Duration::from_millis(2_000)).await;
    let path = format!("/api/v1/sync/changes?since={cursor}");
    let gone = app.get(&path, Some(&user.token)).await;
    assert_eq!(gone.status, StatusCode::GONE, "{}", gone.body);
    assert_eq!(gone.error_code(), "cursor_expired");

    let (everything, _) = sync(&app, &user, None, 10).await;
    assert_eq!(everything.len(), 1, "the profile");

    // A catch-up left half-way keeps the age of where it started: its cursor has
    // not seen the deletions after it.
    for at in ["2026-03-02T08:00:00Z", "2026-03-02T12:00:00Z"] {
        let meal = app
            .post(
                "/api/v1/meal-entries",
                Some(&user.token),
                TestApp::meal_body(at),
            )
            .await;
        assert_eq!(meal.status, StatusCode::CREATED);
    }
    let first = app
        .get("/api/v1/sync/changes?limit=1", Some(&user.token))
        .await;
    assert_eq!(first.body["more"], json!(true));
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let cursor = first.body["cursor"].as_str().unwrap();
    let second = app
        .get(
            &format!("/api/v1/sync/changes?limit=1&since={cursor}"),
            Some(&user.token),
        )
        .await;
    assert_eq!(second.body["more"], json!(true), "{}", second.body);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let cursor = second.body["cursor"].as_str().unwrap();
    let third = app
        .get(
            &format!("/api/v1/sync/changes?limit=1&since={cursor}"),
            Some(&user.token),
        )
        .await;
    assert_eq!(third.status, StatusCode::GONE, "{}", third.body);
}

#[tokio::test]
async fn an_empty_poll_through_the_cache_asks_the_store_nothing() {
    let cached = Cached::on(&redis::SHARED).await;
    cached.l1_ready().await;
    let app = TestApp::cached(cached.store.clone());
    let user = app.register("poller", json!({})).await;
    let (_, cursor) = sync(&app, &user, None, 10).await;
    // The first poll at the head fills the cache.
    let (nothing, cursor) = sync(&app, &user, Some(&cursor), 10).await;
    assert!(nothing.is_empty());

    let store_calls = || cached.store.cache().metrics.store_calls.get();
    let before = store_calls();
    for _ in 0..20 {
        let (nothing, _) = sync(&app, &user, Some(&cursor), 10).await;
        assert!(nothing.is_empty());
    }
    assert_eq!(
        store_calls(),
        before,
        "no store call for twenty empty polls"
    );

    // A write is seen at once by the instance that made it.
    let meal = app
        .post(
            "/api/v1/meal-entries",
            Some(&user.token),
            TestApp::meal_body("2026-03-02T12:00:00Z"),
        )
        .await;
    assert_eq!(meal.status, StatusCode::CREATED);
    let (changed, _) = sync(&app, &user, Some(&cursor), 10).await;
    assert_eq!(changed.len(), 1);
}

/// What one reader holds: each thing by id, as the feed last gave it (`None`:
/// deleted).
type Copy = HashMap<String, Option<Value>>;

/// Phones paging through the feed while writers on three instances put, patch and
/// delete entries and rename the profile, each through an instance picked at
/// random: every phone ends with exactly what is stored, and none is given one
/// state twice. The phones sync for the first time one after another, while the
/// writers write.
#[tokio::test]
async fn phones_paging_while_three_instances_write_end_with_exactly_what_is_stored() {
    const WRITERS: u64 = 3;
    const WRITES: usize = 30;
    const READERS: usize = 3;
    let first = Cached::on(&redis::SHARED).await;
    let second = first.second_process().await;
    let third = first.second_process().await;
    for instance in [&first, &second, &third] {
        instance.l1_ready().await;
    }
    let apps = [
        TestApp::cached(first.store.clone()),
        TestApp::cached(second.store.clone()),
        TestApp::cached(third.store.clone()),
    ];
    let user = apps[0].register("many-phones", json!({})).await;
    let writing = std::sync::atomic::AtomicBool::new(true);

    let writers = futures_util::future::join_all((0..WRITERS).map(|writer| {
        let (apps, user) = (&apps, &user);
        async move {
            let mut random = StdRng::seed_from_u64(0x051c_0000 + writer);
            let mut live: Vec<String> = Vec::new();
            for n in 0..WRITES {
                let app = &apps[random.random_range(0..apps.len())];
                let choice = random.random_range(0..10);
                let token = Some(user.token.as_str());
                if writer == 0 && choice == 0 {
                    let name = format!("Renamed {n}");
                    let renamed = app
                        .patch("/api/v1/users/me", token, json!({"name": name}))
                        .await;
                    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
                } else if live.is_empty() || choice < 5 {
                    let id = Uuid::now_v7().to_string();
                    let mut body = TestApp::meal_body("2026-03-02T12:00:00Z");
                    body["kcal"] = json!(100 + n);
                    let put = app
                        .put(&format!("/api/v1/meal-entries/{id}"), token, body)
                        .await;
                    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
                    live.push(id);
                } else if choice < 8 {
                    let id = &live[random.random_range(0..live.len())];
                    let patch = json!({"kcal": 1000 + n + 10 * writer as usize});
                    let patched = app
                        .patch(&format!("/api/v1/meal-entries/{id}"), token, patch)
                        .await;
                    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
                } else {
                    let id = live.swap_remove(random.random_range(0..live.len()));
                    let deleted = app
                        .delete(&format!("/api/v1/meal-entries/{id}"), token)
                        .await;
                    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
                }
            }
        }
    }));
    let writers = async {
        writers.await;
        writing.store(false, std::sync::atomic::Ordering::SeqCst);
    };
    let readers = futures_util::future::join_all((0..READERS).map(|reader| {
        let (apps, user, writing) = (&apps, &user, &writing);
        async move {
            let mut random = StdRng::seed_from_u64(0x051c_1000 + reader as u64);
            let mut copy = Copy::new();
            let mut cursor: Option<String> = None;
            // Phones that sync for the first time while the writers write: their
            // snapshot of what is there, four at a time, then the feed after it.
            tokio::time::sleep(Duration::from_millis(200 * reader as u64)).await;
            loop {
                let done = !writing.load(std::sync::atomic::Ordering::SeqCst);
                let app = &apps[random.random_range(0..apps.len())];
                let path = match &cursor {
                    Some(cursor) => format!("/api/v1/sync/changes?limit=4&since={cursor}"),
                    None => "/api/v1/sync/changes?limit=4".to_owned(),
                };
                let page = app.get(&path, Some(&user.token)).await;
                assert_eq!(page.status, StatusCode::OK, "{}", page.body);
                for change in page.body["changes"].as_array().unwrap() {
                    let id = change["id"].as_str().unwrap().to_owned();
                    let now = change.get("data").cloned();
                    if let Some(held) = copy.get(&id) {
                        assert_ne!(held, &now, "{id}: one state given twice");
                    }
                    copy.insert(id, now);
                }
                cursor = Some(page.body["cursor"].as_str().unwrap().to_owned());
                let more = page.body["more"] == json!(true);
                // A whole read after every write ended holds them all; another
                // instance may lag by the cache's second, so the last read is
                // made after it.
                if done && !more {
                    tokio::time::sleep(Duration::from_millis(1_100)).await;
                    let (rest, _) = sync(app, user, cursor.as_deref(), 50).await;
                    for change in rest {
                        let id = change["id"].as_str().unwrap().to_owned();
                        copy.insert(id, change.get("data").cloned());
                    }
                    return copy;
                }
                if !more {
                    tokio::time::sleep(Duration::from_millis(random.random_range(0..30))).await;
                }
            }
        }
    }));
    let ((), copies) = tokio::join!(writers, readers);

    let listed = apps[0]
        .get(
            "/api/v1/meal-entries?from=2026-03-01&to=2026-03-03&limit=100",
            Some(&user.token),
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    let stored: HashMap<String, Value> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| (entry["id"].as_str().unwrap().to_owned(), entry.clone()))
        .collect();
    let profile = apps[0]
        .get("/api/v1/users/me", Some(&user.token))
        .await
        .body;
    for (reader, copy) in copies.into_iter().enumerate() {
        assert_eq!(
            copy.get(&user.id.to_string()),
            Some(&Some(profile.clone())),
            "reader {reader} holds the profile as it is"
        );
        let held: HashMap<String, Value> = copy
            .into_iter()
            .filter_map(|(id, data)| data.map(|data| (id, data)))
            .filter(|(id, _)| *id != user.id.to_string())
            .collect();
        assert_eq!(
            held, stored,
            "reader {reader} holds exactly the stored entries"
        );
    }
}
