//! Counting attempts in a window, the one thing the log-in limits need: the API
//! asks this interface, and the wiring decides what answers it. Redis answers for
//! every instance at once (`store::cache::redis`); `LocalCounter` answers for this
//! instance alone, when there is no Redis or it does not answer.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use parking_lot::Mutex;

/// Counts attempts of a subject in a minute: the log-in limits' one question.
#[async_trait]
pub trait AttemptCounter: Send + Sync {
    /// Counts one attempt of `subject` against `per_minute` attempts in any minute:
    /// `Some(Ok)` allowed, `Some(Err(wait))` refused for `wait`, `None` when the
    /// counters did not answer (the caller then limits on its own).
    async fn count(&self, subject: &str, per_minute: u32) -> Option<Result<(), Duration>>;
}

/// Counters in this process's memory (GCRA, as the Redis script): they always
/// answer, and forget a subject once its budget has fully recovered.
#[derive(Default)]
pub struct LocalCounter {
    /// One keyed limiter per rate, since a limiter has one quota.
    limiters: Mutex<HashMap<u32, Arc<DefaultKeyedRateLimiter<String>>>>,
    clock: DefaultClock,
}

impl LocalCounter {
    fn limiter(&self, per_minute: u32) -> Arc<DefaultKeyedRateLimiter<String>> {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let mut limiters = self.limiters.lock();
        let limiter = limiters
            .entry(per_minute.get())
            .or_insert_with(|| Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))));
        Arc::clone(limiter)
    }
}

#[async_trait]
impl AttemptCounter for LocalCounter {
    async fn count(&self, subject: &str, per_minute: u32) -> Option<Result<(), Duration>> {
        let limiter = self.limiter(per_minute);
        let counted = limiter
            .check_key(&subject.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()));
        // Now and then, forget subjects whose budget has fully recovered.
        if rand::random::<u8>() == 0 {
            limiter.retain_recent();
        }
        Some(counted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_subject_gets_its_rate_and_no_more_and_others_are_apart() {
        let counter = LocalCounter::default();
        for _ in 0..3 {
            assert_eq!(counter.count("a", 3).await, Some(Ok(())));
        }
        let refused = counter.count("a", 3).await.unwrap().unwrap_err();
        assert!(
            refused > Duration::ZERO && refused <= Duration::from_secs(20),
            "{refused:?}"
        );
        assert_eq!(counter.count("b", 3).await, Some(Ok(())), "another subject");
        assert_eq!(counter.count("a", 10).await, Some(Ok(())), "another rate");
    }
}
