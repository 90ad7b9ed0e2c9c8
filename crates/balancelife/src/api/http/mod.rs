//! The HTTP machinery every resource's handlers share: the envelope every request
//! passes through, errors and their JSON body, extractors that validate,
//! conditional requests, the session's cookies,
//! pagination, the query guard,
//! JSON merge patches, the OpenAPI document, rate limits and the handlers' state.

pub(crate) mod conditional;
pub(crate) mod cookies;
pub(crate) mod envelope;
pub mod error;
pub(crate) mod extract;
pub(crate) mod if_match;
pub(crate) mod limits;
pub mod openapi;
pub(crate) mod pagination;
pub(crate) mod patch;
pub(crate) mod query_guard;
pub mod state;
