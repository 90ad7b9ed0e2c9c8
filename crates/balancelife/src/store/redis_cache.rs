//! The Redis side of the cache: lookups that hand out fill leases, fills that only
//! land while their lease is valid, and invalidations that void leases.
//!
//! Why leases: a reader that misses, reads v1 from MongoDB and is slow to write it
//! back must not overwrite the invalidation of a writer that stored v2 meanwhile.
//! The miss takes a lease (a random token, `SET NX`); an invalidation deletes the
//! value *and* the lease; the fill is a Lua script that writes only if the lease is
//! still its own. Lists carry a guard counter in their key instead: a write bumps the
//! counter, so an old fill lands under a name nobody reads, and is refused anyway.
//!
//! Why generations: if an invalidation cannot reach Redis, values cached before the
//! write may be stale. The cache then stops serving (every read goes to the store)
//! until the recovery task has bumped the namespace generation that every script
//! reads server-side, which orphans everything cached before, for every process.
//!
//! Every call has a short deadline (`REDIS_TIMEOUT_MS`) and goes through a circuit
//! breaker, so a slow, frozen or dead Redis never fails or stalls a request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::RwLock;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{IntoConnectionInfo, Script};
use secrecy::ExposeSecret;

use super::breaker::{Breaker, BreakerState};
use super::{ComponentHealth, ComponentStatus};
use crate::config::{CacheSettings, RedisSettings};
use crate::metrics::CacheMetrics;

/// Reads the value, or takes the fill lease on a miss. A list's key carries the sum
/// of its guard counters, so a bump of any one of them (a write on one of its days)
/// moves it to a name nobody has filled yet.
/// ARGV: prefix, key suffix, lease token, lease ms, guard suffixes...
/// Returns the value on a hit (a plain bulk string: the hot path parses nothing
/// more), else {2, key, base, guard sum} when this reader got the lease, or {3}
/// while another reader holds it.
const LOOKUP: &str = r"
local gen = redis.call('GET', ARGV[1] .. 'gen') or '0'
local base = ARGV[1] .. gen .. ':'
local key = base .. ARGV[2]
local guard = ''
if #ARGV > 4 then
  local sum = 0
  for i = 5, #ARGV do
    sum = sum + tonumber(redis.call('GET', base .. ARGV[i]) or '0')
  end
  guard = tostring(sum)
  key = key .. '@' .. guard
end
local value = redis.call('GET', key)
if value then return value end
if redis.call('SET', key .. ':lease', ARGV[3], 'PX', ARGV[4], 'NX') then
  return {2, key, base, guard}
end
return {3}
";

/// Writes the value only while the lease is ours and the guards unchanged. The value
/// never outlives a guard it depends on: were a guard to expire first, the sum could
/// fall back to an earlier one and make an older list readable again.
/// ARGV: key, token, value, ttl ms, base, guard sum, guard suffixes...
const FILL: &str = r"
if redis.call('GET', ARGV[1] .. ':lease') ~= ARGV[2] then return 0 end
local ttl = tonumber(ARGV[4])
if #ARGV > 6 then
  local sum = 0
  for i = 7, #ARGV do
    local guard = ARGV[5] .. ARGV[i]
    sum = sum + tonumber(redis.call('GET', guard) or '0')
    local left = redis.call('PTTL', guard)
    if left > 0 and left < ttl then ttl = left end
  end
  if tostring(sum) ~= ARGV[6] then return 0 end
end
redis.call('SET', ARGV[1], ARGV[3], 'PX', ttl)
redis.call('DEL', ARGV[1] .. ':lease')
return 1
";

/// Deletes values with their leases and bumps guards.
/// ARGV: prefix, guard ttl ms, number of keys, key suffixes..., guard suffixes...
const INVALIDATE: &str = r"
local gen = redis.call('GET', ARGV[1] .. 'gen') or '0'
local base = ARGV[1] .. gen .. ':'
local n = tonumber(ARGV[3])
for i = 4, 3 + n do
  redis.call('DEL', base .. ARGV[i], base .. ARGV[i] .. ':lease')
end
for i = 4 + n, #ARGV do
  redis.call('INCR', base .. ARGV[i])
  redis.call('PEXPIRE', base .. ARGV[i], ARGV[2])
end
return 1
";

/// A miss whose reader may fill the key.
#[derive(Debug, Clone)]
pub struct Lease {
    key: String,
    token: String,
    base: String,
    guard: String,
    guards: Vec<String>,
}

#[derive(Debug)]
pub enum Lookup {
    Hit(Vec<u8>),
    /// Not cached; this reader holds the lease and should fill.
    Miss(Lease),
    /// Not cached; another reader (maybe in another process) is filling it.
    Busy,
    /// The cache cannot be used now; read the store and do not fill.
    Unavailable,
}

/// How long things live in Redis.
#[derive(Debug, Clone, Copy)]
pub struct CacheTtls {
    pub value: Duration,
    pub not_found: Duration,
    pub lease: Duration,
}

pub struct RedisCache {
    connection: RwLock<Option<ConnectionManager>>,
    client: redis::Client,
    prefix: String,
    timeout: Duration,
    pub ttls: CacheTtls,
    breaker: Breaker,
    /// Set when an invalidation may not have reached Redis: nothing cached may be
    /// served until the generation has been bumped.
    stale_namespace: AtomicBool,
    lookup: Script,
    fill: Script,
    invalidate: Script,
    pub metrics: CacheMetrics,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid Redis settings: {0}")]
pub struct RedisConfigError(String);

impl RedisCache {
    /// Builds the cache from settings and starts its recovery task. It connects in
    /// the background: a Redis that is down now is picked up when it answers.
    pub async fn start(
        settings: &RedisSettings,
        policy: &CacheSettings,
    ) -> Result<Arc<Self>, RedisConfigError> {
        let client = client(settings)?;
        let cache = Arc::new(Self {
            connection: RwLock::new(None),
            client,
            prefix: format!("{}:v1:", settings.namespace),
            timeout: settings.timeout,
            ttls: CacheTtls {
                value: policy.ttl,
                not_found: Duration::from_secs(5),
                lease: Duration::from_secs(3),
            },
            breaker: Breaker::new(3, Duration::from_millis(500)),
            stale_namespace: AtomicBool::new(false),
            lookup: Script::new(LOOKUP),
            fill: Script::new(FILL),
            invalidate: Script::new(INVALIDATE),
            metrics: CacheMetrics::default(),
        });
        cache.reconnect().await;
        tokio::spawn(recover(Arc::downgrade(&cache)));
        Ok(cache)
    }

    /// Whether reads are served from Redis right now.
    pub fn is_serving(&self) -> bool {
        !self.stale_namespace.load(Ordering::Acquire)
            && self.connection.read().is_some()
            && self.breaker.state() == BreakerState::Closed
    }

    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    async fn reconnect(&self) -> bool {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(None)
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let attempt = ConnectionManager::new_with_config(self.client.clone(), config);
        match tokio::time::timeout(Duration::from_secs(2), attempt).await {
            Ok(Ok(connection)) => {
                *self.connection.write() = Some(connection);
                true
            }
            Ok(Err(error)) => {
                tracing::debug!(%error, "Redis is not reachable yet");
                false
            }
            Err(_) => false,
        }
    }

    /// Runs one Redis call through the breaker and the deadline.
    async fn call<T, F, Fut>(&self, work: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        if !self.breaker.allow() {
            return None;
        }
        let Some(connection) = self.connection.read().clone() else {
            self.breaker.record_failure();
            return None;
        };
        match tokio::time::timeout(self.timeout, work(connection)).await {
            Ok(Ok(value)) => {
                self.breaker.record_success();
                Some(value)
            }
            Ok(Err(error)) => {
                self.metrics.redis_errors.inc();
                tracing::debug!(%error, "Redis call failed");
                self.breaker.record_failure();
                None
            }
            Err(_) => {
                self.metrics.redis_timeouts.inc();
                self.breaker.record_failure();
                None
            }
        }
    }

    /// Looks `key` up (behind its list guards, if any), taking the fill lease on a miss.
    pub async fn lookup(&self, key: &str, guards: &[String]) -> Lookup {
        if self.stale_namespace.load(Ordering::Acquire) {
            return Lookup::Unavailable;
        }
        // From the thread-local generator: no system call on the hot path.
        let token = format!("{:032x}", rand::random::<u128>());
        let lease_ms = millis(self.ttls.lease);
        let token_arg = token.as_str();
        let reply: Option<redis::Value> = self
            .call(|mut connection| async move {
                let mut invocation = self.lookup.prepare_invoke();
                invocation
                    .arg(&self.prefix)
                    .arg(key)
                    .arg(token_arg)
                    .arg(lease_ms);
                for guard in guards {
                    invocation.arg(guard);
                }
                invocation.invoke_async(&mut connection).await
            })
            .await;
        match reply {
            Some(redis::Value::BulkString(value)) => Lookup::Hit(value),
            Some(redis::Value::Array(items)) => {
                match redis::from_redis_value::<(i64, String, String, String)>(redis::Value::Array(
                    items.clone(),
                )) {
                    Ok((2, key, base, guard)) => Lookup::Miss(Lease {
                        key,
                        token,
                        base,
                        guard,
                        guards: guards.to_vec(),
                    }),
                    _ if items.len() == 1 => Lookup::Busy,
                    _ => Lookup::Unavailable,
                }
            }
            _ => Lookup::Unavailable,
        }
    }

    /// Stores `value` under a leased key; false when the lease was voided by an
    /// invalidation (the value may be stale) or Redis could not be reached.
    pub async fn fill(&self, lease: Lease, value: Vec<u8>, ttl: Duration) -> bool {
        if self.stale_namespace.load(Ordering::Acquire) {
            return false;
        }
        let ttl_ms = millis(jittered(ttl));
        let stored: Option<i64> = self
            .call(|mut connection| async move {
                let mut invocation = self.fill.prepare_invoke();
                invocation
                    .arg(&lease.key)
                    .arg(&lease.token)
                    .arg(value)
                    .arg(ttl_ms)
                    .arg(&lease.base)
                    .arg(&lease.guard);
                for guard in &lease.guards {
                    invocation.arg(guard);
                }
                invocation.invoke_async(&mut connection).await
            })
            .await;
        match stored {
            Some(1) => {
                self.metrics.fills.inc();
                true
            }
            Some(_) => {
                self.metrics.fills_rejected_stale.inc();
                false
            }
            None => false,
        }
    }

    /// Deletes `keys` (and their leases) and bumps `guards`. If Redis cannot confirm
    /// it, the cache stops serving until its namespace has been renewed.
    pub async fn invalidate(&self, keys: &[String], guards: &[String]) {
        if keys.is_empty() && guards.is_empty() {
            return;
        }
        let guard_ttl_ms = millis(self.ttls.value * 3);
        let done: Option<i64> = self
            .call(|mut connection| async move {
                let mut invocation = self.invalidate.prepare_invoke();
                invocation
                    .arg(&self.prefix)
                    .arg(guard_ttl_ms)
                    .arg(keys.len());
                for key in keys.iter().chain(guards) {
                    invocation.arg(key);
                }
                invocation.invoke_async(&mut connection).await
            })
            .await;
        if done.is_some() {
            self.metrics
                .invalidations
                .inc_by(u64::try_from(keys.len() + guards.len()).unwrap_or(0));
        } else {
            self.metrics.invalidation_failures.inc();
            if !self.stale_namespace.swap(true, Ordering::AcqRel) {
                tracing::warn!(
                    "a cache invalidation did not reach Redis; the cache is bypassed until its namespace is renewed"
                );
            }
        }
    }

    /// One round of recovery: connect if needed, probe, renew the namespace if an
    /// invalidation was lost. Returns whether the cache is serving afterwards.
    async fn recover_once(&self) -> bool {
        if self.connection.read().is_none() && !self.reconnect().await {
            self.breaker.trip();
            return false;
        }
        let healthy = self.breaker.state() == BreakerState::Closed;
        let stale = self.stale_namespace.load(Ordering::Acquire);
        if healthy && !stale {
            return true;
        }
        let Some(connection) = self.connection.read().clone() else {
            return false;
        };
        let key = format!("{}gen", self.prefix);
        let probe = async move {
            let mut connection = connection;
            if stale {
                redis::cmd("INCR")
                    .arg(&key)
                    .query_async::<i64>(&mut connection)
                    .await
                    .map(|_| ())
            } else {
                redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
                    .map(|_| ())
            }
        };
        match tokio::time::timeout(self.timeout.max(Duration::from_millis(200)), probe).await {
            Ok(Ok(())) => {
                if stale {
                    self.stale_namespace.store(false, Ordering::Release);
                    tracing::info!("cache namespace renewed; the cache serves again");
                }
                self.breaker.record_success();
                true
            }
            _ => {
                self.breaker.trip();
                false
            }
        }
    }

    pub fn health(&self) -> ComponentHealth {
        let connected = self.connection.read().is_some();
        let breaker = self.breaker.state();
        let (status, detail) = if !connected {
            (ComponentStatus::Down, "not connected; reads and writes go to MongoDB, the cache reconnects in the background".to_owned())
        } else if self.stale_namespace.load(Ordering::Acquire) {
            (
                ComponentStatus::Degraded,
                "renewing the cache after a lost invalidation; reads go to MongoDB".to_owned(),
            )
        } else if breaker != BreakerState::Closed {
            (
                ComponentStatus::Down,
                format!("circuit breaker {}; reads go to MongoDB", breaker.as_str()),
            )
        } else {
            (ComponentStatus::Up, "circuit breaker closed".to_owned())
        };
        ComponentHealth {
            status,
            persistent: false,
            detail: Some(detail),
        }
    }

    fn publish_breaker_state(&self) {
        let value = match self.breaker.state() {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
        };
        self.metrics.breaker_state.set(value);
    }
}

/// A client for `REDIS_ADDR` with `REDIS_PASSWORD` and `REDIS_DB` applied.
fn client(settings: &RedisSettings) -> Result<redis::Client, RedisConfigError> {
    let addr = settings.addr.expose_secret();
    let url = if addr.contains("://") {
        addr.to_owned()
    } else {
        format!("redis://{addr}")
    };
    // The error text could quote the password; it is not passed on.
    let mut info = url
        .as_str()
        .into_connection_info()
        .map_err(|_| RedisConfigError("REDIS_ADDR is not a valid Redis address or URL".into()))?;
    let mut redis_settings = info.redis_settings().clone();
    if let Some(password) = &settings.password {
        redis_settings = redis_settings.set_password(password.expose_secret());
    }
    if settings.db != 0 {
        redis_settings = redis_settings.set_db(i64::from(settings.db));
    }
    info = info.set_redis_settings(redis_settings);
    let unusable = |_| RedisConfigError("REDIS_ADDR cannot be used".into());
    match &settings.cert_path {
        Some(ca_file) => {
            if !url.starts_with("rediss://") {
                return Err(RedisConfigError(
                    "REDIS_CERT_PATH needs a rediss:// REDIS_ADDR".into(),
                ));
            }
            let root_cert = std::fs::read(ca_file).map_err(|_| {
                RedisConfigError(format!(
                    "REDIS_CERT_PATH {} cannot be read",
                    ca_file.display()
                ))
            })?;
            let certificates = redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(root_cert),
            };
            redis::Client::build_with_tls(info, certificates).map_err(unusable)
        }
        None => redis::Client::open(info).map_err(unusable),
    }
}

/// Whether Redis answers a PING within a second, for `balancelife config`.
pub async fn probe(settings: &RedisSettings) -> Result<bool, RedisConfigError> {
    let client = client(settings)?;
    let ping = async {
        let mut connection = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
    };
    Ok(matches!(
        tokio::time::timeout(Duration::from_secs(1), ping).await,
        Ok(Ok(_))
    ))
}

/// Keeps probing while Redis is unreachable or the namespace needs renewing; ends
/// when the cache is dropped.
async fn recover(cache: std::sync::Weak<RedisCache>) {
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(cache) = cache.upgrade() else { return };
        cache.recover_once().await;
        cache.publish_breaker_state();
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// ±10 %, so keys filled together do not all expire together.
fn jittered(ttl: Duration) -> Duration {
    let factor = 0.9 + rand::random::<f64>() * 0.2;
    ttl.mul_f64(factor)
}
