//! A month's day sums, assembled from each day's own sums in Redis, so that a write
//! costs the next summary one day's work rather than its month's.
//!
//! A summary reads whole months (each a key behind its month's guard). When a write
//! voids a month, the month is not aggregated again from every entry it holds: each
//! of its days has a key of its own, behind that day's guard, and only the days the
//! write voided (or that were never cached) are read from the store, in one
//! aggregation over their span. A write bumps its day's guard and its month's
//! together, so a month and its days are voided as one.
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

/// The name of one day's sums of `kind` in a user's scope: under the entry lists'
/// prefix, as the month's, so that writes detach their loads alike.
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
/// reading the days the cache lacks with `load` (one call, over their span).
pub async fn month_from_days<F, Fut>(
    cache: &RedisCache,
    scope: &Scope,
    kind: &str,
    month: DateRange,
    load: F,
) -> StoreResult<DaySumsByDate>
where
    F: FnOnce(DateRange) -> Fut,
    Fut: Future<Output = StoreResult<DaySumsByDate>>,
{
    let days: Vec<NaiveDate> = month
        .from()
        .iter_days()
        .take_while(|day| *day <= month.to())
        .collect();
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
                    cache.metrics.hits.inc();
                    keep(&mut sums, day, day_sums);
                    continue;
                }
                // Unreadable (another version's): read it, and leave it be.
                _ => None,
            },
            Lookup::Miss(lease) => {
                cache.metrics.misses.inc();
                Some(lease)
            }
            // Another reader is filling it, or Redis is out of reach: read it, and
            // leave the filling to others.
            Lookup::Busy | Lookup::Unavailable => None,
        };
        missing.push(Missing { day, lease });
    }
    let (Some(first), Some(last)) = (missing.first(), missing.last()) else {
        return Ok(sums);
    };
    let span = DateRange::new(first.day, last.day).expect("days in order");
    let loaded = match load(span).await {
        Ok(loaded) => loaded,
        Err(error) => {
            let leases = missing.into_iter().filter_map(|missing| missing.lease);
            futures_util::future::join_all(leases.map(|lease| cache.release(lease))).await;
            return Err(error);
        }
    };
    let ttl = cache.ttls.value;
    let fills = missing.into_iter().map(|Missing { day, lease }| {
        // A day without entries is cached too, as zeros: it is what most days are.
        let day_sums = loaded.get(&day).copied().unwrap_or_default();
        keep(&mut sums, day, day_sums);
        async move {
            if let Some(lease) = lease {
                cache.fill(lease, encode(Some(&day_sums)), ttl).await;
            }
        }
    });
    let fills: Vec<_> = fills.collect();
    futures_util::future::join_all(fills).await;
    Ok(sums)
}

/// Adds a day to the month's sums when it has entries: days without are left out,
/// as the store leaves them out.
fn keep(sums: &mut DaySumsByDate, day: NaiveDate, day_sums: DaySums) {
    if day_sums.entries > 0 {
        sums.insert(day, day_sums);
    }
}
