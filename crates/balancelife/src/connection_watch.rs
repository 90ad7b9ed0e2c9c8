//! What the server loop watches on each connection beyond what hyper does: that it
//! does not idle for ever, and that its client takes the answers it asked for.
//!
//! hyper closes an HTTP/1.1 connection that waits too long for a request's headers,
//! but an HTTP/2 connection whose client answers its PINGs stays open with no stream
//! at all, and neither protocol notices a client that stops reading an answer: the
//! writer then waits for ever, holding the connection and whatever produces the
//! body (an export's task). So every request on a connection is a *stream* here,
//! from the moment the service is called until its answer's body is done or
//! dropped, and the connection's `Watch` tells the server loop when
//! - no stream has been open for the idle time (`HEADER_TIMEOUT_MS`): the loop
//!   closes the connection gracefully (on HTTP/2 a GOAWAY);
//! - an answer has waited on its client for the send time (`SEND_TIMEOUT_MS`):
//!   the body handed over a piece, or had its next piece ready, and has not been
//!   asked for it since. A body that is slow to produce its next piece is not the
//!   client's doing and is not counted: the time runs from when the body wakes the
//!   connection with something to send. The loop then drops the connection.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use hyper::body::{Body, Frame, SizeHint};
use parking_lot::Mutex;
use tokio::time::Instant;

/// What the loop should do about a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// No stream for the idle time: close gracefully.
    Idle,
    /// An answer waited on its client for the send time: drop the connection.
    Stalled,
}

/// The streams of one connection.
pub struct Watch {
    state: Mutex<State>,
    idle: Duration,
    send: Duration,
}

struct State {
    /// Each open stream, with since when its answer waits on the client, if it does.
    streams: HashMap<u64, Option<Instant>>,
    next_id: u64,
    /// When the last stream ended (or the connection began).
    idle_since: Instant,
}

impl Watch {
    pub fn new(idle: Duration, send: Duration) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                streams: HashMap::new(),
                next_id: 0,
                idle_since: Instant::now(),
            }),
            idle,
            send,
        })
    }

    /// A request begins: a stream, until its answer is done.
    pub fn open(self: &Arc<Self>) -> Stream {
        let mut state = self.state.lock();
        let id = state.next_id;
        state.next_id += 1;
        state.streams.insert(id, None);
        Stream {
            watch: Arc::clone(self),
            id,
        }
    }

    /// The next thing to do about this connection, when it is due.
    pub async fn next_event(&self) -> Event {
        loop {
            let now = Instant::now();
            let (due, event) = self.due(now);
            if due <= now {
                return event;
            }
            tokio::time::sleep_until(due).await;
        }
    }

    /// When to look again, and what it will be if nothing changes by then. With
    /// streams open and none waiting on its client, the sooner of the two times is
    /// when to look again: anything that starts meanwhile is due no sooner.
    fn due(&self, now: Instant) -> (Instant, Event) {
        let state = self.state.lock();
        if state.streams.is_empty() {
            return (state.idle_since + self.idle, Event::Idle);
        }
        match state.streams.values().flatten().min() {
            Some(waiting_since) => (*waiting_since + self.send, Event::Stalled),
            None => (now + self.idle.min(self.send), Event::Stalled),
        }
    }

    fn set_waiting(&self, id: u64, since: Option<Instant>) {
        if let Some(waiting) = self.state.lock().streams.get_mut(&id) {
            *waiting = since;
        }
    }

    /// A stream's body has its next piece ready: unless it already waits on its
    /// client, it does from now.
    fn ready(&self, id: u64) {
        if let Some(waiting) = self.state.lock().streams.get_mut(&id) {
            waiting.get_or_insert_with(Instant::now);
        }
    }
}

/// One request on a watched connection; ends when dropped.
pub struct Stream {
    watch: Arc<Watch>,
    id: u64,
}

impl Stream {
    /// The answer is handed to the connection: its body is now watched, and the
    /// stream ends with it.
    pub fn answered<B>(self, response: hyper::Response<B>) -> hyper::Response<Watched<B>> {
        self.watch.set_waiting(self.id, Some(Instant::now()));
        response.map(|body| Watched {
            body,
            stream: self,
            wakes: None,
        })
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        let mut state = self.watch.state.lock();
        state.streams.remove(&self.id);
        if state.streams.is_empty() {
            state.idle_since = Instant::now();
        }
    }
}

/// An answer's body on a watched connection: each piece handed over, or ready to
/// be, waits on the client until the connection asks for the next.
pub struct Watched<B> {
    body: B,
    stream: Stream,
    /// For a body of unknown size (a stream, such as an export): what it wakes
    /// when its next piece is ready, so the wait on the client starts then.
    wakes: Option<(Arc<OnReady>, Waker)>,
}

/// Tells the watch that a stream's next piece is ready, then wakes the connection.
struct OnReady {
    watch: Arc<Watch>,
    id: u64,
    connection: Mutex<Waker>,
}

impl Wake for OnReady {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.watch.ready(self.id);
        self.connection.lock().wake_by_ref();
    }
}

impl<B: Body + Unpin> Body for Watched<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let (watch, id) = (&this.stream.watch, this.stream.id);
        // A body of known size is in memory: it never waits for its next piece, and
        // nothing wakes it from another thread, so one mark per piece will do.
        let polled = if this.body.size_hint().exact().is_some() {
            let polled = Pin::new(&mut this.body).poll_frame(cx);
            if !matches!(polled, Poll::Ready(Some(Ok(_)))) {
                watch.set_waiting(id, None);
            }
            polled
        } else {
            // Asked for its next piece: not waiting on the client. Cleared before the
            // poll, never after: the producer may wake `OnReady` on another thread
            // while the poll is under way, and clearing after it would lose that the
            // next piece is ready.
            watch.set_waiting(id, None);
            let waker = this.waker_for(cx.waker());
            Pin::new(&mut this.body).poll_frame(&mut Context::from_waker(&waker))
        };
        if let Poll::Ready(Some(Ok(_))) = polled {
            this.stream
                .watch
                .set_waiting(this.stream.id, Some(Instant::now()));
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl<B> Watched<B> {
    /// The waker to give the body: `OnReady`, waking `connection`.
    fn waker_for(&mut self, connection: &Waker) -> Waker {
        let (on_ready, waker) = self.wakes.get_or_insert_with(|| {
            let on_ready = Arc::new(OnReady {
                watch: Arc::clone(&self.stream.watch),
                id: self.stream.id,
                connection: Mutex::new(connection.clone()),
            });
            let waker = Waker::from(Arc::clone(&on_ready));
            (on_ready, waker)
        });
        let mut current = on_ready.connection.lock();
        if !current.will_wake(connection) {
            current.clone_from(connection);
        }
        waker.clone()
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    const IDLE: Duration = Duration::from_secs(10);
    const SEND: Duration = Duration::from_secs(60);

    #[tokio::test(start_paused = true)]
    async fn a_connection_without_streams_is_idle_after_the_idle_time() {
        let watch = Watch::new(IDLE, SEND);
        let stream = watch.open();
        tokio::time::advance(IDLE * 3).await;
        assert!(
            watch.next_event().now_or_never().is_none(),
            "a stream is open"
        );
        drop(stream);
        tokio::time::advance(IDLE - Duration::from_millis(1)).await;
        assert!(watch.next_event().now_or_never().is_none());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(watch.next_event().now_or_never(), Some(Event::Idle));
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_the_client_takes_nothing_of_stalls_after_the_send_time() {
        let watch = Watch::new(IDLE, SEND);
        let body = axum::body::Body::from("{}");
        let answer = watch.open().answered(hyper::Response::new(body));
        tokio::time::advance(SEND - Duration::from_millis(1)).await;
        assert!(watch.next_event().now_or_never().is_none());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(watch.next_event().now_or_never(), Some(Event::Stalled));

        // Taken, and the connection asking for more: no longer waiting.
        let mut body = answer.into_body();
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        assert!(frame.is_some());
        let end = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        assert!(end.is_none());
        assert!(watch.next_event().now_or_never().is_none());
        drop(body);
        tokio::time::advance(IDLE).await;
        assert_eq!(watch.next_event().now_or_never(), Some(Event::Idle));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_waits_on_its_client_from_when_its_next_piece_is_ready() {
        let watch = Watch::new(IDLE, SEND);
        let (pieces, receiver) =
            tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
        let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|piece| (piece, receiver))
        });
        let answer = watch
            .open()
            .answered(hyper::Response::new(axum::body::Body::from_stream(stream)));
        let mut body = answer.into_body();
        let poll = |body: &mut Watched<axum::body::Body>| {
            let waker = futures_util::task::noop_waker();
            Pin::new(body)
                .poll_frame(&mut Context::from_waker(&waker))
                .is_ready()
        };
        assert!(!poll(&mut body), "nothing to send yet");
        tokio::time::advance(SEND * 2).await;
        assert!(
            watch.next_event().now_or_never().is_none(),
            "a slow body is not the client's doing"
        );
        pieces
            .send(Ok(bytes::Bytes::from_static(b"[]")))
            .await
            .unwrap();
        tokio::time::advance(SEND - Duration::from_millis(1)).await;
        assert!(watch.next_event().now_or_never().is_none());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(
            watch.next_event().now_or_never(),
            Some(Event::Stalled),
            "ready, and not asked for since"
        );
        assert!(poll(&mut body), "taken");
        assert!(watch.next_event().now_or_never().is_none());
    }

    /// A streamed body whose next piece becomes ready while it is being polled,
    /// as when an export's producer sends on another thread: the poll answers
    /// `Pending`, and the wake it raised meanwhile must not be lost.
    struct ReadyDuringThePoll {
        polls: u32,
    }

    impl Body for ReadyDuringThePoll {
        type Data = bytes::Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
            self.polls += 1;
            if self.polls == 1 {
                return Poll::Ready(Some(Ok(Frame::data(bytes::Bytes::from_static(b"[")))));
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_piece_made_ready_during_a_poll_still_waits_on_the_client() {
        let watch = Watch::new(IDLE, SEND);
        let answer = watch
            .open()
            .answered(hyper::Response::new(ReadyDuringThePoll { polls: 0 }));
        let mut body = answer.into_body();
        let waker = futures_util::task::noop_waker();
        let mut poll = || Pin::new(&mut body).poll_frame(&mut Context::from_waker(&waker));
        assert!(poll().is_ready(), "the first piece is taken");
        assert!(poll().is_pending(), "the next was readied during the poll");
        // The connection, its socket full, asks for nothing more.
        tokio::time::advance(SEND).await;
        assert_eq!(
            watch.next_event().now_or_never(),
            Some(Event::Stalled),
            "the ready piece waited on the client for the send time"
        );
    }
}
