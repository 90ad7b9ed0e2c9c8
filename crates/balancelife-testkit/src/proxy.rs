//! A TCP proxy between the service and a server, to cut links the way networks do.
//!
//! A frozen server (SIGSTOP) is not a partition: the kernel keeps queueing what is
//! sent to it and the server runs it all when it thaws. Here the bytes are read and
//! dropped, so what was sent during a partition is lost for good, and a connection
//! can go silent for ever while new ones work (a peer that vanished without a word).
//! A request can also reach the server and its answer be lost, so the client cannot
//! tell whether it was done (`swallow_reply_to`), or be held up on its way and reach
//! the server after the client gave up on it (`delay_request`).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::Mutex;
use std::thread;
use std::time::Duration;

#[derive(Default)]
struct Links {
    /// Every byte, both ways, on every connection, is dropped.
    partitioned: AtomicBool,
    /// Connections numbered below this are silent for ever.
    silent_below: AtomicU64,
    /// The next request holding these bytes silences its connection's answers.
    swallow_reply_to: Mutex<Option<Vec<u8>>>,
    /// The next request holding these bytes is held this long before it is passed on.
    delay_request: Mutex<Option<(Vec<u8>, Duration)>>,
    /// The connection whose answers are dropped (`NO_CONNECTION` for none).
    answers_lost_on: AtomicU64,
    next_connection: AtomicU64,
    stopped: AtomicBool,
}

const NO_CONNECTION: u64 = u64::MAX;

/// Which way a pump copies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    ToServer,
    ToClient,
}

impl Links {
    fn passes(&self, connection: u64, direction: Direction) -> bool {
        !self.partitioned.load(Ordering::Acquire)
            && connection >= self.silent_below.load(Ordering::Acquire)
            && !(direction == Direction::ToClient
                && self.answers_lost_on.load(Ordering::Acquire) == connection)
    }

    /// Before a request is passed on: if it is the one to lose the answer of, the
    /// connection's answers are dropped from now on (so before the server can reply);
    /// if it is the one to hold up, how long.
    fn before_request(&self, connection: u64, request: &[u8]) -> Option<Duration> {
        let mut marker = self.swallow_reply_to.lock();
        if marker
            .as_ref()
            .is_some_and(|marker| contains(request, marker))
        {
            *marker = None;
            self.answers_lost_on.store(connection, Ordering::Release);
        }
        let mut delay = self.delay_request.lock();
        match delay.as_ref() {
            Some((marker, by)) if contains(request, marker) => {
                let by = *by;
                *delay = None;
                Some(by)
            }
            _ => None,
        }
    }
}

fn contains(bytes: &[u8], marker: &[u8]) -> bool {
    bytes.windows(marker.len()).any(|window| window == marker)
}

/// Forwards connections on a free loopback port to `target` until dropped.
pub struct TcpProxy {
    pub port: u16,
    links: Arc<Links>,
}

impl TcpProxy {
    pub fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the proxy");
        let port = listener.local_addr().expect("the proxy's address").port();
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let links = Arc::new(Links {
            answers_lost_on: AtomicU64::new(NO_CONNECTION),
            ..Links::default()
        });
        let accepting = links.clone();
        thread::spawn(move || accept(listener, target, accepting));
        Self { port, links }
    }

    /// `127.0.0.1:<port>`
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Drops every byte both ways, on old and new connections, closing none.
    pub fn partition(&self) {
        self.links.partitioned.store(true, Ordering::Release);
    }

    /// Forwards again; what was dropped stays lost.
    pub fn heal(&self) {
        self.links.partitioned.store(false, Ordering::Release);
    }

    /// The next request whose bytes contain `marker` reaches the server, and from
    /// then on nothing its server answers on that connection reaches the client:
    /// the server acts on the request and the client never learns it did. Other
    /// connections, old and new, work.
    pub fn swallow_reply_to(&self, marker: &str) {
        *self.links.swallow_reply_to.lock() = Some(marker.as_bytes().to_vec());
    }

    /// The next request whose bytes contain `marker` is held for `by` before it
    /// reaches the server, and what follows it on its connection behind it: a
    /// request slowed on its way, which a client with a shorter timeout gives up on
    /// and the server then does all the same. Other connections are not held.
    pub fn delay_request(&self, marker: &str, by: Duration) {
        *self.links.delay_request.lock() = Some((marker.as_bytes().to_vec(), by));
    }

    /// Every connection open now goes silent for ever; new ones work.
    pub fn silence_open_connections(&self) {
        let next = self.links.next_connection.load(Ordering::Acquire);
        self.links.silent_below.store(next, Ordering::Release);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.links.stopped.store(true, Ordering::Release);
    }
}

fn accept(listener: TcpListener, target: SocketAddr, links: Arc<Links>) {
    while !links.stopped.load(Ordering::Acquire) {
        match listener.accept() {
            Ok((client, _)) => {
                let number = links.next_connection.fetch_add(1, Ordering::AcqRel);
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                let _ = client.set_nonblocking(false);
                for (from, to, direction) in [
                    (client.try_clone(), server.try_clone(), Direction::ToServer),
                    (server.try_clone(), client.try_clone(), Direction::ToClient),
                ] {
                    let (Ok(from), Ok(to)) = (from, to) else {
                        continue;
                    };
                    let links = links.clone();
                    thread::spawn(move || pump(from, to, number, direction, &links));
                }
            }
            Err(error) if error.kind() == ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(_) => return,
        }
    }
}

/// Copies `from` to `to` while the links let connection `number` through, and reads
/// and drops while they do not.
fn pump(mut from: TcpStream, mut to: TcpStream, number: u64, direction: Direction, links: &Links) {
    let _ = from.set_read_timeout(Some(Duration::from_millis(100)));
    let mut buffer = [0u8; 16 * 1024];
    while !links.stopped.load(Ordering::Acquire) {
        match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                if direction == Direction::ToServer
                    && let Some(delay) = links.before_request(number, &buffer[..n])
                {
                    thread::sleep(delay);
                }
                if links.passes(number, direction) && to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    // A connection gone silent says nothing, not even goodbye.
    if links.passes(number, direction) {
        let _ = to.shutdown(Shutdown::Write);
    }
}
