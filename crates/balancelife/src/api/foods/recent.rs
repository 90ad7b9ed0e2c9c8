//! `GET /foods/recent`: the foods a user logs, with the portion they took last
//! time, because that is how people log their breakfast: the same oats, the same
//! 60 g.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::inputs::FoodView;
use crate::api::account::auth::AuthUser;
use crate::api::http::error::{ApiResult, ErrorBody};
use crate::api::http::state::SharedState;
use crate::domain::{Entry, Food, MealData, Quantity, Unit, User};
use crate::store::{DateRange, all_entries};

/// How far back the meals are read: with the day ahead, 62 days, the longest list
/// the cached store keeps in process memory, so a search, which ranks these foods
/// on every keystroke, reads them without a round trip.
const LOOKBACK_DAYS: i64 = 60;
/// The most foods answered.
const MOST: usize = 20;

/// A food the user logged, and how.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecentFood {
    pub food: FoodView,
    /// The portion of the last meal logged from it.
    pub last_quantity: Quantity,
    pub last_unit: Unit,
    pub last_logged_at: DateTime<Utc>,
    /// How many meals of the last 60 days were logged from it.
    pub times_logged: u32,
}

/// The caller's recently logged foods, with the last portion of each.
///
/// Foods logged in meals of the last 60 days, the most recently eaten first; a food
/// deleted since, or no longer visible, is left out.
#[utoipa::path(
    get,
    path = "/api/v1/foods/recent",
    tag = "foods",
    operation_id = "recent_foods",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "At most 20 foods, the most recently eaten first",
            body = Vec<RecentFood>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
pub async fn recent(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
) -> ApiResult<Json<Vec<RecentFood>>> {
    let meals = recent_meals(&state, &user).await?;
    let recent = most_recent(&meals);
    // Twice as many as answered, in one read: some may be deleted or hidden since.
    let ids: Vec<Uuid> = recent.iter().take(2 * MOST).map(|(id, _)| *id).collect();
    let mut found: HashMap<Uuid, Food> = state
        .store
        .foods()
        .get_many(&ids)
        .await?
        .into_iter()
        .filter(|food| food.visible_to(Some(user.id)))
        .map(|food| (food.id, food))
        .collect();
    let foods = recent
        .into_iter()
        .filter_map(|(id, logged)| found.remove(&id).map(|food| (food, logged)))
        .take(MOST)
        .map(|(food, logged)| RecentFood {
            food: FoodView::of(food, user.id),
            last_quantity: logged.last.data.quantity,
            last_unit: logged.last.data.unit,
            last_logged_at: logged.last.data.eaten_at,
            times_logged: logged.times,
        })
        .collect();
    Ok(Json(foods))
}

/// The ids of the foods the user logged recently, the most recently eaten first:
/// what a search ranks after the user's own foods. The same range is read on every
/// keystroke, so the cached store answers it from memory.
pub async fn recent_food_ids(state: &SharedState, user: &User) -> ApiResult<Vec<Uuid>> {
    let meals = recent_meals(state, user).await?;
    Ok(most_recent(&meals)
        .into_iter()
        .map(|(id, _)| id)
        .take(RANKED_IN_SEARCH)
        .collect())
}

/// How many recent foods a search ranks first.
const RANKED_IN_SEARCH: usize = 50;

/// The user's meals of the last 60 days (and the day ahead: a meal may be logged
/// up to a day from now).
async fn recent_meals(state: &SharedState, user: &User) -> ApiResult<Vec<Entry<MealData>>> {
    let today = user.timezone.local_date(crate::domain::now());
    let since = today - TimeDelta::days(LOOKBACK_DAYS);
    let range = DateRange::new(since, today + TimeDelta::days(1))
        .expect("a range of 62 days is within the limit");
    Ok(all_entries(state.store.meal_entries(), user.id, range).await?)
}

/// What the meals say of one food.
struct Logged<'a> {
    last: &'a Entry<MealData>,
    times: u32,
}

/// The foods `meals` were logged from, the most recently eaten first.
fn most_recent(meals: &[Entry<MealData>]) -> Vec<(Uuid, Logged<'_>)> {
    let mut by_food: HashMap<Uuid, Logged<'_>> = HashMap::new();
    for meal in meals {
        let Some(food) = meal.data.food else {
            continue;
        };
        by_food
            .entry(food.food_id)
            .and_modify(|logged| {
                logged.times += 1;
                if meal.data.eaten_at > logged.last.data.eaten_at {
                    logged.last = meal;
                }
            })
            .or_insert(Logged {
                last: meal,
                times: 1,
            });
    }
    let mut recent: Vec<_> = by_food.into_iter().collect();
    recent.sort_by(|(a_id, a), (b_id, b)| {
        b.last
            .data
            .eaten_at
            .cmp(&a.last.data.eaten_at)
            .then(b.times.cmp(&a.times))
            .then(a_id.cmp(b_id))
    });
    recent
}
