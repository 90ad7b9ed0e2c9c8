//! Favourite foods: the handful a user starred to log in one tap. The list is
//! part of the user's record, so it is as fresh on every instance as the user is
//! (the cache's promise) and goes when the user goes; a search ranks it first,
//! beside the foods the user logs.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::inputs::FoodView;
use super::visible;
use crate::api::account::auth::AuthUser;
use crate::api::account::record::{Change, change_user};
use crate::api::http::error::{ApiError, ApiResult, ErrorBody};
use crate::api::http::extract::PathId;
use crate::api::http::state::SharedState;
use crate::domain::{Food, User};

/// The most favourites a user keeps: a quick list, not a second database.
pub const MOST: usize = 100;

/// The caller's favourite foods, the latest starred first.
///
/// A favourite deleted since, or no longer visible, is left out.
#[utoipa::path(
    get,
    path = "/api/v1/foods/favourites",
    tag = "foods",
    operation_id = "favourite_foods",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "At most 100 foods, the latest starred first",
            body = Vec<FoodView>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
) -> ApiResult<Json<Vec<FoodView>>> {
    let mut found = still_there(&state, &user, &user.favourite_foods).await?;
    Ok(Json(
        user.favourite_foods
            .iter()
            .filter_map(|id| found.remove(id))
            .map(|food| FoodView::of(food, user.id))
            .collect(),
    ))
}

/// Those of `ids` that exist and `user` may see, in one read.
async fn still_there(
    state: &SharedState,
    user: &User,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, Food>> {
    Ok(state
        .store
        .foods()
        .get_many(ids)
        .await?
        .into_iter()
        .filter(|food| food.visible_to(Some(user.id)))
        .map(|food| (food.id, food))
        .collect())
}

/// Stars a food the caller can see; starring it again is harmless.
#[utoipa::path(
    put,
    path = "/api/v1/foods/{id}/favourite",
    tag = "foods",
    operation_id = "add_favourite_food",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The food's id")),
    responses(
        (status = 204, description = "Among the favourites"),
        (status = 404, description = "No such food the caller may see", body = ErrorBody),
        (status = 409, description = "The favourites hold 100 foods already", body = ErrorBody),
    )
)]
pub async fn add(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    visible(&state, &user, id).await?;
    // A full list first drops the favourites deleted (or hidden) since: they take
    // no place.
    let gone: HashSet<Uuid> = if user.favourite_foods.len() >= MOST {
        let found = still_there(&state, &user, &user.favourite_foods).await?;
        user.favourite_foods
            .iter()
            .filter(|id| !found.contains_key(id))
            .copied()
            .collect()
    } else {
        HashSet::new()
    };
    change(&state, &user, |favourites| {
        if favourites.contains(&id) && gone.is_empty() {
            return Ok(false);
        }
        favourites.retain(|favourite| !gone.contains(favourite) && *favourite != id);
        if favourites.len() >= MOST {
            return Err(ApiError::conflict(format!(
                "favourites hold at most {MOST} foods: remove one first"
            )));
        }
        favourites.insert(0, id);
        Ok(true)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unstars a food; unstarring one that is not a favourite is harmless.
#[utoipa::path(
    delete,
    path = "/api/v1/foods/{id}/favourite",
    tag = "foods",
    operation_id = "remove_favourite_food",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The food's id")),
    responses(
        (status = 204, description = "Not among the favourites"),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
pub async fn remove(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    change(&state, &user, |favourites| {
        let before = favourites.len();
        favourites.retain(|favourite| *favourite != id);
        Ok(favourites.len() != before)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Applies `edit` to the user's list as stored, writing it only when `edit` says
/// it changed it (`account::record`).
async fn change(
    state: &SharedState,
    signed_in: &User,
    mut edit: impl FnMut(&mut Vec<Uuid>) -> ApiResult<bool>,
) -> ApiResult<()> {
    change_user(state, signed_in.id, |user| {
        Ok(if edit(&mut user.favourite_foods)? {
            Change::Write(())
        } else {
            Change::Keep(())
        })
    })
    .await?;
    Ok(())
}
