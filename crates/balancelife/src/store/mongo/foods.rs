//! The `foods` collection. A deleted food is replaced by a tombstone, which stays in
//! the feed of changes until its TTL index removes it, so every search index
//! following the feed learns of the deletion.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use chrono::{DateTime, TimeDelta, Utc};
use futures_util::TryStreamExt;
use mongodb::{ClientSession, Collection};
use uuid::Uuid;

use super::documents::{FoodDoc, FoodTombstone, food_source_key};
use super::errors::{Rejected, bounded, detached, detached_write, insert_unless_taken};
use crate::domain::{Barcode, Food, now};
use crate::store::foods::{
    FeedPosition, FoodChange, FoodStore, ImportCounts, MAX_OWNED_LISTED, Shelf, barcode_rank,
    by_name, check_import_batch, imported_over, same_content, shelf_full,
};
use crate::store::{Optional, StoreError, StoreResult, Written};

pub struct MongoFoods {
    collection: Collection<Document>,
    timeout: Duration,
}

/// Live foods only: not a tombstone.
fn live() -> Document {
    doc! { "deleted": { "$ne": true } }
}

fn decode(document: Document) -> StoreResult<Food> {
    bson::from_document::<FoodDoc>(document)
        .map(Food::from)
        .map_err(|e| StoreError::internal("malformed food document").because(e))
}

fn encode(food: &Food, changed_at: DateTime<Utc>) -> StoreResult<Document> {
    bson::to_document(&FoodDoc::new(food, changed_at))
        .map_err(|e| StoreError::internal("encoding a food").because(e))
}

fn tombstone(id: Uuid, at: DateTime<Utc>) -> StoreResult<Document> {
    let at = bson::DateTime::from_chrono(at);
    bson::to_document(&FoodTombstone {
        id: id.into(),
        deleted: true,
        changed_at: at,
        deleted_at: at,
    })
    .map_err(|e| StoreError::internal("encoding a tombstone").because(e))
}

/// The revision a conditional write compares with: the version read, which every
/// change bumps (a time could repeat within a millisecond, or across clocks).
fn revision_of(read: &Food) -> Bson {
    Bson::Int64(i64::from(read.version.get()))
}

impl MongoFoods {
    pub fn new(collection: Collection<Document>, timeout: Duration) -> Self {
        Self {
            collection,
            timeout,
        }
    }

    /// Turns every food of `owner` into a tombstone, in `session`'s transaction
    /// (the user is being deleted).
    pub async fn delete_owned_by(
        &self,
        owner: Uuid,
        session: Option<&mut ClientSession>,
    ) -> StoreResult<()> {
        let at = bson::DateTime::from_chrono(now());
        let filter = doc! { "owner": bson::Uuid::from(owner), "deleted": { "$ne": true } };
        // Nothing of the food is kept but its id and when it went.
        let update = vec![doc! { "$replaceWith": {
            "_id": "$_id", "deleted": true, "changed_at": at, "deleted_at": at,
        } }];
        let call = self.collection.update_many(filter, update);
        match session {
            Some(session) => bounded(self.timeout, call.session(session)).await?,
            None => bounded(self.timeout, call).await?,
        };
        Ok(())
    }

    /// Puts `document` (a food, or a deleted one's tombstone) in place of live food
    /// `id` if it is still the revision `read`; returns what it replaced. One
    /// `findOneAndReplace`; when it matches nothing, a read tells missing from
    /// stale.
    async fn replace_revision(
        &self,
        id: Uuid,
        read: &Food,
        document: Document,
    ) -> StoreResult<Document> {
        let mut filter = live();
        filter.insert("_id", bson::Uuid::from(id));
        filter.insert("version", revision_of(read));
        let timeout = self.timeout;
        let replaced = detached_write(timeout, &self.collection, move |foods| async move {
            foods
                .find_one_and_replace(filter, document)
                .max_time(timeout)
                .await
        })
        .await
        .map_err(|rejected| match rejected {
            Rejected::Duplicate(_) => {
                StoreError::Conflict("another food of this source has this source id".into())
            }
            Rejected::Failed(error) => error,
        })?;
        match replaced {
            Some(previous) => Ok(previous),
            None => Err(self.missing_or_stale(id).await),
        }
    }

    /// After a conditional write matched nothing: missing or stale?
    async fn missing_or_stale(&self, id: Uuid) -> StoreError {
        match self.get(id).await {
            Ok(_) => StoreError::Stale,
            Err(error) => error,
        }
    }

    /// The imported foods stored under the source keys of `foods`, by key.
    async fn stored_by_source(&self, foods: &[Food]) -> StoreResult<HashMap<String, Food>> {
        let keys: Vec<String> = foods.iter().filter_map(source_key).collect();
        let filter = doc! { "source_key": { "$in": keys } };
        let documents: Vec<Document> =
            detached(self.timeout, &self.collection, move |foods| async move {
                foods.find(filter).await?.try_collect().await
            })
            .await?;
        documents
            .into_iter()
            .map(|document| {
                let food = decode(document)?;
                let key = source_key(&food)
                    .ok_or_else(|| StoreError::internal("an imported food without a source id"))?;
                Ok((key, food))
            })
            .collect()
    }
}

fn source_key(food: &Food) -> Option<String> {
    food.source_id
        .as_ref()
        .map(|source_id| food_source_key(food.source, source_id))
}

#[async_trait]
impl FoodStore for MongoFoods {
    async fn get(&self, id: Uuid) -> StoreResult<Food> {
        let mut filter = live();
        filter.insert("_id", bson::Uuid::from(id));
        let found = detached(self.timeout, &self.collection, move |foods| async move {
            foods.find_one(filter).await
        })
        .await?;
        found.map(decode).transpose()?.ok_or(StoreError::NotFound)
    }

    async fn by_barcode(&self, barcode: &Barcode, viewer: Option<Uuid>) -> StoreResult<Food> {
        let mut visible = vec![doc! { "owner": { "$exists": false } }];
        if let Some(viewer) = viewer {
            visible.push(doc! { "owner": bson::Uuid::from(viewer) });
        }
        let filter = doc! { "barcodes": barcode.as_str(), "$or": visible };
        // Few foods share a barcode; the rank is easier to say here than in a sort.
        let documents: Vec<Document> =
            detached(self.timeout, &self.collection, move |foods| async move {
                foods.find(filter).limit(100).await?.try_collect().await
            })
            .await?;
        let mut visible = Vec::new();
        for document in documents {
            let food = decode(document)?;
            if food.visible_to(viewer) {
                visible.push(food);
            }
        }
        visible
            .into_iter()
            .min_by_key(|food| barcode_rank(food, viewer))
            .ok_or(StoreError::NotFound)
    }

    /// A user's food is counted against its shelf first, with one count on the
    /// `owner` index (two creates at once may pass it together: the cap is a
    /// shelf's size, not a quota to the unit).
    async fn create(&self, food: Food) -> StoreResult<Written<Food>> {
        if let Some(owner) = food.owner {
            let shelf = Shelf::of(&food);
            let mut filter = live();
            filter.insert("owner", bson::Uuid::from(owner));
            filter.insert("recipe", doc! { "$exists": shelf == Shelf::Recipes });
            let most = u64::try_from(MAX_OWNED_LISTED).expect("a small number");
            let kept = detached(self.timeout, &self.collection, move |foods| async move {
                foods.count_documents(filter).limit(most).await
            })
            .await?;
            // Sending one already there again stays harmless.
            if kept >= most && self.get(food.id).await.optional()?.is_none() {
                return Err(shelf_full(shelf));
            }
        }
        let document = encode(&food, now())?;
        match insert_unless_taken(self.timeout, &self.collection, &document).await {
            Ok(true) => Ok(Written::Created(food)),
            Ok(false) => match self.get(food.id).await {
                Ok(stored) if stored.owner != food.owner => Err(StoreError::NotFound),
                Ok(stored) if same_content(&stored, &food) => Ok(Written::Unchanged(stored)),
                Ok(_) => Err(StoreError::Conflict(
                    "a food with this id exists with other content".into(),
                )),
                // A tombstone holds the id: a deleted food's id is not reused.
                Err(StoreError::NotFound) => Err(StoreError::Conflict(
                    "a food with this id was deleted; make a new id".into(),
                )),
                Err(other) => Err(other),
            },
            Err(Rejected::Duplicate(_)) => Err(StoreError::Conflict(
                "another food of this source has this source id".into(),
            )),
            Err(Rejected::Failed(error)) => Err(error),
        }
    }

    async fn replace(&self, food: Food, read: &Food) -> StoreResult<Written<Food>> {
        let document = encode(&food, now())?;
        let previous = self.replace_revision(food.id, read, document).await?;
        Ok(Written::Replaced {
            stored: food,
            previous: decode(previous)?,
        })
    }

    async fn get_many(&self, ids: &[Uuid]) -> StoreResult<Vec<Food>> {
        let mut filter = live();
        let ids: Vec<bson::Uuid> = ids.iter().copied().map(bson::Uuid::from).collect();
        filter.insert("_id", doc! { "$in": ids });
        let documents: Vec<Document> =
            detached(self.timeout, &self.collection, move |foods| async move {
                foods.find(filter).await?.try_collect().await
            })
            .await?;
        documents.into_iter().map(decode).collect()
    }

    /// By the `owner` index; sorted here, as a shelf holds at most
    /// `MAX_OWNED_LISTED` (the API refuses more).
    async fn owned(&self, owner: Uuid, shelf: Shelf) -> StoreResult<Vec<Food>> {
        let mut filter = live();
        filter.insert("owner", bson::Uuid::from(owner));
        filter.insert("recipe", doc! { "$exists": shelf == Shelf::Recipes });
        // A few over the limit (concurrent creates) are read and cut after sorting.
        let most = i64::try_from(MAX_OWNED_LISTED).expect("a small number") * 2;
        let documents: Vec<Document> =
            detached(self.timeout, &self.collection, move |foods| async move {
                foods.find(filter).limit(most).await?.try_collect().await
            })
            .await?;
        let mut foods = documents
            .into_iter()
            .map(decode)
            .collect::<StoreResult<Vec<Food>>>()?;
        by_name(&mut foods);
        Ok(foods)
    }

    async fn delete(&self, id: Uuid, read: &Food) -> StoreResult<Food> {
        let previous = self
            .replace_revision(id, read, tombstone(id, now())?)
            .await?;
        decode(previous)
    }

    /// One query for what is stored under the batch's source keys, one
    /// `insertMany` for the new foods, and one replace per changed food: a second
    /// run of the same file reads and writes nothing else.
    async fn import(&self, foods: Vec<Food>) -> StoreResult<ImportCounts> {
        check_import_batch(&foods)?;
        let stored = self.stored_by_source(&foods).await?;
        let mut counts = ImportCounts::default();
        let mut new: HashMap<String, Food> = HashMap::new();
        let mut changed = Vec::new();
        for food in foods {
            let key = source_key(&food).expect("checked: every imported food has a source id");
            match stored.get(&key) {
                None => {
                    new.insert(key, food);
                }
                Some(existing) => match imported_over(food, existing) {
                    Some(replacement) => changed.push(replacement),
                    None => counts.unchanged += 1,
                },
            }
        }
        // Each write is stamped as it is sent: a follower reads back only as far as
        // a write can take (see `FoodStore::changes`), not a whole batch's time.
        if !new.is_empty() {
            let at = now();
            let documents = new
                .values()
                .map(|food| encode(food, at))
                .collect::<StoreResult<Vec<_>>>()?;
            let inserted =
                detached_write(self.timeout, &self.collection, move |foods| async move {
                    foods.insert_many(documents).ordered(false).await
                })
                .await;
            match inserted {
                Ok(_) => counts.created += new.len() as u64,
                // Another import stored some of them meanwhile: those are theirs,
                // and an import run again settles any difference.
                Err(Rejected::Duplicate(_)) => {
                    return Err(StoreError::Conflict(
                        "another import is storing the same foods; run this one again".into(),
                    ));
                }
                Err(Rejected::Failed(error)) => return Err(error),
            }
        }
        for food in changed {
            let filter = doc! { "_id": bson::Uuid::from(food.id) };
            let document = encode(&food, now())?;
            let timeout = self.timeout;
            detached_write(timeout, &self.collection, move |foods| async move {
                foods
                    .find_one_and_replace(filter, document)
                    .projection(doc! { "_id": 1 })
                    .max_time(timeout)
                    .await
            })
            .await
            .map_err(|rejected| match rejected {
                Rejected::Duplicate(_) => StoreError::internal("a replace met a unique index"),
                Rejected::Failed(error) => error,
            })?;
            counts.replaced += 1;
        }
        Ok(counts)
    }

    async fn changes(&self, after: FeedPosition, limit: usize) -> StoreResult<Vec<FoodChange>> {
        let at = bson::DateTime::from_chrono(after.at);
        let filter = doc! { "$or": [
            { "changed_at": { "$gt": at } },
            { "changed_at": at, "_id": { "$gt": bson::Uuid::from(after.id) } },
        ] };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let documents: Vec<Document> =
            detached(self.timeout, &self.collection, move |foods| async move {
                foods
                    .find(filter)
                    .sort(doc! { "changed_at": 1, "_id": 1 })
                    .limit(limit)
                    .await?
                    .try_collect()
                    .await
            })
            .await?;
        // A document this release cannot read must not stop every follower: it is
        // logged and passed over.
        Ok(documents
            .into_iter()
            .filter_map(|document| match change_of(document) {
                Ok(change) => Some(change),
                Err(error) => {
                    tracing::error!(error = %crate::telemetry::ErrorChain(&error), "a food the feed of changes passes over");
                    None
                }
            })
            .collect())
    }
}

fn change_of(document: Document) -> StoreResult<FoodChange> {
    if document.get_bool("deleted").unwrap_or(false) {
        let tombstone: FoodTombstone = bson::from_document(document)
            .map_err(|e| StoreError::internal("malformed food tombstone").because(e))?;
        return Ok(FoodChange {
            id: tombstone.id.into(),
            changed_at: tombstone.changed_at.to_chrono(),
            food: None,
        });
    }
    let changed_at = document
        .get_datetime("changed_at")
        .map(|at| at.to_chrono())
        .map_err(|e| StoreError::internal("a food without changed_at").because(e))?;
    let food = decode(document)?;
    Ok(FoodChange {
        id: food.id,
        changed_at,
        food: Some(food),
    })
}

/// How long a tombstone stays: past it, a search index that has not caught up
/// rebuilds.
pub fn tombstone_lifetime() -> Duration {
    TimeDelta::days(crate::store::foods::TOMBSTONE_DAYS)
        .to_std()
        .expect("a positive number of days")
}
