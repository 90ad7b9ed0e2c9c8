//! Foods: search as you type, barcode lookup, and a user's own foods.
//!
//! Every route needs a signed-in user: a user's own foods are private to them
//! (another user's id answers 404 like an id that does not exist), and they rank
//! first in that user's searches. Public foods (USDA, Open Food Facts, the admins')
//! are every user's to read; admins may publish a food for everyone.

pub(crate) mod favourites;
pub(crate) mod inputs;
pub(crate) mod patch;
pub(crate) mod recent;
pub(crate) mod recipes;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use self::inputs::{FoodInput, FoodSearchQuery, FoodView};
use crate::api::account::auth::AuthUser;
use crate::api::http::error::{ApiError, ApiResult, ErrorBody, NotFoundAs};
use crate::api::http::extract::{PathId, ValidJson, ValidQuery};
use crate::api::http::pagination::{self, ListResponse};
use crate::api::http::state::SharedState;
use crate::domain::{Barcode, ClientId, Food, FoodSource, Role, User, new_id, now};
use crate::search::SearchRequest;
use crate::store::Written;
use crate::store::foods::Shelf;

const NOUN: &str = "food";
const TAG: &str = "foods";
/// The longest page of search results.
const MAX_SEARCH_LIMIT: i64 = 50;
const DEFAULT_SEARCH_LIMIT: i64 = 20;
/// How long a search waits for a just-started index to read the whole store.
const INDEX_WAIT: Duration = Duration::from_secs(1);
/// How long a write waits for this instance's index to take it in before it is
/// answered anyway (the index takes it at its next poll).
const SEARCHABLE_WAIT: Duration = Duration::from_secs(2);
/// How deep search results may be paged: nobody reads past it, and it bounds the
/// work a page costs.
const MAX_SEARCH_OFFSET: usize = 500;

/// Where a search page starts: tied to the query it continues.
#[derive(Serialize, Deserialize)]
struct SearchCursor {
    offset: usize,
    query: String,
}

/// Searches foods as the user types.
///
/// Every word must match the name or brand, in any order; the last may be
/// unfinished, and one typo is forgiven in words of five letters or more. Best
/// first: the caller's own, then those the caller logged recently, then
/// whole-name, exact, prefix and one-typo matches.
#[utoipa::path(
    get,
    path = "/api/v1/foods",
    tag = TAG,
    operation_id = "search_foods",
    security(("bearer" = [])),
    params(FoodSearchQuery),
    responses(
        (status = 200, description = "One page of foods", body = ListResponse<FoodView>),
        (status = 422, description = "No word to search for, or a bad cursor", body = ErrorBody),
    )
)]
pub async fn search(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    ValidQuery(query): ValidQuery<FoodSearchQuery>,
) -> ApiResult<Json<ListResponse<FoodView>>> {
    let text = query.q.trim();
    if crate::search::text::words(text).is_empty() {
        return Err(ApiError::invalid("q", "must have a letter or a digit"));
    }
    if text.chars().count() > 200 {
        return Err(ApiError::invalid("q", "must be at most 200 characters"));
    }
    let limit = match query.limit {
        None => DEFAULT_SEARCH_LIMIT,
        Some(limit) if (1..=MAX_SEARCH_LIMIT).contains(&limit) => limit,
        Some(_) => {
            return Err(ApiError::invalid(
                "limit",
                format!("must be from 1 to {MAX_SEARCH_LIMIT}"),
            ));
        }
    } as usize;
    let offset = match &query.cursor {
        None => 0,
        Some(cursor) => {
            let cursor: SearchCursor = pagination::decode(cursor)?;
            if cursor.query != text || cursor.offset > MAX_SEARCH_OFFSET {
                return Err(ApiError::invalid(
                    "cursor",
                    "belongs to another search; start again without it",
                ));
            }
            cursor.offset
        }
    };
    // Favourites first, then what the user logs.
    let mut ranked = user.favourite_foods.clone();
    ranked.extend(recent::recent_food_ids(&state, &user).await?);
    let request = SearchRequest {
        text: text.to_owned(),
        viewer: Some(user.id),
        recent: ranked,
        source: query.source,
        brand: query.brand,
        offset,
        limit,
    };
    if !state.foods.ready(INDEX_WAIT).await {
        // Just started over a large store: a search now would miss foods.
        return Err(ApiError::unavailable());
    }
    let page = state.foods.search(request).await.map_err(|error| {
        ApiError::internal(format!(
            "searching foods: {}",
            crate::telemetry::ErrorChain(&error)
        ))
    })?;
    let next_offset = offset + page.foods.len();
    let next_cursor = (page.more && next_offset <= MAX_SEARCH_OFFSET).then(|| {
        pagination::encode(&SearchCursor {
            offset: next_offset,
            query: text.to_owned(),
        })
    });
    Ok(Json(ListResponse {
        items: page
            .foods
            .into_iter()
            .map(|food| FoodView::of(food, user.id))
            .collect(),
        next_cursor,
    }))
}

/// Looks a food up by its barcode.
///
/// The caller's own first, then the admins', USDA's and Open Food Facts'. A UPC-A
/// code finds the same food as its EAN-13 form. Answered from the instance's food
/// index, as fresh as every instance's cache.
#[utoipa::path(
    get,
    path = "/api/v1/foods/barcode/{code}",
    tag = TAG,
    operation_id = "food_by_barcode",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "An EAN-13, EAN-8 or UPC-A barcode",
        pattern = "^([0-9]{8}|[0-9]{12,13})$")),
    responses(
        (status = 200, description = "The food", body = FoodView),
        (status = 404, description = "No food has this barcode", body = ErrorBody),
        (status = 422, description = "Not a barcode: wrong length or check digit",
            body = ErrorBody),
    )
)]
pub async fn by_barcode(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    Path(code): Path<String>,
) -> ApiResult<Json<FoodView>> {
    let barcode = Barcode::parse(&code).map_err(|invalid| ApiError::invalid("code", invalid.0))?;
    // The index first: it is this instance's in-process copy of every food.
    let indexed = state
        .foods
        .by_barcode(&barcode, Some(user.id))
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(error = %crate::telemetry::ErrorChain(&error), "the food index failed a barcode lookup");
            None
        });
    // A miss is asked of the store: the index may not have a food written an
    // instant ago through another instance.
    let food = match indexed {
        Some(found) => found,
        None => state
            .store
            .foods()
            .by_barcode(&barcode, Some(user.id))
            .await
            .or_not_found(NOUN)?,
    };
    Ok(Json(FoodView::of(food, user.id)))
}

/// A food the caller may see.
#[utoipa::path(
    get,
    path = "/api/v1/foods/{id}",
    tag = TAG,
    operation_id = "get_food",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The food's id")),
    responses(
        (status = 200, description = "The food", body = FoodView),
        (status = 404, description = "No such food the caller may see", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<FoodView>> {
    let food = visible(&state, &user, id).await?;
    Ok(Json(FoodView::of(food, user.id)))
}

/// The caller's own foods (not their recipes), by name.
#[utoipa::path(
    get,
    path = "/api/v1/foods/mine",
    tag = TAG,
    operation_id = "my_foods",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "At most 1,000 foods, by name", body = Vec<FoodView>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
pub async fn mine(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
) -> ApiResult<Json<Vec<FoodView>>> {
    shelf(&state, &user, Shelf::Foods).await
}

/// The user's own foods or recipes, by name.
async fn shelf(state: &SharedState, user: &User, shelf: Shelf) -> ApiResult<Json<Vec<FoodView>>> {
    let owned = state.store.foods().owned(user.id, shelf).await?;
    Ok(Json(
        owned
            .into_iter()
            .map(|food| FoodView::of(food, user.id))
            .collect(),
    ))
}

/// Creates one of the caller's own foods.
///
/// An admin with `public` creates one for everyone. With a client-made `id`,
/// sending it again is harmless.
#[utoipa::path(
    post,
    path = "/api/v1/foods",
    tag = TAG,
    operation_id = "create_food",
    security(("bearer" = [])),
    request_body = FoodInput,
    responses(
        (status = 201, description = "Created", body = FoodView,
            headers(("location" = String, description = "The food's URL"))),
        (status = 200, description = "The same food was already there", body = FoodView,
            headers(("location" = String, description = "The food's URL"))),
        (status = 403, description = "Only admins publish foods for everyone", body = ErrorBody),
        (status = 404, description = "The id belongs to someone else", body = ErrorBody),
        (status = 409, description = "The id is taken by a different food", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    ValidJson(input): ValidJson<FoodInput>,
) -> ApiResult<Created> {
    may_publish(&user, &input)?;
    let id = input.id.map_or_else(new_id, ClientId::get);
    let food = input.into_food(id, user.id, now())?;
    create_checked(&state, &user, food).await
}

/// Creates or replaces the food with this id.
///
/// New content is a new version; entries logged from the old one keep theirs.
#[utoipa::path(
    put,
    path = "/api/v1/foods/{id}",
    tag = TAG,
    operation_id = "put_food",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The food's id, a UUID of any RFC 9562 version")),
    request_body = FoodInput,
    responses(
        (status = 201, description = "Created", body = FoodView,
            headers(("location" = String, description = "The food's URL"))),
        (status = 200, description = "Replaced, or already equal", body = FoodView,
            headers(("location" = String, description = "The food's URL"))),
        (status = 403, description = "Not the caller's to change", body = ErrorBody),
        (status = 404, description = "The id belongs to someone else", body = ErrorBody),
        (status = 409, description = "Changed concurrently; try again", body = ErrorBody),
    )
)]
pub async fn put(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    ValidJson(input): ValidJson<FoodInput>,
) -> ApiResult<Created> {
    let id = ClientId::try_from(id)
        .map_err(|invalid| ApiError::invalid("id", invalid.0))?
        .get();
    if input.id.is_some_and(|body_id| body_id.get() != id) {
        return Err(ApiError::invalid("id", "must match the id in the path"));
    }
    may_publish(&user, &input)?;
    let food = input.into_food(id, user.id, now())?;
    let stored = match state.store.foods().get(id).await {
        Ok(stored) => stored,
        Err(crate::store::StoreError::NotFound) => {
            return create_checked(&state, &user, food).await;
        }
        Err(other) => return Err(other.into()),
    };
    may_change(&user, &stored)?;
    not_a_recipe(&stored)?;
    replace_checked(&state, &user, food, stored).await
}

/// Stores `food` as new (or finds it there already, the same), and waits for this
/// instance's index to take it in.
async fn create_checked(state: &SharedState, user: &User, food: Food) -> ApiResult<Created> {
    let written = state.store.foods().create(food).await.or_not_found(NOUN)?;
    searchable(state).await;
    Ok(respond(written, user))
}

/// Stores `food` over `stored`, the revision read: unchanged when it says the
/// same, else as the next version, whose it is and where it comes from kept.
async fn replace_checked(
    state: &SharedState,
    user: &User,
    food: Food,
    stored: Food,
) -> ApiResult<Created> {
    if crate::store::foods::same_content(&stored, &food) {
        return Ok(respond(Written::Unchanged(stored), user));
    }
    let replacement = Food {
        source: stored.source,
        owner: stored.owner,
        created_at: stored.created_at,
        version: stored
            .version
            .next()
            .ok_or_else(|| ApiError::conflict("this food has had its last possible revision"))?,
        ..food
    };
    let written = state
        .store
        .foods()
        .replace(replacement, &stored)
        .await
        .or_not_found(NOUN)?;
    searchable(state).await;
    Ok(respond(written, user))
}

/// A recipe's numbers come from its ingredients: it is written through
/// `/recipes`, never as a plain food, which would drop what it is made of.
fn not_a_recipe(food: &Food) -> ApiResult<()> {
    match food.recipe {
        Some(_) => Err(ApiError::conflict(
            "this food is a recipe: change it through /api/v1/recipes/{id}",
        )),
        None => Ok(()),
    }
}

/// Deletes one of the caller's foods.
///
/// An admin may delete the admins' public ones. Entries logged from it keep their
/// numbers.
#[utoipa::path(
    delete,
    path = "/api/v1/foods/{id}",
    tag = TAG,
    operation_id = "delete_food",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The food's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not the caller's to delete", body = ErrorBody),
        (status = 404, description = "No such food the caller may see", body = ErrorBody),
        (status = 409, description = "Changed concurrently; try again", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    let stored = visible(&state, &user, id).await?;
    may_change(&user, &stored)?;
    state
        .store
        .foods()
        .delete(id, &stored)
        .await
        .or_not_found(NOUN)?;
    searchable(&state).await;
    Ok(StatusCode::NO_CONTENT)
}

pub type Created = (StatusCode, HeaderMap, Json<FoodView>);

fn respond(written: Written<Food>, user: &User) -> Created {
    let status = if written.was_created() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let food = written.into_inner();
    let mut headers = HeaderMap::new();
    let location = format!("/api/v1/foods/{}", food.id);
    headers.insert(
        LOCATION,
        HeaderValue::from_str(&location).expect("a path of ASCII"),
    );
    (status, headers, Json(FoodView::of(food, user.id)))
}

/// Food `id` if `user` may see it; 404 otherwise, as if it did not exist.
async fn visible(state: &SharedState, user: &User, id: Uuid) -> ApiResult<Food> {
    let food = state.store.foods().get(id).await.or_not_found(NOUN)?;
    if food.visible_to(Some(user.id)) {
        Ok(food)
    } else {
        Err(ApiError::not_found(NOUN))
    }
}

/// Only admins publish for everyone.
fn may_publish(user: &User, input: &FoodInput) -> ApiResult<()> {
    if input.public && user.role != Role::Admin {
        return Err(ApiError::forbidden());
    }
    Ok(())
}

/// A user changes their own foods; an admin also the public ones. Nobody changes
/// another user's (which they cannot see) or an imported one (the next import
/// would undo it).
fn may_change(user: &User, food: &Food) -> ApiResult<()> {
    match food.source {
        FoodSource::User if food.owner == Some(user.id) => Ok(()),
        FoodSource::User => Err(ApiError::not_found(NOUN)),
        FoodSource::Admin if user.role == Role::Admin => Ok(()),
        _ => Err(ApiError::forbidden()),
    }
}

/// Brings this instance's index up to the write just made, so its writer finds
/// it at once; other instances follow within a second. The write stands either
/// way: a failure here only delays the index to its next poll.
async fn searchable(state: &SharedState) {
    match tokio::time::timeout(SEARCHABLE_WAIT, state.foods.catch_up()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(
            error = %crate::telemetry::ErrorChain(&error),
            "the food index did not catch up with a write; it will at its next poll"
        ),
        // Still reading a large store after a start: the write is in the feed.
        Err(_) => {}
    }
}
