//! Catalogue management, for administrators only: create, replace, partly update,
//! publish, unpublish and archive meal and workout packages and custom exercises,
//! under the catalogue's own paths.
//!
//! Every write answers with the package and its `ETag`. `If-Match` (that tag, or the
//! package's `version` as `"3"`) makes it conditional: two admins editing at once get
//! 412 instead of overwriting each other. Without `If-Match` a write applies to the
//! package as it is, and is retried when another write slips in between its read and
//! its write. Archiving takes a package out of the catalogue for good but keeps it;
//! `DELETE` removes it, which only a draft that was never published and that no
//! entry names may be (see `delete`).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::api::catalogue::inputs::PackageContent;
use crate::api::catalogue::packages::CatalogResource;
use crate::api::http::error::{ApiError, ApiResult};
pub use crate::api::http::if_match::IfMatch;
use crate::api::http::state::SharedState;
use crate::domain::{Authorship, Package, PackageStatus, User, Version, new_id, now};
use crate::store::Encoded;
use crate::store::{Optional, Store, StoreError, StoreResult};

/// How often a write without `If-Match` is tried again when another write slips in
/// between its read and its own.
const ATTEMPTS: usize = 3;

/// A package kind an administrator edits.
#[async_trait::async_trait]
pub trait EditablePackage: CatalogResource + PackageContent {
    /// Where the kind's packages live, for `Location`.
    const COLLECTION_PATH: &'static str;
    /// Whether any entry, of any user, names package `id`.
    async fn named_by_entries(store: &dyn Store, id: Uuid) -> StoreResult<bool>;
    /// Refuses a revision that names what does not exist (or may not be named),
    /// which takes reading the store; checked on every write of a revision.
    async fn check_references(_store: &dyn Store, _package: &Self) -> ApiResult<()> {
        Ok(())
    }
}

/// Whether `if_match` names `current`: its entity tag or its version.
fn admits<P: Package>(if_match: &IfMatch, current: &P) -> bool {
    let version = current.version().get().to_string();
    if_match.admits(&Encoded::encode(current).tag, Some(&version))
}

/// A written package: its body, its tag, and where it lives when it is new.
pub struct PackageAnswer {
    status: StatusCode,
    body: Encoded,
    location: Option<String>,
}

impl IntoResponse for PackageAnswer {
    fn into_response(self) -> Response {
        let mut headers = HeaderMap::new();
        if let Ok(tag) = HeaderValue::from_str(&self.body.tag) {
            headers.insert(header::ETAG, tag);
        }
        if let Some(location) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(header::LOCATION, location);
        }
        (self.status, headers, self.body).into_response()
    }
}

fn answer<P: Package>(status: StatusCode, package: &P) -> PackageAnswer {
    PackageAnswer {
        status,
        body: Encoded::encode(package),
        location: None,
    }
}

/// A new draft at version 1, written by `admin`.
pub async fn create<P: EditablePackage>(
    state: &SharedState,
    admin: &User,
    input: P::Input,
) -> ApiResult<PackageAnswer> {
    P::check(&input)?;
    let mut package = P::build(new_id(), input);
    P::check_references(state.store.as_ref(), &package).await?;
    let at = Some(now());
    let by = Some(admin.id);
    package.stamp(
        package.version(),
        Authorship {
            created_by: by,
            updated_by: by,
            created_at: at,
            updated_at: at,
            first_published_at: None,
        },
    );
    let written = P::catalog(state.store.as_ref())
        .upsert(package)
        .await
        .map_err(slug_taken)?
        .into_inner();
    Ok(PackageAnswer {
        location: Some(format!("{}/{}", P::COLLECTION_PATH, written.id())),
        ..answer(StatusCode::CREATED, &written)
    })
}

/// Replaces the content of package `id` with `input`; its status stays.
pub async fn replace<P: EditablePackage>(
    state: &SharedState,
    admin: &User,
    id: Uuid,
    if_match: &IfMatch,
    input: P::Input,
) -> ApiResult<PackageAnswer> {
    P::check(&input)?;
    revise::<P>(state, admin, id, if_match, |current| {
        Ok(with_status(P::build(id, input.clone()), current.status()))
    })
    .await
}

/// Changes the fields of package `id` that `patch` names.
pub async fn patch<P: EditablePackage>(
    state: &SharedState,
    admin: &User,
    id: Uuid,
    if_match: &IfMatch,
    patch: P::Patch,
) -> ApiResult<PackageAnswer> {
    P::check_patch(&patch)?;
    revise::<P>(state, admin, id, if_match, |current| {
        let mut input = current.content();
        P::apply(&mut input, patch.clone());
        P::check(&input)?;
        Ok(with_status(P::build(id, input), current.status()))
    })
    .await
}

/// Moves package `id` to `status`, its content untouched (so its version too).
pub async fn set_status<P: EditablePackage>(
    state: &SharedState,
    admin: &User,
    id: Uuid,
    if_match: &IfMatch,
    status: PackageStatus,
) -> ApiResult<PackageAnswer> {
    revise::<P>(state, admin, id, if_match, |current| {
        Ok(with_status(current.clone(), status))
    })
    .await
}

/// Deletes package `id` for good, if it may go: a draft that was never published
/// and that no entry names (`Package::may_be_deleted`); anything else is a 409 that
/// says to archive it instead. Published once, a package may be linked to, and its
/// slug must not come back as another plan; logged from, its entries name it.
pub async fn delete<P: EditablePackage>(
    state: &SharedState,
    id: Uuid,
    if_match: &IfMatch,
) -> ApiResult<StatusCode> {
    let store = state.store.as_ref();
    let catalog = P::catalog(store);
    for _ in 0..ATTEMPTS {
        let current = catalog
            .get_stored(id)
            .await
            .optional()?
            .ok_or_else(|| ApiError::not_found(P::NOUN))?;
        if !admits(if_match, &current) {
            return Err(ApiError::precondition_failed());
        }
        if !current.may_be_deleted() {
            return Err(ApiError::conflict_about(
                "status",
                format!(
                    "only a draft that was never published can be deleted; archive this {} instead",
                    P::NOUN
                ),
            ));
        }
        if P::named_by_entries(store, id).await? {
            return Err(ApiError::conflict(format!(
                "entries were logged from this {}; archive it instead",
                P::NOUN
            )));
        }
        // Conditional on the revision checked: a publication that slipped in
        // between makes it stale, and the rules are checked again.
        match catalog.delete(id, &current).await {
            Ok(_) => return Ok(StatusCode::NO_CONTENT),
            Err(StoreError::Stale) if !if_match.is_given() => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(kept_changing::<P>())
}

fn kept_changing<P: Package>() -> ApiError {
    ApiError::conflict(format!(
        "the {} kept changing under this write; read it again and retry",
        P::NOUN
    ))
}

fn with_status<P: Package>(mut package: P, status: PackageStatus) -> P {
    package.set_status(status);
    package
}

/// Reads package `id`, checks `If-Match`, makes the next revision with `change` and
/// writes it if it is still the revision read. A change of content bumps `version`;
/// a change of status does not. A revision equal to the current one writes nothing.
async fn revise<P: EditablePackage>(
    state: &SharedState,
    admin: &User,
    id: Uuid,
    if_match: &IfMatch,
    change: impl Fn(&P) -> ApiResult<P>,
) -> ApiResult<PackageAnswer> {
    let catalog = P::catalog(state.store.as_ref());
    for _ in 0..ATTEMPTS {
        let current = catalog
            .get_stored(id)
            .await
            .optional()?
            .ok_or_else(|| ApiError::not_found(P::NOUN))?;
        if !admits(if_match, &current) {
            return Err(ApiError::precondition_failed());
        }
        let mut next = change(&current)?;
        let content_changed = !same_content(&next, &current);
        if !content_changed && next.status() == current.status() {
            return Ok(answer(StatusCode::OK, &current));
        } // A change of status alone names nothing new: a package written before
        // an exercise it names was withdrawn can still be archived.
        if content_changed {
            P::check_references(state.store.as_ref(), &next).await?;
        }
        let version = if content_changed {
            next_version::<P>(current.version())?
        } else {
            current.version()
        };
        let before = current.authorship();
        let updated_at = later_than(before.updated_at);
        // A package public before its first publication was recorded gets the time
        // of its first revision while public (of content or status) instead, so it
        // never reads as never public.
        let public = current.published() || next.published();
        next.stamp(
            version,
            Authorship {
                updated_by: Some(admin.id),
                updated_at: Some(updated_at),
                first_published_at: before.first_published_at.or(public.then_some(updated_at)),
                ..before
            },
        );
        match catalog.replace(next, &current).await {
            Ok(written) => return Ok(answer(StatusCode::OK, &written.into_inner())),
            Err(StoreError::Stale) if !if_match.is_given() => continue,
            Err(error) => return Err(slug_taken(error)),
        }
    }
    Err(kept_changing::<P>())
}

/// Whether `next` says what `current` says, leaving status and revision aside.
fn same_content<P: Package>(next: &P, current: &P) -> bool {
    let mut probe = next.clone();
    probe.set_status(current.status());
    probe.stamp(current.version(), current.authorship());
    probe == *current
}

fn next_version<P: Package>(version: Version) -> ApiResult<Version> {
    version.next().ok_or_else(|| {
        ApiError::conflict(format!(
            "the {} has had its last possible revision",
            P::NOUN
        ))
    })
}

/// Now, or a millisecond after `previous` if the clock says otherwise: each
/// revision's `updated_at` differs from the last, since writes are conditional on it.
fn later_than(previous: Option<chrono::DateTime<chrono::Utc>>) -> chrono::DateTime<chrono::Utc> {
    let at = now();
    match previous {
        Some(previous) if previous >= at => previous + chrono::TimeDelta::milliseconds(1),
        _ => at,
    }
}

/// A store conflict on a package write is about its slug.
fn slug_taken(error: StoreError) -> ApiError {
    match error {
        StoreError::Conflict(message) => ApiError::conflict_about("slug", message),
        other => other.into(),
    }
}

/// A handler that moves a package to one status, documented.
macro_rules! status_endpoint {
    (
        $(#[doc = $doc:literal])*
        fn $name:ident: $method:ident $path:literal, $verb:literal, $singular:literal,
            $package:ty, $status:expr, $done:literal, $id_doc:literal, $missing:literal
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            $method,
            path = $path,
            tag = "catalogue administration",
            operation_id = concat!($verb, $singular),
            security(("bearer" = [])),
            params(
                ("id" = Uuid, Path, description = $id_doc),
                ("If-Match" = Option<String>, Header,
                    description = "The ETag or the version (\"3\") the change is based on"),
            ),
            responses(
                (status = 200, description = $done, body = $package,
                    headers(("etag" = String, description = "The revision, for If-Match"))),
                (status = 401, description = "No valid token", body = ErrorBody),
                (status = 403, description = "Not an administrator", body = ErrorBody),
                (status = 404, description = $missing, body = ErrorBody),
                (status = 412, description = "Changed since the If-Match revision",
                    body = ErrorBody),
            )
        )]
        pub async fn $name(
            State(state): State<SharedState>,
            AdminUser(admin): AdminUser,
            PathId(id): PathId,
            if_match: IfMatch,
        ) -> ApiResult<PackageAnswer> {
            admin::set_status::<$package>(&state, &admin, id, &if_match, $status).await
        }
    };
}

/// The handlers of one package kind, documented for the OpenAPI document.
macro_rules! admin_endpoints {
    (
        package: $package:ty,
        input: $input:ty,
        patch: $patch:ty,
        collection: $collection:literal,
        item: $item:literal,
        publish: $publish:literal,
        unpublish: $unpublish:literal,
        archive: $archive:literal,
        singular: $singular:literal,
        id_doc: $id_doc:literal,
        missing: $missing:literal,
        slug_taken: $slug_taken:literal,
    ) => {
        use axum::extract::State;
        use $crate::api::account::auth::AdminUser;
        use $crate::api::catalogue::admin::{self as admin, IfMatch, PackageAnswer};
        use $crate::api::http::error::{ApiResult, ErrorBody};
        use $crate::api::http::extract::{CATALOGUE_LIMIT_BYTES, PathId, ValidJson};
        use $crate::api::http::state::SharedState;
        use $crate::domain::PackageStatus;

        /// Creates a draft at version 1 (admins only).
        #[utoipa::path(
            post,
            path = $collection,
            tag = "catalogue administration",
            operation_id = concat!("create_", $singular),
            security(("bearer" = [])),
            request_body = $input,
            responses(
                (status = 201, description = "Created as a draft", body = $package,
                    headers(("location" = String, description = "Where it lives"),
                        ("etag" = String, description = "The revision, for If-Match"))),
                (status = 401, description = "No valid token", body = ErrorBody),
                (status = 403, description = "Not an administrator", body = ErrorBody),
                (status = 409, description = $slug_taken, body = ErrorBody),
                (status = 422, description = "Invalid content", body = ErrorBody),
            )
        )]
        pub async fn create(
            State(state): State<SharedState>,
            AdminUser(admin): AdminUser,
            ValidJson(input): ValidJson<$input, CATALOGUE_LIMIT_BYTES>,
        ) -> ApiResult<PackageAnswer> {
            admin::create::<$package>(&state, &admin, input).await
        }

        /// Replaces the content (admins only); a change bumps the version.
        #[utoipa::path(
            put,
            path = $item,
            tag = "catalogue administration",
            operation_id = concat!("replace_", $singular),
            security(("bearer" = [])),
            params(
                ("id" = Uuid, Path, description = $id_doc),
                ("If-Match" = Option<String>, Header,
                    description = "The ETag or the version (\"3\") the change is based on"),
            ),
            request_body = $input,
            responses(
                (status = 200, description = "Replaced, or already equal", body = $package,
                    headers(("etag" = String, description = "The revision, for If-Match"))),
                (status = 401, description = "No valid token", body = ErrorBody),
                (status = 403, description = "Not an administrator", body = ErrorBody),
                (status = 404, description = $missing, body = ErrorBody),
                (status = 409, description = $slug_taken, body = ErrorBody),
                (status = 412, description = "Changed since the If-Match revision",
                    body = ErrorBody),
                (status = 422, description = "Invalid content", body = ErrorBody),
            )
        )]
        pub async fn replace(
            State(state): State<SharedState>,
            AdminUser(admin): AdminUser,
            PathId(id): PathId,
            if_match: IfMatch,
            ValidJson(input): ValidJson<$input, CATALOGUE_LIMIT_BYTES>,
        ) -> ApiResult<PackageAnswer> {
            admin::replace::<$package>(&state, &admin, id, &if_match, input).await
        }

        /// Changes the fields given (admins only); a change bumps the version.
        #[utoipa::path(
            patch,
            path = $item,
            tag = "catalogue administration",
            operation_id = concat!("update_", $singular),
            security(("bearer" = [])),
            params(
                ("id" = Uuid, Path, description = $id_doc),
                ("If-Match" = Option<String>, Header,
                    description = "The ETag or the version (\"3\") the change is based on"),
            ),
            request_body = $patch,
            responses(
                (status = 200, description = "Changed, or already so", body = $package,
                    headers(("etag" = String, description = "The revision, for If-Match"))),
                (status = 401, description = "No valid token", body = ErrorBody),
                (status = 403, description = "Not an administrator", body = ErrorBody),
                (status = 404, description = $missing, body = ErrorBody),
                (status = 409, description = $slug_taken, body = ErrorBody),
                (status = 412, description = "Changed since the If-Match revision",
                    body = ErrorBody),
                (status = 422, description = "Invalid content", body = ErrorBody),
            )
        )]
        pub async fn update(
            State(state): State<SharedState>,
            AdminUser(admin): AdminUser,
            PathId(id): PathId,
            if_match: IfMatch,
            ValidJson(patch): ValidJson<$patch, CATALOGUE_LIMIT_BYTES>,
        ) -> ApiResult<PackageAnswer> {
            admin::patch::<$package>(&state, &admin, id, &if_match, patch).await
        }

        status_endpoint! {
            /// Archives it (admins only), which publishing again restores.
            ///
            /// It leaves the catalogue; what names it (entries, sets, packages) keeps
            /// naming it, and its slug stays taken.
            fn archive: post $archive, "archive_", $singular, $package,
                PackageStatus::Archived, "Archived", $id_doc, $missing
        }

        /// Deletes a draft that was never published and that nothing names (admins only).
        ///
        /// Anything else is archived instead (409): it may have been linked to or
        /// logged from.
        #[utoipa::path(
            delete,
            path = $item,
            tag = "catalogue administration",
            operation_id = concat!("delete_", $singular),
            security(("bearer" = [])),
            params(
                ("id" = Uuid, Path, description = $id_doc),
                ("If-Match" = Option<String>, Header,
                    description = "The ETag or the version (\"3\") the deletion is based on"),
            ),
            responses(
                (status = 204, description = "Deleted"),
                (status = 401, description = "No valid token", body = ErrorBody),
                (status = 403, description = "Not an administrator", body = ErrorBody),
                (status = 404, description = $missing, body = ErrorBody),
                (status = 409, description = "Published once, or entries name it: archive \
                    it instead", body = ErrorBody),
                (status = 412, description = "Changed since the If-Match revision",
                    body = ErrorBody),
            )
        )]
        pub async fn delete(
            State(state): State<SharedState>,
            AdminUser(_admin): AdminUser,
            PathId(id): PathId,
            if_match: IfMatch,
        ) -> ApiResult<axum::http::StatusCode> {
            admin::delete::<$package>(&state, id, &if_match).await
        }

        status_endpoint! {
            /// Publishes it (admins only): it joins the public catalogue.
            fn publish: post $publish, "publish_", $singular, $package,
                PackageStatus::Published, "Published", $id_doc, $missing
        }

        status_endpoint! {
            /// Takes it back to draft (admins only), out of the public catalogue.
            fn unpublish: post $unpublish, "unpublish_", $singular, $package,
                PackageStatus::Draft, "A draft again", $id_doc, $missing
        }
    };
}

#[async_trait::async_trait]
impl EditablePackage for crate::domain::MealPackage {
    const COLLECTION_PATH: &'static str = "/api/v1/meal-packages";
    async fn named_by_entries(store: &dyn Store, id: Uuid) -> StoreResult<bool> {
        store.meal_entries().names_package(id).await
    }
}

#[async_trait::async_trait]
impl EditablePackage for crate::domain::WorkoutPackage {
    const COLLECTION_PATH: &'static str = "/api/v1/workout-packages";
    async fn named_by_entries(store: &dyn Store, id: Uuid) -> StoreResult<bool> {
        store.workout_entries().names_package(id).await
    }
    async fn check_references(store: &dyn Store, package: &Self) -> ApiResult<()> {
        crate::api::catalogue::inputs::check_exercises_exist(store, package).await
    }
}

#[async_trait::async_trait]
impl EditablePackage for crate::domain::CustomExercise {
    const COLLECTION_PATH: &'static str = "/api/v1/custom-exercises";
    /// A set or a package may name a custom exercise only once it has been
    /// published (`ExerciseBook`), and one that has been may not be deleted: the
    /// one `delete` asks about was never named.
    async fn named_by_entries(_store: &dyn Store, _id: Uuid) -> StoreResult<bool> {
        Ok(false)
    }
}

pub mod meal_packages {
    use crate::api::catalogue::inputs::{MealPackageInput, MealPackagePatch};
    use crate::domain::MealPackage;

    admin_endpoints! {
        package: MealPackage,
        input: MealPackageInput,
        patch: MealPackagePatch,
        collection: "/api/v1/meal-packages",
        item: "/api/v1/meal-packages/{id}",
        publish: "/api/v1/meal-packages/{id}/publish",
        unpublish: "/api/v1/meal-packages/{id}/unpublish",
        archive: "/api/v1/meal-packages/{id}/archive",
        singular: "meal_package",
        id_doc: "The package's id",
        missing: "No such package",
        slug_taken: "Another package has the slug",
    }
}

pub mod custom_exercises {
    use crate::api::catalogue::exercise_inputs::{CustomExerciseInput, CustomExercisePatch};
    use crate::domain::CustomExercise;

    admin_endpoints! {
        package: CustomExercise,
        input: CustomExerciseInput,
        patch: CustomExercisePatch,
        collection: "/api/v1/custom-exercises",
        item: "/api/v1/custom-exercises/{id}",
        publish: "/api/v1/custom-exercises/{id}/publish",
        unpublish: "/api/v1/custom-exercises/{id}/unpublish",
        archive: "/api/v1/custom-exercises/{id}/archive",
        singular: "custom_exercise",
        id_doc: "The custom exercise's id",
        missing: "No such custom exercise",
        slug_taken: "Another custom exercise has the slug",
    }
}

pub mod workout_packages {
    use crate::api::catalogue::inputs::{WorkoutPackageInput, WorkoutPackagePatch};
    use crate::domain::WorkoutPackage;

    admin_endpoints! {
        package: WorkoutPackage,
        input: WorkoutPackageInput,
        patch: WorkoutPackagePatch,
        collection: "/api/v1/workout-packages",
        item: "/api/v1/workout-packages/{id}",
        publish: "/api/v1/workout-packages/{id}/publish",
        unpublish: "/api/v1/workout-packages/{id}/unpublish",
        archive: "/api/v1/workout-packages/{id}/archive",
        singular: "workout_package",
        id_doc: "The package's id",
        missing: "No such package",
        slug_taken: "Another package has the slug",
    }
}
