//! Recipes: a user's food made of other foods (or of other recipes), with its
//! numbers per 100 g and per serving worked out from theirs.
//!
//! A recipe is stored as one of its author's foods, so it is found by search,
//! logged by grams or by `{"label": "1 serving", "count": …}` as any food is, and
//! versioned the same way: a meal logged from it keeps the numbers of the version
//! it was logged from. Its numbers are worked out when it is written, from the
//! ingredients as they are then (each ingredient records the version used), and
//! again each time it is written; a later edit of an ingredient does not change a
//! recipe behind its author's back.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::inputs::{FoodView, NameInput};
use super::{Created, NOUN, create_checked, searchable, visible};
use crate::api::account::auth::AuthUser;
use crate::api::http::error::{ApiError, ApiResult, ErrorBody, NotFoundAs};
use crate::api::http::extract::{PathId, ValidJson};
use crate::api::http::state::SharedState;
use crate::domain::recipe::{MAX_INGREDIENTS, MAX_NESTING, PerHundred};
use crate::domain::{
    Basis, ClientId, Food, FoodName, FoodSource, Ingredient, Recipe, RecipeGrams, ServingCount,
    User, Version, new_id, now,
};
use crate::store::{Optional, StoreError};

const TAG: &str = "recipes";

/// A recipe as its author writes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipeInput {
    /// A client-made id (any RFC 9562 UUID), so sending it again is harmless.
    #[serde(default)]
    pub id: Option<ClientId>,
    #[serde(deserialize_with = "crate::api::http::extract::object")]
    pub name: NameInput,
    /// From 1 to 64 foods (or other recipes) you can see, each by its weight.
    pub ingredients: Vec<IngredientInput>,
    /// How many servings it makes.
    pub servings: ServingCount,
    /// The pot's weight once cooked, if weighed: the nutrients per 100 g are of
    /// it. Without it, the raw ingredients' weight counts.
    #[serde(default)]
    pub cooked_grams: Option<RecipeGrams>,
}

/// One ingredient: a food or another recipe, and how much of it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngredientInput {
    pub food_id: Uuid,
    /// Grams (millilitres for a drink).
    pub grams: RecipeGrams,
}

/// A recipe made of meals already logged.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FromMealsInput {
    #[serde(default)]
    pub id: Option<ClientId>,
    #[serde(deserialize_with = "crate::api::http::extract::object")]
    pub name: NameInput,
    /// Meal entries logged from foods, e.g. every part of today's breakfast:
    /// each becomes an ingredient at the weight it was logged at.
    pub entry_ids: Vec<Uuid>,
    /// How many servings the meals made; 1 unless said.
    #[serde(default)]
    pub servings: Option<ServingCount>,
}

/// The caller's recipes, by name.
#[utoipa::path(
    get,
    path = "/api/v1/recipes",
    tag = TAG,
    operation_id = "list_recipes",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "At most 1,000 recipes, by name", body = Vec<FoodView>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
) -> ApiResult<Json<Vec<FoodView>>> {
    super::shelf(&state, &user, crate::store::foods::Shelf::Recipes).await
}

/// One of the caller's recipes.
#[utoipa::path(
    get,
    path = "/api/v1/recipes/{id}",
    tag = TAG,
    operation_id = "get_recipe",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The recipe's id")),
    responses(
        (status = 200, description = "The recipe", body = FoodView),
        (status = 404, description = "No such recipe of the caller's", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<FoodView>> {
    let recipe = own_recipe(&state, &user, id).await?;
    Ok(Json(FoodView::of(recipe, user.id)))
}

/// Creates a recipe.
///
/// Its nutrients per 100 g, its one serving ("1 serving") and what that serving
/// holds are worked out from the ingredients. A recipe that would contain itself,
/// directly or through other recipes, is refused.
#[utoipa::path(
    post,
    path = "/api/v1/recipes",
    tag = TAG,
    operation_id = "create_recipe",
    security(("bearer" = [])),
    request_body = RecipeInput,
    responses(
        (status = 201, description = "Created", body = FoodView,
            headers(("location" = String, description = "The recipe's URL as a food"))),
        (status = 200, description = "The same recipe was already there", body = FoodView,
            headers(("location" = String, description = "The recipe's URL as a food"))),
        (status = 404, description = "The id belongs to someone else", body = ErrorBody),
        (status = 409, description = "The id is taken by something else", body = ErrorBody),
        (status = 422, description = "An ingredient you cannot see, a recipe containing \
            itself, or numbers that cannot be", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    ValidJson(input): ValidJson<RecipeInput>,
) -> ApiResult<Created> {
    let id = input.id.map_or_else(new_id, ClientId::get);
    let recipe = recipe_food(&state, &user, id, input).await?;
    create_checked(&state, &user, recipe).await
}

/// Creates or replaces the recipe with this id.
///
/// Its numbers are worked out again from the ingredients as they are now; meals
/// logged from the old version keep theirs.
#[utoipa::path(
    put,
    path = "/api/v1/recipes/{id}",
    tag = TAG,
    operation_id = "put_recipe",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The recipe's id, a UUID of any RFC 9562 version")),
    request_body = RecipeInput,
    responses(
        (status = 201, description = "Created", body = FoodView,
            headers(("location" = String, description = "The recipe's URL as a food"))),
        (status = 200, description = "Replaced, or already equal", body = FoodView,
            headers(("location" = String, description = "The recipe's URL as a food"))),
        (status = 404, description = "The id belongs to someone else", body = ErrorBody),
        (status = 409, description = "Changed concurrently, or the id is a food's",
            body = ErrorBody),
        (status = 422, description = "An ingredient you cannot see, a recipe containing \
            itself, or numbers that cannot be", body = ErrorBody),
    )
)]
pub async fn put(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    ValidJson(input): ValidJson<RecipeInput>,
) -> ApiResult<Created> {
    let id = ClientId::try_from(id)
        .map_err(|invalid| ApiError::invalid("id", invalid.0))?
        .get();
    if input.id.is_some_and(|body_id| body_id.get() != id) {
        return Err(ApiError::invalid("id", "must match the id in the path"));
    }
    let stored = match state.store.foods().get(id).await {
        Ok(stored) => stored,
        Err(StoreError::NotFound) => {
            let recipe = recipe_food(&state, &user, id, input).await?;
            return create_checked(&state, &user, recipe).await;
        }
        Err(other) => return Err(other.into()),
    };
    if stored.owner != Some(user.id) {
        return Err(ApiError::not_found(NOUN));
    }
    if stored.recipe.is_none() {
        return Err(ApiError::conflict(
            "this id is a food's, not a recipe's: change it through /api/v1/foods/{id}",
        ));
    }
    let recipe = recipe_food(&state, &user, id, input).await?;
    super::replace_checked(&state, &user, recipe, stored).await
}

/// Deletes one of the caller's recipes.
///
/// Meals logged from it keep their numbers, and recipes made with it keep theirs
/// until they are next edited.
#[utoipa::path(
    delete,
    path = "/api/v1/recipes/{id}",
    tag = TAG,
    operation_id = "delete_recipe",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The recipe's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such recipe of the caller's", body = ErrorBody),
        (status = 409, description = "Changed concurrently; try again", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    let stored = own_recipe(&state, &user, id).await?;
    state
        .store
        .foods()
        .delete(id, &stored)
        .await
        .or_not_found(NOUN)?;
    searchable(&state).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Saves meals already logged as a recipe.
///
/// Each meal entry becomes an ingredient: its food at the weight it was logged
/// at. Entries typed in by hand have no food to be made of, and are refused.
#[utoipa::path(
    post,
    path = "/api/v1/recipes/from-meals",
    tag = TAG,
    operation_id = "create_recipe_from_meals",
    security(("bearer" = [])),
    request_body = FromMealsInput,
    responses(
        (status = 201, description = "Created", body = FoodView,
            headers(("location" = String, description = "The recipe's URL as a food"))),
        (status = 200, description = "The same recipe was already there", body = FoodView,
            headers(("location" = String, description = "The recipe's URL as a food"))),
        (status = 409, description = "The id is taken by something else", body = ErrorBody),
        (status = 422, description = "An entry that is not the caller's, or not logged from \
            a food by a known weight", body = ErrorBody),
    )
)]
pub async fn from_meals(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    ValidJson(input): ValidJson<FromMealsInput>,
) -> ApiResult<Created> {
    if input.entry_ids.is_empty() || input.entry_ids.len() > MAX_INGREDIENTS {
        return Err(ApiError::invalid(
            "entry_ids",
            format!("takes from 1 to {} meal entries", MAX_INGREDIENTS),
        ));
    }
    let mut ingredients = Vec::with_capacity(input.entry_ids.len());
    for (at, entry_id) in input.entry_ids.iter().enumerate() {
        let field = format!("entry_ids[{at}]");
        let entry = state
            .store
            .meal_entries()
            .get(user.id, *entry_id)
            .await
            .optional()?
            .ok_or_else(|| ApiError::invalid(&field, "is not one of your meal entries"))?;
        let food = entry.data.food.ok_or_else(|| {
            ApiError::invalid(
                &field,
                "was typed in by hand, not logged from a food: there is nothing to make a \
                 recipe of",
            )
        })?;
        let grams = food
            .grams
            .and_then(|grams| RecipeGrams::try_from(grams.get()).ok())
            .ok_or_else(|| {
                ApiError::invalid(&field, "its weight is not known: edit it to grams first")
            })?;
        ingredients.push(IngredientInput {
            food_id: food.food_id,
            grams,
        });
    }
    let id = input.id.map_or_else(new_id, ClientId::get);
    let recipe = RecipeInput {
        id: None,
        name: input.name,
        ingredients,
        servings: input.servings.unwrap_or_else(|| {
            ServingCount::try_from(1.0).expect("one serving is a count of servings")
        }),
        cooked_grams: None,
    };
    // Each food is read once, by the recipe's own checks, which name the entry.
    let entry_of = |at: usize| format!("entry_ids[{at}]");
    let food = recipe_food_named(&state, &user, id, recipe, entry_of).await?;
    create_checked(&state, &user, food).await
}

/// Recipe `id` if it is `user`'s; 404 otherwise, as if it did not exist.
async fn own_recipe(state: &SharedState, user: &User, id: Uuid) -> ApiResult<Food> {
    let food = visible(state, user, id).await?;
    if food.owner == Some(user.id) && food.recipe.is_some() {
        Ok(food)
    } else {
        Err(ApiError::not_found("recipe"))
    }
}

/// The food recipe `input` stores as `id` for `user`: its ingredients read, the
/// recipe checked not to contain itself, its numbers worked out.
async fn recipe_food(
    state: &SharedState,
    user: &User,
    id: Uuid,
    input: RecipeInput,
) -> ApiResult<Food> {
    let ingredient = |at: usize| format!("ingredients[{at}].food_id");
    recipe_food_named(state, user, id, input, ingredient).await
}

/// `recipe_food`, an ingredient's refusal naming the field `field_of` its place.
async fn recipe_food_named(
    state: &SharedState,
    user: &User,
    id: Uuid,
    input: RecipeInput,
    field_of: impl Fn(usize) -> String,
) -> ApiResult<Food> {
    if input.ingredients.is_empty() || input.ingredients.len() > MAX_INGREDIENTS {
        return Err(ApiError::invalid(
            "ingredients",
            format!("takes from 1 to {} ingredients", MAX_INGREDIENTS),
        ));
    }
    let mut foods = Vec::with_capacity(input.ingredients.len());
    for (at, part) in input.ingredients.iter().enumerate() {
        let field = field_of(at);
        if part.food_id == id {
            return Err(ApiError::invalid(field, "a recipe cannot contain itself"));
        }
        let food = state
            .store
            .foods()
            .get(part.food_id)
            .await
            .optional()?
            .filter(|food| food.visible_to(Some(user.id)))
            .ok_or_else(|| ApiError::invalid(&field, "is not a food you can see"))?;
        foods.push(food);
    }
    check_nesting(state, id, &foods).await?;
    let recipe = Recipe {
        ingredients: input
            .ingredients
            .iter()
            .zip(&foods)
            .map(|(part, food)| Ingredient {
                food_id: food.id,
                food_version: food.version,
                name: food.name.text.clone(),
                grams: part.grams,
            })
            .collect(),
        servings: input.servings,
        cooked_grams: input.cooked_grams,
    };
    let parts: Vec<PerHundred<'_>> = foods
        .iter()
        .map(|food| PerHundred {
            nutrients: &food.nutrients,
            micronutrients: &food.micronutrients,
        })
        .collect();
    let (nutrients, micronutrients, serving) =
        recipe.work_out(&parts).map_err(super::inputs::refused)?;
    let at = now();
    let food = Food {
        id,
        source: FoodSource::User,
        source_id: None,
        owner: Some(user.id),
        name: FoodName::from(input.name),
        other_names: Vec::new(),
        brand: None,
        barcodes: Vec::new(),
        basis: Basis::Per100G,
        nutrients,
        micronutrients,
        servings: vec![serving],
        recipe: Some(recipe),
        version: Version::try_from(1_i64).expect("1 is a version"),
        created_at: at,
        updated_at: at,
    };
    food.check()
        .map_err(|invalid| ApiError::invalid("recipe", invalid.0))?;
    Ok(food)
}

/// Refuses a recipe `id` made of `ingredients` that would contain itself through
/// other recipes, or nest deeper than `MAX_NESTING`. The walk reads each recipe
/// below once, level by level.
async fn check_nesting(state: &SharedState, id: Uuid, ingredients: &[Food]) -> ApiResult<()> {
    let mut seen: HashSet<Uuid> = HashSet::new();
    let mut level: Vec<Uuid> = ingredients
        .iter()
        .filter_map(|food| food.recipe.as_ref())
        .flat_map(|recipe| recipe.ingredients.iter().map(|part| part.food_id))
        .collect();
    let mut depth = 2;
    while !level.is_empty() {
        if depth > MAX_NESTING {
            return Err(ApiError::invalid(
                "ingredients",
                format!("recipes nest at most {MAX_NESTING} deep"),
            ));
        }
        let mut next = Vec::new();
        for food_id in level {
            if food_id == id {
                return Err(ApiError::invalid(
                    "ingredients",
                    "a recipe cannot contain itself, even through other recipes",
                ));
            }
            if !seen.insert(food_id) {
                continue;
            }
            // An ingredient deleted since holds nothing further.
            if let Some(food) = state.store.foods().get(food_id).await.optional()?
                && let Some(recipe) = food.recipe
            {
                next.extend(recipe.ingredients.iter().map(|part| part.food_id));
            }
        }
        level = next;
        depth += 1;
    }
    Ok(())
}
