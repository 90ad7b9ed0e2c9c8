//! The integration suite, one binary so it links once: the Store contract against
//! every backend, the HTTP API through the real router, configuration and the CLI.

mod api_auth;
mod api_catalogue;
mod api_entries;
mod api_errors;
mod api_users;
mod authorization;
mod cache;
mod cache_cluster;
mod cache_faults;
mod cache_l1;
mod cache_scopes;
mod cli;
mod config;
mod contract;
mod fuzz;
mod hardening;
mod http_caching;
mod insights;
mod invalidation_stream;
mod mongo_faults;
mod mongo_store;
mod openapi;
mod support;
mod time_zones;
mod tls;
