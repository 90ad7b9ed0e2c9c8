//! Keeps an instance's food index current: it reads the store's feed of changes
//! from the start, then every `POLL_EVERY`, so a food written through any instance
//! (or imported) is found through every other within a second, on any store, with
//! or without Redis. A write through this instance is searchable before its answer
//! leaves (`FoodSearch::catch_up`).
//!
//! A change is stamped before it commits, so it can land behind a position already
//! read, by at most the store's `late_write_bound` (plus a margin for clocks of
//! instances that stamp differently). Each poll reads that window again and skips
//! what it already applied, remembered for as long as the window.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::index::{FoodIndex, IndexError, SearchPage, SearchRequest};
use crate::domain::{Barcode, Food};
use crate::store::foods::{FeedPosition, FoodChange, barcode_rank};
use crate::store::{Store, StoreError};

/// How often the feed is read.
pub const POLL_EVERY: Duration = Duration::from_millis(250);
/// Changes read per call.
const PAGE: usize = 1_000;
/// Added to the store's late-write bound: how far apart two instances' clocks may
/// be. Past it, a write can be missed until the next start.
const CLOCK_MARGIN: TimeDelta = TimeDelta::seconds(2);

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the food index task stopped")]
    Stopped,
}

/// An instance's food search: the index and what keeps it current.
pub struct FoodSearch {
    index: Arc<FoodIndex>,
    store: Arc<dyn Store>,
    /// How far back each poll reads again.
    window: TimeDelta,
    follow: tokio::sync::Mutex<Followed>,
    /// Whether the whole feed has been read once since the start.
    caught_up: tokio::sync::watch::Sender<bool>,
    /// The index's directory, removed with it.
    _directory: tempfile::TempDir,
}

/// Where the follower is in the feed.
#[derive(Default)]
struct Followed {
    /// The newest position applied.
    newest: Option<FeedPosition>,
    /// What was applied within the window: (when, id), and each id's latest.
    recent: BTreeSet<FeedPosition>,
    applied_at: HashMap<Uuid, DateTime<Utc>>,
}

impl Followed {
    /// Where to read from next: the window before the newest change applied.
    fn read_from(&self, window: TimeDelta) -> FeedPosition {
        match self.newest {
            Some(newest) => FeedPosition::before(newest.at - window),
            None => FeedPosition::START,
        }
    }

    /// Whether `change` is news: not the change last applied for its food. The
    /// feed carries each food's current state, so any other change is newer,
    /// even one stamped earlier by a clock behind another instance's.
    fn is_new(&self, change: &FoodChange) -> bool {
        self.applied_at.get(&change.id) != Some(&change.changed_at)
    }

    fn applied(&mut self, change: &FoodChange, window: TimeDelta) {
        let position = change.position();
        if let Some(before) = self.applied_at.insert(change.id, change.changed_at) {
            self.recent.remove(&FeedPosition {
                at: before,
                id: change.id,
            });
        }
        self.recent.insert(position);
        self.newest = self.newest.max(Some(position));
        // Forget what the window has passed: it is never read again.
        let newest = self.newest.map_or(position.at, |newest| newest.at);
        let horizon = FeedPosition::before(newest - window);
        while let Some(oldest) = self.recent.first().copied() {
            if oldest >= horizon {
                break;
            }
            self.recent.pop_first();
            self.applied_at.remove(&oldest.id);
        }
    }
}

impl FoodSearch {
    /// An empty index in a new temporary directory under `parent` (the system's
    /// when `None`), and a task that fills it from `store` and keeps it current
    /// until the returned value is dropped.
    pub fn start(store: Arc<dyn Store>, parent: Option<PathBuf>) -> Result<Arc<Self>, SearchError> {
        let directory = match &parent {
            Some(parent) => {
                std::fs::create_dir_all(parent).map_err(IndexError::from)?;
                tempfile::Builder::new()
                    .prefix("food-index-")
                    .tempdir_in(parent)
            }
            None => tempfile::Builder::new()
                .prefix("balancelife-food-index-")
                .tempdir(),
        }
        .map_err(IndexError::from)?;
        let index = Arc::new(FoodIndex::create_in(directory.path())?);
        let late = store
            .late_write_bound()
            .and_then(|bound| TimeDelta::from_std(bound).ok());
        let window = late.map_or(TimeDelta::zero(), |late| late + CLOCK_MARGIN);
        let search = Arc::new(Self {
            index,
            store,
            window,
            follow: tokio::sync::Mutex::new(Followed::default()),
            caught_up: tokio::sync::watch::Sender::new(false),
            _directory: directory,
        });
        tokio::spawn(follow(Arc::downgrade(&search)));
        Ok(search)
    }

    /// Reads the feed up to now and applies it: after a write through this
    /// instance, so its writer finds it at once.
    pub async fn catch_up(&self) -> Result<(), SearchError> {
        let mut followed = self.follow.lock().await;
        let mut from = followed.read_from(self.window);
        loop {
            let changes = self.store.foods().changes(from, PAGE).await?;
            let full = changes.len() == PAGE;
            let Some(last) = changes.last() else {
                break;
            };
            from = last.position();
            let news: Vec<FoodChange> = changes
                .into_iter()
                .filter(|change| followed.is_new(change))
                .collect();
            let index = Arc::clone(&self.index);
            let applied = news.clone();
            tokio::task::spawn_blocking(move || index.apply(&applied))
                .await
                .map_err(|_| SearchError::Stopped)??;
            for change in &news {
                followed.applied(change, self.window);
            }
            if !full {
                break;
            }
        }
        self.caught_up.send_replace(true);
        Ok(())
    }

    /// A page of foods matching `request`, from the index.
    pub async fn search(&self, request: SearchRequest) -> Result<SearchPage, SearchError> {
        let index = Arc::clone(&self.index);
        Ok(tokio::task::spawn_blocking(move || index.search(&request))
            .await
            .map_err(|_| SearchError::Stopped)??)
    }

    /// The food with `barcode` that `viewer` sees first (as
    /// `FoodStore::by_barcode` ranks them), if the index has it: `None` also until
    /// the index has read the whole feed once. The caller asks the store then.
    pub async fn by_barcode(
        &self,
        barcode: &Barcode,
        viewer: Option<Uuid>,
    ) -> Result<Option<Food>, SearchError> {
        if !self.is_caught_up() {
            return Ok(None);
        }
        let index = Arc::clone(&self.index);
        let barcode = barcode.clone();
        let foods = tokio::task::spawn_blocking(move || index.with_barcode(&barcode))
            .await
            .map_err(|_| SearchError::Stopped)??;
        Ok(foods
            .into_iter()
            .filter(|food| food.visible_to(viewer))
            .min_by_key(|food| barcode_rank(food, viewer)))
    }

    /// Whether the index has read the whole feed once since the start.
    pub fn is_caught_up(&self) -> bool {
        *self.caught_up.borrow()
    }

    /// Waits up to `within` for the index to have read the whole feed once: at a
    /// start over a large store it takes a while, and until then a search would
    /// miss foods.
    pub async fn ready(&self, within: Duration) -> bool {
        let mut caught_up = self.caught_up.subscribe();
        tokio::time::timeout(within, caught_up.wait_for(|done| *done))
            .await
            .is_ok_and(|waited| waited.is_ok())
    }

    /// How many foods are searchable.
    pub fn len(&self) -> u64 {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

/// Polls until the search is dropped. A failed poll (the store unreachable) is
/// logged once per outage and tried again at the next tick.
async fn follow(search: std::sync::Weak<FoodSearch>) {
    let mut failing = false;
    let mut ticks = tokio::time::interval(POLL_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(search) = search.upgrade() else {
            return;
        };
        match search.catch_up().await {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("the food index follows the store again");
            }
            Ok(()) => {}
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(error = %crate::telemetry::ErrorChain(&error), "the food index cannot follow the store");
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(id: Uuid, at_ms: i64) -> FoodChange {
        FoodChange {
            id,
            changed_at: DateTime::<Utc>::UNIX_EPOCH + TimeDelta::milliseconds(at_ms),
            food: None,
        }
    }

    #[test]
    fn a_change_stamped_earlier_by_a_slower_clock_is_still_news() {
        let window = TimeDelta::seconds(7);
        let mut followed = Followed::default();
        let id = Uuid::now_v7();
        followed.applied(&change(id, 1_300), window);

        // Another instance, its clock 300 ms behind, deleted the food after.
        assert!(followed.is_new(&change(id, 1_100)));
        assert!(
            !followed.is_new(&change(id, 1_300)),
            "read again in the window"
        );
    }

    #[test]
    fn what_the_window_has_passed_is_forgotten() {
        let window = TimeDelta::seconds(7);
        let mut followed = Followed::default();
        let old = Uuid::now_v7();
        followed.applied(&change(old, 0), window);
        followed.applied(&change(Uuid::now_v7(), 10_000), window);

        assert!(!followed.applied_at.contains_key(&old));
        assert_eq!(
            followed.read_from(window),
            FeedPosition::before(DateTime::<Utc>::UNIX_EPOCH + TimeDelta::milliseconds(3_000))
        );
    }
}
