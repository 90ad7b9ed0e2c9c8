//! A user's recipes, favourites and own foods through the API, and a change to
//! some of a food's fields.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

async fn create_food(app: &TestApp, user: &TestUser, name: &str, nutrients: Value) -> String {
    let body = json!({
        "name": {"text": name},
        "nutrients": nutrients,
        "servings": [{"label": "1 cup", "grams": 240}],
    });
    let created = app.post("/api/v1/foods", Some(&user.token), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body["id"].as_str().unwrap().to_owned()
}

async fn oats_and_milk(app: &TestApp, user: &TestUser) -> (String, String) {
    let oats = create_food(
        app,
        user,
        "Rolled oats",
        json!({"energy_kcal": 379, "protein_g": 13.2, "fat_g": 6.5}),
    )
    .await;
    let milk = create_food(
        app,
        user,
        "Milk, whole",
        json!({"energy_kcal": 61, "protein_g": 3.2, "fat_g": 3.3}),
    )
    .await;
    (oats, milk)
}

async fn log(app: &TestApp, user: &TestUser, food: Value) -> Value {
    let body = json!({"eaten_at": "2026-03-02T08:00:00Z", "slot": "breakfast", "food": food});
    let logged = app
        .post("/api/v1/meal-entries", Some(&user.token), body)
        .await;
    assert_eq!(logged.status, StatusCode::CREATED, "{}", logged.body);
    logged.body
}

async fn star(app: &TestApp, user: &TestUser, id: &str) -> crate::support::TestResponse {
    let path = format!("/api/v1/foods/{id}/favourite");
    app.put(&path, Some(&user.token), json!({})).await
}

fn ids_of(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|food| food["id"].as_str().unwrap())
        .collect()
}

on_every_store!(
    a_recipe_works_out_its_numbers_and_is_logged_by_serving_or_weight,
    a_recipe_that_would_contain_itself_is_refused,
    favourites_are_kept_in_order_and_lose_deleted_foods,
    typing_a_portion_over_a_meal_keeps_its_weight_only_in_grams,
);

async fn typing_a_portion_over_a_meal_keeps_its_weight_only_in_grams(app: TestApp) {
    let user = app.register("retyper", json!({})).await;
    let (oats, _) = oats_and_milk(&app, &user).await;
    let logged = log(&app, &user, json!({"food_id": oats, "grams": 60})).await;
    assert_eq!(logged["food_grams"], json!(60.0));
    let path = format!("/api/v1/meal-entries/{}", logged["id"].as_str().unwrap());

    let by_count = app
        .patch(
            &path,
            Some(&user.token),
            json!({"quantity": 2, "unit": "piece"}),
        )
        .await;
    assert_eq!(by_count.status, StatusCode::OK, "{}", by_count.body);
    let read = app.get(&path, Some(&user.token)).await;
    assert_eq!(
        (&read.body["food_grams"], &read.body["food_id"]),
        (&Value::Null, &json!(oats)),
        "two pieces weigh what nobody said; the food stays named"
    );

    app.patch(
        &path,
        Some(&user.token),
        json!({"quantity": 75, "unit": "g"}),
    )
    .await;
    let read = app.get(&path, Some(&user.token)).await;
    assert_eq!(read.body["food_grams"], json!(75.0));
}

async fn a_recipe_works_out_its_numbers_and_is_logged_by_serving_or_weight(app: TestApp) {
    let cook = app.register("cook", json!({})).await;
    let (oats, milk) = oats_and_milk(&app, &cook).await;

    let created = app
        .post(
            "/api/v1/recipes",
            Some(&cook.token),
            json!({
                "name": {"text": "Porridge"},
                "ingredients": [{"food_id": oats, "grams": 80}, {"food_id": milk, "grams": 200}],
                "servings": 2,
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let recipe = &created.body;
    let recipe_id = recipe["id"].as_str().unwrap().to_owned();
    // 80 g of oats and 200 g of milk: 303.2 + 122 = 425.2 kcal in 280 g.
    assert_eq!(recipe["nutrients"]["energy_kcal"], json!(151.9));
    assert_eq!(recipe["nutrients"]["protein_g"], json!(6.1));
    assert_eq!(recipe["nutrients"].get("carbs_g"), None, "neither says it");
    assert_eq!(
        recipe["servings"],
        json!([{"label": "1 serving", "grams": 140.0}])
    );
    assert_eq!(recipe["recipe"]["total_grams"], json!(280.0));
    assert_eq!(recipe["recipe"]["per_serving"]["energy_kcal"], json!(212.7));
    assert_eq!(recipe["recipe"]["ingredients"][0]["name"], "Rolled oats");
    assert_eq!(recipe["recipe"]["ingredients"][1]["food_version"], json!(1));
    assert_eq!(recipe["mine"], json!(true));

    let one_serving = log(
        &app,
        &cook,
        json!({"food_id": recipe_id, "serving": {"label": "1 serving", "count": 1}}),
    )
    .await;
    assert_eq!(
        (
            &one_serving["kcal"],
            &one_serving["food_grams"],
            &one_serving["name"]
        ),
        (&json!(212.7), &json!(140.0), &json!("Porridge")),
        "one serving holds what the recipe says"
    );
    let by_weight = log(&app, &cook, json!({"food_id": recipe_id, "grams": 70})).await;
    assert_eq!(by_weight["kcal"], json!(106.3), "151.9 × 0.7");

    // Two more servings from the same pot: a new version, the logged meal unchanged.
    let edited = app
        .put(
            &format!("/api/v1/recipes/{recipe_id}"),
            Some(&cook.token),
            json!({
                "name": {"text": "Porridge"},
                "ingredients": [{"food_id": oats, "grams": 80}, {"food_id": milk, "grams": 200}],
                "servings": 4,
            }),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(edited.body["version"], json!(2));
    assert_eq!(edited.body["recipe"]["serving_grams"], json!(70.0));

    let listed = app.get("/api/v1/recipes", Some(&cook.token)).await;
    assert_eq!(ids_of(&listed.body), [recipe_id.as_str()]);
    let mine = app.get("/api/v1/foods/mine", Some(&cook.token)).await;
    assert_eq!(
        ids_of(&mine.body),
        [milk.as_str(), oats.as_str()],
        "own foods by name, no recipe"
    );
    let found = app.get("/api/v1/foods?q=porridg", Some(&cook.token)).await;
    assert_eq!(found.body["items"][0]["id"], json!(recipe_id));

    let stranger = app.register("stranger", json!({})).await;
    let theirs = app
        .get(
            &format!("/api/v1/recipes/{recipe_id}"),
            Some(&stranger.token),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);

    let deleted = app
        .delete(&format!("/api/v1/recipes/{recipe_id}"), Some(&cook.token))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    let kept = app
        .get(
            &format!(
                "/api/v1/meal-entries/{}",
                one_serving["id"].as_str().unwrap()
            ),
            Some(&cook.token),
        )
        .await;
    assert_eq!(
        (&kept.body["kcal"], &kept.body["food_version"]),
        (&json!(212.7), &json!(1)),
        "a meal logged from a deleted recipe keeps its numbers"
    );
}

async fn a_recipe_that_would_contain_itself_is_refused(app: TestApp) {
    let cook = app.register("cook", json!({})).await;
    let (oats, _) = oats_and_milk(&app, &cook).await;
    let recipe = |name: &str, ingredient: &str| {
        json!({
            "name": {"text": name},
            "ingredients": [{"food_id": ingredient, "grams": 100}],
            "servings": 1,
        })
    };
    let inner = app
        .post("/api/v1/recipes", Some(&cook.token), recipe("Inner", &oats))
        .await;
    let inner_id = inner.body["id"].as_str().unwrap().to_owned();
    let outer = app
        .post(
            "/api/v1/recipes",
            Some(&cook.token),
            recipe("Outer", &inner_id),
        )
        .await;
    assert_eq!(outer.status, StatusCode::CREATED, "{}", outer.body);
    let outer_id = outer.body["id"].as_str().unwrap().to_owned();

    let through_another = app
        .put(
            &format!("/api/v1/recipes/{inner_id}"),
            Some(&cook.token),
            recipe("Inner", &outer_id),
        )
        .await;
    assert_eq!(
        (through_another.status, through_another.error_field()),
        (StatusCode::UNPROCESSABLE_ENTITY, "ingredients"),
        "{}",
        through_another.body
    );
    let directly = app
        .put(
            &format!("/api/v1/recipes/{inner_id}"),
            Some(&cook.token),
            recipe("Inner", &inner_id),
        )
        .await;
    assert_eq!(
        (directly.status, directly.error_field()),
        (StatusCode::UNPROCESSABLE_ENTITY, "ingredients[0].food_id"),
        "{}",
        directly.body
    );

    let stranger = app.register("stranger", json!({})).await;
    let not_theirs = app
        .post(
            "/api/v1/recipes",
            Some(&stranger.token),
            recipe("Mine?", &oats),
        )
        .await;
    assert_eq!(
        (not_theirs.status, not_theirs.error_field()),
        (StatusCode::UNPROCESSABLE_ENTITY, "ingredients[0].food_id"),
        "another user's food is not an ingredient one can see"
    );
    let empty = app
        .post(
            "/api/v1/recipes",
            Some(&cook.token),
            json!({"name": {"text": "Air"}, "ingredients": [], "servings": 1}),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A recipe is written as a recipe, never over as a plain food.
    let as_food = app
        .put(
            &format!("/api/v1/foods/{inner_id}"),
            Some(&cook.token),
            json!({"name": {"text": "Inner"}, "nutrients": {"energy_kcal": 1}}),
        )
        .await;
    assert_eq!(as_food.status, StatusCode::CONFLICT, "{}", as_food.body);
    let patched = app
        .patch(
            &format!("/api/v1/foods/{inner_id}"),
            Some(&cook.token),
            json!({"nutrients": {"energy_kcal": 1}}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::CONFLICT, "{}", patched.body);
    let food_as_recipe = app
        .put(
            &format!("/api/v1/recipes/{oats}"),
            Some(&cook.token),
            recipe("Oats", &inner_id),
        )
        .await;
    assert_eq!(food_as_recipe.status, StatusCode::CONFLICT);
}

async fn favourites_are_kept_in_order_and_lose_deleted_foods(app: TestApp) {
    let user = app.register("starrer", json!({})).await;
    let (oats, milk) = oats_and_milk(&app, &user).await;

    assert_eq!(
        star(&app, &user, &oats).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        star(&app, &user, &milk).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        star(&app, &user, &oats).await.status,
        StatusCode::NO_CONTENT,
        "again: harmless"
    );
    let listed = app.get("/api/v1/foods/favourites", Some(&user.token)).await;
    assert_eq!(
        ids_of(&listed.body),
        [milk.as_str(), oats.as_str()],
        "the latest first"
    );

    let unknown = star(&app, &user, "0192f0c4-1d2e-7a3b-8c4d-5e6f70819203").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let stranger = app.register("stranger", json!({})).await;
    let not_theirs = app
        .put(
            &format!("/api/v1/foods/{oats}/favourite"),
            Some(&stranger.token),
            json!({}),
        )
        .await;
    assert_eq!(not_theirs.status, StatusCode::NOT_FOUND);

    let unstarred = app
        .delete(
            &format!("/api/v1/foods/{milk}/favourite"),
            Some(&user.token),
        )
        .await;
    assert_eq!(unstarred.status, StatusCode::NO_CONTENT);
    app.delete(&format!("/api/v1/foods/{oats}"), Some(&user.token))
        .await;
    let listed = app.get("/api/v1/foods/favourites", Some(&user.token)).await;
    assert_eq!(listed.body, json!([]), "unstarred, and deleted");
}

#[tokio::test]
async fn a_full_list_of_favourites_makes_room_by_dropping_deleted_foods_only() {
    let app = crate::support::Backend::Memory.app().await;
    let user = app.register("collector", json!({})).await;
    let mut ids = Vec::new();
    for n in 0..101 {
        ids.push(
            create_food(
                &app,
                &user,
                &format!("Food {n}"),
                json!({"energy_kcal": 100}),
            )
            .await,
        );
    }
    for id in &ids[..100] {
        assert_eq!(star(&app, &user, id).await.status, StatusCode::NO_CONTENT);
    }
    let full = star(&app, &user, &ids[100]).await;
    assert_eq!(full.status, StatusCode::CONFLICT, "{}", full.body);

    app.delete(&format!("/api/v1/foods/{}", ids[0]), Some(&user.token))
        .await;
    assert_eq!(
        star(&app, &user, &ids[100]).await.status,
        StatusCode::NO_CONTENT
    );
    let listed = app.get("/api/v1/foods/favourites", Some(&user.token)).await;
    let listed = ids_of(&listed.body);
    assert_eq!(listed.len(), 100);
    assert_eq!(listed[0], ids[100], "the latest first");
}

#[tokio::test]
async fn favourites_rank_first_in_a_search() {
    let app = crate::support::Backend::Memory.app().await;
    let user = app.register("starrer", json!({})).await;
    let cook = app.demo_login(1).await;
    let publish = |name: &str| {
        app.post(
            "/api/v1/foods",
            Some(&cook.token),
            json!({"name": {"text": name}, "nutrients": {"energy_kcal": 100}, "public": true}),
        )
    };
    publish("Apple").await;
    let pie = publish("Apple pie").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first_found = || async {
        let found = app.get("/api/v1/foods?q=apple", Some(&user.token)).await;
        found.body["items"][0]["name"]["text"].clone()
    };
    assert_eq!(first_found().await, json!("Apple"), "the whole name first");

    app.put(
        &format!("/api/v1/foods/{pie}/favourite"),
        Some(&user.token),
        json!({}),
    )
    .await;

    assert_eq!(
        first_found().await,
        json!("Apple pie"),
        "a favourite before it"
    );
}

#[tokio::test]
async fn a_logged_breakfast_becomes_a_recipe() {
    let app = crate::support::Backend::Memory.app().await;
    let user = app.register("saver", json!({})).await;
    let (oats, milk) = oats_and_milk(&app, &user).await;
    let oats_logged = log(&app, &user, json!({"food_id": oats, "grams": 60})).await;
    let milk_logged = log(
        &app,
        &user,
        json!({"food_id": milk, "serving": {"label": "1 cup", "count": 1}}),
    )
    .await;
    let typed = app
        .post(
            "/api/v1/meal-entries",
            Some(&user.token),
            json!({"eaten_at": "2026-03-02T08:00:00Z", "slot": "breakfast", "name": "Coffee",
                "quantity": 1, "unit": "serving", "kcal": 5}),
        )
        .await;
    let ids = [&oats_logged["id"], &milk_logged["id"], &typed.body["id"]];

    let with_typed = app
        .post(
            "/api/v1/recipes/from-meals",
            Some(&user.token),
            json!({"name": {"text": "My breakfast"}, "entry_ids": ids}),
        )
        .await;
    assert_eq!(
        (with_typed.status, with_typed.error_field()),
        (StatusCode::UNPROCESSABLE_ENTITY, "entry_ids[2]"),
        "a meal typed in by hand has no food to be made of"
    );

    let saved = app
        .post(
            "/api/v1/recipes/from-meals",
            Some(&user.token),
            json!({"name": {"text": "My breakfast"}, "entry_ids": &ids[..2]}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
    let parts: Vec<(&Value, &Value)> = saved.body["recipe"]["ingredients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|part| (&part["food_id"], &part["grams"]))
        .collect();
    assert_eq!(
        parts,
        [(&json!(oats), &json!(60.0)), (&json!(milk), &json!(240.0))],
        "each meal at the weight it was logged at, a cup of milk as its grams"
    );
    assert_eq!(
        saved.body["recipe"]["per_serving"]["energy_kcal"],
        json!(373.8),
        "227.4 + 146.4: the breakfast as logged"
    );

    let csv = app
        .get("/api/v1/export?format=csv", Some(&user.token))
        .await;
    let csv = csv.body.as_str().unwrap().to_owned();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|cell| cell == name).unwrap();
    let milk_row = reader
        .records()
        .map(Result::unwrap)
        .find(|row| row[column("food_id")] == milk)
        .expect("the milk meal in the CSV export");
    assert_eq!(
        (
            &milk_row[column("food_version")],
            &milk_row[column("food_grams")]
        ),
        ("1", "240"),
        "the export names the food, its version and the weight"
    );
}

#[tokio::test]
async fn a_patch_changes_only_the_fields_it_names() {
    let app = crate::support::Backend::Memory.app().await;
    let user = app.register("fixer", json!({})).await;
    let created = app
        .post(
            "/api/v1/foods",
            Some(&user.token),
            json!({
                "name": {"text": "Granola"},
                "brand": "Acme",
                "nutrients": {"energy_kcal": 450, "protein_g": 9, "fat_g": 18},
            }),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/foods/{id}");

    let patched = app
        .patch(
            &path,
            Some(&user.token),
            json!({"brand": null, "nutrients": {"protein_g": 10, "fat_g": null}}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(
        (
            &patched.body["name"]["text"],
            &patched.body["brand"],
            &patched.body["nutrients"],
            &patched.body["version"]
        ),
        (
            &json!("Granola"),
            &Value::Null,
            &json!({"energy_kcal": 450.0, "protein_g": 10.0}),
            &json!(2)
        )
    );
    let again = app
        .patch(
            &path,
            Some(&user.token),
            json!({"nutrients": {"protein_g": 10}}),
        )
        .await;
    assert_eq!(
        (again.status, &again.body["version"]),
        (StatusCode::OK, &json!(2)),
        "the same again is no new version"
    );
    for (body, field) in [
        (json!({"name": null}), "name"),
        (json!({"public": true}), "public"),
        (
            json!({"nutrients": {"energy_kcal": 1001}}),
            "nutrients.energy_kcal",
        ),
    ] {
        let refused = app.patch(&path, Some(&user.token), body.clone()).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            refused.body
        );
        assert!(
            refused.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(field),
            "{body}: {}",
            refused.body
        );
    }
}
