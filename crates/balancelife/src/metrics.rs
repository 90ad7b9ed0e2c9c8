//! Prometheus metrics for the connections, the cache and the store behind it,
//! rendered as text at `GET /metrics`.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Every counter the cache keeps. Cheap to clone: each metric is a shared handle.
#[derive(Clone)]
pub struct CacheMetrics {
    pub hits: Counter,
    pub misses: Counter,
    pub fills: Counter,
    pub fills_rejected_stale: Counter,
    pub coalesced: Counter,
    pub invalidations: Counter,
    pub invalidation_failures: Counter,
    pub redis_errors: Counter,
    pub redis_timeouts: Counter,
    /// Fills, fill leases and counters Redis refused for being at `maxmemory`.
    pub redis_full_refusals: Counter,
    pub bypassed: Counter,
    pub store_calls: Counter,
    /// 0 closed, 1 half-open, 2 open.
    pub breaker_state: Gauge,
    pub store_latency_seconds: Histogram,
    /// Changes invalidated by the change-stream invalidator.
    pub stream_invalidations: Counter,
    /// Times this process took the invalidator's lease.
    pub stream_lease_takeovers: Counter,
    /// Streams resumed from a saved token.
    pub stream_resumes: Counter,
    /// Whole-cache flushes (a change of namespace), for changes nobody could vouch for.
    pub namespace_bumps: Counter,
    /// Scopes renewed (their generation bumped) after a lost invalidation.
    pub scope_renewals: Counter,
    /// Round trips those renewals took (a batch each).
    pub renewal_round_trips: Counter,
    /// Seconds from a change in MongoDB to its invalidation by the stream.
    pub stream_lag_seconds: Histogram,
}

impl Default for CacheMetrics {
    fn default() -> Self {
        Self {
            hits: Counter::default(),
            misses: Counter::default(),
            fills: Counter::default(),
            fills_rejected_stale: Counter::default(),
            coalesced: Counter::default(),
            invalidations: Counter::default(),
            invalidation_failures: Counter::default(),
            redis_errors: Counter::default(),
            redis_timeouts: Counter::default(),
            redis_full_refusals: Counter::default(),
            bypassed: Counter::default(),
            store_calls: Counter::default(),
            breaker_state: Gauge::default(),
            // 50 µs to ~1.6 s.
            store_latency_seconds: Histogram::new(exponential_buckets(0.000_05, 2.0, 16)),
            stream_invalidations: Counter::default(),
            stream_lease_takeovers: Counter::default(),
            stream_resumes: Counter::default(),
            namespace_bumps: Counter::default(),
            scope_renewals: Counter::default(),
            renewal_round_trips: Counter::default(),
            // 1 ms to ~16 s.
            stream_lag_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
        }
    }
}

impl CacheMetrics {
    fn register(&self, registry: &mut Registry) {
        let counters = [
            (
                "balancelife_cache_hits",
                "Reads answered from Redis",
                &self.hits,
            ),
            (
                "balancelife_cache_misses",
                "Reads Redis could not answer",
                &self.misses,
            ),
            (
                "balancelife_cache_fills",
                "Values written to Redis after a miss",
                &self.fills,
            ),
            (
                "balancelife_cache_fills_rejected_stale",
                "Fills refused because an invalidation came after the read",
                &self.fills_rejected_stale,
            ),
            (
                "balancelife_cache_coalesced",
                "Reads that waited for a concurrent identical read instead of the store",
                &self.coalesced,
            ),
            (
                "balancelife_cache_invalidations",
                "Keys invalidated after writes",
                &self.invalidations,
            ),
            (
                "balancelife_cache_invalidation_failures",
                "Invalidations that could not reach Redis (the cache namespace is then renewed)",
                &self.invalidation_failures,
            ),
            (
                "balancelife_redis_errors",
                "Redis calls that failed",
                &self.redis_errors,
            ),
            (
                "balancelife_redis_timeouts",
                "Redis calls that timed out",
                &self.redis_timeouts,
            ),
            (
                "balancelife_redis_full_refusals",
                "Fills, fill leases and counters Redis refused because it is at maxmemory",
                &self.redis_full_refusals,
            ),
            (
                "balancelife_store_calls",
                "Reads and writes that reached the store behind the cache",
                &self.store_calls,
            ),
            (
                "balancelife_cache_bypassed",
                "Reads sent straight to the store (breaker open or cache being renewed)",
                &self.bypassed,
            ),
            (
                "balancelife_stream_invalidations",
                "Changes invalidated by the change-stream invalidator",
                &self.stream_invalidations,
            ),
            (
                "balancelife_stream_lease_takeovers",
                "Times this process took the change-stream invalidator's lease",
                &self.stream_lease_takeovers,
            ),
            (
                "balancelife_stream_resumes",
                "Change streams resumed from a saved token",
                &self.stream_resumes,
            ),
            (
                "balancelife_cache_namespace_bumps",
                "Whole-cache flushes for changes no invalidation could vouch for",
                &self.namespace_bumps,
            ),
            (
                "balancelife_cache_scope_renewals",
                "Scopes renewed after an invalidation Redis did not confirm",
                &self.scope_renewals,
            ),
            (
                "balancelife_cache_renewal_round_trips",
                "Round trips to Redis those renewals took (a batch each)",
                &self.renewal_round_trips,
            ),
        ];
        register_counters(registry, &counters);
        registry.register(
            "balancelife_cache_breaker_state",
            "Redis circuit breaker: 0 closed, 1 half-open, 2 open",
            self.breaker_state.clone(),
        );
        registry.register(
            "balancelife_stream_lag_seconds",
            "Seconds from a change in MongoDB to its invalidation by the change stream",
            self.stream_lag_seconds.clone(),
        );
        registry.register(
            "balancelife_store_latency_seconds",
            "Latency of reads and writes to the store behind the cache",
            self.store_latency_seconds.clone(),
        );
    }
}

/// What the in-process tier (L1) keeps count of.
#[derive(Clone, Default)]
pub struct L1Metrics {
    pub hits: Counter,
    pub misses: Counter,
    /// Entries and bytes held, as last published.
    pub entries: Gauge,
    pub bytes: Gauge,
    /// Entries dropped to stay within `L1_CACHE_MB`.
    pub evictions: Counter,
    /// Invalidation messages received from other instances (and this one).
    pub invalidations_received: Counter,
    /// Times the invalidation channel was lost or late and the tier emptied.
    pub channel_losses: Counter,
}

impl L1Metrics {
    fn register(&self, registry: &mut Registry) {
        let counters = [
            (
                "balancelife_l1_hits",
                "Reads answered from this process's memory",
                &self.hits,
            ),
            (
                "balancelife_l1_misses",
                "Reads this process's memory could not answer",
                &self.misses,
            ),
            (
                "balancelife_l1_evictions",
                "Entries dropped from this process's memory to stay within L1_CACHE_MB",
                &self.evictions,
            ),
            (
                "balancelife_l1_invalidations_received",
                "Invalidation messages received on the channel",
                &self.invalidations_received,
            ),
            (
                "balancelife_l1_channel_losses",
                "Times the invalidation channel was lost or late and the in-process tier emptied",
                &self.channel_losses,
            ),
        ];
        register_counters(registry, &counters);
        registry.register(
            "balancelife_l1_entries",
            "Entries held in this process's memory",
            self.entries.clone(),
        );
        registry.register(
            "balancelife_l1_bytes",
            "Bytes held in this process's memory (encoded size plus overhead)",
            self.bytes.clone(),
        );
    }
}

/// Registers each `(name, help, counter)`.
fn register_counters(registry: &mut Registry, counters: &[(&str, &str, &Counter)]) {
    for (name, help, counter) in counters {
        registry.register(*name, *help, (*counter).clone());
    }
}

/// What the server loop does to connections on its own, beyond serving them.
#[derive(Clone, Debug, Default)]
pub struct ConnectionMetrics {
    /// Closed as soon as accepted: `MAX_CONNECTIONS` were open.
    pub refused: Counter,
    /// Closed gracefully: no request open for `HEADER_TIMEOUT_MS`.
    pub closed_idle: Counter,
    /// Dropped: an answer waited on its client for `SEND_TIMEOUT_MS`.
    pub dropped_stalled: Counter,
}

impl ConnectionMetrics {
    fn register(&self, registry: &mut Registry) {
        let counters = [
            (
                "balancelife_connections_refused",
                "Connections closed as soon as accepted because MAX_CONNECTIONS were open",
                &self.refused,
            ),
            (
                "balancelife_connections_closed_idle",
                "Connections closed because no request was open on them for HEADER_TIMEOUT_MS",
                &self.closed_idle,
            ),
            (
                "balancelife_connections_dropped_stalled",
                "Connections dropped because an answer waited on its client for SEND_TIMEOUT_MS",
                &self.dropped_stalled,
            ),
        ];
        register_counters(registry, &counters);
    }
}

/// What `GET /metrics` answers with: the metrics registered once, when the store
/// is chosen, and encoded on each scrape. The connections' always; the cache's
/// when there is one.
#[derive(Debug)]
pub struct Exposition {
    registry: Registry,
    connections: ConnectionMetrics,
}

impl Default for Exposition {
    fn default() -> Self {
        Self::new(None, None)
    }
}

impl Exposition {
    pub fn new(metrics: Option<&CacheMetrics>, l1: Option<&L1Metrics>) -> Self {
        let mut registry = Registry::default();
        let connections = ConnectionMetrics::default();
        connections.register(&mut registry);
        if let Some(metrics) = metrics {
            metrics.register(&mut registry);
        }
        if let Some(l1) = l1 {
            l1.register(&mut registry);
        }
        Self {
            registry,
            connections,
        }
    }

    /// The counters the server loop keeps.
    pub fn connections(&self) -> &ConnectionMetrics {
        &self.connections
    }

    /// The text exposition of every metric's current value.
    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}
