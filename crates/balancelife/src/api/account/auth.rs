//! `POST /auth/register` and `POST /auth/login`, and the extractor that turns a
//! bearer token into the signed-in user.

use std::net::IpAddr;
use std::time::Duration;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::account::device_sessions::{self, DeviceInput, DeviceTokens};
use crate::api::account::user_view::UserView;
use crate::api::http::cookies::{self, SessionCookies, has_credentials};
use crate::api::http::error::{ApiError, ApiResult, ErrorBody, NotFoundAs};
use crate::api::http::extract::ValidJson;
use crate::api::http::limits::{ClientAddress, network_of};
use crate::api::http::state::SharedState;
use crate::auth::token::credentials_fingerprint;
use crate::auth::{HashError, HashRefused, Password, PasswordHasher};
use crate::domain::{
    ActivityLevel, BirthDate, Device, Email, Goal, GramsTarget, HeightCm, KcalTarget, Name,
    Platform, Profile, Role, Sex, TargetBasis, TargetPlan, Targets, Timezone, User, WeightKg,
    earliest_day, new_id,
};
use crate::store::Optional;
use uuid::Uuid;

/// The user a valid token belongs to, loaded fresh for this request. The token comes
/// from `Authorization: Bearer`, or from the web app's `HttpOnly` session cookie;
/// a write authenticated by the cookie must also prove it comes from the app
/// (`cookies::check_same_origin`), since a browser sends cookies on its own.
pub struct AuthUser(pub User);

impl FromRequestParts<SharedState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let AuthSession { user, .. } = AuthSession::from_request_parts(parts, state).await?;
        Ok(Self(user))
    }
}

/// `AuthUser`, with the device the token was issued to (none for a token of an
/// older release).
pub struct AuthSession {
    pub user: User,
    pub device: Option<Uuid>,
}

impl FromRequestParts<SharedState> for AuthSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let token = match bearer_token(&parts.headers) {
            Some(token) => token.to_owned(),
            None => {
                let token = SessionCookies::of(&parts.headers, state.cookie_secure)
                    .token(&parts.headers)
                    .ok_or_else(ApiError::unauthorized)?;
                cookies::check_same_origin(
                    &parts.method,
                    &parts.uri,
                    &parts.headers,
                    &state.tokens,
                    token,
                )?;
                token.to_owned()
            }
        };
        let claims = state
            .tokens
            .verify(&token)
            .map_err(|_| ApiError::unauthorized())?;
        // The user may have been deleted after the token was issued.
        let mut user = state
            .store
            .get_user(claims.user_id)
            .await
            .or_if_gone(ApiError::unauthorized)?;
        let valid = |user: &User| match claims.device {
            // Its device signed out (by the user, by a password change, by a reused
            // refresh token): void at once.
            Some(device) => user.devices.iter().any(|signed_in| signed_in.id == device),
            // Issued before the last password change: void.
            None => claims.credentials == credentials_fingerprint(&user.password_hash),
        };
        // A device signed in through another instance moments ago: this one's
        // cache may still hold the record from before (for up to its second), so
        // a token newer than the record read is judged by the record as stored.
        // A signed-out device's token is older than the record that dropped it.
        if !valid(&user)
            && claims.device.is_some()
            && user.updated_at.timestamp() <= claims.issued_at
        {
            user = state
                .store
                .get_user_stored(claims.user_id)
                .await
                .or_if_gone(ApiError::unauthorized)?;
        }
        if !valid(&user) {
            return Err(ApiError::unauthorized());
        }
        if let Some(device) = claims.device {
            device_sessions::seen_now_and_then(state, &user, device);
        }
        Ok(Self {
            user,
            device: claims.device,
        })
    }
}

/// The token of `Authorization: Bearer <token>`, if the request has one.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A signed-in administrator: 401 without a valid token, 403 for anyone else,
/// before the request is looked at any further.
pub struct AdminUser(pub User);

impl FromRequestParts<SharedState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        admin(Some(user)).map(Self)
    }
}

/// Whoever reads the catalogue: nobody, or the user of a valid token (a token that
/// is sent must be valid, so a client learns that it has expired).
pub struct Reader(pub Option<User>);

impl FromRequestParts<SharedState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        if !has_credentials(&parts.headers, state.cookie_secure) {
            return Ok(Self(None));
        }
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        Ok(Self(Some(user)))
    }
}

/// `user` if it is an administrator: 401 for nobody, 403 for anyone else.
pub fn admin(user: Option<User>) -> ApiResult<User> {
    match user {
        None => Err(ApiError::unauthorized()),
        Some(user) if user.role == Role::Admin => Ok(user),
        Some(_) => Err(ApiError::forbidden()),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    email: Email,
    password: Password,
    name: Name,
    timezone: Option<Timezone>,
    birth_date: Option<BirthDate>,
    sex: Option<Sex>,
    height_cm: Option<HeightCm>,
    weight_kg: Option<WeightKg>,
    activity_level: Option<ActivityLevel>,
    goal: Option<Goal>,
    daily_kcal_target: Option<KcalTarget>,
    protein_g_target: Option<GramsTarget>,
    carbs_g_target: Option<GramsTarget>,
    fat_g_target: Option<GramsTarget>,
    /// The device signing up; an "API client" of platform `other` when left out.
    #[serde(default)]
    device: Option<DeviceInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    email: Email,
    #[schema(format = Password)]
    password: String,
    /// The device signing in; an "API client" of platform `other` when left out.
    #[serde(default)]
    device: Option<DeviceInput>,
}

impl LoginRequest {
    /// The device this sign-in names, taken out of the request.
    pub fn take_device(&mut self) -> Option<DeviceInput> {
        self.device.take()
    }
}

impl RegisterRequest {
    /// The device this sign-up names, taken out of the request.
    pub fn take_device(&mut self) -> Option<DeviceInput> {
        self.device.take()
    }
}

/// A signed-in device's session: its tokens and who it belongs to.
#[derive(Serialize, ToSchema)]
pub struct SessionResponse {
    /// Send as `Authorization: Bearer <token>`.
    token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    /// Seconds until `token` expires; renew it before with `refresh_token`.
    expires_in: u64,
    /// Exchanged once at `POST /auth/refresh` for new tokens.
    refresh_token: String,
    /// The device this session is, as `GET /devices` lists it.
    device_id: Uuid,
    user: UserView,
}

impl SessionResponse {
    fn new(state: &SharedState, user: &User, device: &Device) -> Self {
        let tokens = device_sessions::tokens(state, user, device, state.tokens.access_ttl());
        Self::of(tokens, user)
    }

    /// `tokens`, for `user`.
    pub fn of(tokens: DeviceTokens, user: &User) -> Self {
        Self {
            token: tokens.token,
            token_type: "Bearer",
            expires_in: tokens.expires_in,
            refresh_token: tokens.refresh_token,
            device_id: tokens.device_id,
            user: UserView::from(user),
        }
    }
}

/// Creates an account and signs it in.
#[utoipa::path(
    post,
    path = "/api/v1/auth/register",
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and signed in", body = SessionResponse),
        (status = 409, description = "The e-mail address is taken", body = ErrorBody),
        (status = 429, description = "Too many attempts for this address or e-mail",
            body = ErrorBody,
            headers(("retry-after" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn register(
    State(state): State<SharedState>,
    ClientAddress(address): ClientAddress,
    ValidJson(mut request): ValidJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<SessionResponse>)> {
    let device = device_sessions::device_of(request.take_device(), Platform::Other);
    let user = sign_up(&state, address, request, device.clone()).await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionResponse::new(&state, &user, &device)),
    ))
}

/// Creates the account `request` describes (the rate limit first), signed in on
/// `device`.
pub async fn sign_up(
    state: &SharedState,
    address: Option<IpAddr>,
    request: RegisterRequest,
    device: Device,
) -> ApiResult<User> {
    state
        .auth_limits
        .check(address, &request.email)
        .await
        .map_err(ApiError::too_many_requests)?;
    let mut profile = Profile {
        birth_date: request.birth_date,
        sex: request.sex,
        height_cm: request.height_cm,
        weight_kg: request.weight_kg,
        activity_level: request.activity_level,
        goal: request.goal,
        ..Profile::default()
    };
    let targets = Targets {
        daily_kcal_target: request.daily_kcal_target,
        protein_g_target: request.protein_g_target,
        carbs_g_target: request.carbs_g_target,
        fat_g_target: request.fat_g_target,
    };
    let timezone = request.timezone.unwrap_or_else(Timezone::utc);
    if !targets.is_empty() {
        // The targets an account starts with hold from the start: a history
        // imported after signing up is judged by them too.
        let today = timezone.local_date(chrono::Utc::now());
        profile
            .add_plan(
                TargetPlan {
                    from: earliest_day(),
                    targets,
                    basis: TargetBasis::Fixed,
                },
                today,
            )
            // A new profile has no plans: none is refused.
            .map_err(|_| ApiError::internal("a new profile refused its first plan"))?;
    }
    let password_hash = hash_off_thread(state, address, request.password).await?;
    let now = crate::domain::now();
    let user = User {
        id: new_id(),
        email: request.email,
        name: request.name,
        password_hash,
        role: Role::User,
        timezone,
        profile,
        favourite_foods: Vec::new(),
        devices: vec![device],
        created_at: now,
        updated_at: now,
    };
    let user = state.store.create_user(user).await?;
    tracing::info!(user_id = %user.id, "user registered");
    Ok(user)
}

/// Signs in with e-mail and password.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = SessionResponse),
        (status = 401, description = "Wrong e-mail address or password", body = ErrorBody),
        (status = 429, description = "Too many attempts for this address or e-mail",
            body = ErrorBody,
            headers(("retry-after" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn login(
    State(state): State<SharedState>,
    ClientAddress(address): ClientAddress,
    ValidJson(mut request): ValidJson<LoginRequest>,
) -> ApiResult<Json<SessionResponse>> {
    let device = device_sessions::device_of(request.take_device(), Platform::Other);
    let user = sign_in(&state, address, request).await?;
    let (user, device) = device_sessions::open(&state, &user, device).await?;
    Ok(Json(SessionResponse::new(&state, &user, &device)))
}

/// The user whose e-mail and password `request` gives (the rate limit first).
pub async fn sign_in(
    state: &SharedState,
    address: Option<IpAddr>,
    request: LoginRequest,
) -> ApiResult<User> {
    state
        .auth_limits
        .check(address, &request.email)
        .await
        .map_err(ApiError::too_many_requests)?;
    if request.password.len() > 4 * Password::MAX_CHARS {
        return Err(ApiError::invalid_credentials());
    }
    let user = state
        .store
        .get_user_by_email(&request.email)
        .await
        .optional()?;
    // Unknown e-mails still pay for a verification, so timing reveals nothing.
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let password = request.password;
    let matches = argon2(state, address, move |h| h.verify(&password, hash.as_ref())).await?;
    match user {
        Some(user) if matches => Ok(user),
        _ => Err(ApiError::invalid_credentials()),
    }
}

/// Runs Argon2 `work` in the line of the client at `address` (`auth::hash_queue`):
/// 429 when that client has as many hashes waiting as it may, 503 when the service
/// has.
async fn argon2<T: Send + 'static>(
    state: &SharedState,
    address: Option<IpAddr>,
    work: impl FnOnce(&PasswordHasher) -> T + Send + 'static,
) -> ApiResult<T> {
    let client = address.map(network_of);
    state
        .hasher
        .run(client, work)
        .await
        .map_err(|error| match error {
            HashError::Refused(HashRefused::ClientBusy) => {
                ApiError::too_many_requests(Duration::ZERO)
            }
            HashError::Refused(HashRefused::Overloaded) => ApiError::busy(),
            HashError::Failed(error) => ApiError::internal(error),
        })
}

pub async fn hash_off_thread(
    state: &SharedState,
    address: Option<IpAddr>,
    password: Password,
) -> ApiResult<crate::domain::PasswordHash> {
    argon2(state, address, move |h| h.hash(&password)).await
}

/// Whether `password` is `user`'s current one. Counted as a log-in attempt of the
/// account (`AuthLimits`), so a token does not let its holder guess the password.
pub async fn check_current_password(
    state: &SharedState,
    address: Option<IpAddr>,
    password: String,
    user: &User,
) -> ApiResult<bool> {
    state
        .auth_limits
        .check(address, &user.email)
        .await
        .map_err(ApiError::too_many_requests)?;
    if password.len() > 4 * Password::MAX_CHARS {
        return Ok(false);
    }
    let hash = user.password_hash.clone();
    argon2(state, address, move |h| h.verify(&password, Some(&hash))).await
}
