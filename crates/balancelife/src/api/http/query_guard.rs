//! Operations that take no query parameters refuse a query string, so nothing sent in
//! one (`?$where=…`) is ever silently passed over. Which operations take parameters
//! is read from the OpenAPI document; those parse theirs with `ValidQuery`, which
//! refuses unknown ones itself.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use utoipa::openapi::path::ParameterIn;

use crate::api::http::error::ApiError;

/// Whether each operation takes query parameters, by route template and then
/// method: looked up by the template's `&str`, so a request allocates nothing.
static TAKES_QUERY: LazyLock<HashMap<String, HashMap<Method, bool>>> = LazyLock::new(|| {
    let document = crate::api::http::openapi::document();
    let mut found: HashMap<String, HashMap<Method, bool>> = HashMap::new();
    for (path, item) in &document.paths.paths {
        for (method, operation) in [
            (Method::GET, &item.get),
            (Method::PUT, &item.put),
            (Method::POST, &item.post),
            (Method::DELETE, &item.delete),
            (Method::PATCH, &item.patch),
        ] {
            if let Some(operation) = operation {
                let takes_query = operation
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Query));
                found
                    .entry(path.clone())
                    .or_default()
                    .insert(method, takes_query);
            }
        }
    }
    found
});

/// The refusal of a query string that `request`'s operation does not take, if it does not.
pub fn refusal(request: &Request) -> Option<ApiError> {
    let query = request.uri().query().filter(|query| !query.is_empty())?;
    let route = request.extensions().get::<MatchedPath>()?;
    // HEAD is answered by the GET handler.
    let method = match request.method() {
        &Method::HEAD => Method::GET,
        other => other.clone(),
    };
    // Not an operation at all: the router answers 405 for it.
    let takes_query = TAKES_QUERY
        .get(route.as_str())
        .and_then(|methods| methods.get(&method));
    (takes_query == Some(&false)).then(|| {
        let name = form_urlencoded::parse(query.as_bytes())
            .next()
            .map_or_else(|| "query".to_owned(), |(name, _)| name.into_owned());
        ApiError::invalid(name, "is not a known query parameter")
    })
}
