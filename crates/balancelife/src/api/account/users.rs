//! `/users/me` and `/users/{id}`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::account::auth::{AuthSession, AuthUser, check_current_password, hash_off_thread};
use crate::api::account::user_view::UserView;
use crate::api::http::error::{ApiError, ApiResult, ErrorBody, NotFoundAs};
use crate::api::http::extract::{PathId, ValidJson};
use crate::api::http::limits::ClientAddress;
use crate::api::http::patch::{non_null, nullable, set};
use crate::api::http::state::SharedState;
use crate::auth::Password;
use crate::domain::{
    ActivityLevel, BirthDate, Email, Goal, GramsTarget, HeightCm, KcalTarget, MOST_PLANS, Name,
    PasswordHash, Role, Sex, TargetBasis, TargetPlan, Timezone, TooManyPlans, User, WeightKg,
};
use crate::store::StoreError;

/// A partial update: absent fields stay, `null` clears an optional one. Changing the
/// password or the e-mail address needs the current password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    email: Option<Email>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    name: Option<Name>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    timezone: Option<Timezone>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    password: Option<Password>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    current_password: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    birth_date: Option<Option<BirthDate>>,
    #[serde(default, deserialize_with = "nullable")]
    sex: Option<Option<Sex>>,
    #[serde(default, deserialize_with = "nullable")]
    height_cm: Option<Option<HeightCm>>,
    #[serde(default, deserialize_with = "nullable")]
    weight_kg: Option<Option<WeightKg>>,
    #[serde(default, deserialize_with = "nullable")]
    activity_level: Option<Option<ActivityLevel>>,
    #[serde(default, deserialize_with = "nullable")]
    goal: Option<Option<Goal>>,
    #[serde(default, deserialize_with = "nullable")]
    daily_kcal_target: Option<Option<KcalTarget>>,
    #[serde(default, deserialize_with = "nullable")]
    protein_g_target: Option<Option<GramsTarget>>,
    #[serde(default, deserialize_with = "nullable")]
    carbs_g_target: Option<Option<GramsTarget>>,
    #[serde(default, deserialize_with = "nullable")]
    fat_g_target: Option<Option<GramsTarget>>,
}

/// The signed-in user.
#[utoipa::path(
    get,
    path = "/api/v1/users/me",
    tag = "users",
    security(("bearer" = [])),
    responses((status = 200, description = "The signed-in user", body = UserView))
)]
pub async fn get_me(AuthUser(user): AuthUser) -> Json<UserView> {
    Json(UserView::from(&user))
}

/// Changes the signed-in user's account or profile.
#[utoipa::path(
    patch,
    path = "/api/v1/users/me",
    tag = "users",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "The updated user", body = UserView),
        (status = 409, description = "The e-mail address is taken, or the user changed \
            concurrently", body = ErrorBody),
        (status = 429, description = "Too many attempts with this account's password, or \
            for the new e-mail address", body = ErrorBody,
            headers(("retry-after" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn update_me(
    State(state): State<SharedState>,
    ClientAddress(address): ClientAddress,
    AuthSession {
        user: signed_in,
        device: current_device,
    }: AuthSession,
    ValidJson(mut request): ValidJson<UpdateMeRequest>,
) -> ApiResult<Json<UserView>> {
    // The user as stored, past every cache: the write is conditional on its
    // revision, and a cached copy may be a moment old (another instance's write
    // not yet voided here, a cache master failing over), which must never make a
    // client that writes alone see a conflict.
    let stored = || async {
        state
            .store
            .get_user_stored(signed_in.id)
            .await
            .or_if_gone(ApiError::unauthorized)
    };
    let mut user = stored().await?;
    // The credentials (password and e-mail) change only with proof of the current
    // password, so a stolen token cannot take the account over.
    let changes_credentials =
        request.password.is_some() || request.email.as_ref().is_some_and(|e| *e != user.email);
    match (&request.current_password, changes_credentials) {
        (None, true) => {
            return Err(ApiError::invalid(
                "current_password",
                "is required to change the password or the e-mail address",
            ));
        }
        (Some(_), false) => {
            return Err(ApiError::invalid(
                "current_password",
                "is only accepted together with a new password or e-mail address",
            ));
        }
        (Some(current), true) => {
            if !check_current_password(&state, address, current.clone(), &user).await? {
                return Err(ApiError::invalid("current_password", "does not match"));
            }
        }
        (None, false) => {}
    }
    // A taken address answers 409: asking that is what signing up with it does, and
    // is limited the same way.
    if let Some(email) = request.email.as_ref().filter(|email| **email != user.email) {
        state
            .auth_limits
            .check(address, email)
            .await
            .map_err(ApiError::too_many_requests)?;
    }
    let new_password_hash = match request.password.take() {
        Some(new_password) => Some(hash_off_thread(&state, address, new_password).await?),
        None => None,
    };
    // Another request may write the user between the read and the write: the
    // change is then made again on what it wrote, as a PATCH of these fields. Not
    // when it changed the password: what was proven was the old one.
    for _ in 0..ATTEMPTS {
        let read = user.clone();
        let mut next = request.applied_to(user, new_password_hash.clone())?;
        if changes_credentials {
            // Whoever signed in elsewhere with the old credentials is signed out;
            // this device, which proved them, stays.
            next.devices
                .retain(|device| Some(device.id) == current_device);
        }
        match state.store.update_user(next, &read).await {
            Ok(written) => return Ok(Json(UserView::from(&written))),
            Err(StoreError::Conflict(message)) => {
                user = stored().await?;
                if user.updated_at == read.updated_at || user.password_hash != read.password_hash {
                    // Not a change meanwhile (the e-mail address is taken), or one
                    // this request cannot be made again on.
                    return Err(StoreError::Conflict(message).into());
                }
            }
            Err(other) => return Err(other).or_if_gone(ApiError::unauthorized),
        }
    }
    Err(ApiError::conflict(
        "the user kept changing under this write; read it again and retry",
    ))
}

/// The answer to a plan refused for the plans kept already.
pub fn too_many_plans(_: TooManyPlans) -> ApiError {
    ApiError::invalid(
        "from",
        format!(
            "targets were changed on {MOST_PLANS} days already, the most kept; change \
             today's or a later plan instead"
        ),
    )
}

/// How many times a change of the user is made again on another request's write.
const ATTEMPTS: usize = 3;

impl UpdateMeRequest {
    /// `user` with the fields this request sets, the password as `password_hash`.
    fn applied_to(&self, mut user: User, password_hash: Option<PasswordHash>) -> ApiResult<User> {
        set(&mut user.password_hash, password_hash);
        let p = &mut user.profile;
        set(&mut user.email, self.email.clone());
        set(&mut user.name, self.name.clone());
        set(&mut user.timezone, self.timezone);
        set(&mut p.birth_date, self.birth_date);
        set(&mut p.sex, self.sex);
        set(&mut p.height_cm, self.height_cm);
        set(&mut p.weight_kg, self.weight_kg);
        set(&mut p.activity_level, self.activity_level);
        set(&mut p.goal, self.goal);
        // A change of targets holds from today on; past days keep theirs. No
        // target named, or the same ones saved again (a form sends all four),
        // dates nothing.
        let today = user.timezone.local_date(chrono::Utc::now());
        let before = p.targets_on(today);
        let targets = before.changed(
            self.daily_kcal_target,
            self.protein_g_target,
            self.carbs_g_target,
            self.fat_g_target,
        );
        if targets != before {
            let plan = TargetPlan {
                from: today,
                targets,
                basis: TargetBasis::Fixed,
            };
            p.add_plan(plan, today).map_err(too_many_plans)?;
        }
        // Later than the revision read even within its millisecond (`account::record`),
        // so no write that read that revision can land over this one.
        user.updated_at =
            crate::domain::now().max(user.updated_at + chrono::TimeDelta::milliseconds(1));
        Ok(user)
    }
}

/// What deleting the account takes: its password, so that a token alone (stolen,
/// or a session left open) cannot delete it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteMeRequest {
    #[schema(format = Password)]
    current_password: String,
}

/// Deletes the signed-in user with all their entries; their tokens stop working.
#[utoipa::path(
    delete,
    path = "/api/v1/users/me",
    tag = "users",
    security(("bearer" = [])),
    request_body = DeleteMeRequest,
    responses(
        (status = 204, description = "Deleted"),
        (status = 429, description = "Too many attempts with this account's password",
            body = ErrorBody,
            headers(("retry-after" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn delete_me(
    State(state): State<SharedState>,
    ClientAddress(address): ClientAddress,
    AuthUser(user): AuthUser,
    ValidJson(request): ValidJson<DeleteMeRequest>,
) -> ApiResult<StatusCode> {
    if !check_current_password(&state, address, request.current_password, &user).await? {
        return Err(ApiError::invalid("current_password", "does not match"));
    }
    state
        .store
        .delete_user(user.id)
        .await
        .or_if_gone(ApiError::unauthorized)?;
    tracing::info!(user_id = %user.id, "user deleted with their entries");
    Ok(StatusCode::NO_CONTENT)
}

/// A user: the caller themself, or anyone for an admin.
///
/// Anyone else gets the same 404 as for an id that does not exist.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 404, description = "No such user, or not one the caller may read",
            body = ErrorBody),
    )
)]
pub async fn get_user(
    State(state): State<SharedState>,
    AuthUser(caller): AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<UserView>> {
    if caller.id != id && caller.role != Role::Admin {
        return Err(ApiError::not_found("user"));
    }
    let user = state.store.get_user(id).await.or_not_found("user")?;
    Ok(Json(UserView::from(&user)))
}
