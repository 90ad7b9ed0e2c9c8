//! Settings: defaults, then an optional TOML file, then environment variables (which
//! win). Operators write them flat, one variable each (`variables`); the service
//! reads them as one typed section per component, with `Duration`s, and each backend
//! is given only its own section.

mod mask;
mod values;
mod variables;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

pub use mask::mask_uri_credentials;
pub use variables::Variables;

/// The effective configuration. Secrets are `SecretString`, whose `Debug` prints a
/// placeholder, so logging this struct is safe.
#[derive(Debug, Clone)]
pub struct Settings {
    pub http: HttpSettings,
    /// Unset: the embedded in-memory store.
    pub mongodb: Option<MongoSettings>,
    /// Unset: no cache in front of MongoDB.
    pub redis: Option<RedisSettings>,
    pub cache: CacheSettings,
    pub auth: AuthSettings,
    pub log: LogSettings,
    pub sync: SyncSettings,
    /// Load the sample catalogue and demo users at start. Unset means: yes for the
    /// memory store, no for MongoDB.
    pub init_sample_data: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub addr: SocketAddr,
    /// The longest a request may take; past it the client gets a 503 `timeout`.
    pub request_timeout: Duration,
    /// The longest a client may take to send a request's headers, and to start its
    /// next request on a kept-alive connection (on HTTP/2: to open a stream on a
    /// connection with none open); past it the connection is closed.
    pub header_timeout: Duration,
    /// The longest an answer may wait on a client that takes none of it; past it the
    /// connection is closed.
    pub send_timeout: Duration,
    /// How many connections are served at once; past it a new one is closed at once.
    pub max_connections: u32,
    /// How long anyone (a CDN, a browser) may keep a read of the public catalogue.
    pub catalogue_max_age: Duration,
}

#[derive(Debug, Clone)]
pub struct MongoSettings {
    /// May embed credentials, so it is treated as a secret.
    pub uri: SecretString,
    pub database: String,
    /// CA file; setting it turns on TLS, verified against that CA.
    pub cert_path: Option<PathBuf>,
    /// Bounds server selection, connecting and every single operation, so neither
    /// start-up nor a request can hang on an unreachable or frozen server.
    pub timeout: Duration,
    /// What to do when the server cannot be reached at start-up.
    pub fallback: StoreFallback,
}

#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// One or more comma-separated seed nodes, each `host:port` or a
    /// `redis://`/`rediss://` URL; may embed a password, so it is treated as a secret.
    pub addr: SecretString,
    /// A single server or a cluster; `Auto` asks the server (`INFO cluster`).
    pub mode: RedisMode,
    /// Overrides a password in the URL.
    pub password: Option<SecretString>,
    /// CA file for `rediss://` addresses whose certificate a private CA signed;
    /// without it, the system's trust store is used.
    pub cert_path: Option<PathBuf>,
    /// Overrides a database number in the URL when not 0.
    pub db: u8,
    /// The deadline of every single Redis call; past it the request goes to MongoDB.
    pub timeout: Duration,
    /// The first part of every cache key (`<namespace>:v5:...`), so several services
    /// or test runs can share one Redis.
    pub namespace: String,
}

#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// How long a cached value lives at most (±10 % jitter).
    pub ttl: Duration,
    /// The in-process tier's size (`L1_CACHE_MB`); 0 turns it off.
    pub l1_capacity_bytes: u64,
}

#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// HS256 signing secret, at least 32 bytes; unset: random per process.
    pub token_secret: Option<SecretString>,
    /// The lifetime of a web session (its cookie and token).
    pub token_ttl: Duration,
    /// The lifetime of an API client's access token, renewed by its refresh token.
    pub access_ttl: Duration,
    /// Log-in and sign-up attempts allowed per e-mail and minute (three times as many
    /// per client address).
    pub attempts_per_minute: u32,
    /// When the web app's session cookies are `Secure` (and named `__Host-…`).
    pub cookie_secure: CookieSecure,
}

#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// How long the sync feed keeps a deletion's tombstone; a client that last
    /// synced longer ago reads everything again.
    pub tombstone_retention: Duration,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    /// A `tracing` filter such as `info` or `balancelife=debug,mongodb=info`.
    pub level: String,
    pub format: LogFormat,
}

/// What `REDIS_ADDR` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RedisMode {
    /// Whatever the server says it is (`cluster_enabled` in `INFO cluster`).
    Auto,
    Standalone,
    Cluster,
}

/// What to do when MongoDB is configured but cannot be reached at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreFallback {
    /// Serve from the in-memory store, loudly (the default: a demo keeps working).
    Memory,
    /// Refuse to start (for production, where silent data loss is worse than downtime).
    None,
}

/// When the web app's session cookies are `Secure`, which also names them `__Host-…`
/// (a browser then takes them only from this host, over HTTPS, for the whole site).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CookieSecure {
    /// When the client came over HTTPS, as a proxy in front says
    /// (`X-Forwarded-Proto: https`).
    Auto,
    /// Always: for a service reached only over HTTPS, whatever its proxy says.
    Always,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Settings {
    /// Loads defaults ← `file` ← the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Variables::load(file).map(Self::from)
    }
}

impl Default for Settings {
    /// The defaults: the in-memory store, no cache.
    fn default() -> Self {
        Variables::default().into()
    }
}

impl MongoSettings {
    /// The defaults for a server at `uri`.
    pub fn new(uri: impl Into<String>) -> Self {
        let variables = Variables {
            mongodb_uri: Some(values::SecretUri(SecretString::from(uri.into()))),
            ..Variables::default()
        };
        Settings::from(variables)
            .mongodb
            .expect("a URI makes MongoDB settings")
    }
}

impl RedisSettings {
    /// The defaults for a server at `addr`.
    pub fn new(addr: impl Into<String>) -> Self {
        let variables = Variables {
            redis_addr: Some(values::SecretUri(SecretString::from(addr.into()))),
            ..Variables::default()
        };
        Settings::from(variables)
            .redis
            .expect("an address makes Redis settings")
    }
}
