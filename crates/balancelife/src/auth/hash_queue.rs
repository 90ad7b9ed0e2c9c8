//! Who waits for Argon2, and how long the lines may grow.
//!
//! A hash takes a core and 19 MiB for tens of milliseconds, and only one runs per
//! core, so whoever asks for many at once makes everyone after them wait. Here
//! each client (its network, as the rate limits count it) has a line of its own:
//! its hashes run one at a time, at most `PER_CLIENT` of them in the line, and the
//! next one is refused at once (429). Only the head of each line waits for a core,
//! and at most `WAITING_PER_CORE` per core wait at all; past that the service is
//! busy (503) rather than slow for everyone. So a burst of guesses from one client
//! waits behind itself, and anyone else's log-in waits behind at most one hash per
//! other client hashing at that moment.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many hashes one client may have in its line, the running one included.
const PER_CLIENT: usize = 4;
/// How many lines' heads may wait for a core, per core.
const WAITING_PER_CORE: usize = 16;

/// Why a hash was not let in line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("this client already has as many password hashes waiting as it may")]
    ClientBusy,
    #[error("too many password hashes are waiting for a core")]
    Overloaded,
}

#[derive(Clone)]
pub struct HashQueue {
    inner: Arc<Inner>,
}

struct Inner {
    lines: Mutex<HashMap<Option<IpAddr>, Line>>,
    cores: Arc<Semaphore>,
    waiting_for_a_core: AtomicUsize,
    per_client: usize,
    max_waiting: usize,
}

/// One client's line: its turn (one permit), and how many are in it.
struct Line {
    turn: Arc<Semaphore>,
    len: usize,
}

/// A hash's right to run: a core, its client's turn, and its place in that line,
/// given back when dropped.
pub struct Turn {
    _core: OwnedSemaphorePermit,
    _own_turn: OwnedSemaphorePermit,
    _place: Place,
}

impl HashQueue {
    /// Lines for `cores` cores, with this module's bounds.
    pub fn new(cores: usize) -> Self {
        Self::with_bounds(cores, PER_CLIENT, WAITING_PER_CORE * cores)
    }

    fn with_bounds(cores: usize, per_client: usize, max_waiting: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                lines: Mutex::new(HashMap::new()),
                cores: Arc::new(Semaphore::new(cores.max(1))),
                waiting_for_a_core: AtomicUsize::new(0),
                per_client,
                max_waiting,
            }),
        }
    }

    /// Waits for `client`'s turn and then for a core, or is refused at once.
    pub async fn enter(&self, client: Option<IpAddr>) -> Result<Turn, Refused> {
        let (place, turn) = self.join_line(client)?;
        let own_turn = turn.acquire_owned().await.expect("a line is never closed");
        let waiting = Waiting::start(&self.inner)?;
        let core = Arc::clone(&self.inner.cores)
            .acquire_owned()
            .await
            .expect("the cores are never closed");
        drop(waiting);
        Ok(Turn {
            _core: core,
            _own_turn: own_turn,
            _place: place,
        })
    }

    fn join_line(&self, client: Option<IpAddr>) -> Result<(Place, Arc<Semaphore>), Refused> {
        let mut lines = self.inner.lines.lock();
        let line = lines.entry(client).or_insert_with(|| Line {
            turn: Arc::new(Semaphore::new(1)),
            len: 0,
        });
        if line.len >= self.inner.per_client {
            return Err(Refused::ClientBusy);
        }
        line.len += 1;
        let place = Place {
            inner: Arc::clone(&self.inner),
            client,
        };
        Ok((place, Arc::clone(&line.turn)))
    }
}

/// A place in a client's line; a line nobody is in is forgotten.
struct Place {
    inner: Arc<Inner>,
    client: Option<IpAddr>,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut lines = self.inner.lines.lock();
        if let Some(line) = lines.get_mut(&self.client) {
            line.len -= 1;
            if line.len == 0 {
                lines.remove(&self.client);
            }
        }
    }
}

/// Counted among those waiting for a core while it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn start(inner: &'a Inner) -> Result<Self, Refused> {
        let before = inner.waiting_for_a_core.fetch_add(1, Ordering::AcqRel);
        let waiting = Self(&inner.waiting_for_a_core);
        if before >= inner.max_waiting {
            return Err(Refused::Overloaded);
        }
        Ok(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    fn client(n: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, n]))
    }

    #[tokio::test]
    async fn one_clients_hashes_take_turns_and_past_its_line_are_refused() {
        let queue = HashQueue::with_bounds(2, 3, 32);
        let first = queue.enter(client(1)).await.expect("an empty line");
        let mut second = std::pin::pin!(queue.enter(client(1)));
        let mut third = std::pin::pin!(queue.enter(client(1)));
        assert!(second.as_mut().now_or_never().is_none(), "waits its turn");
        assert!(third.as_mut().now_or_never().is_none(), "waits its turn");
        assert_eq!(
            queue.enter(client(1)).now_or_never().map(|turn| turn.err()),
            Some(Some(Refused::ClientBusy)),
            "refused at once past its line"
        );
        let other = queue.enter(client(2)).now_or_never();
        assert!(
            other.is_some_and(|turn| turn.is_ok()),
            "another client takes the other core at once"
        );

        drop(first);
        let second = second.as_mut().now_or_never().expect("its turn now");
        assert!(second.is_ok());
        assert!(third.as_mut().now_or_never().is_none(), "one at a time");
        drop(second);
        assert!(third.await.is_ok());
        assert!(
            queue.inner.lines.lock().is_empty(),
            "empty lines are forgotten"
        );
    }

    #[tokio::test]
    async fn past_the_wait_for_a_core_the_service_is_busy() {
        let queue = HashQueue::with_bounds(1, 4, 2);
        let running = queue.enter(client(1)).await.expect("a free core");
        let mut waiting: Vec<_> = (2..4).map(|n| Box::pin(queue.enter(client(n)))).collect();
        for turn in &mut waiting {
            assert!(turn.as_mut().now_or_never().is_none(), "waits for the core");
        }
        assert_eq!(
            queue.enter(client(4)).now_or_never().map(|turn| turn.err()),
            Some(Some(Refused::Overloaded))
        );
        drop(running);
        let next = waiting[0]
            .as_mut()
            .now_or_never()
            .expect("the core is free");
        assert!(next.is_ok());
        assert_eq!(queue.inner.waiting_for_a_core.load(Ordering::Acquire), 1);
    }
}
