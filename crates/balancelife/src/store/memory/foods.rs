//! The memory store's foods: one table behind one lock, with indexes by source id
//! and barcode, and the feed of changes in commit order.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use parking_lot::RwLock;
use uuid::Uuid;

use crate::domain::{Barcode, Food, FoodSource};
use crate::store::foods::{
    FeedPosition, FoodChange, FoodStore, ImportCounts, MAX_OWNED_LISTED, Shelf, TOMBSTONE_DAYS,
    barcode_rank, by_name, check_import_batch, imported_over, same_content, shelf_full,
};
use crate::store::{StoreError, StoreResult, Written};

#[derive(Default)]
pub(super) struct FoodTable {
    rows: RwLock<FoodRows>,
}

#[derive(Default)]
struct FoodRows {
    by_id: HashMap<Uuid, Food>,
    by_source_id: HashMap<(FoodSource, String), Uuid>,
    by_barcode: HashMap<Barcode, Vec<Uuid>>,
    by_owner: HashMap<Uuid, BTreeSet<Uuid>>,
    /// The feed: each food's latest change (a deleted one's tombstone), by when.
    /// Its last is the latest change: the next is stamped later.
    feed: BTreeSet<(DateTime<Utc>, Uuid)>,
    /// Where each food sits in `feed`.
    changed_at: HashMap<Uuid, DateTime<Utc>>,
    /// The deleted foods' places in `feed`, oldest first, to drop past their time.
    tombstones: BTreeMap<DateTime<Utc>, Uuid>,
}

impl FoodRows {
    fn put(&mut self, food: Food) {
        if let Some(old) = self.by_id.remove(&food.id) {
            self.unindex(&old);
        }
        if let Some(source_id) = &food.source_id {
            self.by_source_id
                .insert((food.source, source_id.as_str().to_owned()), food.id);
        }
        for barcode in &food.barcodes {
            self.by_barcode
                .entry(barcode.clone())
                .or_default()
                .push(food.id);
        }
        if let Some(owner) = food.owner {
            self.by_owner.entry(owner).or_default().insert(food.id);
        }
        self.changed(food.id);
        self.by_id.insert(food.id, food);
    }

    fn remove(&mut self, id: Uuid) -> Option<Food> {
        let food = self.by_id.remove(&id)?;
        self.unindex(&food);
        let at = self.changed(id);
        self.tombstones.insert(at, id);
        Some(food)
    }

    fn unindex(&mut self, food: &Food) {
        if let Some(source_id) = &food.source_id {
            self.by_source_id
                .remove(&(food.source, source_id.as_str().to_owned()));
        }
        for barcode in &food.barcodes {
            if let Some(ids) = self.by_barcode.get_mut(barcode) {
                ids.retain(|id| *id != food.id);
                if ids.is_empty() {
                    self.by_barcode.remove(barcode);
                }
            }
        }
        if let Some(owner) = food.owner
            && let Some(ids) = self.by_owner.get_mut(&owner)
        {
            ids.remove(&food.id);
            if ids.is_empty() {
                self.by_owner.remove(&owner);
            }
        }
    }

    /// Moves `id` to the end of the feed, and drops tombstones past their time;
    /// returns its place.
    fn changed(&mut self, id: Uuid) -> DateTime<Utc> {
        // Later than the last change, even within one nanosecond or when the clock
        // steps back: the feed's order is the order of the writes, so a follower
        // never needs to read any of it twice.
        let clock = Utc::now();
        let at = match self.feed.last() {
            Some(&(last, _)) if last >= clock => last + TimeDelta::nanoseconds(1),
            _ => clock,
        };
        if let Some(before) = self.changed_at.insert(id, at) {
            self.feed.remove(&(before, id));
            self.tombstones.remove(&before);
        }
        self.feed.insert((at, id));
        let horizon = at - TimeDelta::days(TOMBSTONE_DAYS);
        while let Some((&when, &old)) = self.tombstones.first_key_value() {
            if when >= horizon {
                break;
            }
            self.tombstones.remove(&when);
            self.feed.remove(&(when, old));
            self.changed_at.remove(&old);
        }
        at
    }

    /// Deletes every food of `owner` (the user is being deleted).
    fn remove_owner(&mut self, owner: Uuid) {
        let owned: Vec<Uuid> = self
            .by_owner
            .get(&owner)
            .into_iter()
            .flatten()
            .copied()
            .collect();
        for id in owned {
            self.remove(id);
        }
    }
}

impl FoodTable {
    pub(super) fn remove_owner(&self, owner: Uuid) {
        self.rows.write().remove_owner(owner);
    }
}

#[async_trait]
impl FoodStore for FoodTable {
    async fn get(&self, id: Uuid) -> StoreResult<Food> {
        self.rows
            .read()
            .by_id
            .get(&id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn by_barcode(&self, barcode: &Barcode, viewer: Option<Uuid>) -> StoreResult<Food> {
        let rows = self.rows.read();
        rows.by_barcode
            .get(barcode)
            .into_iter()
            .flatten()
            .filter_map(|id| rows.by_id.get(id))
            .filter(|food| food.visible_to(viewer))
            .min_by_key(|food| barcode_rank(food, viewer))
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn create(&self, food: Food) -> StoreResult<Written<Food>> {
        let mut rows = self.rows.write();
        if !rows.by_id.contains_key(&food.id) && rows.changed_at.contains_key(&food.id) {
            return Err(StoreError::Conflict(
                "a food with this id was deleted; make a new id".into(),
            ));
        }
        match rows.by_id.get(&food.id) {
            Some(stored) if stored.owner != food.owner => Err(StoreError::NotFound),
            Some(stored) if same_content(stored, &food) => Ok(Written::Unchanged(stored.clone())),
            Some(_) => Err(StoreError::Conflict(
                "a food with this id exists with other content".into(),
            )),
            None => {
                if let Some(owner) = food.owner {
                    let shelf = Shelf::of(&food);
                    let kept = rows
                        .by_owner
                        .get(&owner)
                        .into_iter()
                        .flatten()
                        .filter(|id| rows.by_id.get(id).is_some_and(|f| Shelf::of(f) == shelf))
                        .count();
                    if kept >= MAX_OWNED_LISTED {
                        return Err(shelf_full(shelf));
                    }
                }
                rows.put(food.clone());
                Ok(Written::Created(food))
            }
        }
    }

    async fn replace(&self, food: Food, read: &Food) -> StoreResult<Written<Food>> {
        let mut rows = self.rows.write();
        let stored = rows.by_id.get(&food.id).ok_or(StoreError::NotFound)?;
        if stored.version != read.version {
            return Err(StoreError::Stale);
        }
        let previous = stored.clone();
        rows.put(food.clone());
        Ok(Written::Replaced {
            stored: food,
            previous,
        })
    }

    async fn delete(&self, id: Uuid, read: &Food) -> StoreResult<Food> {
        let mut rows = self.rows.write();
        let stored = rows.by_id.get(&id).ok_or(StoreError::NotFound)?;
        if stored.version != read.version {
            return Err(StoreError::Stale);
        }
        rows.remove(id).ok_or(StoreError::NotFound)
    }

    async fn import(&self, foods: Vec<Food>) -> StoreResult<ImportCounts> {
        check_import_batch(&foods)?;
        let mut rows = self.rows.write();
        let mut counts = ImportCounts::default();
        for food in foods {
            let source_id = food.source_id.as_ref().map(|id| id.as_str().to_owned());
            let existing = source_id
                .and_then(|source_id| rows.by_source_id.get(&(food.source, source_id)))
                .and_then(|id| rows.by_id.get(id));
            match existing {
                None => {
                    counts.created += 1;
                    rows.put(food);
                }
                Some(existing) => match imported_over(food, existing) {
                    Some(changed) => {
                        counts.replaced += 1;
                        rows.put(changed);
                    }
                    None => counts.unchanged += 1,
                },
            }
        }
        Ok(counts)
    }

    async fn get_many(&self, ids: &[Uuid]) -> StoreResult<Vec<Food>> {
        let rows = self.rows.read();
        Ok(ids
            .iter()
            .filter_map(|id| rows.by_id.get(id).cloned())
            .collect())
    }

    async fn owned(&self, owner: Uuid, shelf: Shelf) -> StoreResult<Vec<Food>> {
        let rows = self.rows.read();
        let mut foods: Vec<Food> = rows
            .by_owner
            .get(&owner)
            .into_iter()
            .flatten()
            .filter_map(|id| rows.by_id.get(id))
            .filter(|food| Shelf::of(food) == shelf)
            .cloned()
            .collect();
        by_name(&mut foods);
        Ok(foods)
    }

    async fn changes(&self, after: FeedPosition, limit: usize) -> StoreResult<Vec<FoodChange>> {
        let rows = self.rows.read();
        Ok(rows
            .feed
            .range((Bound::Excluded((after.at, after.id)), Bound::Unbounded))
            .take(limit)
            .map(|&(changed_at, id)| FoodChange {
                id,
                changed_at,
                food: rows.by_id.get(&id).cloned(),
            })
            .collect())
    }
}
