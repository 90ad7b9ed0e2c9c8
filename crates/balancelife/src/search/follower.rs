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
use std::sync::atomic::{AtomicBool, Ordering};
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
    caught_up: AtomicBool,
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

    /// Whether `change` is news: not applied already at that time or later.
    fn is_new(&self, change: &FoodChange) -> bool {
        self.applied_at
            .get(&change.id)
            .is_none_or(|applied| *applied < change.changed_at)
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
            caught_up: AtomicBool::new(false),
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
        self.caught_up.store(true, Ordering::Release);
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
    /// `FoodStore::by_barcode` ranks them), from the index: `None` until the index
    /// has read the whole feed once, so the caller asks the store then.
    pub async fn by_barcode(
        &self,
        barcode: &Barcode,
        viewer: Option<Uuid>,
    ) -> Result<Option<Option<Food>>, SearchError> {
        if !self.is_caught_up() {
            return Ok(None);
        }
        let index = Arc::clone(&self.index);
        let barcode = barcode.clone();
        let foods = tokio::task::spawn_blocking(move || index.with_barcode(&barcode))
            .await
            .map_err(|_| SearchError::Stopped)??;
        Ok(Some(
            foods
                .into_iter()
                .filter(|food| food.visible_to(viewer))
                .min_by_key(|food| barcode_rank(food, viewer)),
        ))
    }

    /// Whether the index has read the whole feed once since the start.
    pub fn is_caught_up(&self) -> bool {
        self.caught_up.load(Ordering::Acquire)
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
