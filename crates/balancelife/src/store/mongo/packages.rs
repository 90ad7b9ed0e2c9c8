//! The catalogue collections. A package is stored as its own serde shape, with `_id`
//! holding the id and a derived `search_tags` array (tags plus diet tags) so that one
//! indexed field answers `tag=` filters. Documents of older releases (`published`
//! instead of `status`) are rewritten once at start (`migrations`) and read right
//! even before.

use std::marker::PhantomData;
use std::time::Duration;

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use futures_util::TryStreamExt;
use mongodb::Collection;

use super::errors::{Rejected, detached, detached_write};
use crate::domain::{Package, PackageFilter, Slug, StatusFilter};
use crate::store::{
    Optional, PackageStore, Page, PageRequest, StoreError, StoreResult, Written,
    changed_concurrently,
};

pub struct MongoPackages<P> {
    collection: Collection<Document>,
    timeout: Duration,
    kind: PhantomData<fn() -> P>,
}

impl<P: Package> MongoPackages<P> {
    pub fn new(collection: Collection<Document>, timeout: Duration) -> Self {
        Self {
            collection,
            timeout,
            kind: PhantomData,
        }
    }
}

fn to_document<P: Package>(package: &P) -> StoreResult<Document> {
    let mut document = bson::to_document(package)
        .map_err(|e| StoreError::internal("encoding a package").because(e))?;
    document.remove("id");
    document.insert("_id", bson::Uuid::from(package.id()));
    let tags: Vec<&str> = package.searchable_tags().map(|t| t.as_str()).collect();
    document.insert("search_tags", tags);
    // Kept beside `status` for instances of the release before it, which may still
    // run during an upgrade and read `published`.
    document.insert("published", package.published());
    Ok(document)
}

fn from_document<P: Package>(mut document: Document) -> StoreResult<P> {
    let corrupt =
        |what: &str| StoreError::internal(format!("malformed {} document: {what}", P::NOUN));
    let id = match document.remove("_id") {
        Some(Bson::Binary(binary)) => binary.to_uuid().map_err(|_| corrupt("_id is not a UUID"))?,
        _ => return Err(corrupt("_id is missing")),
    };
    document.remove("search_tags");
    document.insert("id", uuid::Uuid::from(id).to_string());
    let published = document.remove("published");
    if !document.contains_key("status") {
        // Written by the release before drafts existed, and not migrated (yet).
        let published = matches!(published, Some(Bson::Boolean(true)) | None);
        document.insert("status", if published { "published" } else { "draft" });
    }
    bson::from_document(document).map_err(|e| corrupt("fields").because(e))
}

#[async_trait]
impl<P: Package> PackageStore<P> for MongoPackages<P> {
    async fn list(
        &self,
        filter: &PackageFilter,
        page: PageRequest<Slug>,
    ) -> StoreResult<Page<P, Slug>> {
        let mut query = Document::new();
        // A document of the release before (written by one of its instances during
        // an upgrade, after the migration ran) has `published` and no `status`.
        let old_shape =
            |published: bool| doc! { "status": { "$exists": false }, "published": published };
        match filter.status {
            StatusFilter::All => {}
            StatusFilter::Archived => {
                query.insert("status", "archived");
            }
            StatusFilter::Published => {
                query.insert("$or", vec![doc! { "status": "published" }, old_shape(true)]);
            }
            StatusFilter::Draft => {
                query.insert("$or", vec![doc! { "status": "draft" }, old_shape(false)]);
            }
        }
        if let Some(tag) = &filter.tag {
            query.insert("search_tags", tag.as_str());
        }
        if let Some(level) = filter.level {
            query.insert(
                "level",
                bson::to_bson(&level)
                    .map_err(|e| StoreError::internal("encoding a level").because(e))?,
            );
        }
        if let Some(after) = &page.after {
            query.insert("slug", doc! { "$gt": after.as_str() });
        }
        let limit = i64::try_from(page.limit.get() + 1).expect("small page size");
        let documents: Vec<Document> =
            detached(self.timeout, &self.collection, move |packages| async move {
                packages
                    .find(query)
                    .sort(doc! { "slug": 1 })
                    .limit(limit)
                    .await?
                    .try_collect()
                    .await
            })
            .await?;
        let items = documents
            .into_iter()
            .map(from_document)
            .collect::<StoreResult<Vec<P>>>()?;
        Ok(Page::from_overfetched(items, page.limit, |p: &P| {
            p.slug().clone()
        }))
    }

    async fn get(&self, id: uuid::Uuid) -> StoreResult<P> {
        let filter = doc! { "_id": bson::Uuid::from(id) };
        let found = detached(self.timeout, &self.collection, move |packages| async move {
            packages.find_one(filter).await
        })
        .await?;
        found
            .map(from_document)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    async fn upsert(&self, package: P) -> StoreResult<Written<P>> {
        let previous = self.get(package.id()).await.optional()?;
        if previous.as_ref() == Some(&package) {
            return Ok(Written::Unchanged(package));
        }
        let document = to_document(&package)?;
        let filter = doc! { "_id": bson::Uuid::from(package.id()) };
        let timeout = self.timeout;
        let upsert = detached_write(timeout, &self.collection, move |packages| async move {
            packages
                .find_one_and_replace(filter, document)
                .upsert(true)
                .projection(doc! { "_id": 1 })
                .max_time(timeout)
                .await
        });
        match upsert.await {
            Ok(_) => Ok(match previous {
                Some(previous) => Written::Replaced {
                    stored: package,
                    previous,
                },
                None => Written::Created(package),
            }),
            // Two upserts of a new id at once: the loser's insert meets the winner's.
            Err(Rejected::Duplicate(Some(field))) if field == "_id" => Err(changed_concurrently()),
            Err(rejected) => Err(slug_or::<P>(rejected)),
        }
    }

    /// One `findOneAndReplace` on the id and the revision read, which returns what
    /// it replaced; when it matches nothing, a read tells missing from stale.
    async fn replace(&self, package: P, read: &P) -> StoreResult<Written<P>> {
        let filter =
            doc! { "_id": bson::Uuid::from(package.id()), "updated_at": revision_of(read)? };
        let document = to_document(&package)?;
        let timeout = self.timeout;
        let replaced = detached_write(timeout, &self.collection, move |packages| async move {
            packages
                .find_one_and_replace(filter, document)
                .max_time(timeout)
                .await
        })
        .await
        .map_err(slug_or::<P>)?;
        match replaced {
            Some(previous) => Ok(Written::Replaced {
                stored: package,
                previous: from_document(previous)?,
            }),
            None => match self.get(package.id()).await {
                Ok(_) => Err(StoreError::Stale),
                Err(error) => Err(error),
            },
        }
    }

    /// One `findOneAndDelete` on the id and the revision read; when it matches
    /// nothing, a read tells missing from stale.
    async fn delete(&self, id: uuid::Uuid, read: &P) -> StoreResult<P> {
        let filter = doc! { "_id": bson::Uuid::from(id), "updated_at": revision_of(read)? };
        let timeout = self.timeout;
        let deleted = detached_write(timeout, &self.collection, move |packages| async move {
            packages.find_one_and_delete(filter).max_time(timeout).await
        })
        .await
        .map_err(slug_or::<P>)?;
        match deleted {
            Some(deleted) => from_document(deleted),
            None => match self.get(id).await {
                Ok(_) => Err(StoreError::Stale),
                Err(error) => Err(error),
            },
        }
    }
}

/// The revision a conditional write compares with: `updated_at` as read. `null`
/// also matches a document without the field, as older releases wrote.
fn revision_of<P: Package>(read: &P) -> StoreResult<Bson> {
    bson::to_bson(&read.authorship().updated_at)
        .map_err(|e| StoreError::internal("encoding a revision").because(e))
}

/// A refused write: a unique index other than `_id` can only be the slug's.
fn slug_or<P: Package>(rejected: Rejected) -> StoreError {
    match rejected {
        Rejected::Duplicate(_) => {
            StoreError::Conflict(format!("another {} already has this slug", P::NOUN))
        }
        Rejected::Failed(other) => other,
    }
}
