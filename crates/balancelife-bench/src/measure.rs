//! Runs one operation many times from a number of concurrent clients and records
//! every latency in an HDR histogram.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use futures_util::future::BoxFuture;
use hdrhistogram::Histogram;
use serde::Serialize;

/// One operation; called with the operation's number (0, 1, 2, …).
pub type Op = Arc<dyn Fn(usize) -> BoxFuture<'static, ()> + Send + Sync>;

/// The figures of one row. Read back too: the food rows come from a child process
/// as JSON.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
pub struct Stats {
    pub ops: usize,
    pub ops_per_sec: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// The serving process's CPU time (user + system) per operation, where it runs
    /// in a process of its own (the HTTP rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_us_per_op: Option<f64>,
}

/// `total` calls of `op`, shared out among `clients` tasks that each run one call at
/// a time.
pub async fn measure(clients: usize, total: usize, op: Op) -> Stats {
    let (latencies, seconds) = record(clients, total, op).await;
    stats(&latencies, seconds)
}

/// `measure` for several ops under load, in `rounds` alternating rounds of
/// `total / rounds` calls each, so that machine noise weighs on every op alike.
/// Returns one `Stats` per op, in order.
pub async fn alternating(clients: usize, total: usize, rounds: usize, ops: &[Op]) -> Vec<Stats> {
    let mut recorded: Vec<_> = ops.iter().map(|_| (histogram(), 0.0)).collect();
    for _ in 0..rounds {
        for (op, (latencies, seconds)) in ops.iter().zip(&mut recorded) {
            let (round, took) = record(clients, total / rounds, op.clone()).await;
            latencies
                .add(&round)
                .expect("histograms with auto-resize merge");
            *seconds += took;
        }
    }
    recorded
        .iter()
        .map(|(latencies, seconds)| stats(latencies, *seconds))
        .collect()
}

/// The latencies of `total` calls from `clients` concurrent clients, and the seconds
/// they took.
async fn record(clients: usize, total: usize, op: Op) -> (Histogram<u64>, f64) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let next = next.clone();
            let op = op.clone();
            tokio::spawn(async move {
                let mut latencies = histogram();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        return latencies;
                    }
                    let began = Instant::now();
                    op(n).await;
                    let nanos = u64::try_from(began.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    latencies.saturating_record(nanos.max(1));
                }
            })
        })
        .collect();
    let mut all = histogram();
    for worker in workers {
        let latencies = worker.await.expect("a benchmark client panicked");
        all.add(&latencies)
            .expect("histograms with auto-resize merge");
    }
    (all, started.elapsed().as_secs_f64())
}

/// `rounds` rounds of one call of each op in turn, from one client: the ops share
/// every moment of machine noise, so their ratios are as fair as one run can make
/// them. Returns one `Stats` per op, in order.
pub async fn interleaved(rounds: usize, ops: &[Op]) -> Vec<Stats> {
    let mut latencies: Vec<_> = ops.iter().map(|_| histogram()).collect();
    for n in 0..rounds {
        for (op, recorded) in ops.iter().zip(&mut latencies) {
            let began = Instant::now();
            op(n).await;
            let nanos = u64::try_from(began.elapsed().as_nanos()).unwrap_or(u64::MAX);
            recorded.saturating_record(nanos.max(1));
        }
    }
    latencies.iter().map(one_at_a_time).collect()
}

/// The figures of latencies recorded one call at a time: the rate is what one client
/// calling back to back would reach.
pub fn one_at_a_time(latencies: &Histogram<u64>) -> Stats {
    let seconds = latencies.mean() * latencies.len() as f64 / 1e9;
    stats(latencies, seconds)
}

/// The figures of the latencies recorded in `seconds` of running.
fn stats(latencies: &Histogram<u64>, seconds: f64) -> Stats {
    let ops = usize::try_from(latencies.len()).unwrap_or(usize::MAX);
    Stats {
        ops,
        ops_per_sec: ops as f64 / seconds,
        p50_us: latencies.value_at_quantile(0.5) as f64 / 1_000.0,
        p99_us: latencies.value_at_quantile(0.99) as f64 / 1_000.0,
        cpu_us_per_op: None,
    }
}

/// Nanoseconds from 1 ns to one minute, at 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

/// Wraps an async closure as an `Op`.
pub fn op<F, Fut>(f: F) -> Op
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    Arc::new(move |n| Box::pin(f(n)))
}
