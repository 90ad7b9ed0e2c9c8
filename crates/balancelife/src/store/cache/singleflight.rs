//! Request coalescing: concurrent reads of one key in this process share one load.
//!
//! A write forgets the flights of the keys it affects before it is acknowledged, so
//! a read that starts after the acknowledgement never joins a load that began
//! before the write.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::OnceCell;

type Shared = Arc<dyn Any + Send + Sync>;

#[derive(Default)]
pub struct Flights {
    inflight: Mutex<HashMap<String, Arc<OnceCell<Shared>>>>,
}

impl Flights {
    /// Runs `load` unless an identical load is under way, then shares its result.
    /// Returns the value and whether it came from another caller's load.
    pub async fn run<T, F, Fut>(&self, key: &str, load: F) -> (T, bool)
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let cell = self
            .inflight
            .lock()
            .entry(key.to_owned())
            .or_default()
            .clone();
        // If every caller of this key is cancelled mid-load, the last one out takes
        // the unfinished cell away, so abandoned keys never pile up in the map.
        let _retire = Retire {
            flights: self,
            key,
            cell: cell.clone(),
        };
        let mut ran = false;
        let value = cell
            .get_or_init(|| {
                ran = true;
                async { Arc::new(load().await) as Shared }
            })
            .await
            .clone();
        // Whoever sees the load finished retires it, so the next read starts afresh.
        let mut inflight = self.inflight.lock();
        if inflight
            .get(key)
            .is_some_and(|current| Arc::ptr_eq(current, &cell))
        {
            inflight.remove(key);
        }
        drop(inflight);
        let value = value
            .downcast_ref::<T>()
            .expect("one value type per key")
            .clone();
        (value, !ran)
    }

    fn retire(&self, key: &str, cell: &Arc<OnceCell<Shared>>) {
        let mut inflight = self.inflight.lock();
        // Three references: the map's, the caller's and its guard's; nobody else waits.
        if inflight
            .get(key)
            .is_some_and(|current| Arc::ptr_eq(current, cell))
            && Arc::strong_count(cell) <= 3
        {
            inflight.remove(key);
        }
    }

    /// Runs `during` (a write's invalidation) with the flights of every key starting
    /// with one of `prefixes` detached before it and again after it. Before: a read
    /// that starts now must not join a load from before the write. After: a read
    /// that started while `during` ran may have read what `during` is voiding, and a
    /// read that starts once the write is acknowledged must not join it.
    pub async fn detached_around<T>(
        &self,
        prefixes: &[String],
        during: impl Future<Output = T>,
    ) -> T {
        let forget = || {
            for prefix in prefixes {
                self.forget_prefix(prefix);
            }
        };
        forget();
        let result = during.await;
        forget();
        result
    }

    /// Detaches the flights of every key starting with `prefix`: later readers load
    /// afresh instead of sharing a result that may predate a write.
    pub fn forget_prefix(&self, prefix: &str) {
        self.inflight
            .lock()
            .retain(|key, _| !key.starts_with(prefix));
    }
}

struct Retire<'a> {
    flights: &'a Flights,
    key: &'a str,
    cell: Arc<OnceCell<Shared>>,
}

impl Drop for Retire<'_> {
    fn drop(&mut self) {
        if !self.cell.initialized() {
            self.flights.retire(self.key, &self.cell);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn concurrent_identical_loads_run_once() {
        let flights = Arc::new(Flights::default());
        let loads = Arc::new(AtomicUsize::new(0));
        let readers = (0..32).map(|_| {
            let flights = flights.clone();
            let loads = loads.clone();
            tokio::spawn(async move {
                flights
                    .run("k", || async move {
                        loads.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        42_u32
                    })
                    .await
            })
        });
        let results = futures_util::future::join_all(readers).await;
        assert!(results.iter().all(|r| r.as_ref().unwrap().0 == 42));
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_forgotten_flight_is_not_joined() {
        let flights = Arc::new(Flights::default());
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let slow = {
            let flights = flights.clone();
            tokio::spawn(async move {
                flights
                    .run("user:1", || async move {
                        started_tx.send(()).unwrap();
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        "old"
                    })
                    .await
            })
        };
        started_rx.await.unwrap();
        flights.forget_prefix("user:");
        let (fresh, shared) = flights.run("user:1", || async { "new" }).await;
        assert_eq!((fresh, shared), ("new", false));
        assert_eq!(slow.await.unwrap().0, "old");
    }

    /// A load every caller abandoned (their requests were cancelled) leaves no entry
    /// behind; one that another caller still waits for stays, to be shared.
    #[tokio::test]
    async fn abandoned_loads_are_retired_and_awaited_ones_kept() {
        let flights = Arc::new(Flights::default());
        let never = |flights: Arc<Flights>, key: &'static str| {
            tokio::spawn(async move { flights.run(key, std::future::pending::<u32>).await })
        };
        let alone = never(flights.clone(), "alone");
        let first = never(flights.clone(), "shared");
        let second = never(flights.clone(), "shared");
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(flights.inflight.lock().len(), 2);

        alone.abort();
        first.abort();
        let _ = (alone.await, first.await);

        let keys: Vec<String> = flights.inflight.lock().keys().cloned().collect();
        assert_eq!(
            keys,
            ["shared"],
            "the abandoned key is gone, the awaited one kept"
        );
        second.abort();
        let _ = second.await;
        assert!(
            flights.inflight.lock().is_empty(),
            "and gone once abandoned too"
        );
    }

    /// A read that starts while an invalidation runs may read the value being voided;
    /// a read that starts after it must not share that read.
    #[tokio::test]
    async fn a_read_begun_during_an_invalidation_is_not_joined_after_it() {
        let flights = Arc::new(Flights::default());
        let (begun_tx, begun_rx) = tokio::sync::oneshot::channel();
        let (finish_tx, finish_rx) = tokio::sync::oneshot::channel::<()>();
        let mut begun = Some(begun_tx);
        let mut finish = Some(finish_rx);
        let prefixes = ["user:".to_owned()];
        let during_reader = flights.detached_around(&prefixes, async {
            // The reader that comes in mid-invalidation, still loading when it ends.
            let flights = flights.clone();
            let (begun, finish) = (begun.take().unwrap(), finish.take().unwrap());
            let reader = tokio::spawn(async move {
                flights
                    .run("user:1", || async move {
                        begun.send(()).unwrap();
                        finish.await.unwrap();
                        "read while voiding"
                    })
                    .await
            });
            begun_rx.await.unwrap();
            Some(reader)
        });
        let reader = during_reader.await.expect("the reader began");

        // Joining the reader's load would wait for it (it is held): a timeout says so.
        let after = tokio::time::timeout(
            Duration::from_secs(1),
            flights.run("user:1", || async { "read after" }),
        )
        .await;

        assert_eq!(after.ok(), Some(("read after", false)));
        finish_tx.send(()).unwrap();
        assert_eq!(reader.await.unwrap().0, "read while voiding");
    }
}
