//! The foods' part of the storage contract: the foods themselves, the import's
//! upsert by source, and the feed of changes that search indexes follow.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{StoreError, StoreResult, Written};
use crate::domain::{Barcode, Food, FoodSource};

/// A place in the feed of changes: the time of a change and the food's id, which
/// orders changes written in the same millisecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeedPosition {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

impl FeedPosition {
    /// Before every change (none is older than the Unix epoch, and every store can
    /// keep that date).
    pub const START: Self = Self {
        at: DateTime::<Utc>::UNIX_EPOCH,
        id: Uuid::nil(),
    };

    /// Before every change written at `at` or later.
    pub fn before(at: DateTime<Utc>) -> Self {
        Self {
            at,
            id: Uuid::nil(),
        }
    }
}

/// One change to the foods, as a search index follows them.
#[derive(Debug, Clone, PartialEq)]
pub struct FoodChange {
    pub id: Uuid,
    /// When it was written, which orders the feed.
    pub changed_at: DateTime<Utc>,
    /// The food as it is now; `None` once deleted.
    pub food: Option<Food>,
}

/// What one import batch did, food by food.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub created: u64,
    pub replaced: u64,
    pub unchanged: u64,
}

impl FoodChange {
    pub fn position(&self) -> FeedPosition {
        FeedPosition {
            at: self.changed_at,
            id: self.id,
        }
    }
}

impl ImportCounts {
    pub fn add(&mut self, other: Self) {
        self.created += other.created;
        self.replaced += other.replaced;
        self.unchanged += other.unchanged;
    }

    pub fn total(&self) -> u64 {
        self.created + self.replaced + self.unchanged
    }
}

/// The most foods one import call takes: a batch, not a whole dump.
pub const MAX_IMPORT_BATCH: usize = 1_000;

/// The most foods, and the most recipes, a user keeps (and `FoodStore::owned`
/// lists): a shelf, not a database.
pub const MAX_OWNED_LISTED: usize = 1_000;

/// Which of a user's own foods: the plain ones, or the recipes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shelf {
    Foods,
    Recipes,
}

/// The conflict of a new food on a full shelf.
pub fn shelf_full(shelf: Shelf) -> StoreError {
    StoreError::Conflict(format!(
        "a user keeps at most {MAX_OWNED_LISTED} {}: delete one first",
        match shelf {
            Shelf::Foods => "foods",
            Shelf::Recipes => "recipes",
        }
    ))
}

impl Shelf {
    pub fn of(food: &Food) -> Self {
        if food.recipe.is_some() {
            Self::Recipes
        } else {
            Self::Foods
        }
    }
}

/// How long a deleted food's tombstone stays in the feed of changes. A search index
/// that has not caught up for longer rebuilds from scratch.
pub const TOMBSTONE_DAYS: i64 = 7;

/// Foods: public databases, the admins', and each user's own.
#[async_trait]
pub trait FoodStore: Send + Sync {
    /// Food `id`, whoever may see it: visibility is the caller's rule
    /// (`Food::visible_to`).
    async fn get(&self, id: Uuid) -> StoreResult<Food>;

    /// The foods of `ids` that exist, in no particular order: one round trip for a
    /// list of favourites or recent foods.
    async fn get_many(&self, ids: &[Uuid]) -> StoreResult<Vec<Food>>;

    /// The food with `barcode` that `viewer` sees first: their own, else the
    /// admins', else USDA's, else Open Food Facts' (two databases may list one
    /// pack); among equals the most recently changed.
    async fn by_barcode(&self, barcode: &Barcode, viewer: Option<Uuid>) -> StoreResult<Food>;

    /// Idempotent on the id: the same content again is `Unchanged`, different
    /// content a conflict; `NotFound` when the id is another user's food (so nobody
    /// learns it exists). A deleted food's id is not taken again while its
    /// tombstone lasts: a conflict. A conflict too for a new food of an owner who
    /// keeps `MAX_OWNED_LISTED` of its shelf already (`shelf_full`).
    async fn create(&self, food: Food) -> StoreResult<Written<Food>>;

    /// Replaces the stored food of `food`'s id if it is still the revision `read`
    /// (the same `version`): `Stale` otherwise, `NotFound` if there is none.
    async fn replace(&self, food: Food, read: &Food) -> StoreResult<Written<Food>>;

    /// Deletes food `id` if it is still the revision `read`, leaving a tombstone in
    /// the feed of changes; returns the food as the deletion found it.
    async fn delete(&self, id: Uuid, read: &Food) -> StoreResult<Food>;

    /// Inserts each food of a public source, or replaces the one with the same
    /// source and source id (keeping its id, creation time and, when nothing
    /// changed, its version). At most `MAX_IMPORT_BATCH` foods, each with a source
    /// id, no owner, and no source id twice.
    async fn import(&self, foods: Vec<Food>) -> StoreResult<ImportCounts>;

    /// `owner`'s own foods, or their recipes (`shelf`), by name, at most
    /// `MAX_OWNED_LISTED`.
    async fn owned(&self, owner: Uuid, shelf: Shelf) -> StoreResult<Vec<Food>>;

    /// Each food's latest change after `after`, oldest first, at most `limit`: a
    /// food changed twice is listed once, at its second change. A write is stamped
    /// as it is sent, before it commits, and by its instance's clock, so a change
    /// can appear behind a position already read, by up to
    /// `Store::late_write_bound` and the clocks' difference; a follower reads that
    /// much again.
    async fn changes(&self, after: FeedPosition, limit: usize) -> StoreResult<Vec<FoodChange>>;
}

/// Which of two foods with one barcode a viewer sees first (see
/// `FoodStore::by_barcode`): the lower rank wins.
pub fn barcode_rank(food: &Food, viewer: Option<Uuid>) -> (u8, std::cmp::Reverse<DateTime<Utc>>) {
    let source = match food.source {
        FoodSource::User if food.owner.is_some() && food.owner == viewer => 0,
        FoodSource::Admin => 1,
        FoodSource::Usda => 2,
        FoodSource::OpenFoodFacts => 3,
        // Another user's food: never seen.
        FoodSource::User => u8::MAX,
    };
    (source, std::cmp::Reverse(food.updated_at))
}

/// The order `FoodStore::owned` lists a user's foods in: by name, case aside, then id.
pub fn by_name(foods: &mut Vec<Food>) {
    foods.sort_by_cached_key(|food| (food.name.text.as_str().to_lowercase(), food.id));
    foods.truncate(MAX_OWNED_LISTED);
}

/// Whether two foods say the same: everything but the store's bookkeeping (id,
/// version, times).
pub fn same_content(a: &Food, b: &Food) -> bool {
    a.source == b.source
        && a.source_id == b.source_id
        && a.owner == b.owner
        && a.name == b.name
        && a.other_names == b.other_names
        && a.brand == b.brand
        && a.barcodes == b.barcodes
        && a.basis == b.basis
        && a.nutrients == b.nutrients
        && a.micronutrients == b.micronutrients
        && a.servings == b.servings
        && a.recipe == b.recipe
}

/// The food an import stores in place of `existing`: its content, `existing`'s id
/// and creation time, the version bumped when the content changed.
pub fn imported_over(mut food: Food, existing: &Food) -> Option<Food> {
    if same_content(&food, existing) {
        return None;
    }
    food.id = existing.id;
    food.created_at = existing.created_at;
    food.version = existing.version.next().unwrap_or(existing.version);
    Some(food)
}

/// What every store checks of an import batch before writing any of it.
pub fn check_import_batch(foods: &[Food]) -> StoreResult<()> {
    if foods.len() > MAX_IMPORT_BATCH {
        return Err(StoreError::Invalid(format!(
            "an import batch holds at most {MAX_IMPORT_BATCH} foods"
        )));
    }
    let unfit = foods.iter().find(|food| {
        food.source_id.is_none()
            || food.owner.is_some()
            || matches!(food.source, FoodSource::User)
            || food.check().is_err()
    });
    if let Some(food) = unfit {
        return Err(StoreError::Invalid(format!(
            "food {}: an imported food has a source id and no owner",
            food.id
        )));
    }
    let mut keys = std::collections::HashSet::new();
    let repeated = foods
        .iter()
        .find(|food| !keys.insert((food.source, food.source_id.clone())));
    match repeated {
        Some(food) => Err(StoreError::Invalid(format!(
            "food {}: its source id is in the batch twice",
            food.id
        ))),
        None => Ok(()),
    }
}
