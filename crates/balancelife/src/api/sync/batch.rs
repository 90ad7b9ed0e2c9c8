//! `POST /sync/batch`: the writes a phone made offline, sent as one request once it
//! is online again, and applied one by one in order, each exactly as its own request
//! would be (the same routes, checks and answers), with one result per operation.
//!
//! The batch has an id the phone chooses. The first request with it claims it and
//! keeps its answer; the same batch sent again (its answer was lost on the way) gets
//! that answer and applies nothing twice. The same id with other operations is 422.
//!
//! Conflicts (two devices edited one entry offline): an operation without
//! `if_match` is applied as it arrives, so the write that reaches the service last
//! wins, field by field for a `PATCH`, whole for a `PUT`; a `DELETE` wins over an
//! edit that arrives after it (that edit is 404) and loses to a `PUT` after it (which
//! creates the entry again). An operation with `if_match` (the `ETag` the device
//! last read) is applied only if nobody changed the entry since: otherwise its result
//! is 412 and the device reads the entry (or the change feed) and decides.

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::header::{
    ACCEPT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_MATCH, IF_NONE_MATCH, TRANSFER_ENCODING,
};
use axum::http::{Extensions, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::account::auth::AuthUser;
use crate::api::entries::EntryResource;
use crate::api::http::envelope::EnvelopeLayer;
use crate::api::http::error::{ApiError, ApiResult, ErrorBody};
use crate::api::http::extract::{BODY_LIMIT_BYTES, ValidJson, parse_json};
use crate::api::http::state::SharedState;
use crate::domain::{BodyMetricData, MealData, User, WorkoutData};
use crate::store::batches::BatchClaim;

/// The most operations one batch holds: a day of offline logging, many times over.
pub const MAX_OPERATIONS: usize = 500;

/// The body limit of a batch: 500 operations of a few kilobytes each.
pub const BATCH_LIMIT_BYTES: usize = 4 * 1024 * 1024;

/// The longest one operation's answer kept (a food's, with its servings, is the
/// longest there is, far below it).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A batch of writes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Chosen by the client (a UUID), the same each time it sends this batch.
    id: Uuid,
    /// Applied in order, at most 500.
    operations: Vec<Operation>,
}

/// One write, as its own request would be.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    method: BatchMethod,
    /// The path of the resource, e.g. `/api/v1/meal-entries/{id}`: the caller's
    /// meal and workout entries and body measurements, their profile (`/api/v1/users/me`, `PATCH`), their
    /// foods and favourites.
    #[schema(example = "/api/v1/meal-entries/0195f4c8-7b1e-7c51-9a43-51f4f7e0c001")]
    path: String,
    /// As the `If-Match` header: the `ETag` the client last read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    if_match: Option<String>,
    /// The request body of a `PUT` or `PATCH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    body: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum BatchMethod {
    Put,
    Patch,
    Delete,
}

impl BatchMethod {
    fn as_method(self) -> Method {
        match self {
            Self::Put => Method::PUT,
            Self::Patch => Method::PATCH,
            Self::Delete => Method::DELETE,
        }
    }
}

/// The answer to a batch: one result per operation, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchAnswer {
    id: Uuid,
    results: Vec<OperationResult>,
}

/// What one operation's own request would have answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperationResult {
    /// Its status code, e.g. 201, 200, 204, 404, 412, 422.
    status: u16,
    /// Its body (the resource written, or `{"error": …}`); absent for 204.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    body: Option<serde_json::Value>,
    /// The resource's new `ETag`, where it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    etag: Option<String>,
}

/// The writes a batch may hold: each method on a path of one of these shapes
/// (`{id}` a UUID).
const WRITABLE: [(&str, &str, &[BatchMethod]); 6] = [
    (
        "/api/v1/meal-entries/",
        "",
        &[BatchMethod::Put, BatchMethod::Patch, BatchMethod::Delete],
    ),
    (
        "/api/v1/workout-entries/",
        "",
        &[BatchMethod::Put, BatchMethod::Patch, BatchMethod::Delete],
    ),
    (
        "/api/v1/body-metrics/",
        "",
        &[BatchMethod::Put, BatchMethod::Patch, BatchMethod::Delete],
    ),
    (
        "/api/v1/foods/",
        "",
        &[BatchMethod::Put, BatchMethod::Patch, BatchMethod::Delete],
    ),
    (
        "/api/v1/foods/",
        "/favourite",
        &[BatchMethod::Put, BatchMethod::Delete],
    ),
    ("/api/v1/users/me", "", &[BatchMethod::Patch]),
];

/// Whether a batch may hold `method` on `path`.
fn writable(method: BatchMethod, path: &str) -> bool {
    WRITABLE.iter().any(|(prefix, suffix, methods)| {
        let Some(rest) = path.strip_prefix(prefix) else {
            return false;
        };
        let id_fits = if prefix.ends_with('/') {
            rest.strip_suffix(suffix).is_some_and(|id| {
                id.len() == crate::domain::HYPHENATED_LEN && Uuid::try_parse(id).is_ok()
            })
        } else {
            rest.is_empty()
        };
        id_fits && methods.contains(&method)
    })
}

/// The writes a phone made offline, applied in order.
///
/// Each operation is applied exactly as its own request would be, and answered with
/// that request's status, body and `ETag`; one that fails does not stop the ones
/// after it. Sending the same batch (`id`) again returns the first answer and
/// applies nothing (`Idempotent-Replayed: true`). An operation without `if_match`
/// is applied as it arrives: the write that reaches the service last wins. With
/// `if_match`, one whose entry changed since is 412 in its result.
#[utoipa::path(
    post,
    path = "/api/v1/sync/batch",
    tag = "sync",
    operation_id = "sync_batch",
    request_body = BatchRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One result per operation, in order", body = BatchAnswer),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 409, description = "The same batch is being applied by another request; send it again in a moment", body = ErrorBody),
        (status = 413, description = "More than 500 operations, or a body over 4 MiB", body = ErrorBody),
        (status = 422, description = "An operation a batch may not hold, or the id of another batch; nothing was applied", body = ErrorBody),
    )
)]
pub async fn batch(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    headers: HeaderMap,
    extensions: Extensions,
    ValidJson(request): ValidJson<BatchRequest, BATCH_LIMIT_BYTES>,
) -> ApiResult<Response> {
    if request.operations.len() > MAX_OPERATIONS {
        return Err(ApiError::too_many_items("operations", MAX_OPERATIONS));
    }
    for (index, operation) in request.operations.iter().enumerate() {
        check(operation).map_err(|(field, message)| {
            ApiError::invalid(format!("operations[{index}].{field}"), message)
        })?;
    }
    let digest = digest_of(&request.operations)?;
    let batches = state.store.batches();
    match batches
        .claim(user.id, request.id, &digest, ABANDONED_AFTER)
        .await?
    {
        BatchClaim::Fresh => {}
        BatchClaim::Done(answer) => return Ok(json_response(answer, true)),
        BatchClaim::Running => {
            return Err(ApiError::conflict(
                "this batch is being applied by another request; send it again in a moment",
            ));
        }
        BatchClaim::Other => {
            return Err(ApiError::invalid(
                "id",
                "was used for a batch of other operations; give a new batch a new id",
            ));
        }
    }
    // Applied and kept in a task of its own: a phone that loses the connection
    // half-way (what this endpoint is for), or a request past its deadline, leaves
    // the batch to finish, and its resend gets the answer.
    let (user_id, id) = (user.id, request.id);
    let applied = crate::store::spawned(async move {
        let results = apply(&state, &headers, &extensions, &request.operations).await;
        let answer = BatchAnswer { id, results };
        let encoded = serde_json::to_vec(&answer).map_err(ApiError::internal)?;
        let batches = state.store.batches();
        let failed = answer.results.iter().any(|result| result.status >= 500);
        let kept = if failed || encoded.len() > MAX_KEPT_BYTES {
            // An operation the service could not do now is done again on a resend
            // (the others are the same again), rather than its failure kept for a
            // week; an answer too long to keep likewise.
            batches.release(user_id, id).await
        } else {
            batches.finish(user_id, id, encoded.clone()).await
        };
        if let Err(error) = kept {
            // A resend applies it again, which each operation bears (a PUT is the
            // same, a DELETE is 404, a PATCH sets the same fields).
            tracing::warn!(error = %crate::telemetry::ErrorChain(&error), "a batch's answer was not kept");
        }
        ApiResult::Ok(encoded)
    })
    .await?;
    Ok(json_response(applied, false))
}

/// How long a claimed batch that never finished waits before a resend may apply it
/// again (its instance died): past any batch's run.
const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(120);

/// The longest answer kept for a resend.
const MAX_KEPT_BYTES: usize = 8 * 1024 * 1024;

/// Why `operation` cannot be in a batch: the field, and the reason.
fn check(operation: &Operation) -> Result<(), (&'static str, &'static str)> {
    if !writable(operation.method, &operation.path) {
        return Err((
            "path",
            "is not a write a batch may hold (PUT, PATCH or DELETE of your own entries, \
             foods and favourites, PATCH of /api/v1/users/me)",
        ));
    }
    if operation
        .if_match
        .as_deref()
        .is_some_and(|tag| HeaderValue::from_str(tag).is_err())
    {
        return Err(("if_match", "is not a header value"));
    }
    // A batch's operations are kept (as their digest) for a week: no credentials.
    let credentials = ["password", "current_password"];
    if operation
        .body
        .as_ref()
        .and_then(Value::as_object)
        .is_some_and(|body| credentials.iter().any(|field| body.contains_key(*field)))
    {
        return Err((
            "body",
            "changes a password or needs one: send it on its own, not in a batch",
        ));
    }
    Ok(())
}

/// The digest a batch's operations are known by, whatever order their bodies'
/// fields came in.
fn digest_of(operations: &[Operation]) -> ApiResult<String> {
    let value = serde_json::to_value(operations).map_err(ApiError::internal)?;
    let canonical = serde_json::to_vec(&sorted(value)).map_err(ApiError::internal)?;
    Ok(hex::encode(Sha256::digest(&canonical)))
}

/// `value` with every object's keys in order.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(object) => {
            let ordered: std::collections::BTreeMap<String, Value> = object
                .into_iter()
                .map(|(key, value)| (key, sorted(value)))
                .collect();
            Value::Object(ordered.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// The API's routes, made once (with the OpenAPI document they come from).
static ROUTES: OnceLock<Router<SharedState>> = OnceLock::new();

/// Each operation through the API's own routes and envelope, as the caller.
async fn apply(
    state: &SharedState,
    headers: &HeaderMap,
    extensions: &Extensions,
    operations: &[Operation],
) -> Vec<OperationResult> {
    let routes = ROUTES
        .get_or_init(|| crate::api::documented_routes().split_for_parts().0)
        .clone()
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(EnvelopeLayer::new(state.clone()))
        .with_state(state.clone());
    let mut results = Vec::with_capacity(operations.len());
    let mut rest = operations;
    while let Some(operation) = rest.first() {
        let run = entry_puts(rest);
        if run.len() >= 2
            && let Some(answers) = write_run(state, headers, extensions, run).await
        {
            results.extend(answers);
            rest = &rest[run.len()..];
            continue;
        }
        let request = sub_request(headers, extensions, operation);
        let response = match routes.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        results.push(result_of(response).await);
        rest = &rest[1..];
    }
    results
}

/// The kinds of entry whose `PUT`s a batch writes together.
const ENTRY_KINDS: [&str; 3] = [
    "/api/v1/meal-entries/",
    "/api/v1/workout-entries/",
    "/api/v1/body-metrics/",
];

/// The run of operations `operations` begins with that are written together: `PUT`s
/// without `if_match` of entries of one kind, each entry once (two writes of one
/// entry keep their order by going one by one).
fn entry_puts(operations: &[Operation]) -> &[Operation] {
    let kind_of = |operation: &Operation| {
        let plain_put = operation.method == BatchMethod::Put
            && operation.if_match.is_none()
            && operation.body.is_some();
        ENTRY_KINDS
            .into_iter()
            .find(|kind| plain_put && operation.path.starts_with(kind))
    };
    let Some(kind) = operations.first().and_then(kind_of) else {
        return &[];
    };
    let mut paths = std::collections::HashSet::new();
    let length = operations
        .iter()
        .take_while(|operation| kind_of(operation) == Some(kind) && paths.insert(&operation.path))
        .count();
    &operations[..length]
}

/// The `PUT`s of `run` (see `entry_puts`), answered each as its own request would
/// be, the entries written together: a phone's offline logging costs the store a
/// few round trips, not a few per entry. `None` when the caller is not signed in,
/// for the routes to answer.
async fn write_run(
    state: &SharedState,
    headers: &HeaderMap,
    extensions: &Extensions,
    run: &[Operation],
) -> Option<Vec<OperationResult>> {
    // Signed in as its own request is (a profile changed earlier in the batch, its
    // time zone say, holds for these entries).
    let (mut parts, _) = sub_request(headers, extensions, run.first()?).into_parts();
    let AuthUser(user) = AuthUser::from_request_parts(&mut parts, state).await.ok()?;
    let path = &run[0].path;
    let answers = if path.starts_with(ENTRY_KINDS[0]) {
        put_run::<MealData>(state, &user, run).await
    } else if path.starts_with(ENTRY_KINDS[1]) {
        put_run::<WorkoutData>(state, &user, run).await
    } else {
        put_run::<BodyMetricData>(state, &user, run).await
    };
    let mut results = Vec::with_capacity(answers.len());
    for answer in answers {
        results.push(result_of(answer).await);
    }
    Some(results)
}

async fn put_run<E: EntryResource>(
    state: &SharedState,
    user: &User,
    run: &[Operation],
) -> Vec<Response> {
    let puts = run
        .iter()
        .map(|operation| {
            let id = operation
                .path
                .rsplit('/')
                .next()
                .and_then(|id| Uuid::try_parse(id).ok())
                .unwrap_or_default();
            // Read as the route reads its body, so a refusal is the route's.
            let body = serde_json::to_vec(&operation.body).unwrap_or_default();
            let input = if body.len() > BODY_LIMIT_BYTES {
                Err(ApiError::payload_too_large(BODY_LIMIT_BYTES))
            } else {
                parse_json::<E::Input>(&body)
            };
            (id, input)
        })
        .collect();
    crate::api::entries::put_many::<E>(state, user, puts)
        .await
        .into_iter()
        .map(IntoResponse::into_response)
        .collect()
}

/// The request an operation would have been, with the batch's credentials.
fn sub_request(
    headers: &HeaderMap,
    extensions: &Extensions,
    operation: &Operation,
) -> Request<Body> {
    let mut request = Request::new(match &operation.body {
        Some(body) => Body::from(serde_json::to_vec(body).unwrap_or_default()),
        None => Body::empty(),
    });
    *request.method_mut() = operation.method.as_method();
    *request.uri_mut() = operation.path.parse().unwrap_or_default();
    let sub_headers = request.headers_mut();
    for (name, value) in headers {
        let own = [
            CONTENT_LENGTH,
            CONTENT_TYPE,
            TRANSFER_ENCODING,
            IF_MATCH,
            IF_NONE_MATCH,
            ACCEPT_ENCODING,
        ];
        if !own.contains(name) {
            sub_headers.append(name.clone(), value.clone());
        }
    }
    if operation.body.is_some() {
        sub_headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    if let Some(tag) = operation
        .if_match
        .as_deref()
        .and_then(|tag| HeaderValue::from_str(tag).ok())
    {
        sub_headers.insert(IF_MATCH, tag);
    }
    if let Some(address) = extensions.get::<ConnectInfo<SocketAddr>>() {
        request.extensions_mut().insert(*address);
    }
    request
}

async fn result_of(response: Response) -> OperationResult {
    let status = response.status();
    let etag = response
        .headers()
        .get(ETAG)
        .and_then(|tag| tag.to_str().ok())
        .map(str::to_owned);
    // An answer longer than any operation's is left out rather than kept.
    let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER_BYTES)
        .await
        .unwrap_or_default();
    let body = (!bytes.is_empty())
        .then(|| serde_json::from_slice(&bytes).ok())
        .flatten();
    // A written resource's tag, as its `GET` would give it (the same body), for
    // the client's next `If-Match`.
    let etag = etag
        .or_else(|| (status.is_success() && body.is_some()).then(|| crate::store::tag_of(&bytes)));
    OperationResult {
        status: status.as_u16(),
        body,
        etag,
    }
}

fn json_response(body: Vec<u8>, replayed: bool) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_holds_writes_of_the_callers_own_things_only() {
        let id = "0195f4c8-7b1e-7c51-9a43-51f4f7e0c001";
        for (method, path) in [
            (BatchMethod::Put, format!("/api/v1/meal-entries/{id}")),
            (BatchMethod::Delete, format!("/api/v1/workout-entries/{id}")),
            (BatchMethod::Patch, format!("/api/v1/foods/{id}")),
            (BatchMethod::Put, format!("/api/v1/foods/{id}/favourite")),
            (BatchMethod::Patch, "/api/v1/users/me".to_owned()),
        ] {
            assert!(writable(method, &path), "{method:?} {path}");
        }
        for (method, path) in [
            (BatchMethod::Put, "/api/v1/meal-entries/".to_owned()),
            (BatchMethod::Put, format!("/api/v1/meal-entries/{id}/x")),
            (
                BatchMethod::Put,
                "/api/v1/meal-entries/not-a-uuid".to_owned(),
            ),
            (BatchMethod::Delete, "/api/v1/users/me".to_owned()),
            (BatchMethod::Patch, format!("/api/v1/foods/{id}/favourite")),
            (BatchMethod::Put, format!("/api/v1/meal-packages/{id}")),
            (BatchMethod::Patch, "/api/v1/users/me/".to_owned()),
            (BatchMethod::Put, format!("/api/v1/sync/batch/{id}")),
        ] {
            assert!(!writable(method, &path), "{method:?} {path}");
        }
    }
}
