//! The invalidation channel that keeps every instance's in-process tier (L1)
//! coherent: one Redis Pub/Sub channel per key namespace.
//!
//! Why published by the invalidation script rather than Redis' own client-side
//! caching (`CLIENT TRACKING`): the script that voids keys in Redis publishes, in
//! the same atomic step, exactly what it voided, so a message exists if and only
//! if the invalidation happened: the writers' own and the change-stream
//! invalidator's alike. Tracking would report every key a script merely read (the
//! guards, the leases), needs RESP3 push messages on the very connections that
//! read, and must be re-enabled on every master after each reconnect and failover.
//! A plain `PUBLISH` reaches every node of a cluster, so one subscription to any
//! node hears every instance's writes.
//!
//! A Pub/Sub message that is not delivered is lost without a word, so the channel
//! proves itself: every instance publishes a heartbeat every 100 ms and serves from
//! L1 only while its own heartbeats come back (see `L1::confirm`). A cut, a frozen
//! Redis or a receiver that falls behind shows as a heartbeat that does not return:
//! the lease runs out and the tier stops serving. And since whatever swallowed a
//! heartbeat may have swallowed invalidations with it, a heartbeat that comes back
//! after an earlier one did not empties the tier before it confirms anything.
//!
//! Each instance's heartbeats go on a channel of its own, subscribed on the same
//! connection (so through the same node) as the invalidations: only that instance
//! hears them, so they cost each instance what it sends, not what every instance
//! sends. On a cluster a heartbeat is published through every node not agreed
//! failed, and is back once every node's copy is: a node passes on what it
//! publishes in order, so its copy arrives after every invalidation it published
//! before it, and every node that can publish one (a master, or a replica about to
//! be promoted) sends a copy. `docs/caching.md`, "Why nothing stale survives a lost
//! message" has the whole argument.

use std::collections::VecDeque;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use redis::aio::PubSubStream;

use crate::store::cache::keys::Invalidation;
use crate::store::cache::keys::{GENERATION, Scope};
use crate::store::cache::l1::L1;

/// How often each instance sends a heartbeat through the channel.
pub const HEARTBEAT_EVERY: Duration = Duration::from_millis(100);

/// How long after a heartbeat was sent the tier may serve on its strength: the
/// longest an instance serves a value another instance's write voided, when the
/// channel is cut just after a heartbeat. Well inside the one-second promise, and
/// five heartbeats long, so a busy process does not flush for one late beat.
pub const LEASE: Duration = Duration::from_millis(500);

/// What a guard's line in a message starts with.
const GUARD_MARK: char = '+';

/// Without any heartbeat back for this long, the subscription is presumed dead (a
/// peer gone without a word) and made afresh.
const SILENT_FOR: Duration = Duration::from_secs(2);

/// What travels on the channel.
#[derive(Debug, PartialEq, Eq)]
pub enum Message {
    /// Keys of one scope voided, guards of it bumped (what sits behind them
    /// voided), or the whole scope (its generation was bumped).
    Invalidate {
        scope: Scope,
        names: Vec<String>,
        guards: Vec<String>,
        whole_scope: bool,
    },
    /// Everything voided (a new namespace epoch).
    FlushAll,
    Heartbeat {
        instance: u64,
        seq: u64,
    },
}

impl Message {
    /// The message an invalidation publishes, if it voids anything: what it
    /// deletes by name, and the guards it bumps (the generation stands for the
    /// whole scope).
    pub fn of(change: &Invalidation) -> Option<Self> {
        let whole_scope = change.guards.iter().any(|guard| guard == GENERATION);
        let guards: Vec<String> = change
            .guards
            .iter()
            .filter(|guard| *guard != GENERATION)
            .cloned()
            .collect();
        (whole_scope || !change.keys.is_empty() || !guards.is_empty()).then(|| Self::Invalidate {
            scope: change.scope.clone(),
            names: change.keys.clone(),
            guards,
            whole_scope,
        })
    }

    /// One line per field: scope, key and guard names cannot hold a newline, and a
    /// guard's line starts with `GUARD_MARK`, which no key name does.
    pub fn encode(&self) -> String {
        match self {
            Self::Invalidate {
                scope,
                names,
                guards,
                whole_scope,
            } => {
                let kind = if *whole_scope { "s" } else { "k" };
                let mut text = format!("{kind}\n{scope}");
                for name in names {
                    debug_assert!(!name.starts_with(GUARD_MARK), "{name}");
                    text.push('\n');
                    text.push_str(name);
                }
                for guard in guards {
                    text.push('\n');
                    text.push(GUARD_MARK);
                    text.push_str(guard);
                }
                text
            }
            Self::FlushAll => "f".to_owned(),
            Self::Heartbeat { instance, seq } => format!("h\n{instance}\n{seq}"),
        }
    }

    pub fn decode(payload: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(payload).ok()?;
        let mut lines = text.split('\n');
        match lines.next()? {
            kind @ ("k" | "s") => {
                let scope = Scope::from_wire(lines.next()?);
                let (mut names, mut guards) = (Vec::new(), Vec::new());
                for line in lines {
                    match line.strip_prefix(GUARD_MARK) {
                        Some(guard) => guards.push(guard.to_owned()),
                        None => names.push(line.to_owned()),
                    }
                }
                Some(Self::Invalidate {
                    scope,
                    names,
                    guards,
                    whole_scope: kind == "s",
                })
            }
            "f" => Some(Self::FlushAll),
            "h" => Some(Self::Heartbeat {
                instance: lines.next()?.parse().ok()?,
                seq: lines.next()?.parse().ok()?,
            }),
            _ => None,
        }
    }
}

/// Applies what an invalidation voided to `l1`: done by the writer itself before it
/// acknowledges, and by every instance as the message arrives.
pub fn apply(l1: &L1, message: &Message) {
    match message {
        Message::Invalidate {
            scope,
            names,
            guards,
            whole_scope,
        } => {
            if *whole_scope {
                l1.invalidate_scope(scope);
            }
            for name in names {
                l1.invalidate(scope, name);
            }
            if !guards.is_empty() {
                l1.invalidate_guards(scope, guards);
            }
        }
        Message::FlushAll => l1.invalidate_all(),
        Message::Heartbeat { .. } => {}
    }
}

/// What the channel needs of the Redis it runs on: a subscription to the channel
/// and this instance's heartbeat channel, and a way to publish a heartbeat. The
/// cache (`redis::RedisCache`) is the one link; the channel names no more of it.
pub trait ChannelLink: Send + Sync + 'static {
    /// Subscribes to the invalidation channel and `instance`'s heartbeat channel.
    fn subscribe(&self, instance: u64) -> impl Future<Output = Option<PubSubStream>> + Send;

    /// Publishes one of `instance`'s heartbeats; how many copies must come back,
    /// or `None` when none was taken. Takes the link weakly, so that a heartbeat
    /// under way does not keep a dropped cache alive.
    fn publish_heartbeat(
        link: &Weak<Self>,
        instance: u64,
        message: String,
    ) -> impl Future<Output = Option<usize>> + Send;
}

/// Subscribes, listens and sends heartbeats for as long as the cache lives,
/// subscribing afresh whenever the subscription ends or falls silent.
pub async fn run<R: ChannelLink>(cache: Weak<R>, l1: Arc<L1>) {
    let instance = rand::random::<u64>();
    let mut heartbeats = Heartbeats::default();
    loop {
        let Some(strong) = cache.upgrade() else {
            return;
        };
        let subscription = strong.subscribe(instance).await;
        drop(strong);
        if let Some(stream) = subscription {
            listen(&cache, &l1, stream, instance, &mut heartbeats).await;
        }
        if l1.lose_channel() {
            tracing::warn!(
                "the cache's invalidation channel was lost; the in-process tier is emptied and reads go to Redis until it is back"
            );
        }
        tokio::time::sleep(HEARTBEAT_EVERY).await;
    }
}

/// Heartbeats sent and not yet back.
#[derive(Default)]
struct Heartbeats {
    next_seq: u64,
    sent: VecDeque<Beat>,
    /// Some were forgotten unreturned (too many outstanding).
    forgotten: bool,
}

/// One heartbeat, published through `expected` nodes.
struct Beat {
    seq: u64,
    sent: Instant,
    expected: usize,
    back: usize,
}

/// One of this instance's heartbeats, back through the channel.
#[derive(Debug, PartialEq, Eq)]
struct Echo {
    sent: Instant,
    /// An earlier heartbeat never came back: messages may have been lost with it.
    after_a_gap: bool,
}

impl Heartbeats {
    /// The next heartbeat's number.
    fn next(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// Heartbeat `seq`, sent at `sent`, was sent through `expected` nodes (a node
    /// that did not take it leaves it incomplete: a gap). One that no node took is
    /// not recorded: it cannot come back, and says nothing of the channel.
    fn sent(&mut self, seq: u64, sent: Instant, expected: usize) {
        self.sent.push_back(Beat {
            seq,
            sent,
            expected,
            back: 0,
        });
        // Only the newest few matter; older ones are long past their lease.
        while self.sent.len() > 32 {
            self.sent.pop_front();
            self.forgotten = true;
        }
    }

    /// A copy of heartbeat `seq` came back; once every node's has, it is complete:
    /// it and every older one are forgotten.
    fn returned(&mut self, seq: u64) -> Option<Echo> {
        let position = self.sent.iter().position(|beat| beat.seq == seq)?;
        let beat = &mut self.sent[position];
        beat.back += 1;
        if beat.back < beat.expected {
            return None;
        }
        let forgotten = std::mem::take(&mut self.forgotten);
        let after_a_gap = position > 0 || forgotten;
        let beat = self.sent.drain(..=position).next_back()?;
        Some(Echo {
            sent: beat.sent,
            after_a_gap,
        })
    }
}

/// Until the subscription ends, falls silent or the cache is dropped.
async fn listen<R: ChannelLink>(
    cache: &Weak<R>,
    l1: &L1,
    mut stream: PubSubStream,
    instance: u64,
    heartbeats: &mut Heartbeats,
) {
    let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_back = Instant::now();
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else { return };
                match Message::decode(message.get_payload_bytes()) {
                    Some(Message::Heartbeat { instance: from, seq }) if from == instance => {
                        if let Some(echo) = heartbeats.returned(seq) {
                            if echo.after_a_gap && l1.lose_channel() {
                                tracing::warn!(
                                    "a heartbeat of the cache's invalidation channel was lost, and invalidations may have been; the in-process tier is emptied"
                                );
                            }
                            l1.confirm(echo.sent);
                            last_back = Instant::now();
                        }
                    }
                    Some(Message::Heartbeat { .. }) => {}
                    Some(message) => {
                        apply(l1, &message);
                        // Counted once applied: from then on nothing it voided is served.
                        l1.metrics.invalidations_received.inc();
                    }
                    // Not ours to read (a newer release): safer to drop everything.
                    None => l1.invalidate_all(),
                }
            }
            _ = tick.tick() => {
                if cache.strong_count() == 0 {
                    return;
                }
                if l1.lease_lapsed() {
                    l1.lapse();
                }
                if last_back.elapsed() > SILENT_FOR {
                    return;
                }
                let seq = heartbeats.next();
                let sent = Instant::now();
                let message = Message::Heartbeat { instance, seq }.encode();
                if let Some(expected) = R::publish_heartbeat(cache, instance, message).await {
                    heartbeats.sent(seq, sent, expected);
                }
                l1.publish_sizes();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn messages_read_back_as_written() {
        for message in [
            Message::Invalidate {
                scope: Scope::user(Uuid::nil()),
                names: vec!["user".to_owned()],
                guards: vec![],
                whole_scope: false,
            },
            Message::Invalidate {
                scope: Scope::user(Uuid::nil()),
                names: vec!["meal-entries:2026-01-01:2026-01-01:50:-".to_owned()],
                guards: vec![
                    "meal-day:2026-01-01".to_owned(),
                    "meal-month:2026-01-01".to_owned(),
                ],
                whole_scope: false,
            },
            Message::Invalidate {
                scope: Scope::catalogue("meal-package", crate::domain::StatusFilter::Published),
                names: vec![],
                guards: vec![],
                whole_scope: true,
            },
            Message::FlushAll,
            Message::Heartbeat {
                instance: u64::MAX,
                seq: 7,
            },
        ] {
            assert_eq!(Message::decode(message.encode().as_bytes()), Some(message));
        }
        assert_eq!(Message::decode(b"x\nwhat"), None);
        assert_eq!(Message::decode(b"h\nnot-a-number\n1"), None);
    }

    #[test]
    fn an_invalidation_publishes_its_keys_and_guards() {
        let user = Scope::user(Uuid::nil());
        let day_guards = Invalidation::guards(
            user.clone(),
            vec!["meal-day:2026-01-01".into(), "meal-month:2026-01-01".into()],
        );
        assert_eq!(
            Message::of(&day_guards),
            Some(Message::Invalidate {
                scope: user.clone(),
                names: vec![],
                guards: vec!["meal-day:2026-01-01".into(), "meal-month:2026-01-01".into()],
                whole_scope: false
            })
        );
        assert_eq!(
            Message::of(&Invalidation::flush(user.clone())),
            Some(Message::Invalidate {
                scope: user.clone(),
                names: vec![],
                guards: vec![],
                whole_scope: true
            })
        );
        assert!(Message::of(&Invalidation::keys(user.clone(), &["user"])).is_some());
        assert_eq!(Message::of(&Invalidation::keys(user, &[])), None);
    }

    /// Sends a heartbeat through `nodes` nodes.
    fn send(heartbeats: &mut Heartbeats, nodes: usize) -> u64 {
        let seq = heartbeats.next();
        heartbeats.sent(seq, Instant::now(), nodes);
        seq
    }

    #[test]
    fn a_heartbeat_back_in_order_confirms_and_one_after_a_lost_one_reports_the_gap() {
        let mut heartbeats = Heartbeats::default();
        let first = send(&mut heartbeats, 1);
        assert!(!heartbeats.returned(first).unwrap().after_a_gap);
        let lost = send(&mut heartbeats, 1);
        let next = send(&mut heartbeats, 1);
        assert!(heartbeats.returned(next).unwrap().after_a_gap);
        assert!(
            heartbeats.returned(lost).is_none(),
            "older ones are forgotten"
        );
        assert!(
            heartbeats.returned(next).is_none(),
            "and each comes back once"
        );
        let after = send(&mut heartbeats, 1);
        assert!(!heartbeats.returned(after).unwrap().after_a_gap);
    }

    #[test]
    fn a_heartbeat_is_back_once_every_nodes_copy_is() {
        let mut heartbeats = Heartbeats::default();
        let first = send(&mut heartbeats, 3);
        assert!(heartbeats.returned(first).is_none());
        assert!(heartbeats.returned(first).is_none());
        assert!(!heartbeats.returned(first).unwrap().after_a_gap);
        // One node's copy never comes back; the next heartbeat completes.
        let partial = send(&mut heartbeats, 3);
        let next = send(&mut heartbeats, 3);
        heartbeats.returned(partial);
        heartbeats.returned(partial);
        for _ in 0..2 {
            assert!(heartbeats.returned(next).is_none());
        }
        assert!(heartbeats.returned(next).unwrap().after_a_gap);
    }

    #[test]
    fn a_heartbeat_no_node_took_is_no_gap() {
        let mut heartbeats = Heartbeats::default();
        let _unsent = heartbeats.next();
        let sent = send(&mut heartbeats, 1);
        assert!(!heartbeats.returned(sent).unwrap().after_a_gap);
    }

    #[test]
    fn heartbeats_forgotten_unreturned_count_as_a_gap_once() {
        let mut heartbeats = Heartbeats::default();
        for _ in 0..40 {
            send(&mut heartbeats, 1);
        }
        let newest = send(&mut heartbeats, 1);
        // Drop everything but the newest, as if they came back out of order.
        heartbeats.sent.retain(|beat| beat.seq == newest);
        assert!(heartbeats.returned(newest).unwrap().after_a_gap);
        let after = send(&mut heartbeats, 1);
        assert!(!heartbeats.returned(after).unwrap().after_a_gap);
    }
}
