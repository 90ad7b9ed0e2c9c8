//! The domain model: what the service stores and serves, free of any storage or
//! transport concern.

pub mod barcode;
pub mod body_metric;
pub mod custom_exercise;
pub mod device;
pub mod entry;
pub mod exercise;
pub mod food;
pub mod health;
pub mod nutrients;
pub mod package;
pub mod recipe;
pub mod schema;
pub mod targets;
pub mod user;
pub mod values;

pub use barcode::Barcode;
pub use body_metric::{BodyMetricData, MOST_MEASUREMENTS, MetricSource};
pub use custom_exercise::CustomExercise;
pub use device::{Device, DeviceName, MAX_DEVICES, Platform, with_device};
pub use entry::*;
pub use exercise::*;
pub use food::*;
pub use health::{HealthPlatform, HealthSample, SampleSource, SampleType, sample_id};
pub use nutrients::*;
pub use package::*;
pub use recipe::{Ingredient, Recipe, RecipeGrams, ServingCount};
pub use targets::{MOST_PLANS, TargetBasis, TargetPlan, Targets, TooManyPlans, earliest_day};
pub use user::*;
pub use values::*;
