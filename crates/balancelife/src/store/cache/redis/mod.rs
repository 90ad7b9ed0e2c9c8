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
//! behind its scope's generation (see `keys`). A value is stored with the
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
//! (`REDIS_TIMEOUT_MS`) and goes through a circuit breaker (on a cluster, the one of
//! the master serving the call's slot), so a slow, frozen or dead Redis never fails
//! or stalls a request.

mod cluster_view;
mod cluster_watch;
mod connection;
mod node_links;
mod version;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use redis::Script;

use crate::config::{CacheSettings, RedisSettings};
use crate::metrics::CacheMetrics;
use crate::store::cache::breaker::{Breaker, BreakerState, Breakers, UNSERVED};
use crate::store::cache::keys::{GENERATION, Invalidation, KEY_VERSION, Keyspace, Scope};
use crate::store::cache::l1::L1;
use crate::store::cache::l1::channel::{self as l1_channel, Message};
use crate::store::cache::stale_scopes::{Renewal, StaleScopes};
use crate::store::{ComponentHealth, ComponentStatus};
use cluster_view::{ClusterView, slot_of};
use cluster_watch::ClusterWatch;
pub use connection::RedisConfigError;
use connection::{ConnectError, Connector, RedisConnection, Topology};
use version::ServerVersion;

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
/// `l1::channel`).
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

/// How long a server found too old for the scripts is left alone before it is
/// asked again (it may have been upgraded meanwhile).
const RECHECK_OLD_SERVER: Duration = Duration::from_secs(30);
/// How long "not found" is remembered: short, since something may be created.
const NOT_FOUND_TTL: Duration = Duration::from_secs(5);
/// How long a reader may take to fill a key before another may try.
const FILL_LEASE: Duration = Duration::from_secs(3);
/// Failures in a row that open a breaker, and how long it stays open.
const BREAKER_TRIPS_AFTER: u32 = 3;
const BREAKER_OPEN_FOR: Duration = Duration::from_millis(500);
/// The least time a heartbeat is given, however short `REDIS_TIMEOUT_MS`.
const HEARTBEAT_DEADLINE: Duration = Duration::from_millis(50);
/// How long a check off the request path may take at least: the cluster's
/// layout, the server's version and eviction policy, a batch of renewals.
const CHECK_DEADLINE: Duration = Duration::from_secs(1);
/// The least time a probe of an unreachable Redis is given, and how often one runs.
const PROBE_DEADLINE: Duration = Duration::from_millis(200);
const PROBE_EVERY: Duration = Duration::from_millis(200);
/// The window of the log-in counters, in the script's milliseconds.
const ATTEMPT_WINDOW_MS: u64 = 60_000;

/// Scope renewals sent to one node in one round trip (a pipeline).
const RENEWALS_PER_ROUND_TRIP: usize = 500;

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

/// One call of the invalidation script, as it takes it.
struct InvalidationCall {
    /// The values and leases to delete (`deleted` of them), then the guards to bump.
    keys: Vec<String>,
    deleted: usize,
    guard_ttl_ms: u64,
    channel: String,
    /// What it publishes for the in-process tiers ('' for nothing).
    message: String,
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
    /// For a cluster: its nodes as last read, and a link to each.
    cluster: Arc<ClusterWatch>,
    /// For a cluster: the view the connection was made for. When the masters move
    /// on (a failover) the connection is made afresh, for the new slot map, and the
    /// old one (still dialing the dead master) is dropped.
    connected_to: Mutex<Option<Arc<ClusterView>>>,
    keys: Keyspace,
    timeout: Duration,
    pub ttls: CacheTtls,
    breakers: Breakers,
    /// Scopes an invalidation may not have reached (see `stale_scopes`).
    stale_scopes: Mutex<StaleScopes>,
    /// Whether any are, so the hot path checks a number, not a lock.
    stale_count: AtomicUsize,
    /// Set when the connection stopped answering: the recovery task replaces it
    /// (a connection whose peer vanished without a word never fails by itself).
    connection_suspect: AtomicBool,
    /// The server's `maxmemory-policy`, read after each connection.
    eviction_policy: RwLock<EvictionPolicy>,
    /// A server too old for the scripts, as last found, and when.
    too_old: Mutex<Option<(ServerVersion, Instant)>>,
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
            topology: RwLock::new(None),
            cluster: Arc::new(ClusterWatch::new(connector.node_template())),
            connected_to: Mutex::new(None),
            keys: Keyspace::versioned(&settings.namespace, key_version),
            timeout: settings.timeout,
            ttls: CacheTtls {
                value: policy.ttl,
                not_found: NOT_FOUND_TTL,
                lease: FILL_LEASE,
            },
            connector,
            breakers: Breakers::new(BREAKER_TRIPS_AFTER, BREAKER_OPEN_FOR),
            stale_scopes: Mutex::new(StaleScopes::default()),
            stale_count: AtomicUsize::new(0),
            connection_suspect: AtomicBool::new(false),
            eviction_policy: RwLock::new(EvictionPolicy::Unread),
            too_old: Mutex::new(None),
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

    /// The in-process tier for a read of `scope`, if it may take part: not while
    /// the scope awaits renewal.
    pub fn l1_for(&self, scope: &Scope) -> Option<&L1> {
        let l1 = self.l1.as_deref()?;
        (!self.is_stale(scope)).then_some(l1)
    }

    /// A fresh subscription to the invalidation channel and to `instance`'s own
    /// heartbeat channel, on one connection (so on one node, which passes on what
    /// each node published in the order that node published it).
    async fn subscribe_to_channel(&self, instance: u64) -> Option<redis::aio::PubSubStream> {
        let channels = [self.keys.channel(), self.keys.heartbeat_channel(instance)];
        self.connector.subscribe(&channels).await
    }

    /// Publishes one of `instance`'s heartbeats on its own channel: on a single
    /// server once, on a cluster through every node in it (see `l1::channel` for why
    /// every node). Returns how many copies must come back for it to vouch for the
    /// channel, or `None` when no node took it (it cannot come back, and says
    /// nothing of the channel).
    ///
    /// A failure counts against the breaker of what failed (so a connection gone
    /// silent is replaced, and a dead master's slots skip Redis, even with no
    /// request to notice), but a success does not count for it: one heartbeat
    /// taken must not close a breaker that requests opened.
    ///
    /// Takes the cache by weak reference and holds it only around the publish: a
    /// heartbeat in flight must not keep a dropped cache (and its recovery task,
    /// which could still renew scopes) alive.
    async fn publish_heartbeat_through(
        cache: &Weak<Self>,
        instance: u64,
        message: String,
    ) -> Option<usize> {
        let (connection, cluster, channel, deadline) = {
            let cache = cache.upgrade()?;
            let connection = cache.connection.read().clone()?;
            let deadline = cache.timeout.max(HEARTBEAT_DEADLINE);
            let channel = cache.keys.heartbeat_channel(instance);
            (connection, cache.cluster.clone(), channel, deadline)
        };
        let mut single = match connection {
            RedisConnection::Standalone(single) => single,
            RedisConnection::Cluster(_) => {
                let published = cluster
                    .publish_through_every_node(&channel, &message, deadline)
                    .await?;
                let cache = cache.upgrade()?;
                for master in &published.refused_by_masters {
                    cache.breakers.of_master(master).record_failure();
                }
                return (published.took > 0).then_some(published.targets);
            }
        };
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(channel).arg(message);
        let outcome = tokio::time::timeout(deadline, publish.query_async::<i64>(&mut single)).await;
        let cache = cache.upgrade()?;
        let general = cache.breakers.general();
        match outcome {
            Ok(Ok(_)) => Some(1),
            Ok(Err(_)) => {
                general.record_failure();
                None
            }
            Err(_) => {
                general.record_failure();
                cache.connection_suspect.store(true, Ordering::Release);
                None
            }
        }
    }

    /// Publishes `message` on the invalidation channel (a whole-cache flush).
    pub(super) async fn publish_on_channel(&self, message: String) -> bool {
        let channel = self.keys.channel();
        let published: Option<i64> = self
            .call(None, |mut connection| async move {
                redis::cmd("PUBLISH")
                    .arg(&channel)
                    .arg(&message)
                    .query_async(&mut connection)
                    .await
            })
            .await;
        published.is_some()
    }

    /// Whether reads are served from Redis right now (scopes awaiting renewal, and
    /// the slots of a cluster master whose breaker is open, aside).
    pub fn is_serving(&self) -> bool {
        let (open, masters) = self.masters_open();
        self.connection.read().is_some()
            && self.breakers.general().state() == BreakerState::Closed
            && (masters == 0 || open < masters)
    }

    /// The least open of the breakers.
    pub fn breaker_state(&self) -> BreakerState {
        self.breakers.worst()
    }

    /// For a cluster: how many of its masters have a breaker that is not closed, and
    /// how many masters there are (0 and 0 for a single server).
    fn masters_open(&self) -> (usize, usize) {
        let Some(view) = self.cluster.view() else {
            return (0, 0);
        };
        let masters: Vec<&str> = view
            .masters()
            .filter(|node| !node.slots.is_empty())
            .map(|node| node.id.as_str())
            .collect();
        let open = masters
            .iter()
            .filter(|id| self.breakers.state_of(id) != BreakerState::Closed)
            .count();
        (open, masters.len())
    }

    /// The breaker a call about `key` goes through: on a cluster the one of the
    /// master serving its slot, else the general one.
    fn breaker_for(&self, key: Option<&str>) -> Arc<Breaker> {
        let view = if self.topology() == Some(Topology::Cluster) {
            self.cluster.view()
        } else {
            None
        };
        match (key, view) {
            (Some(key), Some(view)) => self
                .breakers
                .of_master(view.owner_of_key(key).map_or(UNSERVED, |node| &node.id)),
            _ => self.breakers.general().clone(),
        }
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
        self.stale_count.load(Ordering::Acquire) > 0 && self.stale_scopes.lock().contains(scope)
    }

    /// The server's topology, once known: `standalone` or `cluster`.
    pub fn topology(&self) -> Option<Topology> {
        *self.topology.read()
    }

    async fn reconnect(&self) -> Result<(), ConnectError> {
        match self.connector.connect().await {
            Ok((connection, topology)) => {
                // A server that cannot run the scripts is not used at all.
                if !self.runs_the_scripts(connection.clone()).await {
                    return Err(ConnectError::Unreachable);
                }
                // The epoch first: nothing may be read or filled under an old one.
                if !self.refresh_epoch(connection.clone()).await {
                    return Err(ConnectError::Unreachable);
                }
                if topology == Topology::Cluster {
                    // The view the new connection is for: a failover after it makes
                    // the next one.
                    self.cluster
                        .refresh(self.connector.seed_addrs(), CHECK_DEADLINE)
                        .await;
                    *self.connected_to.lock() = self.cluster.view();
                }
                *self.connection.write() = Some(connection.clone());
                *self.topology.write() = Some(topology);
                self.connection_suspect.store(false, Ordering::Release);
                self.read_eviction_policy(connection).await;
                Ok(())
            }
            Err(ConnectError::Misconfigured(problem)) => {
                tracing::error!(%problem, "Redis cannot be used with these settings; serving from MongoDB alone");
                Err(ConnectError::Misconfigured(problem))
            }
            Err(ConnectError::Unreachable) => Err(ConnectError::Unreachable),
        }
    }

    /// Whether the server is recent enough for the cache's scripts (see
    /// `redis_version`), as `INFO server` says; one that does not answer it is
    /// given the benefit of the doubt (its first script will tell).
    async fn runs_the_scripts(&self, mut connection: RedisConnection) -> bool {
        let mut command = redis::cmd("INFO");
        command.arg("server");
        let query = command.query_async::<redis::Value>(&mut connection);
        let version = match tokio::time::timeout(CHECK_DEADLINE, query).await {
            Ok(Ok(reply)) => {
                let mut replies = Vec::new();
                strings_in(&reply, &mut replies);
                version::oldest(replies.iter().map(String::as_str))
            }
            _ => None,
        };
        match version {
            Some(version) if !version.runs_the_scripts() => {
                self.refuse_old_server(version);
                false
            }
            _ => {
                self.too_old.lock().take();
                true
            }
        }
    }

    /// Stops using a server too old for the scripts, saying so once per version.
    fn refuse_old_server(&self, version: ServerVersion) {
        let mut too_old = self.too_old.lock();
        if too_old.as_ref().is_none_or(|(known, _)| *known != version) {
            tracing::error!(
                redis_version = version.as_str(),
                "REDIS IS TOO OLD FOR THE CACHE: its scripts need Redis {} or later; every read and write goes to MongoDB until Redis is upgraded",
                version::OLDEST_RUNNING_THE_SCRIPTS
            );
        }
        *too_old = Some((version, Instant::now()));
    }

    /// Whether the server was found too old for the scripts less than
    /// `RECHECK_OLD_SERVER` ago: it is not asked again before then.
    fn waiting_out_old_server(&self) -> bool {
        self.too_old
            .lock()
            .as_ref()
            .is_some_and(|(_, found)| found.elapsed() < RECHECK_OLD_SERVER)
    }

    /// Reads `maxmemory-policy` and warns unless it is `noeviction`: guards and
    /// generations carry a time to live, so any other policy may evict one before the
    /// values that depend on it, and an older value could be read again.
    async fn read_eviction_policy(&self, mut connection: RedisConnection) {
        let mut command = redis::cmd("CONFIG");
        command.arg("GET").arg("maxmemory-policy");
        let query = command.query_async::<redis::Value>(&mut connection);
        let policy = match tokio::time::timeout(CHECK_DEADLINE, query).await {
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

    /// Runs one Redis call about `key` (the first it touches, which decides its
    /// cluster slot) through its breaker and the deadline.
    async fn call<T, F, Fut>(&self, key: Option<&str>, work: F) -> Option<T>
    where
        F: FnOnce(RedisConnection) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        self.call_within(key, self.timeout, work).await
    }

    /// `call` with a deadline of its own (a batch in the background).
    async fn call_within<T, F, Fut>(
        &self,
        key: Option<&str>,
        deadline: Duration,
        work: F,
    ) -> Option<T>
    where
        F: FnOnce(RedisConnection) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let breaker = self.breaker_for(key);
        if !breaker.allow() {
            return None;
        }
        let Some(connection) = self.connection.read().clone() else {
            breaker.record_failure();
            return None;
        };
        match tokio::time::timeout(deadline, work(connection)).await {
            Ok(Ok(value)) => {
                breaker.record_success();
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
                breaker.record_failure();
                None
            }
            Err(_) => {
                self.metrics.redis_timeouts.inc();
                breaker.record_failure();
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
            .call(Some(&keys[0]), |mut connection| async move {
                let mut invocation = self.lookup.prepare_invoke();
                // Every key at once: a list of keys writes one argument each.
                invocation.key(keys_arg);
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
        let route = lease.keys[0].clone();
        let stored: Option<i64> = self
            .call(Some(&route), |mut connection| async move {
                let mut invocation = self.fill.prepare_invoke();
                // Every key at once: a list of keys writes one argument each.
                invocation.key(&lease.keys);
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
    async fn rate_limit(&self, subject: &str, per_minute: u32) -> Option<Result<(), Duration>> {
        let key = self.keys.counter(subject);
        let route = key.clone();
        let wait_ms: Option<u64> = self
            .call(Some(&route), |mut connection| async move {
                self.rate_limit
                    .key(&key)
                    .arg(ATTEMPT_WINDOW_MS)
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
        let route = lease.keys[0].clone();
        let _: Option<i64> = self
            .call(Some(&route), |mut connection| async move {
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
        let call = self.invalidation_call(change);
        let call = &call;
        let done: Option<i64> = self
            .call(Some(&call.keys[0]), |mut connection| async move {
                let mut invocation = self.invalidate.prepare_invoke();
                // Every key at once: a list of keys writes one argument each.
                invocation.key(&call.keys);
                invocation
                    .arg(call.deleted)
                    .arg(call.guard_ttl_ms)
                    .arg(&call.channel)
                    .arg(&call.message);
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

    /// What the invalidation script takes for `change`.
    fn invalidation_call(&self, change: &Invalidation) -> InvalidationCall {
        // The values and their leases first (the script deletes the first
        // `deleted`), then the guards it bumps.
        let mut keys = Vec::with_capacity(change.keys.len() * 2 + change.guards.len());
        for name in &change.keys {
            let key = self.keys.key(&change.scope, name);
            keys.push(Keyspace::lease(&key));
            keys.push(key);
        }
        let deleted = keys.len();
        keys.extend(
            change
                .guards
                .iter()
                .map(|guard| self.keys.key(&change.scope, guard)),
        );
        InvalidationCall {
            keys,
            deleted,
            guard_ttl_ms: millis(self.ttls.value * 3),
            channel: self.keys.channel(),
            // Published whether or not this process has a tier: others may.
            message: Message::of(change)
                .map(|message| message.encode())
                .unwrap_or_default(),
        }
    }

    fn mark_stale(&self, scope: Scope) {
        let mut stale = self.stale_scopes.lock();
        if stale.mark(scope) {
            tracing::warn!(
                "a cache invalidation did not reach Redis; the scopes it touched are read from the store until their generation is renewed"
            );
        }
        self.stale_count
            .store(usize::from(!stale.is_empty()), Ordering::Release);
    }

    /// Bumps the generation of every scope an invalidation may have missed, in
    /// batches (a pipeline per master, `RENEWALS_PER_ROUND_TRIP` scopes a round
    /// trip), or past `RENEW_AT_MOST` scopes flushes the whole cache instead; each
    /// confirmed scope is served again.
    async fn renew_stale_scopes(&self) {
        let renewal = self.stale_scopes.lock().renewal();
        match &renewal {
            Renewal::Everything { .. } => {
                if self.bump_namespace().await {
                    self.stale_scopes.lock().flushed(&renewal);
                }
            }
            Renewal::Scopes(scopes) => {
                let batches = self.renewal_batches(scopes);
                let rounds = batches.into_iter().map(|batches| async move {
                    for batch in batches {
                        let renewed = self.renew_batch(batch).await;
                        let mut stale = self.stale_scopes.lock();
                        for (scope, losses) in renewed {
                            stale.renewed(scope, *losses);
                        }
                    }
                });
                futures_util::future::join_all(rounds).await;
            }
        }
        let stale = self.stale_scopes.lock();
        self.stale_count
            .store(usize::from(!stale.is_empty()), Ordering::Release);
        if stale.is_empty() {
            tracing::info!(
                "cache scopes renewed after a lost invalidation; the cache serves them again"
            );
        }
        drop(stale);
    }

    /// `scopes` in batches of at most `RENEWALS_PER_ROUND_TRIP`, grouped by the
    /// master serving them (one group on a single server), each group's batches to
    /// be sent one after another.
    fn renewal_batches<'a>(&self, scopes: &'a [(Scope, u64)]) -> Vec<Vec<Vec<&'a (Scope, u64)>>> {
        let view = self
            .cluster
            .view()
            .filter(|_| self.topology() == Some(Topology::Cluster));
        let mut groups: std::collections::HashMap<Option<String>, Vec<&(Scope, u64)>> =
            std::collections::HashMap::new();
        for entry in scopes {
            let owner = view.as_ref().and_then(|view| {
                view.owner_of_key(&self.keys.key(&entry.0, GENERATION))
                    .map(|node| node.id.clone())
            });
            groups.entry(owner).or_default().push(entry);
        }
        groups
            .into_values()
            .map(|group| {
                group
                    .chunks(RENEWALS_PER_ROUND_TRIP)
                    .map(<[_]>::to_vec)
                    .collect()
            })
            .collect()
    }

    /// Bumps the generation of each scope of `batch` in one round trip to the node
    /// serving the first of them (all of them, as far as this process knows: a
    /// scope that moved meanwhile is refused there, and renewed next round).
    /// Returns the scopes renewed.
    async fn renew_batch<'a>(&self, batch: Vec<&'a (Scope, u64)>) -> Vec<&'a (Scope, u64)> {
        let calls: Vec<InvalidationCall> = batch
            .iter()
            .map(|(scope, _)| self.invalidation_call(&Invalidation::flush(scope.clone())))
            .collect();
        let mut pipeline = redis::pipe();
        // Loaded first in the same round trip: EVALSHA needs the script on that node.
        pipeline.cmd("SCRIPT").arg("LOAD").arg(INVALIDATE).ignore();
        for call in &calls {
            pipeline
                .cmd("EVALSHA")
                .arg(self.invalidate.get_hash())
                .arg(call.keys.len())
                .arg(&call.keys)
                .arg(call.deleted)
                .arg(call.guard_ttl_ms)
                .arg(&call.channel)
                .arg(&call.message);
        }
        pipeline.ignore_errors();
        let route = calls[0].keys[0].clone();
        // Not as a half-open breaker's probe: the recovery round probes first.
        if self.breaker_for(Some(&route)).state() != BreakerState::Closed {
            return Vec::new();
        }
        let slot = slot_of(&route);
        let pipeline = &pipeline;
        let deadline = self.timeout.max(CHECK_DEADLINE);
        self.metrics.renewal_round_trips.inc();
        let renewed: Option<Vec<bool>> = self
            .call_within(Some(&route), deadline, |connection| async move {
                match connection {
                    RedisConnection::Standalone(mut single) => {
                        let replies: Vec<redis::RedisResult<i64>> =
                            pipeline.query_async(&mut single).await?;
                        Ok(replies.iter().map(Result::is_ok).collect())
                    }
                    RedisConnection::Cluster(mut cluster) => {
                        let to = redis::cluster_routing::SingleNodeRoutingInfo::SpecificNode(
                            redis::cluster_routing::Route::new(
                                slot,
                                redis::cluster_routing::SlotAddr::Master,
                            ),
                        );
                        let replies = cluster
                            .route_pipeline(pipeline.clone(), 0, calls.len() + 1, to)
                            .await?;
                        // The first reply is the script's loading.
                        Ok(replies
                            .iter()
                            .skip(1)
                            .map(|reply| matches!(reply, redis::Value::Int(_)))
                            .collect())
                    }
                }
            })
            .await;
        let renewed: Vec<&(Scope, u64)> = batch
            .into_iter()
            .zip(renewed.unwrap_or_default())
            .filter_map(|(entry, renewed)| renewed.then_some(entry))
            .collect();
        self.metrics
            .scope_renewals
            .inc_by(u64::try_from(renewed.len()).unwrap_or(u64::MAX));
        renewed
    }

    /// Reads the namespace epoch other processes may have moved on (and restores it
    /// where Redis lost it); returns false when Redis did not answer.
    async fn refresh_epoch(&self, mut connection: RedisConnection) -> bool {
        let invocation = self.sync_epoch.key(self.keys.epoch_key());
        let mut invocation = invocation;
        invocation.arg(self.keys.epoch());
        let synced = invocation.invoke_async::<u64>(&mut connection);
        match tokio::time::timeout(self.probe_deadline(), synced).await {
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
        let route = key.clone();
        let epoch: Option<u64> = self
            .call(Some(&route), |mut connection| async move {
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
    /// needed, follow a cluster's failovers, probe, renew scopes an invalidation may
    /// have missed. Returns whether the cache is serving afterwards.
    async fn recover_once(&self) -> bool {
        let general = self.breakers.general();
        if self.connection.read().is_none()
            && (self.waiting_out_old_server() || self.reconnect().await.is_err())
        {
            general.trip();
            return false;
        }
        if self.topology() == Some(Topology::Cluster) {
            self.follow_cluster().await;
        }
        if general.state() != BreakerState::Closed {
            let Some(mut connection) = self.connection.read().clone() else {
                return false;
            };
            let ping = redis::cmd("PING");
            let ping = ping.query_async::<String>(&mut connection);
            match tokio::time::timeout(self.probe_deadline(), ping).await {
                Ok(Ok(_)) => general.record_success(),
                Ok(Err(_)) => {
                    general.trip();
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
                    general.trip();
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
        self.is_serving()
    }

    /// Reads the cluster afresh; connects anew when its masters changed since the
    /// connection was made (a failover: the cluster client would otherwise keep the
    /// old slot map and keep dialing the dead master); keeps a breaker for each
    /// master, and probes the open ones, each on its own node.
    async fn follow_cluster(&self) {
        let deadline = self.probe_deadline();
        if !self
            .cluster
            .refresh(self.connector.seed_addrs(), deadline)
            .await
        {
            return;
        }
        let Some(view) = self.cluster.view() else {
            return;
        };
        // Once the failover is over: until every slot is served again, a fresh
        // connection would find the same gap.
        let moved_on = view.serves_every_slot()
            && self
                .connected_to
                .lock()
                .as_ref()
                .is_some_and(|connected_to| !connected_to.same_masters(&view));
        if moved_on {
            tracing::info!(
                "the Redis Cluster has other masters (a failover); connecting afresh for its new slot map"
            );
            if let Err(ConnectError::Misconfigured(problem)) = self.reconnect().await {
                tracing::error!(%problem, "the Redis Cluster cannot be used any longer");
            }
        }
        let masters: Vec<&str> = view.masters().map(|node| node.id.as_str()).collect();
        self.breakers.keep_only(&masters);
        for id in self.breakers.not_closed() {
            let Some(node) = view.masters().find(|node| node.id == id) else {
                continue;
            };
            let breaker = self.breakers.of_master(&id);
            if self.cluster.ping(&node.addr, deadline).await {
                breaker.record_success();
            } else {
                breaker.trip();
            }
        }
    }

    /// How long a probe of Redis may take (not on the request path).
    fn probe_deadline(&self) -> Duration {
        self.timeout.max(PROBE_DEADLINE)
    }

    pub fn health(&self) -> ComponentHealth {
        let connected = self.connection.read().is_some();
        let general = self.breakers.general().state();
        let (open, masters) = self.masters_open();
        let stale = self.stale_scopes.lock().count();
        let eviction = self.eviction_policy.read().clone();
        let too_old = self
            .too_old
            .lock()
            .as_ref()
            .map(|(version, _)| version.clone());
        let (status, detail) = if let Some(version) = too_old.filter(|_| !connected) {
            (
                ComponentStatus::Degraded,
                format!(
                    "Redis {} is too old for the cache, whose scripts need Redis {} or later: every read and write goes to MongoDB until Redis is upgraded",
                    version.as_str(),
                    version::OLDEST_RUNNING_THE_SCRIPTS
                ),
            )
        } else if !connected {
            (ComponentStatus::Down, "not connected; reads and writes go to MongoDB, the cache reconnects in the background".to_owned())
        } else if general != BreakerState::Closed || (masters > 0 && open == masters) {
            let state = if general == BreakerState::Closed {
                BreakerState::Open
            } else {
                general
            };
            (
                ComponentStatus::Down,
                format!("circuit breaker {}; reads go to MongoDB", state.as_str()),
            )
        } else if open > 0 {
            (
                ComponentStatus::Degraded,
                format!(
                    "circuit breaker open for {open} of {masters} masters; reads of their slots go to MongoDB"
                ),
            )
        } else if stale != Some(0) {
            let scopes = stale.map_or("every".to_owned(), |count| count.to_string());
            (
                ComponentStatus::Degraded,
                format!(
                    "renewing {scopes} cache scope(s) after a lost invalidation; their reads go to MongoDB"
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
            masters: (topology == Some(Topology::Cluster)).then(|| {
                self.cluster.view().map_or(0, |view| {
                    u32::try_from(view.masters_answering()).unwrap_or(u32::MAX)
                })
            }),
        }
    }

    fn publish_breaker_state(&self) {
        let value = match self.breakers.worst() {
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
    let mut tick = tokio::time::interval(PROBE_EVERY);
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

#[async_trait::async_trait]
impl crate::rate_limit::AttemptCounter for RedisCache {
    async fn count(&self, subject: &str, per_minute: u32) -> Option<Result<(), Duration>> {
        self.rate_limit(subject, per_minute).await
    }
}

/// The channel's link is this cache's connections.
impl l1_channel::ChannelLink for RedisCache {
    async fn subscribe(&self, instance: u64) -> Option<redis::aio::PubSubStream> {
        self.subscribe_to_channel(instance).await
    }

    async fn publish_heartbeat(link: &Weak<Self>, instance: u64, message: String) -> Option<usize> {
        Self::publish_heartbeat_through(link, instance, message).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `INFO server` of a Redis before 7.0 leads to (no such server is at hand
    /// to run): the cache stays off, `/health` says why, and the server is not
    /// dialed again at every recovery round.
    #[tokio::test]
    async fn a_server_too_old_for_the_scripts_is_reported_and_left_alone() {
        let nowhere = RedisSettings::new("127.0.0.1:1");
        let cache = RedisCache::start(&nowhere, &crate::config::Settings::default().cache)
            .await
            .unwrap();
        let old = version::oldest(["redis_version:6.2.14"]).unwrap();

        cache.refuse_old_server(old);

        let health = cache.health();
        assert_eq!(health.status, ComponentStatus::Degraded, "{health:?}");
        let detail = health.detail.unwrap_or_default();
        assert!(
            detail.contains("Redis 6.2.14 is too old") && detail.contains("7.0 or later"),
            "{detail}"
        );
        assert!(!cache.is_serving());
        assert!(cache.waiting_out_old_server());
        assert!(!cache.recover_once().await);
    }
}
