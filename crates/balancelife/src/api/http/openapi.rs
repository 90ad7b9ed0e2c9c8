//! `GET /openapi.json`: the OpenAPI 3.1 document of this API, generated from the
//! handlers' `#[utoipa::path]` annotations and the types they take and return.
//!
//! The router is built from the same annotations (see `api::router`), so a route
//! cannot exist without being documented, nor be documented without existing. The
//! answers every operation shares (bad input, no token, overload) are added here,
//! from what each operation takes, instead of being repeated on every handler.

use std::sync::LazyLock;

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, OpenApi as Document, PathItem, Ref, RefOr, Response,
    ResponseBuilder,
};
use utoipa::{OpenApi, PartialSchema, ToSchema};

use crate::api::http::error::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "BalanceLife API",
        description = "Users, meal and workout packages, and meal and workout logs of the \
            BalanceLife health and fitness app. Every error answers with the `ErrorBody` \
            JSON shape; every response carries an `x-request-id`.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "auth", description = "Registering and signing in"),
        (name = "users", description = "The signed-in user's account and profile"),
        (name = "catalogue",
            description = "Meal and workout packages, and logging them; custom exercises"),
        (name = "catalogue administration",
            description = "Writing the catalogue: administrators only"),
        (name = "meal entries", description = "The signed-in user's meal log"),
        (name = "workout entries", description = "The signed-in user's workout log"),
        (name = "body metrics", description = "The signed-in user's body log: weigh-ins, body fat, girths"),
        (name = "exercises", description = "The exercise library: muscles, equipment, level, instructions"),
        (name = "training", description = "Personal records, progression and weekly volume from logged sets"),
        (name = "targets", description = "Energy and macro targets over time, and suggestions to accept"),
        (name = "insights", description = "Daily energy and macro balance"),
        (name = "data", description = "Export and import of a user's own data"),
        (name = "sync", description = "What changed since a phone last looked, deletions included"),
        (name = "health data", description = "Samples from Health Connect and HealthKit"),
        (name = "operations", description = "Health, metrics and this document"),
    )
)]
pub struct ApiDoc;

/// The name of the bearer-token security scheme the annotations refer to.
pub const BEARER: &str = "bearer";

static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    let mut json = serde_json::to_value(document()).expect("an OpenAPI document serializes");
    spell_links(&mut json);
    json.to_string()
});

/// utoipa 5.5 writes a link's `operationId` as `operation_id` (its `Link` lacks the
/// camel-case renaming every other object has); spelled as OpenAPI has it here.
fn spell_links(document: &mut serde_json::Value) {
    let Some(paths) = document["paths"].as_object_mut() else {
        return;
    };
    let links = paths
        .values_mut()
        .filter_map(serde_json::Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter_map(|operation| operation["responses"].as_object_mut())
        .flat_map(|responses| responses.values_mut())
        .filter_map(|response| response.get_mut("links")?.as_object_mut())
        .flat_map(|links| links.values_mut())
        .filter_map(serde_json::Value::as_object_mut);
    for link in links {
        if let Some(id) = link.remove("operation_id") {
            link.insert("operationId".to_owned(), id);
        }
    }
}

/// This API's OpenAPI document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document",
        content_type = "application/json", body = Object))
)]
pub async fn openapi_json() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], DOCUMENT.as_str())
}

/// The finished document: what the routes declare, plus the shared answers.
pub fn document() -> Document {
    let (_, mut document) = crate::api::documented_routes().split_for_parts();
    document
        .components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("The `token` from `/auth/register` or `/auth/login`."))
                    .build(),
            ),
        );
    add_links(&mut document);
    for (path, item) in document.paths.paths.iter_mut() {
        if let Some(read) = item.get.as_mut()
            && crate::api::http::conditional::policy(path, 0, true).is_some()
        {
            add_conditional_get(read);
        }
        for operation in operations(item) {
            add_shared_answers(operation);
        }
    }
    document
}

/// Links from each `POST` that creates (201) to every operation on the item it
/// created (`<collection>/{id}…`), with the new `id`: what a client (and a fuzzer's
/// stateful phase) does next with what it made.
fn add_links(document: &mut Document) {
    let mut next_steps: Vec<(String, Vec<String>)> = Vec::new();
    for (collection, item) in &document.paths.paths {
        let item_prefix = format!("{collection}/{{id}}");
        let creates = item
            .post
            .as_ref()
            .is_some_and(|post| post.responses.responses.contains_key("201"));
        if !creates {
            continue;
        }
        let operation_ids = document
            .paths
            .paths
            .iter()
            .filter(|(path, _)| path.starts_with(&item_prefix))
            .flat_map(|(_, item)| operations_of(item))
            .filter_map(|operation| operation.operation_id.clone())
            .collect();
        next_steps.push((collection.clone(), operation_ids));
    }
    for (collection, operation_ids) in next_steps {
        let Some(post) = document
            .paths
            .paths
            .get_mut(&collection)
            .and_then(|item| item.post.as_mut())
        else {
            continue;
        };
        if let Some(RefOr::T(created)) = post.responses.responses.get_mut("201") {
            for operation_id in operation_ids {
                let link = LinkBuilder::new()
                    .operation_id(operation_id.clone())
                    .parameter("id", "$response.body#/id")
                    .build();
                created.links.insert(operation_id, RefOr::T(link));
            }
        }
    }
}

/// What `conditional` adds to a read: `If-None-Match` in, `ETag` and
/// `Cache-Control` out, and a 304 without a body.
fn add_conditional_get(operation: &mut Operation) {
    operation.parameters.get_or_insert_with(Vec::new).push(
        ParameterBuilder::new()
            .name("If-None-Match")
            .parameter_in(ParameterIn::Header)
            .required(utoipa::openapi::Required::False)
            .schema(Some(String::schema()))
            .description(Some(
                "`ETag`s of answers the client holds (`*` for any): if the answer \
                     still has one of them, it is a 304 without a body.",
            ))
            .build(),
    );
    let validators = |response: &mut Response| {
        for (name, description) in [
            (
                "ETag",
                "A strong tag of this answer: send it back in `If-None-Match`.",
            ),
            (
                "Cache-Control",
                "`public, max-age=…` for the catalogue, `private, no-cache` for \
                 personal data.",
            ),
        ] {
            response.headers.entry(name.to_owned()).or_insert_with(|| {
                HeaderBuilder::new()
                    .schema(String::schema())
                    .description(Some(description))
                    .build()
            });
        }
    };
    let responses = &mut operation.responses.responses;
    if let Some(RefOr::T(ok)) = responses.get_mut("200") {
        validators(ok);
    }
    let mut not_modified = ResponseBuilder::new()
        .description("Not modified: the answer still has the `ETag` the client sent")
        .build();
    validators(&mut not_modified);
    responses.insert("304".to_owned(), RefOr::T(not_modified));
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
        &mut item.head,
        &mut item.options,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// `operations`, read only.
fn operations_of(item: &PathItem) -> impl Iterator<Item = &Operation> {
    [
        &item.get,
        &item.put,
        &item.post,
        &item.delete,
        &item.patch,
        &item.head,
        &item.options,
        &item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_ref)
}

/// The answers that follow from what an operation takes, added where the handler's
/// annotation did not describe them itself.
fn add_shared_answers(operation: &mut Operation) {
    let has_body = operation.request_body.is_some();
    let signed_in = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());

    let mut shared = Vec::new();
    if has_body {
        shared.push((
            "400",
            "The body is not well-formed JSON, or could not be read",
        ));
    }
    if signed_in {
        shared.push(("401", "No valid bearer token"));
    }
    if has_body {
        shared.push(("413", "The body is too large"));
        shared.push(("415", "The body is not `application/json`"));
    }
    // Every operation: a query string where none is taken is refused too.
    shared.push((
        "422",
        "A value is missing or not acceptable, or a field or query parameter is \
         unknown; `field` names it",
    ));
    shared.push(("500", "Something went wrong on the server's side"));
    shared.push((
        "503",
        "The store is unavailable or the request took too long; try again shortly",
    ));

    let responses = &mut operation.responses.responses;
    for (status, description) in shared {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description));
    }
    for response in responses.values_mut() {
        if let RefOr::T(response) = response {
            add_headers_of_every_answer(response);
        }
    }
}

fn error_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorBody::name())))
                .build(),
        )
        .build()
        .into()
}

fn add_headers_of_every_answer(response: &mut Response) {
    for (name, description) in [
        (
            "x-request-id",
            "The request's id: the client's `x-request-id` if it sent one, else a fresh \
             UUID. Log lines of the request carry it too.",
        ),
        (
            "x-store-warning",
            "Present when the service runs on its in-memory store, which keeps nothing \
             across restarts (no MongoDB configured, or MongoDB unreachable at start).",
        ),
    ] {
        response.headers.entry(name.to_owned()).or_insert_with(|| {
            HeaderBuilder::new()
                .schema(String::schema())
                .description(Some(description))
                .build()
        });
    }
}
