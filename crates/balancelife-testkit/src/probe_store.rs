//! `ProbeStore`: a real store (MongoDB) wrapped so a test can count the reads that
//! reach it and hold one read at a chosen point (a user read, or a meal entry read).
//! It delegates everything, provided methods included (a test below holds it so);
//! it fakes nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, oneshot};
use uuid::Uuid;

use balancelife::domain::*;
use balancelife::store::*;

pub struct ProbeStore {
    inner: Arc<dyn Store>,
    pub user_reads: AtomicUsize,
    hold: parking_lot::Mutex<Option<Hold>>,
    meal_entries: ProbeMealEntries,
}

/// The inner store's meal entries, with a hold on the next `get`, and the ranges
/// of the day sums read.
struct ProbeMealEntries {
    inner: Arc<dyn Store>,
    hold: parking_lot::Mutex<Option<Hold>>,
    day_sums_read: parking_lot::Mutex<Vec<DateRange>>,
}

/// Holds the next `get_user` after it has read the store and before it returns.
struct Hold {
    read_done: oneshot::Sender<()>,
    release: Arc<Notify>,
}

/// The test's side of a hold.
pub struct Held {
    pub read_done: oneshot::Receiver<()>,
    pub release: Arc<Notify>,
}

impl ProbeStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            meal_entries: ProbeMealEntries {
                inner: inner.clone(),
                hold: parking_lot::Mutex::new(None),
                day_sums_read: parking_lot::Mutex::new(Vec::new()),
            },
            inner,
            user_reads: AtomicUsize::new(0),
            hold: parking_lot::Mutex::new(None),
        }
    }

    pub fn hold_next_user_read(&self) -> Held {
        arm(&self.hold)
    }

    /// Holds the next meal entry `get` after it has read the store (if any comes).
    pub fn hold_next_meal_entry_read(&self) -> Held {
        arm(&self.meal_entries.hold)
    }

    pub fn user_reads(&self) -> usize {
        self.user_reads.load(Ordering::SeqCst)
    }

    /// The ranges of meal day sums read from the store since last asked.
    pub fn take_meal_day_sums_read(&self) -> Vec<DateRange> {
        std::mem::take(&mut self.meal_entries.day_sums_read.lock())
    }
}

#[async_trait]
impl Store for ProbeStore {
    fn kind(&self) -> StoreKind {
        self.inner.kind()
    }
    fn late_write_bound(&self) -> Option<std::time::Duration> {
        self.inner.late_write_bound()
    }
    async fn health(&self) -> Vec<(&'static str, ComponentHealth)> {
        self.inner.health().await
    }
    async fn create_user(&self, user: User) -> StoreResult<User> {
        self.inner.create_user(user).await
    }
    async fn get_user(&self, id: Uuid) -> StoreResult<User> {
        self.user_reads.fetch_add(1, Ordering::SeqCst);
        held(&self.hold, self.inner.get_user(id)).await
    }
    async fn get_user_stored(&self, id: Uuid) -> StoreResult<User> {
        self.inner.get_user_stored(id).await
    }
    async fn get_user_by_email(&self, email: &Email) -> StoreResult<User> {
        self.inner.get_user_by_email(email).await
    }
    async fn update_user(&self, user: User, read: &User) -> StoreResult<User> {
        self.inner.update_user(user, read).await
    }
    async fn delete_user(&self, id: Uuid) -> StoreResult<User> {
        self.inner.delete_user(id).await
    }
    fn meal_packages(&self) -> &dyn PackageStore<MealPackage> {
        self.inner.meal_packages()
    }
    fn workout_packages(&self) -> &dyn PackageStore<WorkoutPackage> {
        self.inner.workout_packages()
    }

    fn custom_exercises(&self) -> &dyn PackageStore<CustomExercise> {
        self.inner.custom_exercises()
    }
    fn meal_entries(&self) -> &dyn EntryStore<MealData> {
        &self.meal_entries
    }
    fn workout_entries(&self) -> &dyn EntryStore<WorkoutData> {
        self.inner.workout_entries()
    }

    fn body_metrics(&self) -> &dyn EntryStore<BodyMetricData> {
        self.inner.body_metrics()
    }

    fn sync_feed(&self) -> &dyn balancelife::store::SyncFeed {
        self.inner.sync_feed()
    }
    fn batches(&self) -> &dyn balancelife::store::BatchStore {
        self.inner.batches()
    }
    fn health_samples(&self) -> &dyn balancelife::store::HealthStore {
        self.inner.health_samples()
    }
    fn foods(&self) -> &dyn balancelife::store::FoodStore {
        self.inner.foods()
    }
    fn kept_answers(&self) -> &dyn balancelife::store::KeptAnswers {
        self.inner.kept_answers()
    }
    fn primary(&self) -> &dyn Store {
        self.inner.primary()
    }
}

fn arm(slot: &parking_lot::Mutex<Option<Hold>>) -> Held {
    let (read_done, done_rx) = oneshot::channel();
    let release = Arc::new(Notify::new());
    *slot.lock() = Some(Hold {
        read_done,
        release: release.clone(),
    });
    Held {
        read_done: done_rx,
        release,
    }
}

/// Runs `read`, then, if a hold is armed, reports it and waits to be released.
async fn held<T>(
    slot: &parking_lot::Mutex<Option<Hold>>,
    read: impl std::future::Future<Output = T>,
) -> T {
    let hold = slot.lock().take();
    let result = read.await;
    if let Some(hold) = hold {
        let _ = hold.read_done.send(());
        hold.release.notified().await;
    }
    result
}

#[async_trait]
impl EntryStore<MealData> for ProbeMealEntries {
    async fn create(&self, entry: Entry<MealData>) -> StoreResult<Written<Entry<MealData>>> {
        self.inner.meal_entries().create(entry).await
    }
    async fn put(&self, entry: Entry<MealData>) -> StoreResult<Written<Entry<MealData>>> {
        self.inner.meal_entries().put(entry).await
    }
    async fn put_many(
        &self,
        entries: Vec<Entry<MealData>>,
    ) -> StoreResult<Vec<StoreResult<Written<Entry<MealData>>>>> {
        self.inner.meal_entries().put_many(entries).await
    }
    async fn get(&self, user_id: Uuid, id: Uuid) -> StoreResult<Entry<MealData>> {
        held(&self.hold, self.inner.meal_entries().get(user_id, id)).await
    }
    async fn update(
        &self,
        entry: Entry<MealData>,
        expected: DateTime<Utc>,
    ) -> StoreResult<Entry<MealData>> {
        self.inner.meal_entries().update(entry, expected).await
    }
    async fn delete(&self, user_id: Uuid, id: Uuid) -> StoreResult<Entry<MealData>> {
        self.inner.meal_entries().delete(user_id, id).await
    }
    async fn delete_unchanged(
        &self,
        user_id: Uuid,
        id: Uuid,
        expected: DateTime<Utc>,
    ) -> StoreResult<Entry<MealData>> {
        self.inner
            .meal_entries()
            .delete_unchanged(user_id, id, expected)
            .await
    }
    async fn names_package(&self, package_id: Uuid) -> StoreResult<bool> {
        self.inner.meal_entries().names_package(package_id).await
    }
    async fn list(
        &self,
        user_id: Uuid,
        range: DateRange,
        page: PageRequest<EntryPosition>,
    ) -> StoreResult<Page<Entry<MealData>, EntryPosition>> {
        self.inner.meal_entries().list(user_id, range, page).await
    }
    async fn list_rendered(
        &self,
        user_id: Uuid,
        range: DateRange,
        page: PageRequest<EntryPosition>,
        render: RenderEntries<MealData>,
    ) -> StoreResult<Encoded> {
        self.inner
            .meal_entries()
            .list_rendered(user_id, range, page, render)
            .await
    }
    async fn day_sums(&self, user_id: Uuid, range: DateRange) -> StoreResult<DaySumsByDate> {
        self.day_sums_read.lock().push(range);
        self.inner.meal_entries().day_sums(user_id, range).await
    }
}

/// The probe must pass every call through: a provided method it does not override
/// runs the trait's default instead of the store's own (MongoDB's `day_sums`
/// aggregation, say), and the suites on the probe would then test something
/// production never runs. Rust cannot require an impl to override a provided
/// method, so this reads the store traits and the probe's impls and compares
/// their methods by name.
#[cfg(test)]
mod delegation {
    use std::collections::{BTreeMap, BTreeSet};

    const STORE_TRAITS: &str = include_str!("../../balancelife/src/store/mod.rs");
    const PROBE: &str = include_str!("probe_store.rs");

    fn parse(source: &str) -> syn::File {
        syn::parse_file(source).expect("valid Rust")
    }

    /// Each trait's name, with the names of all its methods (provided or not).
    fn trait_methods(file: &syn::File) -> BTreeMap<String, BTreeSet<String>> {
        file.items
            .iter()
            .filter_map(|item| match item {
                syn::Item::Trait(definition) => Some((
                    definition.ident.to_string(),
                    definition
                        .items
                        .iter()
                        .filter_map(|item| match item {
                            syn::TraitItem::Fn(method) => Some(method.sig.ident.to_string()),
                            _ => None,
                        })
                        .collect(),
                )),
                _ => None,
            })
            .collect()
    }

    /// For each trait impl in `file`: "<trait> for <type>", and the methods it writes.
    fn trait_impls(file: &syn::File) -> Vec<(String, String, BTreeSet<String>)> {
        file.items
            .iter()
            .filter_map(|item| match item {
                syn::Item::Impl(block) => {
                    let (_, path, _) = block.trait_.as_ref()?;
                    let name = path.segments.last()?.ident.to_string();
                    let target = match block.self_ty.as_ref() {
                        syn::Type::Path(target) => target.path.segments.last()?.ident.to_string(),
                        _ => return None,
                    };
                    let methods = block
                        .items
                        .iter()
                        .filter_map(|item| match item {
                            syn::ImplItem::Fn(method) => Some(method.sig.ident.to_string()),
                            _ => None,
                        })
                        .collect();
                    Some((name, target, methods))
                }
                _ => None,
            })
            .collect()
    }

    /// "<type>: <trait>::<method>" for every store-trait method an impl leaves to
    /// the trait's default.
    fn not_passed_through(traits: &syn::File, probe: &syn::File) -> Vec<String> {
        let traits = trait_methods(traits);
        let mut missing = Vec::new();
        for (name, target, written) in trait_impls(probe) {
            let Some(required) = traits.get(&name) else {
                continue;
            };
            missing.extend(
                required
                    .difference(&written)
                    .map(|method| format!("{target}: {name}::{method}")),
            );
        }
        missing
    }

    #[test]
    fn the_probe_passes_every_store_method_through() {
        let (traits, probe) = (parse(STORE_TRAITS), parse(PROBE));
        let checked: BTreeSet<String> = trait_impls(&probe)
            .into_iter()
            .map(|(name, _, _)| name)
            .collect();
        assert!(
            checked.contains("Store") && checked.contains("EntryStore"),
            "the probe's impls were not found: {checked:?}"
        );
        assert_eq!(
            not_passed_through(&traits, &probe),
            Vec::<String>::new(),
            "delegate these to the inner store"
        );
    }

    #[test]
    fn a_method_left_to_the_traits_default_is_reported() {
        let traits = parse(STORE_TRAITS);
        let mut probe = parse(PROBE);
        for item in &mut probe.items {
            if let syn::Item::Impl(block) = item {
                block.items.retain(
                    |item| !matches!(item, syn::ImplItem::Fn(method) if method.sig.ident == "list"),
                );
            }
        }
        let missing = not_passed_through(&traits, &probe);
        assert!(
            missing.contains(&"ProbeMealEntries: EntryStore::list".to_owned()),
            "{missing:?}"
        );
    }
}
