//! The public catalogue: `GET /meal-packages[/{id}]` and `GET /workout-packages[/{id}]`.
//! No token is needed, and only published packages are shown.

use axum::extract::State;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{PathId, ValidQuery};
use super::pagination::{ListResponse, encode as encode_cursor, page_request};
use super::state::SharedState;
use crate::domain::{Level, MealPackage, Package, PackageFilter, Slug, Tag, WorkoutPackage};
use crate::json_body::JsonBody;
use crate::store::{Optional, PackageStore, Store};

/// Ties a package kind to its store and its list query.
pub trait CatalogResource: Package {
    type ListQuery: DeserializeOwned + Send + ListQuery;

    fn catalog(store: &dyn Store) -> &dyn PackageStore<Self>;
}

pub trait ListQuery {
    fn filter(&self) -> PackageFilter;
    fn limit(&self) -> Option<i64>;
    fn cursor(&self) -> Option<&str>;
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MealPackageQuery {
    /// Only packages with this tag or diet tag.
    tag: Option<Tag>,
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 512)]
    cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WorkoutPackageQuery {
    level: Option<Level>,
    /// Only packages with this tag.
    tag: Option<Tag>,
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 512)]
    cursor: Option<String>,
}

impl ListQuery for MealPackageQuery {
    fn filter(&self) -> PackageFilter {
        PackageFilter {
            tag: self.tag.clone(),
            ..PackageFilter::default()
        }
    }
    fn limit(&self) -> Option<i64> {
        self.limit
    }
    fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }
}

impl ListQuery for WorkoutPackageQuery {
    fn filter(&self) -> PackageFilter {
        PackageFilter {
            tag: self.tag.clone(),
            level: self.level,
            include_unpublished: false,
        }
    }
    fn limit(&self) -> Option<i64> {
        self.limit
    }
    fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }
}

impl CatalogResource for MealPackage {
    type ListQuery = MealPackageQuery;

    fn catalog(store: &dyn Store) -> &dyn PackageStore<Self> {
        store.meal_packages()
    }
}

impl CatalogResource for WorkoutPackage {
    type ListQuery = WorkoutPackageQuery;

    fn catalog(store: &dyn Store) -> &dyn PackageStore<Self> {
        store.workout_packages()
    }
}

/// The published meal packages, in slug order.
#[utoipa::path(
    get,
    path = "/api/v1/meal-packages",
    tag = "catalogue",
    params(MealPackageQuery),
    responses((status = 200, description = "One page of packages",
        body = ListResponse<MealPackage>))
)]
pub async fn list_meal_packages(
    state: State<SharedState>,
    query: ValidQuery<MealPackageQuery>,
) -> ApiResult<JsonBody> {
    list::<MealPackage>(state, query).await
}

/// One published meal package with its items.
#[utoipa::path(
    get,
    path = "/api/v1/meal-packages/{id}",
    tag = "catalogue",
    params(("id" = Uuid, Path, description = "The package's id")),
    responses(
        (status = 200, description = "The package", body = MealPackage),
        (status = 404, description = "No such published package", body = ErrorBody),
    )
)]
pub async fn get_meal_package(state: State<SharedState>, id: PathId) -> ApiResult<JsonBody> {
    get::<MealPackage>(state, id).await
}

/// The published workout packages, in slug order.
#[utoipa::path(
    get,
    path = "/api/v1/workout-packages",
    tag = "catalogue",
    params(WorkoutPackageQuery),
    responses((status = 200, description = "One page of packages",
        body = ListResponse<WorkoutPackage>))
)]
pub async fn list_workout_packages(
    state: State<SharedState>,
    query: ValidQuery<WorkoutPackageQuery>,
) -> ApiResult<JsonBody> {
    list::<WorkoutPackage>(state, query).await
}

/// One published workout package with its sessions.
#[utoipa::path(
    get,
    path = "/api/v1/workout-packages/{id}",
    tag = "catalogue",
    params(("id" = Uuid, Path, description = "The package's id")),
    responses(
        (status = 200, description = "The package", body = WorkoutPackage),
        (status = 404, description = "No such published package", body = ErrorBody),
    )
)]
pub async fn get_workout_package(state: State<SharedState>, id: PathId) -> ApiResult<JsonBody> {
    get::<WorkoutPackage>(state, id).await
}

// The catalogue's answers are encoded by the store's `*_rendered` reads, which keep
// them beside the packages they hold in memory: a repeated read is not re-encoded.

async fn list<P: CatalogResource>(
    State(state): State<SharedState>,
    ValidQuery(query): ValidQuery<P::ListQuery>,
) -> ApiResult<JsonBody> {
    let page = page_request(query.limit(), query.cursor())?;
    let body = P::catalog(state.store.as_ref())
        .list_rendered(&query.filter(), page, render_page::<P>)
        .await?;
    Ok(body)
}

async fn get<P: CatalogResource>(
    State(state): State<SharedState>,
    PathId(id): PathId,
) -> ApiResult<JsonBody> {
    P::catalog(state.store.as_ref())
        .get_rendered(id, render_published::<P>)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found(P::NOUN))
}

/// A published package as the catalogue answers it; a draft answers as if it did
/// not exist.
fn render_published<P: Package>(package: &P) -> Option<JsonBody> {
    package.published().then(|| JsonBody::encode(package))
}

/// A page as `ListResponse` answers it, encoded from the borrowed items.
fn render_page<P: Package>(items: &[P], next: Option<&Slug>) -> JsonBody {
    #[derive(Serialize)]
    struct PageView<'a, P> {
        items: &'a [P],
        next_cursor: Option<String>,
    }
    JsonBody::encode(&PageView {
        items,
        next_cursor: next.map(encode_cursor),
    })
}
