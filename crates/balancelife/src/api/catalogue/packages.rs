//! The catalogue: `GET /meal-packages[/{id}]`, `GET /workout-packages[/{id}]` and
//! `GET /custom-exercises[/{id}]` (the exercises administrators added, which users
//! find with the bundled ones under `/exercises`). No token is needed, and only
//! published ones are shown, except to an administrator, who sees every status
//! (`status=` on lists, any id by id).

use std::borrow::Cow;

use axum::extract::State;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::api::account::auth::{Reader, admin};
use crate::api::http::error::{ApiError, ApiResult, ErrorBody};
use crate::api::http::extract::{PathId, ValidQuery};
use crate::api::http::pagination::{ListResponse, encode as encode_cursor, page_request};
use crate::api::http::state::SharedState;
use crate::domain::{
    Authorship, CustomExercise, Level, MealPackage, Package, PackageFilter, Role, Slug,
    StatusFilter, Tag, WorkoutPackage,
};
use crate::store::Encoded;
use crate::store::{Optional, PackageStore, Store};

/// Ties a package kind to its store and its list query.
pub trait CatalogResource: Package {
    type ListQuery: DeserializeOwned + Send + ListQuery;

    fn catalog(store: &dyn Store) -> &dyn PackageStore<Self>;
}

pub trait ListQuery {
    /// What the query asks for; `status` other than `published` is for admins.
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
    /// Administrators only: `draft`, `archived` or `all` (default `published`).
    #[param(inline)]
    status: Option<StatusFilter>,
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
    /// Administrators only: `draft`, `archived` or `all` (default `published`).
    #[param(inline)]
    status: Option<StatusFilter>,
    /// Only packages with this tag.
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
pub struct CustomExerciseQuery {
    /// Administrators only: `draft`, `archived` or `all` (default `published`).
    #[param(inline)]
    status: Option<StatusFilter>,
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 512)]
    cursor: Option<String>,
}

impl ListQuery for CustomExerciseQuery {
    fn filter(&self) -> PackageFilter {
        PackageFilter {
            status: self.status.unwrap_or_default(),
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

impl ListQuery for MealPackageQuery {
    fn filter(&self) -> PackageFilter {
        PackageFilter {
            tag: self.tag.clone(),
            level: None,
            status: self.status.unwrap_or_default(),
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
            status: self.status.unwrap_or_default(),
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

impl CatalogResource for CustomExercise {
    type ListQuery = CustomExerciseQuery;

    fn catalog(store: &dyn Store) -> &dyn PackageStore<Self> {
        store.custom_exercises()
    }
}

impl CatalogResource for WorkoutPackage {
    type ListQuery = WorkoutPackageQuery;

    fn catalog(store: &dyn Store) -> &dyn PackageStore<Self> {
        store.workout_packages()
    }
}

/// The published meal packages, in slug order (admins: of any status).
#[utoipa::path(
    get,
    path = "/api/v1/meal-packages",
    tag = "catalogue",
    params(MealPackageQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "One page of packages", body = ListResponse<MealPackage>),
        (status = 401, description = "A token that is not valid", body = ErrorBody),
        (status = 403, description = "`status` other than published, not as an admin",
            body = ErrorBody),
    )
)]
pub async fn list_meal_packages(
    state: State<SharedState>,
    reader: Reader,
    query: ValidQuery<MealPackageQuery>,
) -> ApiResult<Encoded> {
    list::<MealPackage>(state, reader, query).await
}

/// One published meal package with its items (admins: of any status).
#[utoipa::path(
    get,
    path = "/api/v1/meal-packages/{id}",
    tag = "catalogue",
    params(("id" = Uuid, Path, description = "The package's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The package", body = MealPackage),
        (status = 401, description = "A token that is not valid", body = ErrorBody),
        (status = 404, description = "No such published package", body = ErrorBody),
    )
)]
pub async fn get_meal_package(
    state: State<SharedState>,
    reader: Reader,
    id: PathId,
) -> ApiResult<Encoded> {
    get::<MealPackage>(state, reader, id).await
}

/// The published workout packages, in slug order (admins: of any status).
#[utoipa::path(
    get,
    path = "/api/v1/workout-packages",
    tag = "catalogue",
    params(WorkoutPackageQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "One page of packages",
            body = ListResponse<WorkoutPackage>),
        (status = 401, description = "A token that is not valid", body = ErrorBody),
        (status = 403, description = "`status` other than published, not as an admin",
            body = ErrorBody),
    )
)]
pub async fn list_workout_packages(
    state: State<SharedState>,
    reader: Reader,
    query: ValidQuery<WorkoutPackageQuery>,
) -> ApiResult<Encoded> {
    list::<WorkoutPackage>(state, reader, query).await
}

/// One published workout package with its sessions (admins: of any status).
#[utoipa::path(
    get,
    path = "/api/v1/workout-packages/{id}",
    tag = "catalogue",
    params(("id" = Uuid, Path, description = "The package's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The package", body = WorkoutPackage),
        (status = 401, description = "A token that is not valid", body = ErrorBody),
        (status = 404, description = "No such published package", body = ErrorBody),
    )
)]
pub async fn get_workout_package(
    state: State<SharedState>,
    reader: Reader,
    id: PathId,
) -> ApiResult<Encoded> {
    get::<WorkoutPackage>(state, reader, id).await
}

/// The published custom exercises, in slug order (admins: of any status).
///
/// Users find them beside the bundled ones with `GET /exercises`; this list is
/// the catalogue's, with each one's status and revision.
#[utoipa::path(
    get,
    path = "/api/v1/custom-exercises",
    tag = "catalogue",
    params(CustomExerciseQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "One page of custom exercises",
            body = ListResponse<CustomExercise>),
        (status = 401, description = "A token that is not valid", body = ErrorBody),
        (status = 403, description = "`status` other than published, not as an admin",
            body = ErrorBody),
    )
)]
pub async fn list_custom_exercises(
    state: State<SharedState>,
    reader: Reader,
    query: ValidQuery<CustomExerciseQuery>,
) -> ApiResult<Encoded> {
    list::<CustomExercise>(state, reader, query).await
}

/// One published custom exercise (admins: of any status).
#[utoipa::path(
    get,
    path = "/api/v1/custom-exercises/{id}",
    tag = "catalogue",
    params(("id" = Uuid, Path, description = "Its id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The custom exercise", body = CustomExercise),
        (status = 401, description = "A token that is not valid", body = ErrorBody),
        (status = 404, description = "No such published custom exercise", body = ErrorBody),
    )
)]
pub async fn get_custom_exercise(
    state: State<SharedState>,
    reader: Reader,
    id: PathId,
) -> ApiResult<Encoded> {
    get::<CustomExercise>(state, reader, id).await
}

// The catalogue's answers are encoded by the store's `*_rendered` reads, which keep
// them beside the packages they hold in memory: a repeated read is not re-encoded.

async fn list<P: CatalogResource>(
    State(state): State<SharedState>,
    Reader(reader): Reader,
    ValidQuery(query): ValidQuery<P::ListQuery>,
) -> ApiResult<Encoded> {
    let filter = query.filter();
    if filter.status != StatusFilter::Published {
        admin(reader)?;
    }
    let page = page_request(query.limit(), query.cursor())?;
    let body = P::catalog(state.store.as_ref())
        .list_rendered(&filter, page, render_page::<P>)
        .await?;
    Ok(body)
}

async fn get<P: CatalogResource>(
    State(state): State<SharedState>,
    Reader(reader): Reader,
    PathId(id): PathId,
) -> ApiResult<Encoded> {
    let catalog = P::catalog(state.store.as_ref());
    // An administrator's answer is encoded apart: the one kept in memory beside a
    // package is the public one, which hides drafts.
    let found = if reader.is_some_and(|user| user.role == Role::Admin) {
        catalog
            .get(id)
            .await
            .optional()?
            .map(|p| Encoded::encode(&p))
    } else {
        catalog
            .get_rendered(id, render_published::<P>)
            .await
            .optional()?
    };
    found.ok_or_else(|| ApiError::not_found(P::NOUN))
}

/// A published package as the catalogue answers it; a draft answers as if it did
/// not exist.
fn render_published<P: Package>(package: &P) -> Option<Encoded> {
    package
        .published()
        .then(|| Encoded::encode(&public_view(package)))
}

/// A package as anyone may see it: a published one without who wrote it and when
/// (admins' ids are for admins, who read them by id), but with when it was first
/// published; an unpublished one, which only an admin's listing shows, as it is.
/// Copied only when there is something to hide.
fn public_view<P: Package>(package: &P) -> Cow<'_, P> {
    let authorship = package.authorship();
    let shown = Authorship {
        first_published_at: authorship.first_published_at,
        ..Authorship::default()
    };
    if !package.published() || authorship == shown {
        return Cow::Borrowed(package);
    }
    let mut view = package.clone();
    view.stamp(package.version(), shown);
    Cow::Owned(view)
}

/// A page as `ListResponse` answers it, encoded from the borrowed items.
fn render_page<P: Package>(items: &[P], next: Option<&Slug>) -> Encoded {
    #[derive(Serialize)]
    struct PageView<'a, P: Clone> {
        items: &'a [Cow<'a, P>],
        next_cursor: Option<String>,
    }
    let items: Vec<Cow<'_, P>> = items.iter().map(public_view).collect();
    Encoded::encode(&PageView {
        items: &items,
        next_cursor: next.map(encode_cursor),
    })
}
