//! The exercise library (`/exercises`): the bundled exercises and the published
//! custom ones together, searched by name and filtered by muscle, equipment, level
//! and category, and each exercise by its id. Logged sets and workout packages
//! name exercises by these ids.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use crate::api::account::auth::AuthUser;
use crate::api::http::error::{ApiError, ApiResult, ErrorBody};
use crate::api::http::extract::ValidQuery;
use crate::api::http::pagination::{self, ListResponse};
use crate::api::http::state::SharedState;
use crate::domain::{
    Equipment, ExerciseCategory, ExerciseId, ExerciseLevel, LibraryExercise, Muscle,
};
use crate::exercise_book::{ExerciseBook, published_custom};
use crate::exercise_library::{ExerciseQuery, library};

const TAG: &str = "exercises";
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExerciseSearchQuery {
    /// Words that each begin a word of the name, in any order.
    #[param(max_length = 200)]
    q: Option<String>,
    /// Trained as a primary or a secondary muscle.
    muscle: Option<Muscle>,
    equipment: Option<Equipment>,
    level: Option<ExerciseLevel>,
    category: Option<ExerciseCategory>,
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 512)]
    cursor: Option<String>,
}

/// Where a page starts: tied to the search it continues.
#[derive(Serialize, Deserialize)]
struct ExerciseCursor {
    offset: usize,
    search: String,
}

/// Searches the exercise library.
///
/// The bundled exercises and the published custom ones together: names beginning
/// with the first word come first, then the rest, each by name. Without any word
/// or filter, the whole library page by page.
#[utoipa::path(
    get,
    path = "/api/v1/exercises",
    tag = TAG,
    operation_id = "search_exercises",
    security(("bearer" = [])),
    params(ExerciseSearchQuery),
    responses(
        (status = 200, description = "One page of exercises", body = ListResponse<LibraryExercise>),
        (status = 422, description = "A bad filter, limit or cursor", body = ErrorBody),
    )
)]
pub async fn search(
    State(state): State<SharedState>,
    AuthUser(_user): AuthUser,
    ValidQuery(query): ValidQuery<ExerciseSearchQuery>,
) -> ApiResult<Json<ListResponse<LibraryExercise>>> {
    let text = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if text.is_some_and(|text| text.chars().count() > 200) {
        return Err(ApiError::invalid("q", "must be at most 200 characters"));
    }
    let limit = match query.limit {
        None => DEFAULT_LIMIT,
        Some(limit) if (1..=MAX_LIMIT).contains(&limit) => limit,
        Some(_) => {
            return Err(ApiError::invalid(
                "limit",
                format!("must be from 1 to {MAX_LIMIT}"),
            ));
        }
    } as usize;
    let search = ExerciseQuery {
        text: text.map(str::to_owned),
        muscle: query.muscle,
        equipment: query.equipment,
        level: query.level,
        category: query.category,
    };
    // The cursor belongs to this search, filters and all: a digest of it, so a
    // long query makes no longer a cursor.
    let described = format!("{search:?}");
    let described = hex::encode(&Sha256::digest(described.as_bytes())[..12]);
    let offset = match &query.cursor {
        None => 0,
        Some(cursor) => {
            let cursor: ExerciseCursor = pagination::decode(cursor)?;
            if cursor.search != described {
                return Err(ApiError::invalid(
                    "cursor",
                    "belongs to another search; start again without it",
                ));
            }
            cursor.offset
        }
    };
    let custom = published_custom(state.store.as_ref()).await?;
    let found = library().search_with(&search, &custom);
    let items: Vec<LibraryExercise> = found
        .iter()
        .skip(offset)
        .take(limit)
        .map(|&exercise| exercise.clone())
        .collect();
    let next_offset = offset + items.len();
    let next_cursor = (next_offset < found.len()).then(|| {
        pagination::encode(&ExerciseCursor {
            offset: next_offset,
            search: described,
        })
    });
    Ok(Json(ListResponse { items, next_cursor }))
}

/// One exercise of the library.
///
/// A bundled one, or a custom one that has been published (one withdrawn since
/// too, so the sets logged with it can still show it).
#[utoipa::path(
    get,
    path = "/api/v1/exercises/{id}",
    tag = TAG,
    operation_id = "get_exercise",
    security(("bearer" = [])),
    params(("id" = String, Path,
        description = "The exercise's id: `barbell-squat`, or a custom one's UUID")),
    responses(
        (status = 200, description = "The exercise", body = LibraryExercise),
        (status = 404, description = "No such exercise", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<SharedState>,
    AuthUser(_user): AuthUser,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<Json<LibraryExercise>> {
    let found = match id.parse::<ExerciseId>() {
        Ok(id) => ExerciseBook::of(state.store.as_ref(), [&id])
            .await?
            .get(&id)
            .cloned(),
        Err(_) => None,
    };
    found
        .map(Json)
        .ok_or_else(|| ApiError::not_found("exercise"))
}
