//! Meal, workout and body-measurement endpoints, written once over
//! `EntryResource`.
//!
//! Every route is scoped to the signed-in user: another user's entry id answers 404
//! exactly like an id that does not exist.

pub(crate) mod body_metrics;
pub(crate) mod meals;
pub(crate) mod workouts;

use async_trait::async_trait;
use axum::Json;
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::api::account::auth::AuthUser;
use crate::api::http::error::{ApiError, ApiResult, NotFoundAs};
use crate::api::http::extract::{PathId, ValidJson, ValidQuery};
pub use crate::api::http::if_match::IfMatch;
use crate::api::http::pagination::{self, ListResponse, page_request};
use crate::api::http::state::SharedState;
use crate::domain::{ClientId, Entry, EntryData, EntryPosition, PackageRef, User, Version, new_id};
use crate::store::{
    DateRange, Encoded, EntryStore, Optional, Store, StoreError, StoreResult, Written,
};

/// The longest date range one list request may span.
pub const MAX_RANGE_DAYS: i64 = 366;

/// What the generic routes need from one kind of entry.
#[async_trait]
pub trait EntryResource: EntryData {
    /// E.g. "meal entry", for error messages.
    const NOUN: &'static str;
    /// E.g. "/api/v1/meal-entries", for `Location` headers.
    const COLLECTION_PATH: &'static str;
    /// The name of the field `occurred_at` comes from, e.g. "eaten_at".
    const OCCURRED_AT_FIELD: &'static str;
    /// The body of POST and PUT.
    type Input: DeserializeOwned + Send + 'static;
    /// The body of PATCH.
    type Patch: DeserializeOwned + Send + 'static;
    type View: Serialize + Send;

    fn entries(store: &dyn Store) -> &dyn EntryStore<Self>;
    /// The client's id, if it chose one, and the validated data.
    fn from_input(input: Self::Input) -> ApiResult<(Option<ClientId>, Self)>;
    /// `from_input` with what needs the store: a meal logged from a food takes
    /// its numbers from the food `user` may see.
    async fn resolve(
        _store: &dyn Store,
        _user: &User,
        input: Self::Input,
    ) -> ApiResult<(Option<ClientId>, Self)> {
        Self::from_input(input)
    }
    fn apply_patch(&mut self, patch: Self::Patch) -> ApiResult<()>;
    /// What the data takes from the store once its day is known, before each
    /// write of it: a workout's sets checked against the exercises there are, and
    /// its estimated energy. Nothing, by default.
    async fn complete(
        _store: &dyn Store,
        _user: &User,
        _local_date: NaiveDate,
        _data: &mut Self,
    ) -> ApiResult<()> {
        Ok(())
    }
    /// The current version of a published package of this kind, if there is one.
    async fn package_version(store: &dyn Store, id: Uuid) -> StoreResult<Option<Version>>;
    fn view(entry: Entry<Self>) -> Self::View;
    /// Whether a write of an entry from `before` to `after` (`None`: there was
    /// none, or is none now) needs `follow_up`. Never, by default.
    fn follows_up(_before: Option<&Self>, _after: Option<&Self>) -> bool {
        false
    }
    /// What else follows such writes of user `user_id`'s entries, once for any
    /// number of them: the profile's weight follows the weigh-ins. It runs after
    /// the write stands (`follow_up_quietly`).
    async fn follow_up(_state: &SharedState, _user_id: Uuid) -> ApiResult<()> {
        Ok(())
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntryListQuery {
    /// The first calendar day, in the user's time zone.
    #[param(required = true, example = "2026-11-20")]
    from: Option<NaiveDate>,
    /// The last calendar day, at most 366 days after `from`; defaults to `from`.
    to: Option<NaiveDate>,
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 512)]
    cursor: Option<String>,
}

/// The documented handlers of one entry kind, as thin wrappers around the generic
/// ones in this module: `#[utoipa::path]`, and the router built from it, need
/// concrete functions.
macro_rules! entry_endpoints {
    (
        data: $data:ty,
        input: $input:ty,
        patch: $patch:ty,
        view: $view:ty,
        collection: $collection:literal,
        item: $item:literal,
        tag: $tag:literal,
        singular: $singular:literal,
        plural: $plural:literal $(,)?
    ) => {
        pub mod endpoints {
            // The types named in the invocation live in the invoking module.
            #[allow(unused_imports)]
            use super::*;
            use axum::Json;
            use axum::extract::State;
            use axum::http::StatusCode;

            use crate::api::account::auth::AuthUser;
            use crate::api::entries::{self, EntryListQuery};
            use crate::api::http::error::{ApiResult, ErrorBody};
            use crate::api::http::extract::{PathId, ValidJson, ValidQuery};
            use crate::api::http::if_match::IfMatch;
            use crate::api::http::pagination::ListResponse;
            use crate::api::http::state::SharedState;

            /// The entries on the days from `from` to `to`, oldest first.
            #[utoipa::path(
                get,
                path = $collection,
                tag = $tag,
                operation_id = concat!("list_", $plural),
                security(("bearer" = [])),
                params(EntryListQuery),
                responses(
                    (status = 200, description = "One page of entries",
                        body = ListResponse<$view>),
                )
            )]
            pub async fn list(
                state: State<SharedState>,
                user: AuthUser,
                query: ValidQuery<EntryListQuery>,
            ) -> ApiResult<crate::store::Encoded> {
                entries::list::<$data>(state, user, query).await
            }

            /// Logs an entry. With a client-chosen `id`, sending it again is harmless.
            #[utoipa::path(
                post,
                path = $collection,
                tag = $tag,
                operation_id = concat!("create_", $singular),
                security(("bearer" = [])),
                request_body = $input,
                responses(
                    (status = 201, description = "Created", body = $view,
                        headers(("location" = String, description = "The entry's URL"))),
                    (status = 200, description = "The same entry was already there",
                        body = $view,
                        headers(("location" = String, description = "The entry's URL"))),
                    (status = 404, description = "The id belongs to someone else",
                        body = ErrorBody),
                    (status = 409, description = "The id is taken by a different entry",
                        body = ErrorBody),
                )
            )]
            pub async fn create(
                state: State<SharedState>,
                user: AuthUser,
                input: ValidJson<$input>,
            ) -> ApiResult<entries::Created<$view>> {
                entries::create::<$data>(state, user, input).await
            }

            /// Creates or replaces the entry with this id (any RFC 9562 UUID).
            #[utoipa::path(
                put,
                path = $item,
                tag = $tag,
                operation_id = concat!("put_", $singular),
                security(("bearer" = [])),
                params(("id" = uuid::Uuid, Path, description = "The entry's id, a UUID of any RFC 9562 version",
                    // `ClientId`'s; tests/suite/openapi.rs holds the two equal.
                    pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"),
                    ("If-Match" = Option<String>, Header,
                        description = "The ETag the replacement is based on: replaced only if still that revision")),
                request_body = $input,
                responses(
                    (status = 201, description = "Created", body = $view,
                        headers(("location" = String, description = "The entry's URL"))),
                    (status = 200, description = "Replaced, or already equal", body = $view,
                        headers(("location" = String, description = "The entry's URL"))),
                    (status = 404, description = "The id belongs to someone else",
                        body = ErrorBody),
                    (status = 409, description = "The entry changed concurrently; try again",
                        body = ErrorBody),
                    (status = 412, description = "If-Match names another revision, or there is no entry",
                        body = ErrorBody),
                )
            )]
            pub async fn put(
                state: State<SharedState>,
                user: AuthUser,
                id: PathId,
                if_match: IfMatch,
                input: ValidJson<$input>,
            ) -> ApiResult<entries::Created<$view>> {
                entries::put::<$data>(state, user, id, if_match, input).await
            }

            /// One of the caller's entries.
            #[utoipa::path(
                get,
                path = $item,
                tag = $tag,
                operation_id = concat!("get_", $singular),
                security(("bearer" = [])),
                params(("id" = uuid::Uuid, Path, description = "The entry's id")),
                responses(
                    (status = 200, description = "The entry", body = $view),
                    (status = 404, description = "No such entry of the caller's",
                        body = ErrorBody),
                )
            )]
            pub async fn get(
                state: State<SharedState>,
                user: AuthUser,
                id: PathId,
            ) -> ApiResult<Json<$view>> {
                entries::get::<$data>(state, user, id).await
            }

            /// Changes some fields: absent ones stay, `null` clears an optional one.
            #[utoipa::path(
                patch,
                path = $item,
                tag = $tag,
                operation_id = concat!("patch_", $singular),
                security(("bearer" = [])),
                params(("id" = uuid::Uuid, Path, description = "The entry's id"),
                    ("If-Match" = Option<String>, Header,
                        description = "The ETag the change is based on: made only if still that revision")),
                request_body = $patch,
                responses(
                    (status = 200, description = "The updated entry", body = $view),
                    (status = 404, description = "No such entry of the caller's",
                        body = ErrorBody),
                    (status = 409, description = "The entry changed concurrently; read it \
                        again", body = ErrorBody),
                    (status = 412, description = "If-Match names another revision",
                        body = ErrorBody),
                )
            )]
            pub async fn patch(
                state: State<SharedState>,
                user: AuthUser,
                id: PathId,
                if_match: IfMatch,
                patch: ValidJson<$patch>,
            ) -> ApiResult<Json<$view>> {
                entries::patch::<$data>(state, user, id, if_match, patch).await
            }

            /// Deletes one of the caller's entries.
            #[utoipa::path(
                delete,
                path = $item,
                tag = $tag,
                operation_id = concat!("delete_", $singular),
                security(("bearer" = [])),
                params(("id" = uuid::Uuid, Path, description = "The entry's id"),
                    ("If-Match" = Option<String>, Header,
                        description = "The ETag last read: deleted only if still that revision")),
                responses(
                    (status = 204, description = "Deleted"),
                    (status = 404, description = "No such entry of the caller's",
                        body = ErrorBody),
                    (status = 412, description = "If-Match names another revision",
                        body = ErrorBody),
                )
            )]
            pub async fn delete(
                state: State<SharedState>,
                user: AuthUser,
                id: PathId,
                if_match: IfMatch,
            ) -> ApiResult<StatusCode> {
                entries::delete::<$data>(state, user, id, if_match).await
            }
        }
    };
}

pub(crate) use entry_endpoints;

pub type Created<V> = (StatusCode, HeaderMap, Json<V>);

pub async fn create<E: EntryResource>(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    ValidJson(input): ValidJson<E::Input>,
) -> ApiResult<Created<E::View>> {
    let (client_id, data) = E::resolve(state.store.as_ref(), &user, input).await?;
    let entry = new_entry(
        &state,
        &user,
        client_id.map_or_else(new_id, ClientId::get),
        data,
    )
    .await?;
    // Another user's id: the same answer as for any id the caller cannot see.
    let written = E::entries(state.store.as_ref()).create(entry).await;
    let written = written.or_not_found(E::NOUN)?;
    if follows_up(&written) {
        follow_up_quietly::<E>(&state, user.id).await;
    }
    Ok(respond::<E>(written))
}

/// Whether `written` needs `EntryResource::follow_up`.
fn follows_up<E: EntryResource>(written: &Written<Entry<E>>) -> bool {
    match written {
        Written::Created(entry) => E::follows_up(None, Some(&entry.data)),
        Written::Unchanged(_) => false,
        Written::Replaced { stored, previous } => {
            E::follows_up(Some(&previous.data), Some(&stored.data))
        }
    }
}

/// `EntryResource::follow_up` after writes that stand: its failure (the store
/// busy a moment) is logged, not answered, for the write was made and a client
/// told it failed would send it again, or give it up. The next write that needs
/// the follow-up makes it good.
pub async fn follow_up_quietly<E: EntryResource>(state: &SharedState, user_id: Uuid) {
    if let Err(error) = E::follow_up(state, user_id).await {
        tracing::warn!(%user_id, kind = E::KIND.as_str(), ?error,
            "a write stands, but what follows it failed; the next write makes it good");
    }
}

pub async fn put<E: EntryResource>(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    if_match: IfMatch,
    ValidJson(input): ValidJson<E::Input>,
) -> ApiResult<Created<E::View>> {
    let entry = entry_put_at::<E>(&state, &user, id, input).await?;
    if if_match.is_given() {
        // Only over the revision named: the entry must be there, and still be it.
        // No entry to be that revision: 412 too.
        let current = match matching::<E>(&state, &user, id, &if_match).await {
            Err(refused) if refused.status() == StatusCode::NOT_FOUND => {
                return Err(ApiError::precondition_failed());
            }
            other => other?,
        };
        let updated = E::entries(state.store.as_ref())
            .update(entry, current.updated_at)
            .await;
        let updated = match updated {
            Err(StoreError::Conflict(_)) => return Err(ApiError::precondition_failed()),
            other => other.or_not_found(E::NOUN)?,
        };
        let written = Written::Replaced {
            stored: updated,
            previous: current,
        };
        if follows_up(&written) {
            follow_up_quietly::<E>(&state, user.id).await;
        }
        return Ok(respond::<E>(written));
    }
    let written = E::entries(state.store.as_ref()).put(entry).await;
    let written = written.or_not_found(E::NOUN)?;
    if follows_up(&written) {
        follow_up_quietly::<E>(&state, user.id).await;
    }
    Ok(respond::<E>(written))
}

/// The entry a `PUT` of `input` at `id` stores, checked as the route checks it.
async fn entry_put_at<E: EntryResource>(
    state: &SharedState,
    user: &User,
    id: Uuid,
    input: E::Input,
) -> ApiResult<Entry<E>> {
    let id = ClientId::try_from(id)
        .map_err(|invalid| ApiError::invalid("id", invalid.0))?
        .get();
    let (body_id, data) = E::resolve(state.store.as_ref(), user, input).await?;
    if body_id.is_some_and(|body_id| body_id.get() != id) {
        return Err(ApiError::invalid("id", "must match the id in the path"));
    }
    new_entry(state, user, id, data).await
}

/// `PUT` without `If-Match` of each of `puts` (an id, and its body as read or
/// refused), each answered as its own request would be, the entries written
/// together (`EntryStore::put_many`): a phone's batch of offline logging.
pub async fn put_many<E: EntryResource>(
    state: &SharedState,
    user: &User,
    puts: Vec<(Uuid, ApiResult<E::Input>)>,
) -> Vec<ApiResult<Created<E::View>>> {
    let mut answers: Vec<Option<ApiResult<Created<E::View>>>> = Vec::with_capacity(puts.len());
    let (mut entries, mut places) = (Vec::new(), Vec::new());
    for (id, input) in puts {
        let entry = match input {
            Ok(input) => entry_put_at::<E>(state, user, id, input).await,
            Err(refused) => Err(refused),
        };
        match entry {
            Ok(entry) => {
                places.push(answers.len());
                entries.push(entry);
                answers.push(None);
            }
            Err(refused) => answers.push(Some(Err(refused))),
        }
    }
    let written = match E::entries(state.store.as_ref()).put_many(entries).await {
        Ok(written) => written,
        Err(error) => vec![Err(error); places.len()],
    };
    let results: Vec<_> = written
        .into_iter()
        .map(|result| result.or_not_found(E::NOUN))
        .collect();
    // Once for the run: a phone's week of weigh-ins sets the profile once.
    if results.iter().flatten().any(follows_up) {
        follow_up_quietly::<E>(state, user.id).await;
    }
    for (place, result) in places.into_iter().zip(results) {
        answers[place] = Some(result.map(respond::<E>));
    }
    answers
        .into_iter()
        .map(|answer| {
            answer.unwrap_or_else(|| Err(ApiError::internal("a write of a batch went unanswered")))
        })
        .collect()
}

/// Entry `id` of `user`, if `if_match` names its current revision: 404 when there
/// is none, 412 when it is another.
async fn matching<E: EntryResource>(
    state: &SharedState,
    user: &User,
    id: Uuid,
    if_match: &IfMatch,
) -> ApiResult<Entry<E>> {
    let current = fetch::<E>(state, user, id).await?;
    let tag = Encoded::encode(&E::view(current.clone())).tag;
    if if_match.admits(&tag, None) {
        Ok(current)
    } else {
        Err(ApiError::precondition_failed())
    }
}

pub async fn get<E: EntryResource>(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<E::View>> {
    let entry = fetch::<E>(&state, &user, id).await?;
    Ok(Json(E::view(entry)))
}

pub async fn patch<E: EntryResource>(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    if_match: IfMatch,
    ValidJson(patch): ValidJson<E::Patch>,
) -> ApiResult<Json<E::View>> {
    let mut entry = matching::<E>(&state, &user, id, &if_match).await?;
    let read_version = entry.updated_at;
    let before = entry.data.clone();
    entry.data.apply_patch(patch)?;
    if entry.data == before {
        return Ok(Json(E::view(entry)));
    }
    if entry.data.package() != before.package() {
        check_package::<E>(&state, &entry.data).await?;
    }
    // The day moves only with the time: an edit of the notes must not re-file an
    // entry under the user's current time zone.
    if entry.data.occurred_at() != before.occurred_at() {
        check_occurred_at::<E>(entry.data.occurred_at())?;
        entry.local_date = user.timezone.local_date(entry.data.occurred_at());
    }
    E::complete(
        state.store.as_ref(),
        &user,
        entry.local_date,
        &mut entry.data,
    )
    .await?;
    if entry.data == before {
        // An estimate made again of an unchanged workout.
        return Ok(Json(E::view(entry)));
    }
    entry.updated_at = crate::domain::now();
    let updated = E::entries(state.store.as_ref())
        .update(entry, read_version)
        .await;
    let updated = match updated {
        // The revision If-Match named was changed between the read and the write.
        Err(StoreError::Conflict(_)) if if_match.is_given() => {
            return Err(ApiError::precondition_failed());
        }
        other => other.or_not_found(E::NOUN)?,
    };
    if E::follows_up(Some(&before), Some(&updated.data)) {
        follow_up_quietly::<E>(&state, user.id).await;
    }
    Ok(Json(E::view(updated)))
}

pub async fn delete<E: EntryResource>(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    let entries = E::entries(state.store.as_ref());
    let deleted = if if_match.is_given() {
        // Only the revision named: a write landing between the check and the
        // deletion makes it 412, not a deletion of what nobody read.
        let current = matching::<E>(&state, &user, id, &if_match).await?;
        match entries
            .delete_unchanged(user.id, id, current.updated_at)
            .await
        {
            Err(StoreError::Conflict(_)) => return Err(ApiError::precondition_failed()),
            other => other,
        }
    } else {
        entries.delete(user.id, id).await
    };
    let deleted = deleted.or_not_found(E::NOUN)?;
    if E::follows_up(Some(&deleted.data), None) {
        follow_up_quietly::<E>(&state, user.id).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list<E: EntryResource>(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    ValidQuery(query): ValidQuery<EntryListQuery>,
) -> ApiResult<Encoded> {
    let from = query
        .from
        .ok_or_else(|| ApiError::invalid("from", "is required (YYYY-MM-DD)"))?;
    let to = query.to.unwrap_or(from);
    let range = DateRange::new(from, to).map_err(|e| ApiError::invalid("to", e.0))?;
    if range.days() > MAX_RANGE_DAYS {
        return Err(ApiError::invalid(
            "to",
            format!("the range must span at most {MAX_RANGE_DAYS} days"),
        ));
    }
    let page = page_request(query.limit, query.cursor.as_deref())?;
    // Encoded by the store, which keeps the answer beside a list it holds in memory.
    let body = E::entries(state.store.as_ref())
        .list_rendered(user.id, range, page, render_list::<E>)
        .await?;
    Ok(body)
}

/// A page of entries as the list endpoint answers it.
fn render_list<E: EntryResource>(items: &[Entry<E>], next: Option<&EntryPosition>) -> Encoded {
    Encoded::encode(&ListResponse {
        items: items.iter().cloned().map(E::view).collect(),
        next_cursor: next.map(pagination::encode),
    })
}

async fn fetch<E: EntryResource>(
    state: &SharedState,
    user: &User,
    id: Uuid,
) -> ApiResult<Entry<E>> {
    let found = E::entries(state.store.as_ref()).get(user.id, id).await;
    found.or_not_found(E::NOUN)
}

async fn new_entry<E: EntryResource>(
    state: &SharedState,
    user: &User,
    id: Uuid,
    mut data: E,
) -> ApiResult<Entry<E>> {
    check_occurred_at::<E>(data.occurred_at())?;
    check_package::<E>(state, &data).await?;
    let local_date = user.timezone.local_date(data.occurred_at());
    E::complete(state.store.as_ref(), user, local_date, &mut data).await?;
    let now = crate::domain::now();
    Ok(Entry {
        id,
        user_id: user.id,
        local_date,
        data,
        created_at: now,
        updated_at: now,
    })
}

/// A referenced package must exist, so an entry never points at nothing.
pub async fn check_package<E: EntryResource>(state: &SharedState, data: &E) -> ApiResult<()> {
    let Some(package) = data.package() else {
        return Ok(());
    };
    match E::package_version(state.store.as_ref(), package.package_id).await? {
        None => Err(ApiError::invalid("package_id", "no such package")),
        Some(current) if package.package_version > current => Err(ApiError::invalid(
            "package_version",
            format!("the package's current version is {}", current.get()),
        )),
        Some(_) => Ok(()),
    }
}

/// Entries are about the past or the near present: a day ahead allows for clocks and
/// time zones, the lower bound catches swapped or garbled dates.
pub fn check_occurred_at<E: EntryResource>(at: DateTime<Utc>) -> ApiResult<()> {
    if !crate::domain::is_plausible_time(at) {
        return Err(ApiError::invalid(
            E::OCCURRED_AT_FIELD,
            "must be between 2000-01-01 and one day from now",
        ));
    }
    Ok(())
}

fn respond<E: EntryResource>(written: Written<Entry<E>>) -> Created<E::View> {
    let status = if written.was_created() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let entry = written.into_inner();
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(&format!("{}/{}", E::COLLECTION_PATH, entry.id)) {
        headers.insert(LOCATION, location);
    }
    (status, headers, Json(E::view(entry)))
}

/// Both or neither of `package_id` and `package_version`.
pub fn package_ref(
    package_id: Option<Uuid>,
    package_version: Option<Version>,
) -> ApiResult<Option<PackageRef>> {
    match (package_id, package_version) {
        (None, None) => Ok(None),
        (Some(package_id), Some(package_version)) => Ok(Some(PackageRef {
            package_id,
            package_version,
        })),
        (Some(_), None) => Err(ApiError::invalid(
            "package_version",
            "is required with package_id",
        )),
        (None, Some(_)) => Err(ApiError::invalid(
            "package_id",
            "is required with package_version",
        )),
    }
}

/// Applies PATCH's `package_id`/`package_version` (each absent, null or a value) to
/// the current reference; the result must still name both or neither.
pub fn patched_package(
    current: Option<PackageRef>,
    package_id: Option<Option<Uuid>>,
    package_version: Option<Option<Version>>,
) -> ApiResult<Option<PackageRef>> {
    let id = package_id.unwrap_or(current.map(|p| p.package_id));
    let version = package_version.unwrap_or(current.map(|p| p.package_version));
    package_ref(id, version)
}

/// The version of a package lookup's result, if it is published.
pub fn published_version<P: crate::domain::Package>(
    result: StoreResult<P>,
    version: impl Fn(&P) -> Version,
) -> StoreResult<Option<Version>> {
    let package = result.optional()?;
    Ok(package
        .filter(|package| package.published())
        .map(|package| version(&package)))
}
