//! The web app's session: the token in an `HttpOnly`, `SameSite=Strict` cookie, so
//! no page script can read it, beside a readable cross-site request forgery token.
//!
//! `POST /api/v1/session` signs in, `POST /api/v1/session/register` signs up, both
//! answering without the token in the body; `DELETE /api/v1/session` signs out, and
//! `GET /api/v1/session` says whether one is open (200 either way: a page asking
//! before anyone signed in is no error). The
//! API accepts the cookie beside the bearer header (`AuthUser`). A write the cookie
//! authenticates must carry the session's CSRF token in `X-CSRF-Token`: a MAC of the
//! session token that only this service can make, handed to the app in a readable
//! cookie (only a page of the app's origin can read it), so a token someone planted
//! in a cookie of their own does not pass. An `Origin`, if the browser sends one,
//! must be the service's own.
//!
//! Over HTTPS the cookies are `Secure` and named `__Host-…`: a browser takes such a
//! cookie only from this very host over HTTPS, for the whole site, so neither a
//! sibling host nor a plain-HTTP answer can set or shadow them.

use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::account::auth::{
    AuthSession, AuthUser, LoginRequest, RegisterRequest, sign_in, sign_up,
};
use crate::api::account::device_sessions;
use crate::api::account::user_view::UserView;
use crate::api::http::cookies::SessionCookies;
use crate::api::http::error::{ApiError, ApiResult, ErrorBody};
use crate::api::http::extract::ValidJson;
use crate::api::http::limits::ClientAddress;
use crate::api::http::state::SharedState;
use crate::domain::{Device, Platform, User};

/// A session held in cookies: who it is and for how long, never the token.
#[derive(Serialize, ToSchema)]
pub struct CookieSession {
    /// Seconds until the session expires.
    expires_in: u64,
    user: UserView,
}

/// Whether a session is open, and whose.
#[derive(Serialize, ToSchema)]
pub struct SessionState {
    signed_in: bool,
    /// Who is signed in; `null` when nobody is.
    #[schema(required = true)]
    user: Option<UserView>,
}

/// Whether the client is signed in, and as whom.
///
/// By the session cookie or a bearer token; the web app asks it on opening, before
/// anyone may have signed in, so the answer is 200 either way.
#[utoipa::path(
    get,
    path = "/api/v1/session",
    tag = "auth",
    responses((status = 200, description = "Signed in or not: a token that is missing, \
        expired or void is `signed_in: false`", body = SessionState))
)]
pub async fn session_state(signed_in: Result<AuthUser, ApiError>) -> ApiResult<Json<SessionState>> {
    let user = match signed_in {
        Ok(AuthUser(user)) => Some(UserView::from(&user)),
        Err(error) if error.status() == StatusCode::UNAUTHORIZED => None,
        Err(error) => return Err(error),
    };
    Ok(Json(SessionState {
        signed_in: user.is_some(),
        user,
    }))
}

/// Signs in and keeps the session in cookies (the web app's way).
#[utoipa::path(
    post,
    path = "/api/v1/session",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; the session is in cookies", body = CookieSession,
            headers(("set-cookie" = String,
                description = "`bl_session` (HttpOnly) and `bl_csrf`, both SameSite=Strict; \
                    over HTTPS `__Host-bl_session` and `__Host-bl_csrf`, Secure"))),
        (status = 401, description = "Wrong e-mail address or password", body = ErrorBody),
        (status = 429, description = "Too many attempts for this address or e-mail",
            body = ErrorBody,
            headers(("retry-after" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn open_session(
    State(state): State<SharedState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    ValidJson(mut request): ValidJson<LoginRequest>,
) -> ApiResult<Response> {
    let device = device_sessions::device_of(request.take_device(), Platform::Web);
    let user = sign_in(&state, address, request).await?;
    let (user, device) = device_sessions::open(&state, &user, device).await?;
    Ok(with_cookies(
        &state,
        &headers,
        StatusCode::OK,
        &user,
        &device,
    ))
}

/// Creates an account and keeps its session in cookies (the web app's way).
#[utoipa::path(
    post,
    path = "/api/v1/session/register",
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered; the session is in cookies",
            body = CookieSession,
            headers(("set-cookie" = String,
                description = "`bl_session` (HttpOnly) and `bl_csrf`, both SameSite=Strict; \
                    over HTTPS `__Host-bl_session` and `__Host-bl_csrf`, Secure"))),
        (status = 409, description = "The e-mail address is taken", body = ErrorBody),
        (status = 429, description = "Too many attempts for this address or e-mail",
            body = ErrorBody,
            headers(("retry-after" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn register_session(
    State(state): State<SharedState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    ValidJson(mut request): ValidJson<RegisterRequest>,
) -> ApiResult<Response> {
    let device = device_sessions::device_of(request.take_device(), Platform::Web);
    let user = sign_up(&state, address, request, device.clone()).await?;
    Ok(with_cookies(
        &state,
        &headers,
        StatusCode::CREATED,
        &user,
        &device,
    ))
}

/// Signs out: the device is signed out and both cookies are cleared.
///
/// By the session cookie or a bearer token: the device the token was issued to is
/// signed out, so the token is refused from then on, by every instance within a
/// second. Without a valid token it only clears the cookies.
#[utoipa::path(
    delete,
    path = "/api/v1/session",
    tag = "auth",
    responses(
        (status = 204, description = "Signed out",
            headers(("set-cookie" = String, description = "Both cookies, expired"))),
        (status = 503, description = "The cookies are cleared, but the device could not be \
            signed out: try again, or sign it out from another device", body = ErrorBody),
    )
)]
pub async fn close_session(
    State(state): State<SharedState>,
    signed_in: Result<AuthSession, ApiError>,
    headers: HeaderMap,
) -> Response {
    let closed = match signed_in {
        Ok(AuthSession {
            user,
            device: Some(device),
        }) => device_sessions::close(&state, user.id, device)
            .await
            .map(|_| ()),
        _ => Ok(()),
    };
    // The cookies go whatever happened: this browser asked to be signed out.
    let mut response = match closed {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => error.into_response(),
    };
    let cookies = SessionCookies::of(&headers, state.cookie_secure);
    for session in [true, false] {
        append_cookie(&mut response, &cookies.set(session, "", 0));
    }
    response
}

fn with_cookies(
    state: &SharedState,
    headers: &HeaderMap,
    status: StatusCode,
    user: &User,
    device: &Device,
) -> Response {
    let ttl = state.tokens.ttl().as_secs();
    let cookies = SessionCookies::of(headers, state.cookie_secure);
    let body = CookieSession {
        expires_in: ttl,
        user: UserView::from(user),
    };
    let mut response = (status, Json(body)).into_response();
    // A web session's token lives as long as its cookie; its device can be signed
    // out at any moment all the same.
    let token = state
        .tokens
        .issue_for(user, Some(device.id), state.tokens.ttl());
    let csrf = state.tokens.csrf_token(&token);
    append_cookie(&mut response, &cookies.set(true, &token, ttl));
    append_cookie(&mut response, &cookies.set(false, &csrf, ttl));
    response
}

fn append_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}
