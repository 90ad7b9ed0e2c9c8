//! The Redis side of the cache: lookups that hand out fill leases, fills that only
//! land while their lease is valid, and invalidations that void leases.
//!
//! Why leases: a reader that misses, reads v1 from MongoDB and is slow to write it
//! back must not overwrite the invalidation of a writer that stored v2 meanwhile.
//! The miss takes a lease (a random token, `SET NX`); an invalidation deletes the
//! value *and* the lease; the fill is a Lua script that writes only if the lease is
//! still its own.
//!
//! Why guards: a list cannot be deleted by name (nobody knows every page and range
//! cached), so it sits behind guard counters instead, one per day it covers, and
//! behind its scope's generation (see `cache_keys`). A value is stored with the
//! guards it was read under (its stamp); a lookup serves it only if every guard
//! still holds exactly that value, and a fill lands only if they did not move since
//! the miss. Guards are compared one by one: two moving in opposite ways (one
//! expiring, one bumped) cannot cancel out. A value never outlives a guard it
//! depends on, so a guard that expires (and reads 0 again) finds no value stamped
//! with an older 0.
//!
//! Why generations: if an invalidation cannot reach Redis, values of the scopes it
//! touched may be stale. This process stops serving those scopes (their reads go to
//! the store) until the recovery task has bumped their generations, which voids
//! everything cached in them, for every process. Other scopes keep being served.
//!
//! Every script touches the keys of one scope only, all passed in `KEYS`, so each
//! runs on one Redis Cluster slot. Every call has a short deadline
//! (`REDIS_TIMEOUT_MS`) and goes through a circuit breaker, so a slow, frozen or dead
//! Redis never fails or stalls a request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use redis::Script;

use super::breaker::{Breaker, BreakerState};
use super::cache_keys::{GENERATION, KEY_VERSION, Keyspace, Scope};
use super::l1::L1;
use super::l1_channel::{self, Message};
pub use super::redis_connection::RedisConfigError;
use super::redis_connection::{
    ConnectError, Connector, RedisConnection, Topology, masters_answering,
};
use super::{ComponentHealth, ComponentStatus};
use crate::config::{CacheSettings, RedisSettings};
use crate::metrics::CacheMetrics;

/// Reads the value, or takes the fill lease on a miss.
/// KEYS: value, lease, guards... (the scope's generation first).
/// ARGV: lease token, lease ms.
/// Returns the value on a hit (a plain bulk string: the hot path parses nothing
/// more), else {2, stamp} when this reader got the lease, {3} while another
/// reader holds it, or {4} when Redis is full (at `maxmemory`): it refuses the
/// lease, so the reader reads the store and fills nothing. Without a shebang, so a
/// full Redis still runs it and serves hits; the lease is taken under `pcall` to
/// hear the refusal.
const LOOKUP: &str = r"
local guards = {}
for i = 3, #KEYS do
  guards[#guards + 1] = redis.call('GET', KEYS[i]) or '0'
end
local stamp = table.concat(guards, ',') .. '|'
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, #stamp) == stamp then
  return string.sub(value, #stamp + 1)
end
local leased = redis.pcall('SET', KEYS[2], ARGV[1], 'PX', ARGV[2], 'NX')
if type(leased) == 'table' and leased.err then return {4} end
if leased then
  return {2, stamp}
end
return {3}
";

/// Writes the value, stamped, only while the lease is ours and every guard holds
/// what it held at the miss; its time to live ends before any guard's.
/// The shebang without `allow-oom` makes a full Redis refuse it whole, before it
/// runs: a fill never grows a Redis at `maxmemory`.
/// KEYS: value, lease, guards...  ARGV: token, stamp, value, ttl ms.
const FILL: &str = r"#!lua
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
local ttl = tonumber(ARGV[4])
local guards = {}
for i = 3, #KEYS do
  guards[#guards + 1] = redis.call('GET', KEYS[i]) or '0'
end
if table.concat(guards, ',') .. '|' ~= ARGV[2] then return 0 end
for i = 3, #KEYS do
  -- An absent guard is created at 0 for as long as the value lives, so it cannot
  -- be bumped and then expire (reading 0 again) while the value still does.
  redis.call('SET', KEYS[i], '0', 'PX', ttl, 'NX')
  local left = redis.call('PTTL', KEYS[i])
  if left > 0 and left < ttl then ttl = left end
end
redis.call('SET', KEYS[1], ARGV[2] .. ARGV[3], 'PX', ttl)
redis.call('DEL', KEYS[2])
return 1
";

/// Deletes values with their leases and bumps guards (a generation is a guard). A
/// guard's time to live is only ever lengthened: a value stamped with it may have
/// been given all of it.
/// Then it tells every instance's in-process tier, in the same atomic step (see
/// `l1_channel`).
/// `allow-oom`: it runs when Redis is full (at `maxmemory`, under `noeviction`),
/// where a lost invalidation would leave a stale value served. What it may add is a
/// guard counter per day or scope written, which expires with its time to live.
/// (Without the flag a full Redis refuses a script's first write that could grow
/// memory: an `INCR` first, and nothing is bumped or published.)
/// KEYS: values and leases to delete..., guards...
/// ARGV: how many to delete, guard ttl ms, channel, message ('' for none).
const INVALIDATE: &str = r"#!lua flags=allow-oom
local n = tonumber(ARGV[1])
if n > 0 then redis.call('DEL', unpack(KEYS, 1, n)) end
local ttl = tonumber(ARGV[2])
for i = n + 1, #KEYS do
  redis.call('INCR', KEYS[i])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
-- pcall: a server that refuses Pub/Sub (an ACL without it) must not fail the
-- invalidation itself; the tiers then never see their heartbeats and stay off.
if ARGV[4] ~= '' then redis.pcall('PUBLISH', ARGV[3], ARGV[4]) end
return 1
";

/// Reads the namespace epoch and, if Redis holds less than this process uses (the
/// key was lost: a restart without persistence, a failover that dropped the last
/// bump), writes this process's back, so every process converges on the highest.
/// `allow-oom`, like every write that keeps the cache coherent.
/// KEYS: the epoch key  ARGV: this process's epoch  Returns the epoch to use.
const SYNC_EPOCH: &str = r"#!lua flags=allow-oom
local held = tonumber(redis.call('GET', KEYS[1]) or '0')
local mine = tonumber(ARGV[1])
if held < mine then
  redis.call('SET', KEYS[1], ARGV[1])
  return mine
end
return held
";

/// How long `/health` reports Redis full after its last refusal.
const FULL_SHOWN_FOR: Duration = Duration::from_secs(10);

/// One attempt against a rate limit, by GCRA: the key holds the theoretical arrival
/// time (ms) of the next attempt; an attempt that would push it more than a window
/// ahead of now is refused, with how long to wait. Redis' clock, so every instance
/// counts against one budget.
/// KEYS: the subject's key  ARGV: window ms, attempts per window
/// Returns 0 when allowed, else the milliseconds to wait.
const RATE_LIMIT: &str = r"
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window = tonumber(ARGV[1])
local interval = window / tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now_ms then tat = now_ms end
local next_tat = tat + interval
if next_tat - now_ms > window then
  return math.ceil(next_tat - now_ms - window)
end
redis.call('SET', KEYS[1], tostring(next_tat), 'PX', math.ceil(next_tat - now_ms))
return 0
";

/// Moves the namespace to a new epoch: the whole cache is flushed. `allow-oom`, as
/// the flush must happen when Redis is full too.  KEYS: the epoch key
const BUMP_EPOCH: &str = r"#!lua flags=allow-oom
return redis.call('INCR', KEYS[1])
";

/// Gives a lease back when its reader will not fill (the load failed), so readers
/// elsewhere need not wait for it to expire.  KEYS: lease  ARGV: token
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
";

/// What one write voids in one scope: values to delete (with their leases) and guards
/// to bump. A flush of the scope bumps its generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalidation {
    pub scope: Scope,
    pub keys: Vec<String>,
    pub guards: Vec<String>,
}

impl Invalidation {
    pub fn keys(scope: Scope, keys: &[&str]) -> Self {
        Self {
            scope,
            keys: keys.iter().map(|&key| key.to_owned()).collect(),
            guards: Vec::new(),
        }
    }

    pub fn guards(scope: Scope, guards: Vec<String>) -> Self {
        Self {
            scope,
            keys: Vec::new(),
            guards,
        }
    }

    /// Voids everything cached in the scope.
    pub fn flush(scope: Scope) -> Self {
        Self::guards(scope, vec![GENERATION.to_owned()])
    }
}

/// A miss whose reader may fill the key.
#[derive(Debug, Clone)]
pub struct Lease {
    /// The value, its lease and its guards, as the scripts take them.
    keys: Vec<String>,
    token: String,
    /// The guards as the miss saw them.
    stamp: Vec<u8>,
    scope: Scope,
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
    connection: RwLock<Option<RedisConnection>>,
    connector: Connector,
    /// What the server turned out to be, once it answered.
    topology: RwLock<Option<Topology>>,
    /// For a cluster: masters serving slots and not marked failed, as last seen.
    masters: AtomicU32,
    keys: Keyspace,
    timeout: Duration,
    pub ttls: CacheTtls,
    breaker: Breaker,
    /// Scopes an invalidation may not have reached: nothing cached in them may be
    /// served until their generation has been bumped.
    /// Each with how many losses it has had, so a renewal clears it only if no new
    /// loss came while the renewal ran.
    stale_scopes: Mutex<HashMap<Scope, u64>>,
    /// How many there are, so the hot path checks a number, not a lock.
    stale_count: AtomicUsize,
    /// Set when the connection stopped answering: the recovery task replaces it
    /// (a connection whose peer vanished without a word never fails by itself).
    connection_suspect: AtomicBool,
    /// The server's `maxmemory-policy`, read after each connection.
    eviction_policy: RwLock<EvictionPolicy>,
    /// The in-process tier in front of Redis, unless `L1_CACHE_MB` is 0.
    l1: Option<Arc<L1>>,
    lookup: Script,
    fill: Script,
    invalidate: Script,
    release: Script,
    rate_limit: Script,
    sync_epoch: Script,
    bump_epoch: Script,
    /// When Redis last refused something for being full (at `maxmemory`).
    last_full: Mutex<Option<Instant>>,
    pub metrics: CacheMetrics,
}

impl RedisCache {
    /// Builds the cache from settings and starts its recovery task. It connects in
    /// the background: a Redis that is down now is picked up when it answers.
    pub async fn start(
        settings: &RedisSettings,
        policy: &CacheSettings,
    ) -> Result<Arc<Self>, RedisConfigError> {
        Self::start_at_key_version(settings, policy, KEY_VERSION).await
    }

    /// `start`, with keys of another version than this release's `KEY_VERSION`
    /// (`start` is this with it): how a test runs two releases side by side.
    pub async fn start_at_key_version(
        settings: &RedisSettings,
        policy: &CacheSettings,
        key_version: &str,
    ) -> Result<Arc<Self>, RedisConfigError> {
        let connector = Connector::new(settings)?;
        // A time to live below Redis' (its values live the TTL ±10 %). A value read
        // from Redis near its end may outlive it here; what keeps it right is the
        // invalidation channel, not the time to live.
        let l1 = (policy.l1_capacity_bytes > 0).then(|| {
            Arc::new(L1::new(
                policy.l1_capacity_bytes,
                policy.ttl.mul_f64(0.9),
                l1_channel::LEASE,
            ))
        });
        let cache = Arc::new(Self {
            connection: RwLock::new(None),
            connector,
            topology: RwLock::new(None),
            masters: AtomicU32::new(0),
            keys: Keyspace::versioned(&settings.namespace, key_version),
            timeout: settings.timeout,
            ttls: CacheTtls {
                value: policy.ttl,
                not_found: Duration::from_secs(5),
                lease: Duration::from_secs(3),
            },
            breaker: Breaker::new(3, Duration::from_millis(500)),
            stale_scopes: Mutex::new(HashMap::new()),
            stale_count: AtomicUsize::new(0),
            connection_suspect: AtomicBool::new(false),
            eviction_policy: RwLock::new(EvictionPolicy::Unread),
            l1: l1.clone(),
            lookup: Script::new(LOOKUP),
            fill: Script::new(FILL),
            invalidate: Script::new(INVALIDATE),
            release: Script::new(RELEASE),
            rate_limit: Script::new(RATE_LIMIT),
            sync_epoch: Script::new(SYNC_EPOCH),
            bump_epoch: Script::new(BUMP_EPOCH),
            last_full: Mutex::new(None),
            metrics: CacheMetrics::default(),
        });
        if let Err(ConnectError::Misconfigured(problem)) = cache.reconnect().await {
            return Err(RedisConfigError(problem));
        }
        tokio::spawn(recover(Arc::downgrade(&cache)));
        if let Some(l1) = l1 {
            tokio::spawn(l1_channel::run(Arc::downgrade(&cache), l1));
        }
        Ok(cache)
    }

    /// The in-process tier, when there is one.
    pub fn l1(&self) -> Option<&Arc<L1>> {
        self.l1.as_ref()
    }

    /// The in-process tier for a read of `scope` behind `guards`, if it may take
    /// part: only reads behind no guard but their scope's generation (lists behind
    /// day guards stay in Redis), and not while the scope awaits renewal.
    pub fn l1_for(&self, scope: &Scope, guards: &[String]) -> Option<&L1> {
        let l1 = self.l1.as_deref()?;
        (guards.is_empty() && !self.is_stale(scope)).then_some(l1)
    }

    /// A fresh subscription to the invalidation channel.
    pub(super) async fn subscribe_to_channel(&self) -> Option<redis::aio::PubSubStream> {
        self.connector.subscribe(&self.keys.channel()).await
    }

    /// Publishes a heartbeat through every master, each of which passes it to every
    /// node after the invalidations it ran before it (one node's messages keep their
    /// order; messages from different masters do not). Returns how many copies will
    /// come back, or `None` when any master did not take it. A failure counts against
    /// the connection like any call's (so a connection gone silent is replaced even
    /// with no request to notice), but a success does not count for it: one
    /// heartbeat taken must not close a breaker that requests opened.
    ///
    /// Takes the cache by weak reference and holds it only around the publish: a
    /// heartbeat in flight must not keep a dropped cache (and its recovery task,
    /// which could still renew scopes) alive.
    pub(super) async fn publish_heartbeat(cache: &Weak<Self>, message: String) -> Option<usize> {
        let (mut connection, channel, deadline) = {
            let cache = cache.upgrade()?;
            let connection = cache.connection.read().clone()?;
            let deadline = cache.timeout.max(Duration::from_millis(50));
            (connection, cache.keys.channel(), deadline)
        };
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(channel).arg(message);
        let sent = async {
            match &mut connection {
                RedisConnection::Standalone(single) => {
                    publish.query_async::<i64>(single).await.ok().map(|_| 1)
                }
                RedisConnection::Cluster(cluster) => {
                    let every_master = redis::cluster_routing::RoutingInfo::MultiNode((
                        redis::cluster_routing::MultipleNodeRoutingInfo::AllMasters,
                        None,
                    ));
                    // Without a response policy the cluster client answers node by node.
                    match cluster.route_command(publish, every_master).await {
                        Ok(redis::Value::Map(replies)) if !replies.is_empty() => replies
                            .iter()
                            .all(|(_, reply)| matches!(reply, redis::Value::Int(_)))
                            .then_some(replies.len()),
                        _ => None,
                    }
                }
            }
        };
        let outcome = tokio::time::timeout(deadline, sent).await;
        let cache = cache.upgrade()?;
        match outcome {
            Ok(Some(copies)) => Some(copies),
            Ok(None) => {
                cache.breaker.record_failure();
                None
            }
            Err(_) => {
                cache.breaker.record_failure();
                cache.connection_suspect.store(true, Ordering::Release);
                None
            }
        }
    }

    /// Publishes `message` on the invalidation channel (a whole-cache flush).
    pub(super) async fn publish_on_channel(&self, message: String) -> bool {
        let channel = self.keys.channel();
        let published: Option<i64> = self
            .call(|mut connection| async move {
                redis::cmd("PUBLISH")
                    .arg(&channel)
                    .arg(&message)
                    .query_async(&mut connection)
                    .await
            })
            .await;
        published.is_some()
    }

    /// Whether reads are served from Redis right now (scopes awaiting renewal aside).
    pub fn is_serving(&self) -> bool {
        self.connection.read().is_some() && self.breaker.state() == BreakerState::Closed
    }

    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    /// The version of the keys this cache reads and writes (`KEY_VERSION`).
    pub fn key_version(&self) -> &str {
        self.keys.version()
    }

    /// The namespace epoch this process uses now.
    pub fn epoch(&self) -> u64 {
        self.keys.epoch()
    }

    /// The full name of key `name` in `scope`.
    pub fn key(&self, scope: &Scope, name: &str) -> String {
        self.keys.key(scope, name)
    }

    fn is_stale(&self, scope: &Scope) -> bool {
        self.stale_count.load(Ordering::Acquire) > 0 && self.stale_scopes.lock().contains_key(scope)
    }

    /// The server's topology, once known: `standalone` or `cluster`.
    pub fn topology(&self) -> Option<Topology> {
        *self.topology.read()
    }

    async fn reconnect(&self) -> Result<(), ConnectError> {
        match self.connector.connect().await {
            Ok((connection, topology)) => {
                // The epoch first: nothing may be read or filled under an old one.
                if !self.refresh_epoch(connection.clone()).await {
                    return Err(ConnectError::Unreachable);
                }
                *self.connection.write() = Some(connection.clone());
                *self.topology.write() = Some(topology);
                self.connection_suspect.store(false, Ordering::Release);
                self.read_eviction_policy(connection.clone()).await;
                self.count_masters(connection).await;
                Ok(())
            }
            Err(ConnectError::Misconfigured(problem)) => {
                tracing::error!(%problem, "Redis cannot be used with these settings; serving from MongoDB alone");
                Err(ConnectError::Misconfigured(problem))
            }
            Err(ConnectError::Unreachable) => Err(ConnectError::Unreachable),
        }
    }

    /// For a cluster, counts the masters that serve slots and answer, for `/health`.
    async fn count_masters(&self, mut connection: RedisConnection) {
        if !matches!(connection, RedisConnection::Cluster(_)) {
            return;
        }
        let query = redis::cmd("CLUSTER");
        let mut query = query;
        query.arg("NODES");
        let nodes = query.query_async::<String>(&mut connection);
        if let Ok(Ok(nodes)) = tokio::time::timeout(Duration::from_secs(1), nodes).await {
            let masters = u32::try_from(masters_answering(&nodes)).unwrap_or(u32::MAX);
            self.masters.store(masters, Ordering::Release);
        }
    }

    /// Reads `maxmemory-policy` and warns unless it is `noeviction`: guards and
    /// generations carry a time to live, so any other policy may evict one before the
    /// values that depend on it, and an older value could be read again.
    async fn read_eviction_policy(&self, mut connection: RedisConnection) {
        let mut command = redis::cmd("CONFIG");
        command.arg("GET").arg("maxmemory-policy");
        let query = command.query_async::<redis::Value>(&mut connection);
        let policy = match tokio::time::timeout(Duration::from_secs(1), query).await {
            // A cluster answers for each node: the least safe answer counts.
            Ok(Ok(reply)) => {
                let mut policies = Vec::new();
                strings_in(&reply, &mut policies);
                policies.retain(|value| value != "maxmemory-policy");
                match policies.iter().find(|policy| *policy != "noeviction") {
                    Some(unsafe_policy) => EvictionPolicy::Policy(unsafe_policy.clone()),
                    None if policies.is_empty() => EvictionPolicy::Refused,
                    None => EvictionPolicy::Policy("noeviction".to_owned()),
                }
            }
            Ok(Err(_)) => EvictionPolicy::Refused,
            Err(_) => return,
        };
        let mut known = self.eviction_policy.write();
        if *known == policy {
            return;
        }
        match &policy {
            EvictionPolicy::Policy(name) if name == "noeviction" => {}
            EvictionPolicy::Policy(name) => tracing::error!(
                maxmemory_policy = %name,
                "Redis may evict cache keys (maxmemory-policy is not noeviction): an evicted guard can make an older value readable again; set maxmemory-policy noeviction"
            ),
            _ => tracing::warn!(
                "Redis refused CONFIG GET maxmemory-policy (as some managed services do): make sure it is noeviction, or an evicted guard can make an older value readable again"
            ),
        }
        *known = policy;
    }

    /// Runs one Redis call through the breaker and the deadline.
    async fn call<T, F, Fut>(&self, work: F) -> Option<T>
    where
        F: FnOnce(RedisConnection) -> Fut,
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
            // An answer, not a failure: Redis is up and refuses to grow. Only what
            // may grow memory is refused (fills, rate-limit counters); the breaker
            // stays closed, so hits are served and invalidations run.
            Ok(Err(error)) if error.code() == Some("OOM") => {
                self.refused_for_being_full();
                None
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
                self.connection_suspect.store(true, Ordering::Release);
                None
            }
        }
    }

    /// Looks key `name` of `scope` up behind the scope's generation and the named
    /// `guards` of the same scope, taking the fill lease on a miss.
    pub async fn lookup(&self, scope: &Scope, name: &str, guards: &[String]) -> Lookup {
        if self.is_stale(scope) {
            return Lookup::Unavailable;
        }
        let key = self.keys.key(scope, name);
        let lease = Keyspace::lease(&key);
        let mut keys = vec![key, lease, self.keys.key(scope, GENERATION)];
        keys.extend(guards.iter().map(|guard| self.keys.key(scope, guard)));
        // From the thread-local generator: no system call on the hot path.
        let token = format!("{:032x}", rand::random::<u128>());
        let lease_ms = millis(self.ttls.lease);
        let (keys_arg, token_arg) = (&keys, token.as_str());
        let reply: Option<redis::Value> = self
            .call(|mut connection| async move {
                let mut invocation = self.lookup.prepare_invoke();
                for key in keys_arg {
                    invocation.key(key);
                }
                invocation.arg(token_arg).arg(lease_ms);
                invocation.invoke_async(&mut connection).await
            })
            .await;
        match reply {
            Some(redis::Value::BulkString(value)) => Lookup::Hit(value),
            Some(redis::Value::Array(items)) => match items.as_slice() {
                [redis::Value::Int(2), redis::Value::BulkString(stamp)] => Lookup::Miss(Lease {
                    keys,
                    token,
                    stamp: stamp.clone(),
                    scope: scope.clone(),
                }),
                [redis::Value::Int(3)] => Lookup::Busy,
                [redis::Value::Int(4)] => {
                    self.refused_for_being_full();
                    Lookup::Unavailable
                }
                _ => Lookup::Unavailable,
            },
            _ => Lookup::Unavailable,
        }
    }

    /// Stores `value` under a leased key; false when the lease was voided by an
    /// invalidation (the value may be stale) or Redis could not be reached.
    pub async fn fill(&self, lease: Lease, value: Vec<u8>, ttl: Duration) -> bool {
        if self.is_stale(&lease.scope) {
            return false;
        }
        let ttl_ms = millis(jittered(ttl));
        let stored: Option<i64> = self
            .call(|mut connection| async move {
                let mut invocation = self.fill.prepare_invoke();
                for key in &lease.keys {
                    invocation.key(key);
                }
                invocation
                    .arg(&lease.token)
                    .arg(&lease.stamp)
                    .arg(value)
                    .arg(ttl_ms);
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

    /// Counts one attempt of `subject` (its own hash tag, so its own slot) against
    /// `per_minute`: `Some(Ok)` allowed, `Some(Err(wait))` refused, `None` when Redis
    /// did not answer (the caller limits on its own then). Counters live outside the
    /// namespace epoch: flushing the cache does not reset them.
    pub async fn rate_limit(&self, subject: &str, per_minute: u32) -> Option<Result<(), Duration>> {
        let key = self.keys.counter(subject);
        let wait_ms: Option<u64> = self
            .call(|mut connection| async move {
                self.rate_limit
                    .key(&key)
                    .arg(60_000)
                    .arg(per_minute.max(1))
                    .invoke_async(&mut connection)
                    .await
            })
            .await;
        wait_ms.map(|wait| match wait {
            0 => Ok(()),
            wait => Err(Duration::from_millis(wait)),
        })
    }

    /// Gives the lease back: its reader will not fill.
    pub async fn release(&self, lease: Lease) {
        let _: Option<i64> = self
            .call(|mut connection| async move {
                self.release
                    .key(&lease.keys[1])
                    .arg(&lease.token)
                    .invoke_async(&mut connection)
                    .await
            })
            .await;
    }

    /// Applies each scope's invalidation (one script call per scope, concurrently).
    /// A scope Redis did not confirm is not served by this process until its
    /// generation has been bumped. Returns whether Redis confirmed them all.
    pub async fn invalidate(&self, changes: &[Invalidation]) -> bool {
        let mut all_confirmed = true;
        let calls = changes
            .iter()
            .filter(|change| !change.keys.is_empty() || !change.guards.is_empty())
            .map(|change| async move { (change, self.invalidate_scope(change).await) });
        for (change, confirmed) in futures_util::future::join_all(calls).await {
            if confirmed {
                self.metrics
                    .invalidations
                    .inc_by(u64::try_from(change.keys.len() + change.guards.len()).unwrap_or(0));
            } else {
                all_confirmed = false;
                self.metrics.invalidation_failures.inc();
                self.mark_stale(change.scope.clone());
            }
        }
        // This process's own tier, whether or not Redis confirmed: before the write
        // is acknowledged, so this instance reads its own writes exactly.
        if let Some(l1) = &self.l1 {
            for message in changes.iter().filter_map(Message::of) {
                l1_channel::apply(l1, &message);
            }
        }
        all_confirmed
    }

    async fn invalidate_scope(&self, change: &Invalidation) -> bool {
        let guard_ttl_ms = millis(self.ttls.value * 3);
        // The values and their leases first (the script deletes the first `count`),
        // then the guards it bumps.
        let mut keys = Vec::with_capacity(change.keys.len() * 2 + change.guards.len());
        for name in &change.keys {
            let key = self.keys.key(&change.scope, name);
            keys.push(Keyspace::lease(&key));
            keys.push(key);
        }
        let count = keys.len();
        keys.extend(
            change
                .guards
                .iter()
                .map(|guard| self.keys.key(&change.scope, guard)),
        );
        let keys = &keys;
        let channel = self.keys.channel();
        // Published whether or not this process has a tier: others may.
        let message = Message::of(change)
            .map(|message| message.encode())
            .unwrap_or_default();
        let (channel, message) = (&channel, &message);
        let done: Option<i64> = self
            .call(|mut connection| async move {
                let mut invocation = self.invalidate.prepare_invoke();
                for key in keys {
                    invocation.key(key);
                }
                invocation
                    .arg(count)
                    .arg(guard_ttl_ms)
                    .arg(channel)
                    .arg(message);
                invocation.invoke_async(&mut connection).await
            })
            .await;
        done.is_some()
    }

    /// Redis refused to grow (it is at `maxmemory`): counted, shown on `/health`
    /// for a while, and logged when it starts.
    fn refused_for_being_full(&self) {
        self.metrics.redis_full_refusals.inc();
        let mut last = self.last_full.lock();
        if last.is_none_or(|at| at.elapsed() > FULL_SHOWN_FOR) {
            tracing::warn!(
                "Redis is full (maxmemory reached): nothing new is cached until it has room; invalidations still run"
            );
        }
        *last = Some(Instant::now());
    }

    /// Whether Redis refused something for being full lately.
    fn is_full(&self) -> bool {
        self.last_full
            .lock()
            .is_some_and(|at| at.elapsed() <= FULL_SHOWN_FOR)
    }

    fn mark_stale(&self, scope: Scope) {
        let mut stale = self.stale_scopes.lock();
        let losses = stale.entry(scope).or_insert(0);
        *losses += 1;
        if *losses == 1 {
            self.stale_count.store(stale.len(), Ordering::Release);
            if stale.len() == 1 {
                tracing::warn!(
                    "a cache invalidation did not reach Redis; the scopes it touched are read from the store until their generation is renewed"
                );
            }
        }
    }

    /// Bumps the generation of every scope an invalidation may have missed; each
    /// confirmed one is served again.
    async fn renew_stale_scopes(&self) {
        let scopes: Vec<(Scope, u64)> = self
            .stale_scopes
            .lock()
            .iter()
            .map(|(scope, losses)| (scope.clone(), *losses))
            .collect();
        for (scope, losses) in scopes {
            if !self
                .invalidate_scope(&Invalidation::flush(scope.clone()))
                .await
            {
                return;
            }
            let mut stale = self.stale_scopes.lock();
            // A loss during the renewal may postdate the bump: renew again.
            if stale.get(&scope) == Some(&losses) {
                stale.remove(&scope);
            }
            self.stale_count.store(stale.len(), Ordering::Release);
            if stale.is_empty() {
                tracing::info!(
                    "cache scopes renewed after a lost invalidation; the cache serves them again"
                );
            }
        }
    }

    /// Reads the namespace epoch other processes may have moved on (and restores it
    /// where Redis lost it); returns false when Redis did not answer.
    async fn refresh_epoch(&self, mut connection: RedisConnection) -> bool {
        let invocation = self.sync_epoch.key(self.keys.epoch_key());
        let mut invocation = invocation;
        invocation.arg(self.keys.epoch());
        let synced = invocation.invoke_async::<u64>(&mut connection);
        match tokio::time::timeout(self.timeout.max(Duration::from_millis(200)), synced).await {
            Ok(Ok(epoch)) => {
                if self.keys.advance_to(epoch) {
                    if let Some(l1) = &self.l1 {
                        l1.invalidate_all();
                    }
                    tracing::info!(
                        epoch = self.keys.epoch(),
                        "the cache moved to a new namespace epoch"
                    );
                }
                true
            }
            _ => false,
        }
    }

    /// Flushes the whole cache for every process: a new epoch names new keys, which
    /// every process reads within a recovery round (200 ms). Returns whether Redis
    /// confirmed it.
    pub async fn bump_namespace(&self) -> bool {
        let key = self.keys.epoch_key();
        let epoch: Option<u64> = self
            .call(|mut connection| async move {
                self.bump_epoch
                    .key(&key)
                    .invoke_async(&mut connection)
                    .await
            })
            .await;
        match epoch {
            Some(epoch) => {
                self.keys.advance_to(epoch);
                if let Some(l1) = &self.l1 {
                    l1.invalidate_all();
                }
                // Others learn the epoch within a recovery round anyway; this tells
                // their tiers at once.
                self.publish_on_channel(Message::FlushAll.encode()).await;
                self.metrics.namespace_bumps.inc();
                tracing::warn!(
                    epoch,
                    "the whole cache was flushed (a change of namespace epoch)"
                );
                true
            }
            None => false,
        }
    }

    /// One round of recovery: replace a connection that stopped answering, connect if
    /// needed, probe, renew scopes an invalidation may have missed. Returns whether
    /// the cache is serving afterwards.
    async fn recover_once(&self) -> bool {
        if self.connection.read().is_none() && self.reconnect().await.is_err() {
            self.breaker.trip();
            return false;
        }
        if self.breaker.state() != BreakerState::Closed {
            let Some(mut connection) = self.connection.read().clone() else {
                return false;
            };
            let ping = redis::cmd("PING");
            let ping = ping.query_async::<String>(&mut connection);
            match tokio::time::timeout(self.timeout.max(Duration::from_millis(200)), ping).await {
                Ok(Ok(_)) => self.breaker.record_success(),
                Ok(Err(_)) => {
                    self.breaker.trip();
                    return false;
                }
                Err(_) => {
                    // Silence, not an error: the peer may be gone without a word (a
                    // dead NAT entry, a failed-over address). Start afresh.
                    if self.connection_suspect.load(Ordering::Acquire) {
                        tracing::warn!("Redis stopped answering; reconnecting");
                        self.connection.write().take();
                    }
                    self.connection_suspect.store(true, Ordering::Release);
                    self.breaker.trip();
                    return false;
                }
            }
        }
        self.connection_suspect.store(false, Ordering::Release);
        let connection = self.connection.read().clone();
        if let Some(connection) = connection {
            self.refresh_epoch(connection).await;
        }
        if self.stale_count.load(Ordering::Acquire) > 0 {
            self.renew_stale_scopes().await;
        }
        self.breaker.state() == BreakerState::Closed
    }

    pub fn health(&self) -> ComponentHealth {
        let connected = self.connection.read().is_some();
        let breaker = self.breaker.state();
        let stale = self.stale_count.load(Ordering::Acquire);
        let eviction = self.eviction_policy.read().clone();
        let (status, detail) = if !connected {
            (ComponentStatus::Down, "not connected; reads and writes go to MongoDB, the cache reconnects in the background".to_owned())
        } else if breaker != BreakerState::Closed {
            (
                ComponentStatus::Down,
                format!("circuit breaker {}; reads go to MongoDB", breaker.as_str()),
            )
        } else if stale > 0 {
            (
                ComponentStatus::Degraded,
                format!(
                    "renewing {stale} cache scope(s) after a lost invalidation; their reads go to MongoDB"
                ),
            )
        } else if self.is_full() {
            (
                ComponentStatus::Degraded,
                "Redis is full (maxmemory reached): reads it misses go to MongoDB and nothing new is cached; invalidations still run".to_owned(),
            )
        } else if eviction.is_unsafe() {
            (
                ComponentStatus::Degraded,
                "maxmemory-policy is not noeviction: an evicted guard could bring back an older value".to_owned(),
            )
        } else {
            (ComponentStatus::Up, "circuit breaker closed".to_owned())
        };
        let topology = self.topology();
        ComponentHealth {
            status,
            persistent: false,
            detail: Some(detail),
            eviction_policy: eviction.name(),
            mode: topology.map(|topology| topology.as_str().to_owned()),
            masters: (topology == Some(Topology::Cluster))
                .then(|| self.masters.load(Ordering::Acquire)),
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

/// Every string in a reply, however nested (a cluster answers node by node).
fn strings_in(value: &redis::Value, found: &mut Vec<String>) {
    match value {
        redis::Value::BulkString(bytes) => found.push(String::from_utf8_lossy(bytes).into_owned()),
        redis::Value::SimpleString(text) => found.push(text.clone()),
        redis::Value::Array(items) | redis::Value::Set(items) => {
            items.iter().for_each(|item| strings_in(item, found));
        }
        redis::Value::Map(pairs) => pairs.iter().for_each(|(_, item)| strings_in(item, found)),
        _ => {}
    }
}

/// What the server said of its `maxmemory-policy`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum EvictionPolicy {
    Unread,
    /// `CONFIG GET` is refused (managed services, restricted users).
    Refused,
    Policy(String),
}

impl EvictionPolicy {
    fn is_unsafe(&self) -> bool {
        matches!(self, Self::Policy(name) if name != "noeviction")
    }

    fn name(&self) -> Option<String> {
        match self {
            Self::Unread => None,
            Self::Refused => Some("unknown".to_owned()),
            Self::Policy(name) => Some(name.clone()),
        }
    }
}

/// Whether Redis answers a PING within a second, for `balancelife config`.
pub async fn probe(settings: &RedisSettings) -> Result<bool, RedisConfigError> {
    Ok(Connector::new(settings)?.probe().await)
}

/// Keeps probing while Redis is unreachable or the namespace needs renewing; ends
/// when the cache is dropped.
async fn recover(cache: Weak<RedisCache>) {
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
