//! `TestApp`: the real router and state over a given store, driven request by request
//! without a socket.

use std::any::Any;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

use balancelife::api::http::state::{SharedState, StoreChoice};
use balancelife::config::Settings;
use balancelife::store::Store;
use balancelife::store::cache::CachedStore;

use super::Backend;

/// The token secret of every `TestApp`.
pub const TOKEN_SECRET: &str = "test-secret-test-secret-test-secret!";

pub struct TestApp {
    pub router: Router,
    pub state: SharedState,
    keep: Vec<Box<dyn Any + Send + Sync>>,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

impl TestResponse {
    /// The error code of a JSON error body, so tests can assert on it in one line.
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error body: {}", self.body))
    }

    pub fn error_field(&self) -> &str {
        self.body["error"]["field"]
            .as_str()
            .unwrap_or_else(|| panic!("no field named: {}", self.body))
    }
}

/// A signed-up user as the tests see them.
pub struct TestUser {
    pub id: Uuid,
    pub email: String,
    pub token: String,
}

impl TestUser {
    /// From the body of a sign-up or log-in answer.
    fn signed_in(session: &Value, email: String) -> Self {
        Self {
            id: session["user"]["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .expect("the session names its user"),
            email,
            token: session["token"]
                .as_str()
                .expect("the session has a token")
                .to_owned(),
        }
    }
}

/// The app on a fresh memory store loaded with the sample catalogue and demo users:
/// what most API tests need.
pub async fn spawn_app() -> TestApp {
    Backend::Memory.app().await
}

/// How a `TestApp` is configured: the suite's token secret, so tests can forge and
/// check tokens.
fn test_settings() -> Settings {
    let mut settings = Settings::default();
    settings.auth.token_secret = Some(TOKEN_SECRET.to_owned().into());
    settings
}

impl TestApp {
    /// The app over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with_choice(store, StoreChoice::default())
    }

    /// The app over a cached store, with the cache's metrics at `/metrics`.
    pub fn cached(store: Arc<CachedStore>) -> Self {
        let choice = balancelife::startup::with_cache(StoreChoice::default(), Some(store.cache()));
        Self::with_choice(store, choice)
    }

    fn with_choice(store: Arc<dyn Store>, choice: StoreChoice) -> Self {
        let choice = StoreChoice {
            reason: "chosen by the test".into(),
            ..choice
        };
        let state = balancelife::startup::app_state(&test_settings(), store, choice).unwrap();
        Self {
            router: balancelife::api::router(state.clone()),
            state,
            keep: Vec::new(),
        }
    }

    /// The app exactly as `balancelife serve` builds it from `settings`, store
    /// selection included.
    pub async fn from_settings(settings: &Settings) -> Self {
        let (store, choice) = balancelife::startup::open_store(settings).await.unwrap();
        let state = balancelife::startup::app_state(settings, store, choice).unwrap();
        Self {
            router: balancelife::api::router(state.clone()),
            state,
            keep: Vec::new(),
        }
    }

    /// Keeps `guard` (a test database, servers) alive as long as the app.
    pub fn keeping(mut self, guard: impl Any + Send + Sync) -> Self {
        self.keep.push(Box::new(guard));
        self
    }
}

/// A request with an optional bearer token and JSON body.
fn request(method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Request<Body> {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .expect("a valid request")
}

impl TestApp {
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            // Error and API bodies are JSON; `/metrics` is text, kept as a JSON string.
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        self.send(request(method, path, token, body)).await
    }

    /// `call` from a client at `address`, as the server sees its socket's peer.
    pub async fn call_from(
        &self,
        address: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut request = request(method, path, token, body);
        let peer = std::net::SocketAddr::new(address.parse().expect("an IP address"), 40000);
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        self.send(request).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.call(Method::DELETE, path, token, None).await
    }

    /// Registers a fresh user (Europe/Berlin unless `extra` says otherwise).
    pub async fn register(&self, label: &str, extra: Value) -> TestUser {
        let email = format!("{label}-{}@example.test", Uuid::now_v7().simple());
        let mut body = json!({
            "email": email,
            "password": "a long enough password",
            "name": format!("{label} tester"),
            "timezone": "Europe/Berlin",
        });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let response = self.post("/api/v1/auth/register", None, body).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
        TestUser::signed_in(&response.body, email)
    }

    /// `POST /auth/login` with `email` and `password`.
    pub async fn log_in(&self, email: &str, password: &str) -> TestResponse {
        let body = json!({"email": email, "password": password});
        self.post("/api/v1/auth/login", None, body).await
    }

    /// Logs in one of the sample data's demo accounts.
    pub async fn demo_login(&self, index: usize) -> TestUser {
        let account = &balancelife::sample::DEMO_ACCOUNTS[index];
        let response = self.log_in(account.email, account.password).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        TestUser::signed_in(&response.body, account.email.to_owned())
    }

    /// A valid meal entry body at `eaten_at`.
    pub fn meal_body(eaten_at: &str) -> Value {
        json!({
            "eaten_at": eaten_at,
            "slot": "lunch",
            "name": "Lentil soup",
            "quantity": 350,
            "unit": "g",
            "kcal": 420,
            "protein_g": 24,
            "carbs_g": 58,
            "fat_g": 9.5,
            "fiber_g": 14
        })
    }

    /// A valid workout entry body at `started_at`.
    pub fn workout_body(started_at: &str) -> Value {
        json!({
            "started_at": started_at,
            "activity": "running",
            "title": "Morning run",
            "duration_s": 1800,
            "kcal_burned": 320,
            "effort": 6,
            "distance_km": 5.2
        })
    }
}
