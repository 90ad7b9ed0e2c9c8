//! The JSON HTTP API: routes, extractors, errors and middleware. Handlers talk to the
//! storage layer only through `Arc<dyn Store>`.

mod account;
mod catalogue;
mod entries;
mod exercises;
mod foods;
mod health;
mod health_samples;
pub mod http;
mod import_export;
mod import_foreign;
mod summary;
mod sync;
mod targets;
mod time_zones;
mod training;

use axum::Router;
use axum::extract::DefaultBodyLimit;

use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use self::http::envelope::EnvelopeLayer;
pub use self::http::envelope::STORE_WARNING;
use self::http::error::ApiError;
use self::http::extract::{self, BODY_LIMIT_BYTES};
use self::http::openapi;
use self::http::state::SharedState;
use account::{auth, devices, session, users};
use catalogue::admin::{
    custom_exercises as exercise_admin, meal_packages as meal_admin,
    workout_packages as workout_admin,
};
use catalogue::{apply, packages};
use entries::body_metrics::endpoints as body_metrics;
use entries::meals::endpoints as meals;
use entries::workouts::endpoints as workouts;

/// Every documented route, with its handler: the router and the OpenAPI document
/// are both made from this, so neither can list a route the other lacks.
pub fn documented_routes() -> OpenApiRouter<SharedState> {
    let (schemas, paths, import) = routes!(import_export::import);
    let import = import.layer(DefaultBodyLimit::max(import_export::IMPORT_LIMIT_BYTES));
    let (foreign_schemas, foreign_paths, foreign) = routes!(import_foreign::import);
    let (batch_schemas, batch_paths, batch) = routes!(sync::batch::batch);
    let (samples_schemas, samples_paths, samples) = routes!(health_samples::add);
    let samples = samples.layer(DefaultBodyLimit::max(health_samples::SAMPLES_LIMIT_BYTES));
    let batch = batch.layer(DefaultBodyLimit::max(sync::batch::BATCH_LIMIT_BYTES));
    let foreign = foreign.layer(DefaultBodyLimit::max(import_export::IMPORT_LIMIT_BYTES));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(health::metrics))
        .routes(routes!(health::livez))
        .routes(routes!(openapi::openapi_json))
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(
            session::session_state,
            session::open_session,
            session::close_session
        ))
        .routes(routes!(session::register_session))
        .routes(routes!(devices::refresh))
        .routes(routes!(devices::list))
        .routes(routes!(devices::sign_out))
        .routes(routes!(users::get_me, users::update_me, users::delete_me))
        .routes(routes!(users::get_user))
        .routes(routes!(time_zones::list_time_zones))
        .routes(routes!(foods::search, foods::create))
        .routes(routes!(
            foods::get,
            foods::put,
            foods::patch::patch,
            foods::delete
        ))
        .routes(routes!(foods::by_barcode))
        .routes(routes!(foods::recent::recent))
        .routes(routes!(foods::mine))
        .routes(routes!(foods::favourites::list))
        .routes(routes!(foods::favourites::add, foods::favourites::remove))
        .routes(routes!(foods::recipes::list, foods::recipes::create))
        .routes(routes!(
            foods::recipes::get,
            foods::recipes::put,
            foods::recipes::delete
        ))
        .routes(routes!(foods::recipes::from_meals))
        .routes(catalogue(routes!(
            packages::list_meal_packages,
            meal_admin::create
        )))
        .routes(catalogue(routes!(
            packages::get_meal_package,
            meal_admin::replace,
            meal_admin::update,
            meal_admin::delete
        )))
        .routes(routes!(meal_admin::publish))
        .routes(routes!(meal_admin::unpublish))
        .routes(routes!(meal_admin::archive))
        .routes(routes!(apply::apply_meal_package))
        .routes(catalogue(routes!(
            packages::list_workout_packages,
            workout_admin::create
        )))
        .routes(catalogue(routes!(
            packages::get_workout_package,
            workout_admin::replace,
            workout_admin::update,
            workout_admin::delete
        )))
        .routes(routes!(workout_admin::publish))
        .routes(routes!(workout_admin::unpublish))
        .routes(routes!(workout_admin::archive))
        .routes(routes!(apply::apply_workout_package))
        .routes(catalogue(routes!(
            packages::list_custom_exercises,
            exercise_admin::create
        )))
        .routes(catalogue(routes!(
            packages::get_custom_exercise,
            exercise_admin::replace,
            exercise_admin::update,
            exercise_admin::delete
        )))
        .routes(routes!(exercise_admin::publish))
        .routes(routes!(exercise_admin::unpublish))
        .routes(routes!(exercise_admin::archive))
        .routes(routes!(summary::summary))
        .routes(routes!(exercises::search))
        .routes(routes!(exercises::get))
        .routes(routes!(training::progress))
        .routes(routes!(training::volume))
        .routes(routes!(targets::list, targets::add))
        .routes(routes!(targets::suggestions))
        .routes(routes!(sync::changes::changes))
        .routes((batch_schemas, batch_paths, batch))
        .routes((samples_schemas, samples_paths, samples))
        .routes(routes!(health_samples::list))
        .routes(routes!(import_export::export))
        .routes((schemas, paths, import))
        .routes((foreign_schemas, foreign_paths, foreign))
        .routes(routes!(meals::list, meals::create))
        .routes(routes!(meals::get, meals::put, meals::patch, meals::delete))
        .routes(routes!(workouts::list, workouts::create))
        .routes(routes!(
            workouts::get,
            workouts::put,
            workouts::patch,
            workouts::delete
        ))
        .routes(routes!(body_metrics::list, body_metrics::create))
        .routes(routes!(
            body_metrics::get,
            body_metrics::put,
            body_metrics::patch,
            body_metrics::delete
        ))
}

/// Routes that take a whole package, with the catalogue's larger body limit.
fn catalogue(routes: UtoipaMethodRouter<SharedState>) -> UtoipaMethodRouter<SharedState> {
    let (schemas, paths, router) = routes;
    (
        schemas,
        paths,
        router.layer(DefaultBodyLimit::max(extract::CATALOGUE_LIMIT_BYTES)),
    )
}

/// The whole application: the documented routes, with every route (and the
/// fallbacks) in the envelope every request passes through.
pub fn router(state: SharedState) -> Router {
    let (routes, _) = documented_routes().split_for_parts();
    routes
        .merge(crate::web::routes::<SharedState>())
        .fallback(|| async { ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(EnvelopeLayer::new(state.clone()))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use axum::response::IntoResponse;

    use super::*;

    async fn body_of(response: axum::response::Response) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn an_internal_error_does_not_tell_its_cause() {
        use crate::store::StoreError;
        let cause = "connection to 10.0.0.7:27017 refused (user admin)";
        for error in [
            ApiError::internal(cause),
            ApiError::from(StoreError::internal(cause)),
            ApiError::from(StoreError::unavailable("x").because(std::io::Error::other(cause))),
        ] {
            let body = body_of(error.into_response()).await;
            assert!(!body.contains("10.0.0.7"), "{body}");
            assert!(!body.contains("admin"), "{body}");
        }
    }
}
