//! The settings as operators write them: one environment variable each, and the same
//! name in lower case as a TOML key. Each name is written once, as a field of
//! `Variables`; the environment is read, and `balancelife config` prints, by the same
//! field names.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};
use serde::{Deserialize, Serialize, Serializer};

use super::values::{
    Bounded, Checked, DatabaseName, Flag, KeyNamespace, LogFilter, Secret, SecretUri, TokenSecret,
};
use super::{
    AuthSettings, CacheSettings, ConfigError, CookieSecure, HttpSettings, LogFormat, LogSettings,
    MongoSettings, RedisMode, RedisSettings, Settings, StoreFallback, SyncSettings,
};

/// Every setting, in the order the README's table and `balancelife config` list them.
/// Values are checked as they are read (`values`), so a `Variables` is always valid.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Variables {
    pub(super) http_addr: SocketAddr,
    pub(super) request_timeout_ms: Bounded<100, 600_000>,
    pub(super) header_timeout_ms: Bounded<100, 600_000>,
    pub(super) send_timeout_ms: Bounded<100, 600_000>,
    pub(super) max_connections: Bounded<1, 1_000_000>,
    pub(super) catalogue_max_age_secs: Bounded<0, 86_400>,
    pub(super) mongodb_uri: Option<SecretUri>,
    pub(super) mongodb_database: Checked<DatabaseName>,
    pub(super) mongodb_cert_path: Option<PathBuf>,
    pub(super) mongodb_timeout_ms: Bounded<100, 120_000>,
    pub(super) store_fallback: StoreFallback,
    pub(super) redis_addr: Option<SecretUri>,
    pub(super) redis_mode: RedisMode,
    pub(super) redis_password: Option<Secret>,
    pub(super) redis_db: Bounded<0, 15>,
    pub(super) redis_cert_path: Option<PathBuf>,
    pub(super) redis_timeout_ms: Bounded<1, 10_000>,
    pub(super) redis_namespace: Checked<KeyNamespace>,
    pub(super) cache_ttl_secs: Bounded<1, 86_400>,
    pub(super) l1_cache_mb: Bounded<0, 65_536>,
    #[serde(serialize_with = "sample_data_choice")]
    pub(super) init_sample_data: Option<Flag>,
    pub(super) auth_token_secret: Option<TokenSecret>,
    pub(super) auth_token_ttl_secs: Bounded<1, 2_592_000>,
    pub(super) auth_access_ttl_secs: Bounded<1, 86_400>,
    pub(super) sync_tombstone_days: Bounded<1, 3_650>,
    pub(super) auth_attempts_per_minute: Bounded<1, 10_000>,
    pub(super) cookie_secure: CookieSecure,
    pub(super) log_level: Checked<LogFilter>,
    pub(super) log_format: LogFormat,
}

impl Default for Variables {
    fn default() -> Self {
        Self {
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            request_timeout_ms: Bounded::new(20_000),
            header_timeout_ms: Bounded::new(10_000),
            send_timeout_ms: Bounded::new(60_000),
            max_connections: Bounded::new(768),
            catalogue_max_age_secs: Bounded::new(60),
            mongodb_uri: None,
            mongodb_database: Checked::new("balancelife"),
            mongodb_cert_path: None,
            mongodb_timeout_ms: Bounded::new(5_000),
            store_fallback: StoreFallback::Memory,
            redis_addr: None,
            redis_mode: RedisMode::Auto,
            redis_password: None,
            redis_db: Bounded::new(0),
            redis_cert_path: None,
            redis_timeout_ms: Bounded::new(50),
            redis_namespace: Checked::new("bl"),
            cache_ttl_secs: Bounded::new(300),
            l1_cache_mb: Bounded::new(32),
            init_sample_data: None,
            auth_token_secret: None,
            auth_token_ttl_secs: Bounded::new(24 * 60 * 60),
            auth_access_ttl_secs: Bounded::new(15 * 60),
            sync_tombstone_days: Bounded::new(30),
            auth_attempts_per_minute: Bounded::new(10),
            cookie_secure: CookieSecure::Auto,
            log_level: Checked::new("info"),
            log_format: LogFormat::Text,
        }
    }
}

/// How an unset `INIT_SAMPLE_DATA` prints: its effect depends on the store.
fn sample_data_choice<S: Serializer>(
    value: &Option<Flag>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(Flag(load)) => serializer.serialize_bool(*load),
        None => serializer.serialize_str("(not set: yes for memory, no for MongoDB)"),
    }
}

impl Variables {
    /// Loads defaults ← `file` ← the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::MissingFile(path.to_owned()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let variables: Self = figment
            .merge(Environment(environment()?))
            .extract()
            .map_err(|errors| ConfigError::Invalid(describe(errors)))?;
        variables.check_combinations()?;
        Ok(variables)
    }

    /// What each value allows alone but not together.
    fn check_combinations(&self) -> Result<(), ConfigError> {
        if self.redis_mode == RedisMode::Cluster && self.redis_db.get() != 0 {
            return Err(ConfigError::Invalid(
                "REDIS_DB must be 0 with REDIS_MODE=cluster: a Redis Cluster has one database"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Every variable name the service reads, in order (`HTTP_ADDR`, …).
    pub fn names() -> Vec<String> {
        Self::default()
            .listing()
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }

    /// Each variable with its value as `balancelife config` prints it: secrets as
    /// `***`, credentials in connection strings masked, `(not set)` for nothing.
    pub fn listing(&self) -> Vec<(String, String)> {
        let serde_json::Value::Object(fields) =
            serde_json::to_value(self).expect("settings serialize to a JSON object")
        else {
            unreachable!("a struct serializes to an object");
        };
        fields
            .into_iter()
            .map(|(key, value)| {
                let shown = match value {
                    serde_json::Value::Null => "(not set)".to_owned(),
                    serde_json::Value::String(text) => text,
                    other => other.to_string(),
                };
                (key.to_uppercase(), shown)
            })
            .collect()
    }
}

/// The environment's values for the known names, verbatim: figment's `Env` would
/// parse them, turning a password `12345678` into a number. Each value type reads
/// its own text. An empty value counts as unset.
fn environment() -> Result<BTreeMap<String, String>, ConfigError> {
    let mut values = BTreeMap::new();
    for name in Variables::names() {
        match std::env::var(&name) {
            Ok(value) if !value.is_empty() => {
                values.insert(name.to_lowercase(), value);
            }
            Ok(_) | Err(std::env::VarError::NotPresent) => {}
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(ConfigError::Invalid(format!(
                    "{name}: is not valid UTF-8 (from {ENVIRONMENT})"
                )));
            }
        }
    }
    Ok(values)
}

/// The environment's values as a figment provider that says where they came from,
/// so an error names "environment variable" as its source.
struct Environment(BTreeMap<String, String>);

const ENVIRONMENT: &str = "environment variable";

impl Provider for Environment {
    fn metadata(&self) -> Metadata {
        Metadata::named(ENVIRONMENT)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Serialized::globals(&self.0).data()
    }
}

/// One line per problem, each naming the variable and where its value came from.
fn describe(errors: figment::Error) -> String {
    errors
        .into_iter()
        .map(|error| {
            let key = error.path.join(".").to_uppercase();
            let origin = error
                .metadata
                .as_ref()
                .map_or_else(|| "defaults".to_owned(), |m| m.name.to_string());
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

impl From<Variables> for Settings {
    fn from(v: Variables) -> Self {
        Self {
            http: HttpSettings {
                addr: v.http_addr,
                request_timeout: v.request_timeout_ms.millis(),
                header_timeout: v.header_timeout_ms.millis(),
                send_timeout: v.send_timeout_ms.millis(),
                max_connections: u32::try_from(v.max_connections.get()).expect("at most a million"),
                catalogue_max_age: v.catalogue_max_age_secs.secs(),
            },
            mongodb: v.mongodb_uri.map(|uri| MongoSettings {
                uri: uri.0,
                database: v.mongodb_database.into_string(),
                cert_path: v.mongodb_cert_path,
                timeout: v.mongodb_timeout_ms.millis(),
                fallback: v.store_fallback,
            }),
            redis: v.redis_addr.map(|addr| RedisSettings {
                addr: addr.0,
                mode: v.redis_mode,
                password: v.redis_password.map(|password| password.0),
                cert_path: v.redis_cert_path,
                db: u8::try_from(v.redis_db.get()).expect("REDIS_DB is at most 15"),
                timeout: v.redis_timeout_ms.millis(),
                namespace: v.redis_namespace.into_string(),
            }),
            cache: CacheSettings {
                ttl: v.cache_ttl_secs.secs(),
                l1_capacity_bytes: v.l1_cache_mb.get() * 1024 * 1024,
            },
            auth: AuthSettings {
                token_secret: v.auth_token_secret.map(TokenSecret::into_secret),
                token_ttl: v.auth_token_ttl_secs.secs(),
                access_ttl: v.auth_access_ttl_secs.secs(),
                attempts_per_minute: u32::try_from(v.auth_attempts_per_minute.get())
                    .expect("at most 10000"),
                cookie_secure: v.cookie_secure,
            },
            sync: SyncSettings {
                tombstone_retention: v.sync_tombstone_days.secs() * 86_400,
            },
            log: LogSettings {
                level: v.log_level.into_string(),
                format: v.log_format,
            },
            init_sample_data: v.init_sample_data.map(|Flag(load)| load),
        }
    }
}
