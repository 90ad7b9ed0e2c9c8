//! A month's day sums, assembled from each day's own sums in Redis, so that a write
//! costs the next summary one day's work rather than its month's.
//!
//! A summary reads whole months (each a key behind its month's guard). When a write
//! voids a month, the month is not aggregated again from every entry it holds: each
//! of its days has a key of its own, behind that day's guard, and only the days the
//! write voided (or that were never cached) are read from the store, in one
//! aggregation per run of consecutive missing days. A write bumps its day's guard
//! and its month's together, so a month and its days are voided as one.
//!
//! The days are looked up in Redis, never in this process's tier (L1), though the
//! month they make up is kept there: the month is written to Redis too, under the
//! guards as they stood at its miss, and a day this process still held from before
//! another instance's write (whose message had not arrived yet) would put a stale
//! month in Redis, for every instance, until it expired.
//!
//! Each missing day's lease is taken before the store is read, as every fill's is: a
//! write that lands meanwhile voids the lease, and the stale sum is not kept. The
//! day keys bypass the in-process load coalescing on purpose: the month above them
//! is already coalesced, and a month load that waited on another month load's day
//! could wait on a load that waits on it.

use std::future::Future;

use chrono::NaiveDate;

use crate::domain::DaySums;
use crate::store::cache::codec::{decode, encode};
use crate::store::cache::keys::{Scope, day_guard, entries_prefix};
use crate::store::cache::redis::{Lease, Lookup, RedisCache};
use crate::store::{DateRange, DaySumsByDate, StoreResult};

/// The name of one day's sums of `kind` in a user's scope, under the entry lists'
/// prefix as the month's is.
fn day_sums_name(kind: &str, day: NaiveDate) -> String {
    format!("{}sums-day:{day}", entries_prefix(kind))
}

/// A day the cache could not answer for: read from the store, and filled when this
/// reader holds its lease.
struct Missing {
    day: NaiveDate,
    lease: Option<Lease>,
}

/// The day sums of `month` for the user of `scope`, from each day's cached sums,
/// reading the days the cache lacks with `load` (one call per run of consecutive
/// days). Day lookups are not counted as the cache's hits and misses: the month's
/// lookup, which they serve, is.
pub async fn month_from_days<F, Fut>(
    cache: &RedisCache,
    scope: &Scope,
    kind: &str,
    month: DateRange,
    load: F,
) -> StoreResult<DaySumsByDate>
where
    F: Fn(DateRange) -> Fut,
    Fut: Future<Output = StoreResult<DaySumsByDate>>,
{
    let days: Vec<NaiveDate> = month.dates().collect();
    // Concurrently: on one connection they travel as one pipeline.
    let lookups = futures_util::future::join_all(days.iter().map(|day| {
        let guards = [day_guard(kind, *day)];
        async move {
            cache
                .lookup(scope, &day_sums_name(kind, *day), &guards)
                .await
        }
    }))
    .await;

    let mut sums = DaySumsByDate::new();
    let mut missing = Vec::new();
    for (day, lookup) in days.into_iter().zip(lookups) {
        let lease = match lookup {
            Lookup::Hit(bytes) => match decode::<DaySums>(&bytes) {
                Some(Ok(day_sums)) => {
                    keep(&mut sums, day, day_sums);
                    continue;
                }
                // Unreadable (another version's): read it, and leave it be.
                _ => None,
            },
            Lookup::Miss(lease) => Some(lease),
            // Another reader is filling it, or Redis is out of reach: read it, and
            // leave the filling to others.
            Lookup::Busy | Lookup::Unavailable => None,
        };
        missing.push(Missing { day, lease });
    }
    // One read per run of consecutive missing days, concurrently: the days cached
    // between two runs are not read again.
    let loads = runs_of(&missing).into_iter().map(&load);
    let loaded = match futures_util::future::try_join_all(loads).await {
        Ok(loaded) => loaded,
        Err(error) => {
            let leases = missing.into_iter().filter_map(|missing| missing.lease);
            futures_util::future::join_all(leases.map(|lease| cache.release(lease))).await;
            return Err(error);
        }
    };
    let loaded: DaySumsByDate = loaded.into_iter().flatten().collect();
    let ttl = cache.ttls.value;
    let fills: Vec<_> = missing
        .into_iter()
        .map(|Missing { day, lease }| {
            // A day without entries is cached too, as zeros: it is what most days are.
            let day_sums = loaded.get(&day).copied().unwrap_or_default();
            keep(&mut sums, day, day_sums);
            async move {
                if let Some(lease) = lease {
                    cache.fill(lease, encode(Some(&day_sums)), ttl).await;
                }
            }
        })
        .collect();
    futures_util::future::join_all(fills).await;
    Ok(sums)
}

/// The runs of consecutive days in `missing` (in order), each as a range.
fn runs_of(missing: &[Missing]) -> Vec<DateRange> {
    let mut runs: Vec<DateRange> = Vec::new();
    for Missing { day, .. } in missing {
        match runs.last_mut() {
            Some(run) if run.to().succ_opt() == Some(*day) => {
                *run = DateRange::new(run.from(), *day).expect("days in order");
            }
            _ => runs.push(DateRange::day(*day)),
        }
    }
    runs
}

/// Adds a day to the month's sums when it has entries: days without are left out,
/// as the store leaves them out.
fn keep(sums: &mut DaySumsByDate, day: NaiveDate, day_sums: DaySums) {
    if day_sums.entries > 0 {
        sums.insert(day, day_sums);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missing(days: &[u32]) -> Vec<Missing> {
        days.iter()
            .map(|day| Missing {
                day: NaiveDate::from_ymd_opt(2026, 2, *day).unwrap(),
                lease: None,
            })
            .collect()
    }

    fn spans(runs: Vec<DateRange>) -> Vec<(u32, u32)> {
        use chrono::Datelike;
        runs.iter()
            .map(|run| (run.from().day(), run.to().day()))
            .collect()
    }

    #[test]
    fn each_run_of_consecutive_missing_days_is_one_read() {
        assert_eq!(spans(runs_of(&missing(&[]))), vec![]);
        assert_eq!(spans(runs_of(&missing(&[10]))), vec![(10, 10)]);
        assert_eq!(
            spans(runs_of(&missing(&[1, 2, 3, 25, 27, 28]))),
            vec![(1, 3), (25, 25), (27, 28)]
        );
    }
}
