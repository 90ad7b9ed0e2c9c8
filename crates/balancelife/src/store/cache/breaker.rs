//! A circuit breaker for the cache: after repeated Redis failures it stops calling
//! Redis for a cool-down, so a dead or frozen Redis costs requests nothing, then lets
//! one probe through and closes again when Redis answers.
//!
//! On a Redis Cluster there is one per master (`Breakers`), so that one master's
//! trouble (a crash, the seconds until its replica is promoted) sends only the
//! reads of its own slots to the store, and the other masters' slots stay cached.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

pub struct Breaker {
    failure_threshold: u32,
    cool_down: Duration,
    consecutive_failures: AtomicU32,
    /// Milliseconds since `epoch` until which the breaker stays open; 0 = closed.
    open_until_ms: AtomicU64,
    /// Set while a half-open probe is in flight, so only one request probes.
    probing: AtomicU32,
    epoch: Instant,
}

impl Breaker {
    pub fn new(failure_threshold: u32, cool_down: Duration) -> Self {
        Self {
            failure_threshold,
            cool_down,
            consecutive_failures: AtomicU32::new(0),
            open_until_ms: AtomicU64::new(0),
            probing: AtomicU32::new(0),
            epoch: Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub fn state(&self) -> BreakerState {
        match self.open_until_ms.load(Ordering::Acquire) {
            0 => BreakerState::Closed,
            until if self.now_ms() < until => BreakerState::Open,
            _ => BreakerState::HalfOpen,
        }
    }

    /// Whether a call may go to Redis now. In half-open state only one caller at a
    /// time gets through; its outcome decides.
    pub fn allow(&self) -> bool {
        match self.state() {
            BreakerState::Closed => true,
            BreakerState::Open => false,
            BreakerState::HalfOpen => self
                .probing
                .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
                .is_ok(),
        }
    }

    pub fn record_success(&self) {
        self.consecutive_failures.store(0, Ordering::Release);
        self.open_until_ms.store(0, Ordering::Release);
        self.probing.store(0, Ordering::Release);
    }

    pub fn record_failure(&self) {
        let failures = self.consecutive_failures.fetch_add(1, Ordering::AcqRel) + 1;
        let probe_failed = self.probing.swap(0, Ordering::AcqRel) == 1;
        if failures >= self.failure_threshold || probe_failed {
            self.trip();
        }
    }

    /// Opens the breaker for one cool-down from now.
    pub fn trip(&self) {
        let until =
            self.now_ms() + u64::try_from(self.cool_down.as_millis()).unwrap_or(u64::MAX / 2);
        self.open_until_ms.store(until.max(1), Ordering::Release);
    }
}

/// Who a breaker stands for where no master serves a slot (between a master's
/// failure and its replica's promotion).
pub const UNSERVED: &str = "";

/// The breakers of one cache: a general one (a single server, and calls about no
/// slot in particular) and one per cluster master, by node id.
pub struct Breakers {
    general: Arc<Breaker>,
    by_master: Mutex<HashMap<String, Arc<Breaker>>>,
    failure_threshold: u32,
    cool_down: Duration,
}

impl Breakers {
    pub fn new(failure_threshold: u32, cool_down: Duration) -> Self {
        Self {
            general: Arc::new(Breaker::new(failure_threshold, cool_down)),
            by_master: Mutex::new(HashMap::new()),
            failure_threshold,
            cool_down,
        }
    }

    pub fn general(&self) -> &Arc<Breaker> {
        &self.general
    }

    /// The breaker of master `id` (`UNSERVED` for slots no master serves), closed
    /// when first asked for.
    pub fn of_master(&self, id: &str) -> Arc<Breaker> {
        let mut by_master = self.by_master.lock();
        if let Some(breaker) = by_master.get(id) {
            return breaker.clone();
        }
        let breaker = Arc::new(Breaker::new(self.failure_threshold, self.cool_down));
        by_master.insert(id.to_owned(), breaker.clone());
        breaker
    }

    /// The state of master `id`'s breaker (closed if it never had one).
    pub fn state_of(&self, id: &str) -> BreakerState {
        self.by_master
            .lock()
            .get(id)
            .map_or(BreakerState::Closed, |breaker| breaker.state())
    }

    /// Masters whose breaker is not closed.
    pub fn not_closed(&self) -> Vec<String> {
        self.by_master
            .lock()
            .iter()
            .filter(|(id, breaker)| {
                id.as_str() != UNSERVED && breaker.state() != BreakerState::Closed
            })
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Forgets the breakers of nodes that are no longer masters.
    pub fn keep_only(&self, masters: &[&str]) {
        self.by_master
            .lock()
            .retain(|id, _| id.as_str() == UNSERVED || masters.contains(&id.as_str()));
    }

    /// The least open state among them all, for the metrics.
    pub fn worst(&self) -> BreakerState {
        let rank = |state: BreakerState| match state {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
        };
        let by_master = self.by_master.lock();
        by_master
            .values()
            .map(|breaker| breaker.state())
            .chain([self.general.state()])
            .max_by_key(|state| rank(*state))
            .unwrap_or(BreakerState::Closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_masters_breaker_opens_alone() {
        let breakers = Breakers::new(1, Duration::from_secs(60));
        breakers.of_master("m1").record_failure();

        assert_eq!(breakers.state_of("m1"), BreakerState::Open);
        assert_eq!(breakers.state_of("m2"), BreakerState::Closed);
        assert_eq!(breakers.general().state(), BreakerState::Closed);
        assert_eq!(breakers.not_closed(), ["m1"]);
        assert_eq!(breakers.worst(), BreakerState::Open);

        breakers.keep_only(&["m2"]);
        assert!(
            breakers.not_closed().is_empty(),
            "a master gone takes its breaker"
        );
        assert_eq!(breakers.worst(), BreakerState::Closed);
    }

    #[test]
    fn states_have_the_names_health_and_metrics_show() {
        assert_eq!(BreakerState::Closed.as_str(), "closed");
        assert_eq!(BreakerState::Open.as_str(), "open");
        assert_eq!(BreakerState::HalfOpen.as_str(), "half_open");
    }

    #[test]
    fn it_opens_after_the_threshold_and_half_opens_after_the_cool_down() {
        let breaker = Breaker::new(3, Duration::from_millis(30));
        breaker.record_failure();
        breaker.record_failure();
        assert_eq!(breaker.state(), BreakerState::Closed);
        breaker.record_failure();
        assert_eq!(breaker.state(), BreakerState::Open);
        assert!(!breaker.allow());

        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        assert!(breaker.allow(), "one probe goes through");
        assert!(!breaker.allow(), "only one");
        breaker.record_failure();
        assert_eq!(
            breaker.state(),
            BreakerState::Open,
            "a failed probe re-opens it"
        );

        std::thread::sleep(Duration::from_millis(40));
        assert!(breaker.allow());
        breaker.record_success();
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert!(breaker.allow());
    }
}
