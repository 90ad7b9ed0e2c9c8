//! The public catalogue: `GET /meal-packages[/{id}]` and `GET /workout-packages[/{id}]`.
//! No token is needed, and only published packages are shown.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{PathId, ValidQuery};
use super::pagination::{ListResponse, page_request};
use super::state::SharedState;
use crate::domain::{Level, MealPackage, Package, PackageFilter, Tag, WorkoutPackage};
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
) -> ApiResult<Json<ListResponse<MealPackage>>> {
    list(state, query).await
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
pub async fn get_meal_package(
    state: State<SharedState>,
    id: PathId,
) -> ApiResult<Json<MealPackage>> {
    get(state, id).await
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
) -> ApiResult<Json<ListResponse<WorkoutPackage>>> {
    list(state, query).await
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
pub async fn get_workout_package(
    state: State<SharedState>,
    id: PathId,
) -> ApiResult<Json<WorkoutPackage>> {
    get(state, id).await
}

async fn list<P: CatalogResource>(
    State(state): State<SharedState>,
    ValidQuery(query): ValidQuery<P::ListQuery>,
) -> ApiResult<Json<ListResponse<P>>> {
    let page = page_request(query.limit(), query.cursor())?;
    let page = P::catalog(state.store.as_ref())
        .list(&query.filter(), page)
        .await?;
    Ok(Json(ListResponse::from_page(page, |p| p)))
}

async fn get<P: CatalogResource>(
    State(state): State<SharedState>,
    PathId(id): PathId,
) -> ApiResult<Json<P>> {
    // A draft answers as if it did not exist.
    let package = P::catalog(state.store.as_ref()).get(id).await.optional()?;
    package
        .filter(|package| package.published())
        .map(Json)
        .ok_or_else(|| ApiError::not_found(P::NOUN))
}
