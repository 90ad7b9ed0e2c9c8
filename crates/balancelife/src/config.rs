//! Settings: defaults, then an optional TOML file, then environment variables (which
//! win), extracted into one typed struct. A malformed value stops start-up with an
//! error naming the setting and where it came from.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Every environment variable the service reads, as `NAME` → settings key `name`.
pub const ENV_VARS: &[&str] = &[
    "HTTP_ADDR",
    "REQUEST_TIMEOUT_MS",
    "HEADER_TIMEOUT_MS",
    "MONGODB_URI",
    "MONGODB_DATABASE",
    "MONGODB_CERT_PATH",
    "MONGODB_TIMEOUT_MS",
    "STORE_FALLBACK",
    "REDIS_ADDR",
    "REDIS_PASSWORD",
    "REDIS_CERT_PATH",
    "REDIS_DB",
    "REDIS_TIMEOUT_MS",
    "REDIS_NAMESPACE",
    "CACHE_TTL_SECS",
    "INIT_SAMPLE_DATA",
    "AUTH_TOKEN_SECRET",
    "AUTH_TOKEN_TTL_SECS",
    "AUTH_ATTEMPTS_PER_MINUTE",
    "LOG_LEVEL",
    "LOG_FORMAT",
];

/// What to do when MongoDB is configured but cannot be reached at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreFallback {
    /// Serve from the in-memory store, loudly (the default: a demo keeps working).
    Memory,
    /// Refuse to start (for production, where silent data loss is worse than downtime).
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The effective configuration. Secrets are `SecretString`, whose `Debug` prints a
/// placeholder, so logging this struct is safe.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub http_addr: SocketAddr,
    /// The longest a request may take; past it the client gets a 503 `timeout`.
    pub request_timeout_ms: u64,
    /// The longest a client may take to send a request's headers, and to start its
    /// next request on a kept-alive connection; past it the connection is closed.
    pub header_timeout_ms: u64,
    /// May embed credentials, so it is treated as a secret.
    pub mongodb_uri: Option<SecretString>,
    pub mongodb_database: String,
    pub mongodb_cert_path: Option<PathBuf>,
    /// Bounds server selection, connecting and every single operation, so neither
    /// start-up nor a request can hang on an unreachable or frozen server.
    pub mongodb_timeout_ms: u64,
    pub store_fallback: StoreFallback,
    /// May embed a password (`redis://:pw@host`), so it is treated as a secret.
    pub redis_addr: Option<SecretString>,
    pub redis_password: Option<SecretString>,
    /// CA file for `rediss://` addresses whose certificate a private CA signed; without
    /// it, the system's trust store is used.
    pub redis_cert_path: Option<PathBuf>,
    pub redis_db: u8,
    /// The deadline of every single Redis call; past it the request goes to MongoDB.
    pub redis_timeout_ms: u64,
    /// The first part of every cache key (`<namespace>:v1:...`), so several services
    /// or test runs can share one Redis.
    pub redis_namespace: String,
    /// How long a cached value lives at most (±10 % jitter).
    pub cache_ttl_secs: u64,
    /// Load the sample catalogue and demo users at start. Unset means: yes for the
    /// memory store, no for MongoDB.
    pub init_sample_data: Option<bool>,
    pub auth_token_secret: Option<SecretString>,
    pub auth_token_ttl_secs: u64,
    /// Log-in and sign-up attempts allowed per e-mail and minute (three times as many
    /// per client address).
    pub auth_attempts_per_minute: u32,
    /// A `tracing` filter such as `info` or `balancelife=debug,tower_http=info`.
    pub log_level: String,
    pub log_format: LogFormat,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            request_timeout_ms: 20_000,
            header_timeout_ms: 10_000,
            mongodb_uri: None,
            mongodb_database: "balancelife".to_owned(),
            mongodb_cert_path: None,
            mongodb_timeout_ms: 5_000,
            store_fallback: StoreFallback::Memory,
            redis_addr: None,
            redis_password: None,
            redis_cert_path: None,
            redis_db: 0,
            redis_timeout_ms: 50,
            redis_namespace: "bl".to_owned(),
            cache_ttl_secs: 300,
            init_sample_data: None,
            auth_token_secret: None,
            auth_token_ttl_secs: 24 * 60 * 60,
            auth_attempts_per_minute: 10,
            log_level: "info".to_owned(),
            log_format: LogFormat::Text,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Variables whose values are text. They are passed through verbatim, because
/// figment's `Env` parses values, so a password `12345678` would become a number and
/// be refused. An empty value counts as unset.
const TEXT_VARS: &[&str] = &[
    "HTTP_ADDR",
    "MONGODB_URI",
    "MONGODB_DATABASE",
    "MONGODB_CERT_PATH",
    "STORE_FALLBACK",
    "REDIS_ADDR",
    "REDIS_PASSWORD",
    "REDIS_CERT_PATH",
    "REDIS_NAMESPACE",
    "AUTH_TOKEN_SECRET",
    "LOG_LEVEL",
    "LOG_FORMAT",
];

/// The environment as two providers: typed values parsed by figment, text verbatim.
fn environment() -> (Env, Serialized<BTreeMap<String, String>>) {
    let typed: Vec<&str> = ENV_VARS
        .iter()
        .copied()
        .filter(|name| !TEXT_VARS.contains(name))
        .collect();
    let text = TEXT_VARS
        .iter()
        .filter_map(|name| {
            let value = std::env::var(name).ok().filter(|v| !v.is_empty())?;
            Some((name.to_lowercase(), value))
        })
        .collect();
    (Env::raw().only(&typed), Serialized::globals(text))
}

impl Settings {
    /// Loads defaults ← `file` ← the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let (typed_env, text_env) = environment();
        let mut figment = Figment::new();
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::MissingFile(path.to_owned()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let settings: Self = figment
            .merge(typed_env)
            .merge(text_env)
            .extract()
            .map_err(|errors| ConfigError::Invalid(describe(errors)))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |msg: String| Err(ConfigError::Invalid(msg));
        if let Some(secret) = &self.auth_token_secret
            && secret.expose_secret().len() < crate::auth::TokenKeys::MIN_SECRET_BYTES
        {
            return invalid(format!(
                "AUTH_TOKEN_SECRET must be at least {} bytes",
                crate::auth::TokenKeys::MIN_SECRET_BYTES
            ));
        }
        if self.auth_token_ttl_secs == 0 || self.auth_token_ttl_secs > 30 * 24 * 60 * 60 {
            return invalid("AUTH_TOKEN_TTL_SECS must be from 1 to 2592000 (30 days)".into());
        }
        if !(100..=600_000).contains(&self.request_timeout_ms) {
            return invalid("REQUEST_TIMEOUT_MS must be from 100 to 600000".into());
        }
        if !(100..=600_000).contains(&self.header_timeout_ms) {
            return invalid("HEADER_TIMEOUT_MS must be from 100 to 600000".into());
        }
        if !(100..=120_000).contains(&self.mongodb_timeout_ms) {
            return invalid("MONGODB_TIMEOUT_MS must be from 100 to 120000".into());
        }
        if !(1..=10_000).contains(&self.auth_attempts_per_minute) {
            return invalid("AUTH_ATTEMPTS_PER_MINUTE must be from 1 to 10000".into());
        }
        if !(1..=10_000).contains(&self.redis_timeout_ms) {
            return invalid("REDIS_TIMEOUT_MS must be from 1 to 10000".into());
        }
        if self.redis_db > 15 {
            return invalid("REDIS_DB must be from 0 to 15".into());
        }
        if self.redis_namespace.is_empty()
            || self.redis_namespace.len() > 64
            || !self
                .redis_namespace
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return invalid(
                "REDIS_NAMESPACE must be 1 to 64 characters of a-z, A-Z, 0-9, '-' and '_'".into(),
            );
        }
        if !(1..=86_400).contains(&self.cache_ttl_secs) {
            return invalid("CACHE_TTL_SECS must be from 1 to 86400".into());
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log_level).is_err() {
            return invalid(format!(
                "LOG_LEVEL {:?} is not a valid log filter",
                self.log_level
            ));
        }
        if self.mongodb_database.is_empty()
            || self.mongodb_database.len() > 63
            || self
                .mongodb_database
                .contains(['/', '\\', '.', ' ', '"', '$', '\0'])
        {
            return invalid("MONGODB_DATABASE must be a valid MongoDB database name".into());
        }
        Ok(())
    }

    pub fn redis_timeout(&self) -> Duration {
        Duration::from_millis(self.redis_timeout_ms)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub fn header_timeout(&self) -> Duration {
        Duration::from_millis(self.header_timeout_ms)
    }

    pub fn mongodb_timeout(&self) -> Duration {
        Duration::from_millis(self.mongodb_timeout_ms)
    }

    pub fn auth_token_ttl(&self) -> Duration {
        Duration::from_secs(self.auth_token_ttl_secs)
    }

    /// The settings as `balancelife config` prints them: every secret masked, and
    /// credentials inside the MongoDB URI replaced.
    pub fn masked_lines(&self) -> Vec<(&'static str, String)> {
        let secret = |s: &Option<SecretString>| {
            s.as_ref()
                .map_or("(not set)".to_owned(), |_| "***".to_owned())
        };
        let opt = |s: Option<String>| s.unwrap_or_else(|| "(not set)".to_owned());
        vec![
            ("HTTP_ADDR", self.http_addr.to_string()),
            ("REQUEST_TIMEOUT_MS", self.request_timeout_ms.to_string()),
            ("HEADER_TIMEOUT_MS", self.header_timeout_ms.to_string()),
            (
                "MONGODB_URI",
                opt(self
                    .mongodb_uri
                    .as_ref()
                    .map(|uri| mask_uri_credentials(uri.expose_secret()))),
            ),
            ("MONGODB_DATABASE", self.mongodb_database.clone()),
            ("MONGODB_TIMEOUT_MS", self.mongodb_timeout_ms.to_string()),
            (
                "STORE_FALLBACK",
                format!("{:?}", self.store_fallback).to_lowercase(),
            ),
            (
                "MONGODB_CERT_PATH",
                opt(self
                    .mongodb_cert_path
                    .as_ref()
                    .map(|p| p.display().to_string())),
            ),
            (
                "REDIS_ADDR",
                opt(self
                    .redis_addr
                    .as_ref()
                    .map(|addr| mask_uri_credentials(addr.expose_secret()))),
            ),
            ("REDIS_PASSWORD", secret(&self.redis_password)),
            (
                "REDIS_CERT_PATH",
                opt(self
                    .redis_cert_path
                    .as_ref()
                    .map(|p| p.display().to_string())),
            ),
            ("REDIS_DB", self.redis_db.to_string()),
            ("REDIS_TIMEOUT_MS", self.redis_timeout_ms.to_string()),
            ("REDIS_NAMESPACE", self.redis_namespace.clone()),
            ("CACHE_TTL_SECS", self.cache_ttl_secs.to_string()),
            (
                "INIT_SAMPLE_DATA",
                self.init_sample_data.map_or(
                    "(not set: yes for memory, no for MongoDB)".to_owned(),
                    |v| v.to_string(),
                ),
            ),
            ("AUTH_TOKEN_SECRET", secret(&self.auth_token_secret)),
            ("AUTH_TOKEN_TTL_SECS", self.auth_token_ttl_secs.to_string()),
            (
                "AUTH_ATTEMPTS_PER_MINUTE",
                self.auth_attempts_per_minute.to_string(),
            ),
            ("LOG_LEVEL", self.log_level.clone()),
            (
                "LOG_FORMAT",
                format!("{:?}", self.log_format).to_lowercase(),
            ),
        ]
    }
}

/// Replaces the `user:password@` part of a URI with `***@`, and the values of options
/// that carry secrets (`tlsCertificateKeyFilePassword`, `authMechanismProperties`, …)
/// with `***`. A bare `:password@host:port` (as `REDIS_ADDR` takes) is masked too.
pub fn mask_uri_credentials(uri: &str) -> String {
    let (scheme, rest) = match uri.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), uri),
    };
    // Host names never hold '@', while a password may hold anything unencoded ('/',
    // '?', '@'), so the credentials end at the last '@'.
    let masked = match rest.rfind('@') {
        // An '@' inside an option value: what follows it is options, not a host, so
        // nothing after the scheme is shown.
        Some(at) if rest[at + 1..].contains(['=', '&']) && !rest[at + 1..].contains('?') => {
            "***".to_owned()
        }
        Some(at) => format!("***@{}", mask_options(&rest[at + 1..])),
        None => mask_options(rest),
    };
    format!("{scheme}{masked}")
}

fn mask_options(target: &str) -> String {
    match target.split_once('?') {
        Some((target, options)) => format!("{target}?{}", mask_secret_options(options)),
        None => target.to_owned(),
    }
}

fn mask_secret_options(options: &str) -> String {
    options
        .split('&')
        .map(|option| match option.split_once('=') {
            Some((name, _)) if is_secret_option(name) => format!("{name}=***"),
            _ => option.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn is_secret_option(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["password", "secret", "token", "authmechanismproperties"]
        .iter()
        .any(|secret| name.contains(secret))
}

/// One line per problem, each naming the key and where its value came from.
fn describe(errors: figment::Error) -> String {
    errors
        .into_iter()
        .map(|error| {
            let key = error.path.join(".").to_uppercase();
            let origin = match error.metadata.as_ref() {
                Some(m) if m.name.contains("Serialized") => "environment variable".to_owned(),
                Some(m) => m.name.to_string(),
                None => "defaults".to_owned(),
            };
            let kind = error.kind.to_string();
            if key.is_empty() {
                format!("{kind} (from {origin})")
            } else {
                format!("{key}: {kind} (from {origin})")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_uris_are_masked() {
        assert_eq!(
            mask_uri_credentials("mongodb://admin:hunter2@db.internal:27017/app?tls=true"),
            "mongodb://***@db.internal:27017/app?tls=true"
        );
        assert_eq!(
            mask_uri_credentials("mongodb://db:27017"),
            "mongodb://db:27017"
        );
        assert_eq!(
            mask_uri_credentials("redis://:pw@cache:6379/2"),
            "redis://***@cache:6379/2"
        );
        assert_eq!(mask_uri_credentials("127.0.0.1:6379"), "127.0.0.1:6379");
        assert_eq!(
            mask_uri_credentials("mongodb://u:pa/ss@h:27017/db"),
            "mongodb://***@h:27017/db"
        );
        assert_eq!(
            mask_uri_credentials("mongodb://u:pa?ss@h/db"),
            "mongodb://***@h/db"
        );
        assert_eq!(
            mask_uri_credentials(
                "mongodb://h/db?tls=true&tlsCertificateKeyFilePassword=hunter2\
                 &authMechanismProperties=AWS_SESSION_TOKEN:abc"
            ),
            "mongodb://h/db?tls=true&tlsCertificateKeyFilePassword=***\
             &authMechanismProperties=***"
        );
        assert_eq!(mask_uri_credentials(":pw@cache:6379"), "***@cache:6379");
        assert_eq!(
            mask_uri_credentials(
                "mongodb://u:p@h/db?authMechanismProperties=AWS_SESSION_TOKEN:a@b\
                 &tlsCertificateKeyFilePassword=z"
            ),
            "mongodb://***"
        );
    }
}
