//! The integration suite, one binary so it links once: the Store contract against
//! every backend, the HTTP API through the real router, configuration and the CLI.

/// One test per store for each scenario: an async fn taking the `TestApp` of a fresh
/// store of each kind, loaded with the sample data.
macro_rules! on_every_store {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test]
                async fn memory() { super::$scenario(crate::support::Backend::Memory.app().await).await }
                #[tokio::test]
                async fn mongodb() { super::$scenario(crate::support::Backend::Mongo.app().await).await }
                #[tokio::test]
                async fn cached() { super::$scenario(crate::support::Backend::Cached.app().await).await }
            }
        )*
    };
}

mod api_auth;
mod api_catalogue;
mod api_entries;
mod api_errors;
mod api_foods;
mod api_recipes;
mod api_users;
mod authorization;
mod body_metrics;
mod cache;
mod cache_cluster;
mod cache_faults;
mod cache_l1;
mod cache_read_concern;
mod cache_redis_full;
mod cache_scopes;
mod cache_unknown_outcome;
mod catalogue_admin;
mod cli;
mod clients;
mod config;
mod connections;
mod contract;
mod custom_exercises;
mod devices;
mod docs;
mod food_import;
mod fuzz;
mod hardening;
mod health_samples;
mod http_caching;
mod import_foreign;
mod insights;
mod invalidation_stream;
mod invalidation_without_images;
mod layout;
mod mongo_faults;
mod mongo_store;
mod mongo_writes;
mod openapi;
mod support;
mod sync;
mod sync_batch;
mod targets;
mod time_zones;
mod tls;
mod training;
mod web_app;
