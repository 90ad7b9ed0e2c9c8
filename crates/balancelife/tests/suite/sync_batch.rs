//! Batched writes over HTTP: a phone's offline edits applied in order with one
//! result each, a resend answered the same without applying anything twice, limits,
//! `If-Match` on entries, and two phones that edited offline ending with what the
//! service holds, whatever order their batches arrive in.

use std::collections::HashMap;

use axum::http::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{TestApp, TestUser};

on_every_store!(
    a_batch_applies_its_operations_in_order_and_a_resend_applies_nothing,
    entry_puts_written_together_answer_as_their_own_requests_would,
    two_phones_that_edited_offline_end_with_what_the_service_holds,
);

fn meal_path(id: &str) -> String {
    format!("/api/v1/meal-entries/{id}")
}

fn meal(kcal: u32) -> Value {
    let mut body = TestApp::meal_body("2026-03-02T12:00:00Z");
    body["kcal"] = json!(kcal);
    body
}

async fn send(
    app: &TestApp,
    user: &TestUser,
    id: Uuid,
    operations: Value,
) -> crate::support::TestResponse {
    app.post(
        "/api/v1/sync/batch",
        Some(&user.token),
        json!({"id": id, "operations": operations}),
    )
    .await
}

fn statuses(answer: &Value) -> Vec<u64> {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["status"].as_u64().unwrap())
        .collect()
}

async fn a_batch_applies_its_operations_in_order_and_a_resend_applies_nothing(app: TestApp) {
    let user = app.register("batcher", json!({})).await;
    let (lunch, run, ghost) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let run_path = format!("/api/v1/workout-entries/{run}");
    let operations = json!([
        {"method": "PUT", "path": meal_path(&lunch.to_string()), "body": meal(420)},
        {"method": "PUT", "path": run_path, "body": TestApp::workout_body("2026-03-02T07:00:00Z")},
        {"method": "PATCH", "path": meal_path(&lunch.to_string()), "body": {"kcal": 450}},
        {"method": "DELETE", "path": meal_path(&ghost.to_string())},
        {"method": "PATCH", "path": "/api/v1/users/me", "body": {"name": "Batch Bea"}},
        {"method": "PUT", "path": meal_path(&Uuid::now_v7().to_string()), "body": {"kcal": "lots"}},
        {"method": "DELETE", "path": run_path},
    ]);
    let batch = Uuid::now_v7();
    let first = send(&app, &user, batch, operations.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(statuses(&first.body), [201, 201, 200, 404, 200, 422, 204]);
    let results = first.body["results"].as_array().unwrap();
    assert_eq!(results[2]["body"]["kcal"], json!(450.0));
    assert_eq!(results[3]["body"]["error"]["code"], json!("not_found"));
    assert_eq!(
        results[5]["body"]["error"]["code"],
        json!("validation_failed")
    );
    assert!(results[6].get("body").is_none());
    let read = app
        .get(&meal_path(&lunch.to_string()), Some(&user.token))
        .await;
    assert_eq!(read.body, results[2]["body"], "as the entry is now");
    assert_eq!(
        read.headers["etag"].to_str().unwrap(),
        results[2]["etag"].as_str().unwrap(),
        "the tag its GET gives, for If-Match"
    );

    // Its answer was lost: the phone sends the batch again, and nothing happens twice.
    let (_, cursor) = crate::sync::sync(&app, &user, None, 100).await;
    let again = send(&app, &user, batch, operations.clone()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, first.body, "the first answer");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let (since, _) = crate::sync::sync(&app, &user, Some(&cursor), 100).await;
    assert!(since.is_empty(), "nothing applied again: {since:?}");

    // The same batch with its bodies' fields in another order is the same batch.
    let mut reordered = operations.clone();
    reordered[4]["body"] = json!({"name": "Batch Bea"});
    reordered[2] =
        json!({"body": {"kcal": 450}, "path": meal_path(&lunch.to_string()), "method": "PATCH"});
    let same = send(&app, &user, batch, reordered).await;
    assert_eq!(same.body, first.body, "{}", same.body);

    // Credentials stay out of batches (kept a week), and a tag must be a header.
    for (operation, field) in [
        (
            json!({"method": "PATCH", "path": "/api/v1/users/me",
            "body": {"email": "new@example.test", "current_password": "a long enough password"}}),
            "operations[0].body",
        ),
        (
            json!({"method": "DELETE", "path": meal_path(&lunch.to_string()), "if_match": "bad\u{1}tag"}),
            "operations[0].if_match",
        ),
    ] {
        let refused = send(&app, &user, Uuid::now_v7(), json!([operation])).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert_eq!(refused.error_field(), field);
    }

    // The same id for other operations, a write a batch may not hold, too many.
    let other = send(&app, &user, batch, json!([])).await;
    assert_eq!(
        other.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        other.body
    );
    assert_eq!(other.error_field(), "id");
    let kept_out = Uuid::now_v7();
    let refused = send(
        &app,
        &user,
        Uuid::now_v7(),
        json!([
            {"method": "PUT", "path": meal_path(&kept_out.to_string()), "body": meal(100)},
            {"method": "DELETE", "path": format!("/api/v1/meal-packages/{}", Uuid::now_v7())},
        ]),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.error_field(), "operations[1].path");
    let not_there = app
        .get(&meal_path(&kept_out.to_string()), Some(&user.token))
        .await;
    assert_eq!(
        not_there.status,
        StatusCode::NOT_FOUND,
        "nothing of it was applied"
    );
    let many: Vec<Value> = (0..501)
        .map(|_| json!({"method": "DELETE", "path": meal_path(&Uuid::now_v7().to_string())}))
        .collect();
    let too_many = send(&app, &user, Uuid::now_v7(), Value::Array(many)).await;
    assert_eq!(
        too_many.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        too_many.body
    );
    assert_eq!(too_many.error_code(), "payload_too_large");

    // Another account cannot reach the caller's entries through a batch.
    let stranger = app.register("stranger", json!({})).await;
    let reached = send(
        &app,
        &stranger,
        Uuid::now_v7(),
        json!([{"method": "DELETE", "path": meal_path(&lunch.to_string())}]),
    )
    .await;
    assert_eq!(statuses(&reached.body), [404]);
    let anonymous = app
        .post(
            "/api/v1/sync/batch",
            None,
            json!({"id": Uuid::now_v7(), "operations": []}),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

/// The operations of a phone that logged offline, for `user`: new entries, one
/// the service has as it is, an edit, bodies the routes refuse, another account's
/// entry (`theirs`), one entry twice, and workouts. Each has its path and body.
async fn offline_log(app: &TestApp, user: &TestUser, theirs: Uuid) -> Vec<(String, Value)> {
    let (kept, edited) = (Uuid::now_v7(), Uuid::now_v7());
    for id in [kept, edited] {
        let stored = app
            .put(&meal_path(&id.to_string()), Some(&user.token), meal(300))
            .await;
        assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.body);
    }
    let twice = Uuid::now_v7();
    let mut other_id = meal(10);
    other_id["id"] = json!(Uuid::now_v7());
    let mut too_old = meal(10);
    too_old["eaten_at"] = json!("1999-03-02T12:00:00Z");
    let workout = || {
        (
            format!("/api/v1/workout-entries/{}", Uuid::now_v7()),
            TestApp::workout_body("2026-03-02T07:00:00Z"),
        )
    };
    vec![
        (meal_path(&twice.to_string()), meal(100)),
        (meal_path(&kept.to_string()), meal(300)),
        (meal_path(&edited.to_string()), meal(350)),
        (
            meal_path(&Uuid::now_v7().to_string()),
            json!({"kcal": "lots"}),
        ),
        (meal_path(&Uuid::now_v7().to_string()), other_id),
        (meal_path(&Uuid::now_v7().to_string()), too_old),
        (meal_path(&theirs.to_string()), meal(10)),
        (meal_path(&Uuid::now_v7().to_string()), meal(200)),
        (meal_path(&twice.to_string()), meal(120)),
        workout(),
        workout(),
    ]
}

/// What a write answered, without what differs between two users' identical
/// writes (ids, times): its status, and an error's code and field.
fn answer_shape(status: u64, body: &Value) -> (u64, Value, Value) {
    let error = &body["error"];
    (status, error["code"].clone(), error["field"].clone())
}

async fn entry_puts_written_together_answer_as_their_own_requests_would(app: TestApp) {
    let stranger = app.register("stranger", json!({})).await;
    let theirs = Uuid::now_v7();
    let stored = app
        .put(
            &meal_path(&theirs.to_string()),
            Some(&stranger.token),
            meal(5),
        )
        .await;
    assert_eq!(stored.status, StatusCode::CREATED);

    // One phone sends its log as a batch, the other as requests of their own.
    let (batcher, single) = (
        app.register("batcher", json!({})).await,
        app.register("single", json!({})).await,
    );
    let batched = offline_log(&app, &batcher, theirs).await;
    let (_, cursor) = crate::sync::sync(&app, &batcher, None, 100).await;
    let operations: Vec<Value> = batched
        .iter()
        .map(|(path, body)| json!({"method": "PUT", "path": path, "body": body}))
        .collect();
    let answer = send(&app, &batcher, Uuid::now_v7(), Value::Array(operations)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let results = answer.body["results"].as_array().unwrap();
    let mut singly = Vec::new();
    for (path, body) in offline_log(&app, &single, theirs).await {
        let response = app.put(&path, Some(&single.token), body).await;
        singly.push(answer_shape(
            u64::from(response.status.as_u16()),
            &response.body,
        ));
    }
    let together: Vec<_> = results
        .iter()
        .map(|result| answer_shape(result["status"].as_u64().unwrap(), &result["body"]))
        .collect();
    assert_eq!(together, singly, "{}", answer.body);
    assert_eq!(
        statuses(&answer.body),
        [201, 200, 200, 422, 422, 422, 404, 201, 200, 201, 201]
    );

    // Each written entry reads back as its result, with its tag; each is in the
    // change feed once, as it is now.
    let mut written = HashMap::new();
    for ((path, _), result) in batched.iter().zip(results) {
        if result["status"].as_u64().unwrap() >= 300 {
            continue;
        }
        let read = app.get(path, Some(&batcher.token)).await;
        written.insert(
            path.rsplit('/').next().unwrap().to_owned(),
            read.body.clone(),
        );
        if path == &batched[8].0 {
            assert_eq!(
                read.body["kcal"],
                json!(120.0),
                "the later write of the two"
            );
            continue;
        }
        assert_eq!(read.body, result["body"], "{path}");
        assert_eq!(
            read.headers["etag"].to_str().unwrap(),
            result["etag"].as_str().unwrap()
        );
    }
    let (changes, _) = crate::sync::sync(&app, &batcher, Some(&cursor), 100).await;
    let mut changed: Vec<&str> = changes
        .iter()
        .map(|change| change["id"].as_str().unwrap())
        .collect();
    changed.sort_unstable();
    // The one stored as it was sent may come again (MongoDB moves the place of a
    // write that changed nothing), as it is.
    let kept = batched[1].0.rsplit('/').next().unwrap();
    changed.retain(|id| *id != kept);
    let mut expected: Vec<&str> = written
        .keys()
        .map(String::as_str)
        .filter(|id| *id != kept)
        .collect();
    expected.sort_unstable();
    assert_eq!(changed, expected);
    let again = app
        .get(&meal_path(&theirs.to_string()), Some(&stranger.token))
        .await;
    assert_eq!(
        again.body["kcal"],
        json!(5.0),
        "another account's entry as it was"
    );
}

/// A phone's copy of the user's meals, kept by the change feed.
struct Phone {
    meals: HashMap<String, Value>,
    tags: HashMap<String, String>,
    cursor: Option<String>,
}

impl Phone {
    async fn pull(&mut self, app: &TestApp, user: &TestUser) {
        let (changes, cursor) = crate::sync::sync(app, user, self.cursor.as_deref(), 100).await;
        for change in changes {
            if change["kind"] != json!("meal_entry") {
                continue;
            }
            let id = change["id"].as_str().unwrap().to_owned();
            match change.get("data") {
                Some(data) => {
                    let tag = change["etag"].as_str().unwrap().to_owned();
                    self.tags.insert(id.clone(), tag);
                    self.meals.insert(id, data.clone());
                }
                None => {
                    self.meals.remove(&id);
                }
            }
        }
        self.cursor = Some(cursor);
    }
}

async fn two_phones_that_edited_offline_end_with_what_the_service_holds(app: TestApp) {
    let user = app.register("two-phones", json!({})).await;
    let ids: Vec<String> = (0..4).map(|_| Uuid::now_v7().to_string()).collect();
    for (n, id) in ids.iter().enumerate() {
        let put = app
            .put(&meal_path(id), Some(&user.token), meal(100 + n as u32))
            .await;
        assert_eq!(put.status, StatusCode::CREATED);
    }
    for order in [[0, 1], [1, 0]] {
        let mut phones = [
            Phone {
                meals: HashMap::new(),
                tags: HashMap::new(),
                cursor: None,
            },
            Phone {
                meals: HashMap::new(),
                tags: HashMap::new(),
                cursor: None,
            },
        ];
        for phone in &mut phones {
            phone.pull(&app, &user).await;
        }
        // Offline, both edit the first meal (other fields), one deletes the second
        // and the other edits it, both edit the third on the revision they read
        // (If-Match), and one logs a new meal.
        let fresh = Uuid::now_v7().to_string();
        let edits = [
            json!([
                {"method": "PATCH", "path": meal_path(&ids[0]), "body": {"name": "Phone A's soup"}},
                {"method": "DELETE", "path": meal_path(&ids[1])},
                {"method": "PATCH", "path": meal_path(&ids[2]), "if_match": phones[0].tags[&ids[2]], "body": {"kcal": 111}},
                {"method": "PUT", "path": meal_path(&fresh), "body": meal(333)},
            ]),
            json!([
                {"method": "PATCH", "path": meal_path(&ids[0]), "body": {"kcal": 999}},
                {"method": "PATCH", "path": meal_path(&ids[1]), "body": {"kcal": 222}},
                {"method": "PATCH", "path": meal_path(&ids[2]), "if_match": phones[1].tags[&ids[2]], "body": {"kcal": 222}},
            ]),
        ];
        let mut answers = [Value::Null, Value::Null];
        for phone in order {
            let sent = send(&app, &user, Uuid::now_v7(), edits[phone].clone()).await;
            assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
            answers[phone] = sent.body;
        }
        // The first to arrive wins the conditional edit; the other is told 412.
        let (first, second) = (order[0], order[1]);
        assert_eq!(statuses(&answers[first])[2], 200, "{order:?}");
        assert_eq!(statuses(&answers[second])[2], 412, "{order:?}");
        // The deletion wins over an edit after it, and loses to none before it.
        let edit_of_deleted = statuses(&answers[1])[1];
        assert_eq!(edit_of_deleted, if order == [0, 1] { 404 } else { 200 });

        for phone in &mut phones {
            phone.pull(&app, &user).await;
        }
        let listed = app
            .get(
                "/api/v1/meal-entries?from=2026-03-01&to=2026-03-03&limit=100",
                Some(&user.token),
            )
            .await;
        let stored: HashMap<String, Value> = listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| (entry["id"].as_str().unwrap().to_owned(), entry.clone()))
            .collect();
        for (n, phone) in phones.iter().enumerate() {
            assert_eq!(phone.meals, stored, "phone {n} after {order:?}");
        }
        let first_meal = &stored[&ids[0]];
        assert_eq!(
            (first_meal["name"].clone(), first_meal["kcal"].clone()),
            (json!("Phone A's soup"), json!(999.0)),
            "edits of different fields both stand"
        );
        // Put the meals back for the other order.
        for (n, id) in ids.iter().enumerate() {
            app.put(&meal_path(id), Some(&user.token), meal(100 + n as u32))
                .await;
        }
        app.delete(&meal_path(&fresh), Some(&user.token)).await;
    }
}
