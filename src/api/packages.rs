//! The public catalogue: `GET /meal-packages[/{id}]` and `GET /workout-packages[/{id}]`.
//! No token is needed, and only published packages are shown.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::{ApiError, ApiResult};
use super::extract::{PathId, ValidQuery};
use super::pagination::{ListResponse, page_request};
use super::state::SharedState;
use crate::domain::{Level, MealPackage, Package, PackageFilter, Tag, WorkoutPackage};
use crate::store::{PackageStore, Store, StoreError};

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MealPackageQuery {
    tag: Option<Tag>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkoutPackageQuery {
    level: Option<Level>,
    tag: Option<Tag>,
    limit: Option<i64>,
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

pub async fn list<P: CatalogResource>(
    State(state): State<SharedState>,
    ValidQuery(query): ValidQuery<P::ListQuery>,
) -> ApiResult<Json<ListResponse<P>>> {
    let page = page_request(query.limit(), query.cursor())?;
    let page = P::catalog(state.store.as_ref())
        .list(&query.filter(), page)
        .await?;
    Ok(Json(ListResponse::from_page(page, |p| p)))
}

pub async fn get<P: CatalogResource>(
    State(state): State<SharedState>,
    PathId(id): PathId,
) -> ApiResult<Json<P>> {
    match P::catalog(state.store.as_ref()).get(id).await {
        Ok(package) if package.published() => Ok(Json(package)),
        Ok(_) | Err(StoreError::NotFound) => Err(ApiError::not_found(P::NOUN)),
        Err(other) => Err(other.into()),
    }
}
