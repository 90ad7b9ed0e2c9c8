//! Foods through the API: search as you type, barcodes, a user's own foods.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};

use balancelife::store::memory::MemoryStore;
use balancelife::store::mongo::MongoStore;
use balancelife_testkit::servers::mongo::TestDatabase;

use crate::support::{TestApp, TestUser, eventually};

fn food_body(name: &str) -> Value {
    json!({
        "name": {"text": name},
        "nutrients": {"energy_kcal": 370, "protein_g": 13, "carbs_g": 60, "fat_g": 7},
        "servings": [{"label": "1 cup", "grams": 80}],
    })
}

async fn create(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let created = app.post("/api/v1/foods", Some(&user.token), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body
}

/// The names a search answers, in order.
async fn names_found(app: &TestApp, user: &TestUser, query: &str) -> Vec<String> {
    let path = format!("/api/v1/foods?q={}", urlencode(query));
    let found = app.get(&path, Some(&user.token)).await;
    assert_eq!(found.status, StatusCode::OK, "{query}: {}", found.body);
    found.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|food| food["name"]["text"].as_str().unwrap().to_owned())
        .collect()
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

on_every_store!(
    recently_logged_foods_rank_after_the_users_own,
    recent_foods_come_with_their_last_portion_the_latest_first,
    a_meal_logged_from_a_food_takes_its_numbers_and_keeps_them,
    a_food_is_found_by_prefix_typo_and_without_its_accents,
    a_barcode_is_checked_and_found_in_either_form,
    own_foods_rank_first_and_other_users_foods_are_never_found,
);

async fn a_food_is_found_by_prefix_typo_and_without_its_accents(app: TestApp) {
    let user = app.register("searcher", json!({})).await;
    create(&app, &user, food_body("Rolled oats")).await;
    create(&app, &user, food_body("Crème fraîche")).await;
    create(&app, &user, food_body("Oat milk, unsweetened")).await;
    create(&app, &user, food_body("Oat bran")).await;

    assert_eq!(
        names_found(&app, &user, "rolled oats").await,
        ["Rolled oats"]
    );
    assert_eq!(
        names_found(&app, &user, "oats rolled").await,
        ["Rolled oats"],
        "any order"
    );
    assert_eq!(
        names_found(&app, &user, "rolld oa").await,
        ["Rolled oats"],
        "a typo, a prefix"
    );
    assert_eq!(names_found(&app, &user, "creme").await, ["Crème fraîche"]);
    assert_eq!(
        names_found(&app, &user, "CRÈME FRAI").await,
        ["Crème fraîche"]
    );
    assert_eq!(
        names_found(&app, &user, "oat").await,
        ["Oat bran", "Oat milk, unsweetened", "Rolled oats"],
        "exact words before a prefix, and among them the shorter name first"
    );
    assert!(
        names_found(&app, &user, "oatz milk").await.is_empty(),
        "no typo in a short word"
    );
    assert!(names_found(&app, &user, "pizza").await.is_empty());

    let mut spread = food_body("Hazelnut spread");
    spread["brand"] = json!("Ferrero");
    create(&app, &user, spread).await;
    for query in ["hazelnut ferr", "ferrero hazel", "ferero hazelnut"] {
        assert_eq!(
            names_found(&app, &user, query).await,
            ["Hazelnut spread"],
            "the brand counts as the name does: {query}"
        );
    }
}

async fn a_barcode_is_checked_and_found_in_either_form(app: TestApp) {
    let user = app.register("scanner", json!({})).await;
    let mut body = food_body("Peanut butter");
    body["barcodes"] = json!(["036000291452"]);
    let created = create(&app, &user, body).await;
    assert_eq!(
        created["barcodes"],
        json!(["0036000291452"]),
        "kept as EAN-13"
    );

    for code in ["036000291452", "0036000291452"] {
        let found = app
            .get(&format!("/api/v1/foods/barcode/{code}"), Some(&user.token))
            .await;
        assert_eq!(found.status, StatusCode::OK, "{code}: {}", found.body);
        assert_eq!(found.body["id"], created["id"]);
    }
    let misread = app
        .get("/api/v1/foods/barcode/036000291453", Some(&user.token))
        .await;
    assert_eq!(misread.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(misread.error_field(), "code");
    let unknown = app
        .get("/api/v1/foods/barcode/4006381333931", Some(&user.token))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let mut bad = food_body("Misread");
    bad["barcodes"] = json!(["4006381333932"]);
    let refused = app.post("/api/v1/foods", Some(&user.token), bad).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.error_field(), "barcodes[0]");
}

async fn own_foods_rank_first_and_other_users_foods_are_never_found(app: TestApp) {
    let admin = app.demo_login(1).await;
    let mine = app.register("mine", json!({})).await;
    let other = app.register("other", json!({})).await;
    let mut public = food_body("Greek yogurt, plain");
    public["public"] = json!(true);
    let public = create(&app, &admin, public).await;
    assert_eq!(public["source"], "admin");
    let own = create(&app, &mine, food_body("Greek yogurt, homemade")).await;
    assert_eq!(own["mine"], true);
    let theirs = create(&app, &other, food_body("Greek yogurt, secret recipe")).await;

    assert_eq!(
        names_found(&app, &mine, "greek yog").await,
        ["Greek yogurt, homemade", "Greek yogurt, plain"]
    );
    assert_eq!(
        names_found(&app, &other, "greek yog").await,
        ["Greek yogurt, secret recipe", "Greek yogurt, plain"]
    );
    let peek = app
        .get(
            &format!("/api/v1/foods/{}", theirs["id"].as_str().unwrap()),
            Some(&mine.token),
        )
        .await;
    assert_eq!(peek.status, StatusCode::NOT_FOUND);
    let edit = app
        .put(
            &format!("/api/v1/foods/{}", public["id"].as_str().unwrap()),
            Some(&mine.token),
            food_body("Mine now"),
        )
        .await;
    assert_eq!(edit.status, StatusCode::FORBIDDEN, "{}", edit.body);
}

#[tokio::test]
async fn an_edit_is_searchable_at_once_and_a_deletion_is_gone() {
    let app = TestApp::new(Arc::new(MemoryStore::new()));
    let user = app.register("editor", json!({})).await;
    let created = create(&app, &user, food_body("Banana bread")).await;
    let path = format!("/api/v1/foods/{}", created["id"].as_str().unwrap());

    let replaced = app
        .put(&path, Some(&user.token), food_body("Zucchini bread"))
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["version"], 2);
    assert_eq!(
        names_found(&app, &user, "zucchini").await,
        ["Zucchini bread"]
    );
    assert!(names_found(&app, &user, "banana").await.is_empty());

    let same = app
        .put(&path, Some(&user.token), food_body("Zucchini bread"))
        .await;
    assert_eq!(
        (same.status, same.body["version"].clone()),
        (StatusCode::OK, json!(2))
    );

    let deleted = app.delete(&path, Some(&user.token)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(names_found(&app, &user, "zucchini").await.is_empty());
    assert_eq!(
        app.get(&path, Some(&user.token)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn search_pages_follow_their_cursor_without_repeats() {
    let app = TestApp::new(Arc::new(MemoryStore::new()));
    let user = app.register("pager", json!({})).await;
    for n in 0..7 {
        create(&app, &user, food_body(&format!("Lentil soup {n}"))).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/foods?q=lentil&limit=3".to_owned();
    loop {
        let page = app.get(&path, Some(&user.token)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for food in page.body["items"].as_array().unwrap() {
            seen.push(food["id"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/foods?q=lentil&limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 7, "no food twice");

    let first = app
        .get("/api/v1/foods?q=lentil&limit=3", Some(&user.token))
        .await;
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let elsewhere = app
        .get(
            &format!("/api/v1/foods?q=soup&cursor={cursor}"),
            Some(&user.token),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(elsewhere.error_field(), "cursor");
}

#[tokio::test]
async fn bad_food_input_is_refused_naming_the_field() {
    let app = TestApp::new(Arc::new(MemoryStore::new()));
    let user = app.register("careless", json!({})).await;
    let cases = [
        (
            json!({"name": {"text": "Salt"}, "nutrients": {"sodium_mg": 100001}}),
            "nutrients.sodium_mg",
        ),
        (
            json!({"name": {"text": "Oil"}, "nutrients": {"fat_g": 100.5}}),
            "nutrients.fat_g",
        ),
        (
            json!({"name": {"text": "  "}, "nutrients": {}}),
            "name.text",
        ),
        (
            json!({"name": {"text": "Tea", "lang": "english"}, "nutrients": {}}),
            "name.lang",
        ),
        (
            json!({"name": {"text": "Tea"}, "nutrients": {}, "servings": [{"label": "cup", "grams": -1}]}),
            "servings[0].grams",
        ),
    ];
    for (body, field) in cases {
        let refused = app.post("/api/v1/foods", Some(&user.token), body).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert_eq!(refused.error_field(), field, "{}", refused.body);
    }
    let mut public = food_body("Published by a user");
    public["public"] = json!(true);
    let forbidden = app.post("/api/v1/foods", Some(&user.token), public).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    for query in [
        "",
        "%20%2C%20",
        "a&limit=51",
        "a&limit=0",
        "a&cursor=nonsense",
    ] {
        let refused = app
            .get(&format!("/api/v1/foods?q={query}"), Some(&user.token))
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            refused.body
        );
    }
    let anonymous = app.get("/api/v1/foods?q=tea", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

/// Two instances on one MongoDB database, no Redis: a food created through one is
/// found through the other within a second, and so is its deletion.
#[tokio::test]
async fn a_food_written_through_one_instance_is_found_through_another_within_a_second() {
    let database = TestDatabase::new();
    let first = TestApp::new(Arc::new(
        MongoStore::connect(&database.settings).await.unwrap(),
    ));
    let second = TestApp::new(Arc::new(
        MongoStore::connect(&database.settings).await.unwrap(),
    ));
    // Both sign tokens with the tests' one secret.
    let user = first.register("traveller", json!({})).await;

    let created = create(&first, &user, food_body("Buckwheat pancakes")).await;
    let waited = eventually(
        "the other instance finds the food",
        Duration::from_secs(1),
        || {
            let (second, user) = (&second, &user);
            async move { names_found(second, user, "buckwheat").await == ["Buckwheat pancakes"] }
        },
    )
    .await;
    println!("found through the other instance after {waited:?}");

    let path = format!("/api/v1/foods/{}", created["id"].as_str().unwrap());
    assert_eq!(
        first.delete(&path, Some(&user.token)).await.status,
        StatusCode::NO_CONTENT
    );
    eventually(
        "the other instance forgets the food",
        Duration::from_secs(1),
        || {
            let (second, user) = (&second, &user);
            async move { names_found(second, user, "buckwheat").await.is_empty() }
        },
    )
    .await;
}

async fn a_meal_logged_from_a_food_takes_its_numbers_and_keeps_them(app: TestApp) {
    let user = app.register("logger", json!({})).await;
    let oats = create(
        &app,
        &user,
        json!({
            "name": {"text": "Rolled oats"},
            "nutrients": {"energy_kcal": 379, "protein_g": 13.2, "carbs_g": 67.7, "fat_g": 6.5},
            "servings": [{"label": "1 cup", "grams": 80}],
        }),
    )
    .await;
    let food_id = oats["id"].clone();
    let log = |food: Value| {
        let app = &app;
        let token = user.token.clone();
        async move {
            let body =
                json!({"eaten_at": "2026-03-02T08:00:00Z", "slot": "breakfast", "food": food});
            app.post("/api/v1/meal-entries", Some(&token), body).await
        }
    };

    let by_weight = log(json!({"food_id": food_id, "grams": 60})).await;
    assert_eq!(by_weight.status, StatusCode::CREATED, "{}", by_weight.body);
    let entry = &by_weight.body;
    assert_eq!(
        (
            &entry["name"],
            &entry["quantity"],
            &entry["unit"],
            &entry["source"]
        ),
        (
            &json!("Rolled oats"),
            &json!(60.0),
            &json!("g"),
            &json!("food")
        )
    );
    assert_eq!(
        (
            &entry["kcal"],
            &entry["protein_g"],
            &entry["carbs_g"],
            &entry["fat_g"]
        ),
        (&json!(227.4), &json!(7.9), &json!(40.6), &json!(3.9)),
        "379 kcal, 13.2 g, 67.7 g and 6.5 g per 100 g, times 0.6"
    );
    assert_eq!(
        entry["fiber_g"],
        Value::Null,
        "unknown in the food, unknown here"
    );
    assert_eq!(
        (&entry["food_id"], &entry["food_version"]),
        (&food_id, &json!(1))
    );

    let by_serving =
        log(json!({"food_id": food_id, "serving": {"label": "1 cup", "count": 2}})).await;
    assert_eq!(
        by_serving.status,
        StatusCode::CREATED,
        "{}",
        by_serving.body
    );
    assert_eq!(
        (
            &by_serving.body["kcal"],
            &by_serving.body["quantity"],
            &by_serving.body["unit"]
        ),
        (&json!(606.4), &json!(2.0), &json!("serving")),
        "two cups of 80 g"
    );

    // The food changes; the meal logged from it does not.
    let mut richer = food_body("Rolled oats");
    richer["nutrients"]["energy_kcal"] = json!(400);
    let path = format!("/api/v1/foods/{}", food_id.as_str().unwrap());
    let edited = app.put(&path, Some(&user.token), richer).await;
    assert_eq!(edited.body["version"], 2, "{}", edited.body);
    let entry_path = format!("/api/v1/meal-entries/{}", entry["id"].as_str().unwrap());
    let again = app.get(&entry_path, Some(&user.token)).await;
    assert_eq!(
        (&again.body["kcal"], &again.body["food_version"]),
        (&json!(227.4), &json!(1))
    );

    let stranger = app.register("stranger", json!({})).await;
    let theirs = create(&app, &stranger, food_body("Secret granola")).await;
    let refusals = [
        (
            json!({"food_id": food_id, "serving": {"label": "1 bowl", "count": 1}}),
            "food.serving.label",
        ),
        (
            json!({"food_id": food_id, "grams": 60, "serving": {"label": "1 cup", "count": 1}}),
            "food",
        ),
        (json!({"food_id": food_id}), "food"),
        (
            json!({"food_id": theirs["id"], "grams": 60}),
            "food.food_id",
        ),
    ];
    for (food, field) in refusals {
        let refused = log(food).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert_eq!(refused.error_field(), field, "{}", refused.body);
    }
    let typed_too = app
        .post(
            "/api/v1/meal-entries",
            Some(&user.token),
            json!({"eaten_at": "2026-03-02T08:00:00Z", "slot": "breakfast", "kcal": 100,
                "food": {"food_id": food_id, "grams": 60}}),
        )
        .await;
    assert_eq!(typed_too.error_field(), "kcal", "{}", typed_too.body);
    let untyped = app
        .post(
            "/api/v1/meal-entries",
            Some(&user.token),
            json!({"eaten_at": "2026-03-02T08:00:00Z", "slot": "breakfast", "name": "Toast",
                "quantity": 1, "unit": "piece"}),
        )
        .await;
    assert_eq!(untyped.error_field(), "kcal", "{}", untyped.body);
}

async fn recent_foods_come_with_their_last_portion_the_latest_first(app: TestApp) {
    let user = app.register("regular", json!({})).await;
    let oats = create(&app, &user, food_body("Rolled oats")).await;
    let yogurt = create(&app, &user, food_body("Greek yogurt")).await;
    let ago = |hours: i64| (chrono::Utc::now() - chrono::Duration::hours(hours)).to_rfc3339();
    let meals = [
        (ago(50), json!({"food_id": oats["id"], "grams": 60})),
        (ago(26), json!({"food_id": yogurt["id"], "grams": 150})),
        (
            ago(2),
            json!({"food_id": oats["id"], "serving": {"label": "1 cup", "count": 1.5}}),
        ),
    ];
    for (eaten_at, food) in meals {
        let body = json!({"eaten_at": eaten_at, "slot": "breakfast", "food": food});
        let logged = app
            .post("/api/v1/meal-entries", Some(&user.token), body)
            .await;
        assert_eq!(logged.status, StatusCode::CREATED, "{}", logged.body);
    }
    let typed = app
        .post(
            "/api/v1/meal-entries",
            Some(&user.token),
            TestApp::meal_body(&ago(1)),
        )
        .await;
    assert_eq!(
        typed.status,
        StatusCode::CREATED,
        "a meal typed in names no food"
    );

    let recent = app.get("/api/v1/foods/recent", Some(&user.token)).await;

    assert_eq!(recent.status, StatusCode::OK, "{}", recent.body);
    let summary: Vec<(Value, Value, Value, Value)> = recent
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["food"]["id"].clone(),
                item["last_quantity"].clone(),
                item["last_unit"].clone(),
                item["times_logged"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (oats["id"].clone(), json!(1.5), json!("serving"), json!(2)),
            (yogurt["id"].clone(), json!(150.0), json!("g"), json!(1)),
        ]
    );
    let other = app.register("newcomer", json!({})).await;
    let none = app.get("/api/v1/foods/recent", Some(&other.token)).await;
    assert_eq!(none.body, json!([]));
}

async fn recently_logged_foods_rank_after_the_users_own(app: TestApp) {
    let admin = app.demo_login(1).await;
    let regular = app.register("habit", json!({})).await;
    let newcomer = app.register("fresh", json!({})).await;
    for name in ["Skyr, plain", "Skyr, vanilla bean"] {
        let mut public = food_body(name);
        public["public"] = json!(true);
        create(&app, &admin, public).await;
    }
    let found = app.get("/api/v1/foods?q=skyr", Some(&regular.token)).await;
    let vanilla = found.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|food| food["name"]["text"] == "Skyr, vanilla bean")
        .unwrap()["id"]
        .clone();
    let body = json!({"eaten_at": chrono::Utc::now().to_rfc3339(), "slot": "snack",
        "food": {"food_id": vanilla, "grams": 150}});
    let logged = app
        .post("/api/v1/meal-entries", Some(&regular.token), body)
        .await;
    assert_eq!(logged.status, StatusCode::CREATED, "{}", logged.body);
    create(&app, &regular, food_body("Skyr, homemade with berries")).await;

    assert_eq!(
        names_found(&app, &regular, "skyr").await,
        [
            "Skyr, homemade with berries",
            "Skyr, vanilla bean",
            "Skyr, plain"
        ],
        "their own, then what they logged, then the rest"
    );
    assert_eq!(
        names_found(&app, &newcomer, "skyr").await,
        ["Skyr, plain", "Skyr, vanilla bean"],
        "nothing logged: the shorter name first"
    );
}
