//! The HTTP machinery every resource's handlers share: errors and their JSON body,
//! extractors that validate, conditional requests, pagination, the query guard,
//! JSON merge patches, the OpenAPI document, rate limits and the handlers' state.

pub mod conditional;
pub mod error;
pub mod extract;
pub mod limits;
pub mod openapi;
pub mod pagination;
pub mod patch;
pub mod query_guard;
pub mod state;
