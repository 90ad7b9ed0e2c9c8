//! The exercises a set or a package may name: the bundled library's, and those
//! administrators added (`CustomExercise`), which live in the store.
//!
//! A request reads only the custom exercises it names, each by id through the
//! store (and so through its cache), never the whole catalogue: most sessions name
//! bundled exercises only, and then nothing is read at all. A custom exercise may
//! be named once it has been published, and stays so after it is withdrawn, so a
//! session logged with it can still be edited; a draft that never was public is
//! unknown to everyone but administrators.

use std::collections::{BTreeSet, HashMap};

use futures_util::{StreamExt, TryStreamExt, stream};
use uuid::Uuid;

use crate::domain::{
    CustomExercise, ExerciseId, LibraryExercise, Package, PackageFilter, StatusFilter, Version,
};
use crate::exercise_library::library;
use crate::store::{Optional, PageLimit, PageRequest, Store, StoreResult};

/// How many custom exercises one request reads at once.
const READS_AT_ONCE: usize = 8;

/// The exercises some ids name, ready to be looked up.
#[derive(Debug, Default)]
pub struct ExerciseBook {
    /// The custom exercises read, each with the version it was read at.
    custom: HashMap<ExerciseId, (Version, LibraryExercise)>,
}

/// The custom exercises an answer was made with, each at its version: what the
/// answer depends on besides the user's own data.
pub type CustomVersions = Vec<(Uuid, Version)>;

impl ExerciseBook {
    /// The exercises `ids` name: those of the library, and the custom ones that
    /// may be named, read from `store`. An id naming neither is left out; `get`
    /// tells.
    pub async fn of<'a>(
        store: &dyn Store,
        ids: impl IntoIterator<Item = &'a ExerciseId>,
    ) -> StoreResult<Self> {
        let custom = read_custom(store, custom_ids(ids))
            .await?
            .into_iter()
            .map(|(_, version, exercise)| (exercise.id.clone(), (version, exercise)))
            .collect();
        Ok(Self { custom })
    }

    /// Every custom exercise that may be named, for a reader of many sets (an
    /// export) rather than of some ids.
    pub async fn every_custom(store: &dyn Store) -> StoreResult<Self> {
        let filter = PackageFilter {
            status: StatusFilter::All,
            ..PackageFilter::default()
        };
        let custom = all_custom(store, &filter)
            .await?
            .into_iter()
            .filter(CustomExercise::may_be_named)
            .map(|exercise| {
                let described = exercise.described();
                (described.id.clone(), (exercise.version(), described))
            })
            .collect();
        Ok(Self { custom })
    }

    pub fn get(&self, id: &ExerciseId) -> Option<&LibraryExercise> {
        library()
            .get(id)
            .or_else(|| self.custom.get(id).map(|(_, exercise)| exercise))
    }

    /// The custom exercises read, each at the version read.
    pub fn custom_versions(&self) -> CustomVersions {
        let mut versions: CustomVersions = self
            .custom
            .iter()
            .filter_map(|(id, (version, _))| Some((id.custom()?, *version)))
            .collect();
        versions.sort_unstable();
        versions
    }

    /// Whether the custom exercises of `versions` are still as they were then:
    /// each still may be named, at the same version.
    pub async fn still_current(store: &dyn Store, versions: &CustomVersions) -> StoreResult<bool> {
        if versions.is_empty() {
            return Ok(true);
        }
        let ids = versions.iter().map(|(id, _)| *id).collect();
        let mut now: CustomVersions = read_custom(store, ids)
            .await?
            .into_iter()
            .map(|(id, version, _)| (id, version))
            .collect();
        now.sort_unstable();
        Ok(now == *versions)
    }
}

/// The custom exercises `ids` may name (those shaped as their ids are), each once.
pub fn custom_ids<'a>(ids: impl IntoIterator<Item = &'a ExerciseId>) -> BTreeSet<Uuid> {
    ids.into_iter()
        .filter(|id| library().get(id).is_none())
        .filter_map(ExerciseId::custom)
        .collect()
}

/// The custom exercises of `ids` that may be named, as `(id, version, exercise)`.
async fn read_custom(
    store: &dyn Store,
    ids: BTreeSet<Uuid>,
) -> StoreResult<Vec<(Uuid, Version, LibraryExercise)>> {
    let catalogue = store.custom_exercises();
    let found: Vec<_> = stream::iter(ids)
        .map(|id| async move { catalogue.get(id).await.optional() })
        .buffer_unordered(READS_AT_ONCE)
        .try_collect()
        .await?;
    Ok(found
        .into_iter()
        .flatten()
        .filter(|exercise| exercise.may_be_named())
        .map(|exercise| (exercise.id, exercise.version(), exercise.described()))
        .collect())
}

/// Every published custom exercise, as clients see any exercise: what a search
/// looks through besides the library.
pub async fn published_custom(store: &dyn Store) -> StoreResult<Vec<LibraryExercise>> {
    let published = all_custom(store, &PackageFilter::default()).await?;
    Ok(published.iter().map(CustomExercise::described).collect())
}

/// Every custom exercise `filter` lists, page by page.
async fn all_custom(store: &dyn Store, filter: &PackageFilter) -> StoreResult<Vec<CustomExercise>> {
    let mut found = Vec::new();
    let mut page = PageRequest::first(PageLimit::LARGEST);
    loop {
        let next = store.custom_exercises().list(filter, page.clone()).await?;
        found.extend(next.items);
        match next.next {
            Some(after) => page.after = Some(after),
            None => return Ok(found),
        }
    }
}
