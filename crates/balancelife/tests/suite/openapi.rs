//! `GET /openapi.json` against the router it describes: every documented operation
//! is served, every other method on a documented path is refused with 405, the
//! documented security matches who is turned away without a token, and every
//! reference in the document resolves.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::Value;

use crate::support::spawn_app;
use balancelife::api::http::openapi::BEARER;

const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

async fn document() -> Value {
    let app = spawn_app().await;
    let response = app.get("/openapi.json", None).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.headers["content-type"], "application/json");
    response.body
}

fn operations(document: &Value) -> Vec<(String, String, &Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            found.push((path.clone(), method.to_uppercase(), operation));
        }
    }
    found
}

/// A concrete path for a template: ids become a fresh UUIDv7 nobody owns.
fn concrete(template: &str) -> String {
    template.replace("{id}", &uuid::Uuid::now_v7().to_string())
}

#[tokio::test]
async fn every_documented_operation_is_routed_and_every_other_method_is_405() {
    let app = spawn_app().await;
    let document = document().await;
    let documented: BTreeSet<(String, String)> = operations(&document)
        .into_iter()
        .map(|(path, method, _)| (path, method))
        .collect();
    assert!(
        documented.len() >= 30,
        "only {} operations",
        documented.len()
    );
    let paths: BTreeSet<&String> = documented.iter().map(|(path, _)| path).collect();
    for template in paths {
        for method in METHODS {
            let path = concrete(template);
            let response = app.call(method.clone(), &path, None, None).await;
            let is_documented = documented.contains(&(template.clone(), method.to_string()));
            if is_documented {
                assert_ne!(
                    response.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {template} is documented but not routed"
                );
                let unrouted = response.status == StatusCode::NOT_FOUND
                    && response.body["error"]["message"] == "route not found";
                assert!(
                    !unrouted,
                    "{method} {template} is documented but not routed"
                );
            } else {
                assert_eq!(
                    response.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {template} is routed but not documented: {}",
                    response.body
                );
            }
        }
    }
}

#[tokio::test]
async fn paths_outside_the_document_do_not_exist() {
    let app = spawn_app().await;
    for path in [
        "/index.html",
        "/api/v1",
        "/api/v1/users",
        "/api/v1/auth",
        "/api/v1/meal-entries/x/y",
        "/api/v2/meal-packages",
        "/docs",
    ] {
        for method in METHODS {
            let response = app.call(method.clone(), path, None, None).await;
            assert_eq!(response.status, StatusCode::NOT_FOUND, "{method} {path}");
            assert_eq!(response.body["error"]["message"], "route not found");
        }
    }
}

#[tokio::test]
async fn the_web_app_is_served_at_the_root_under_a_policy_of_its_own() {
    let app = spawn_app().await;
    for (path, kind) in [
        ("/", "text/html"),
        ("/assets/app.js", "text/javascript"),
        ("/assets/app.css", "text/css"),
    ] {
        let page = app.get(path, None).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        let header = |name: &str| page.headers[name].to_str().unwrap().to_owned();
        assert!(header("content-type").starts_with(kind), "{path}");
        let policy = header("content-security-policy");
        assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
    }
    let api = app.get("/api/v1/meal-packages", None).await;
    assert_eq!(
        api.headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'",
        "the API keeps its own policy"
    );
    // The page has no inline script or style for the policy to forbid.
    let index = include_str!("../../web/index.html");
    assert!(!index.contains("<script>") && !index.contains("style="));
}

#[tokio::test]
async fn documented_security_matches_who_is_turned_away() {
    let app = spawn_app().await;
    let document = document().await;
    let bearer = &document["components"]["securitySchemes"][BEARER];
    assert_eq!(bearer["type"], "http");
    assert_eq!(bearer["scheme"], "bearer");
    for (template, method, operation) in operations(&document) {
        // An empty requirement among them (`{}`) makes the token optional: the
        // catalogue's reads, which show an administrator more.
        let secured = operation["security"]
            .as_array()
            .is_some_and(|requirements| {
                !requirements.is_empty()
                    && !requirements
                        .iter()
                        .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
            });
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let response = app
            .call(method.clone(), &concrete(&template), None, None)
            .await;
        assert_eq!(
            response.status == StatusCode::UNAUTHORIZED,
            secured,
            "{method} {template}: documented security {secured}, answered {}",
            response.status
        );
        if secured {
            assert!(
                operation["responses"]["401"].is_object(),
                "{method} {template}"
            );
            assert!(
                operation["security"][0][BEARER].is_array(),
                "{method} {template} names another scheme"
            );
        }
    }
}

#[tokio::test]
async fn every_reference_resolves_and_every_operation_is_described() {
    let document = document().await;
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut references = Vec::new();
    collect_references(&document, &mut references);
    assert!(!references.is_empty());
    for reference in references {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {reference}"));
        assert!(
            document["components"]["schemas"][name].is_object(),
            "{reference} does not resolve"
        );
    }
    let mut ids = BTreeSet::new();
    for (path, method, operation) in operations(&document) {
        let id = operation["operationId"].as_str().unwrap().to_owned();
        assert!(ids.insert(id.clone()), "operationId {id} is used twice");
        let summary = operation["summary"].as_str().unwrap_or_default();
        assert!(!summary.is_empty(), "{method} {path} has no summary");
        assert!(
            !summary.contains('\n'),
            "{method} {path}: a one-line summary"
        );
        let responses = operation["responses"].as_object().unwrap();
        for status in ["500", "503"] {
            assert!(
                responses.contains_key(status),
                "{method} {path} lacks {status}"
            );
        }
        for (status, response) in responses {
            assert!(
                response["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{method} {path} {status} has no description"
            );
            assert!(
                response["headers"]["x-request-id"].is_object(),
                "{method} {path} {status} does not document x-request-id"
            );
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
    }
}

fn collect_references<'a>(value: &'a Value, into: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(reference)) => into.push(reference),
                    _ => collect_references(value, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, into)),
        _ => {}
    }
}

/// Responses always carry every field (`null` when empty), and the document says so,
/// so generated clients need not guess.
#[tokio::test]
async fn every_field_of_a_response_body_is_required() {
    let document = document().await;
    let schemas = &document["components"]["schemas"];
    for name in [
        "UserView",
        "MealEntryView",
        "WorkoutEntryView",
        "Totals",
        "SessionResponse",
    ] {
        let schema = &schemas[name];
        let properties: BTreeSet<&str> = schema["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{name} has no properties"))
            .keys()
            .map(String::as_str)
            .collect();
        let required: BTreeSet<&str> = schema["required"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} requires nothing"))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(properties, required, "{name}");
    }
}

#[tokio::test]
async fn put_takes_the_same_ids_as_a_client_chosen_id_in_a_body() {
    let document = document().await;
    let client_id = &document["components"]["schemas"]["ClientId"]["pattern"];
    assert!(client_id.is_string());
    for path in ["/api/v1/meal-entries/{id}", "/api/v1/workout-entries/{id}"] {
        let parameter = &document["paths"][path]["put"]["parameters"][0];
        assert_eq!(parameter["name"], "id");
        assert_eq!(&parameter["schema"]["pattern"], client_id, "{path}");
    }
}
