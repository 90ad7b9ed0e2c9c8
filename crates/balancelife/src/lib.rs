//! BalanceLife: the backend of a health and fitness app.
//!
//! `domain` holds the model, `store` the storage contract and its backends, `api` the
//! HTTP layer on top of `Arc<dyn Store>`, and `startup` wires them from `config`.

#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod body;
pub mod cli;
pub mod config;
mod connection_watch;
pub mod domain;
pub mod exercise_book;
pub mod exercise_library;
pub mod food_import;
pub mod foreign_import;
pub mod metrics;
pub mod rate_limit;
pub mod sample;
pub mod search;
pub mod selection;
pub mod startup;
pub mod store;
pub mod summary;
pub mod telemetry;
pub mod training;
pub mod web;
pub mod workout_history;
