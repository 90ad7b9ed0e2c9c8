//! The contract cases. Each takes a fresh, empty store.

use std::sync::Arc;

use chrono::Duration;

use balancelife::domain::*;
use balancelife::store::sync_feed::{FeedPosition, FeedRecord};
use balancelife::store::{
    DateRange, DaySumsByDate, EntryStore, PageLimit, PageRequest, Store, StoreError, Written,
    all_entries,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::contract::sync_feed::read_all;
use crate::fixtures::{self, EntryFixture, at, date, entry, unique_email};

type S = Arc<dyn Store>;

fn limit(n: i64) -> PageLimit {
    PageLimit::try_from(n).unwrap()
}

async fn new_user(store: &S) -> User {
    store
        .create_user(fixtures::user(unique_email("user")))
        .await
        .unwrap()
}

fn entries<D: EntryFixture + StoreAccess>(store: &S) -> &dyn EntryStore<D> {
    D::of(store.as_ref())
}

/// Picks the entry store of kind `D`.
pub trait StoreAccess: EntryData {
    fn of(store: &dyn Store) -> &dyn EntryStore<Self>;
}

impl StoreAccess for MealData {
    fn of(store: &dyn Store) -> &dyn EntryStore<Self> {
        store.meal_entries()
    }
}

impl StoreAccess for WorkoutData {
    fn of(store: &dyn Store) -> &dyn EntryStore<Self> {
        store.workout_entries()
    }
}

impl StoreAccess for BodyMetricData {
    fn of(store: &dyn Store) -> &dyn EntryStore<Self> {
        store.body_metrics()
    }
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "expected NotFound, got {result:?}"
    );
}

fn assert_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    assert!(
        matches!(result, Err(StoreError::Conflict(_))),
        "expected Conflict, got {result:?}"
    );
}

/// A conflict whose message (which clients see) names what clashed, the same on
/// every store.
fn assert_conflict_about<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::Conflict(message)) => {
            assert!(message.contains(what), "{message:?} does not name {what}")
        }
        other => panic!("expected a Conflict about {what}, got {other:?}"),
    }
}

// ---- users ----

pub async fn a_created_user_can_be_read_by_id_and_by_email(store: S) {
    let user = fixtures::user(unique_email("ada"));

    let created = store.create_user(user.clone()).await.unwrap();

    assert_eq!(created, user);
    assert_eq!(store.get_user(user.id).await.unwrap(), user);
    assert_eq!(store.get_user_by_email(&user.email).await.unwrap(), user);
    assert_not_found(store.get_user(new_id()).await);
    assert_not_found(store.get_user_by_email(&unique_email("nobody")).await);
}

pub async fn emails_are_unique_whatever_their_case(store: S) {
    let email = unique_email("grace");
    store
        .create_user(fixtures::user(email.clone()))
        .await
        .unwrap();
    let shouted: Email = email.as_str().to_uppercase().parse().unwrap();

    let second = store.create_user(fixtures::user(shouted)).await;

    assert_conflict_about(second, "e-mail address");
}

pub async fn a_taken_user_id_conflicts(store: S) {
    let user = new_user(&store).await;
    let mut twin = fixtures::user(unique_email("twin"));
    twin.id = user.id;

    assert_conflict_about(store.create_user(twin).await, "with this id");
}

pub async fn updating_a_user_changes_what_is_read_back(store: S) {
    let mut user = new_user(&store).await;
    let old_email = user.email.clone();
    user.email = unique_email("renamed");
    user.name = "Renamed Person".try_into().unwrap();
    user.profile.goal = Some(Goal::Gain);

    let read = user.clone();
    user.updated_at += Duration::milliseconds(5);
    store.update_user(user.clone(), &read).await.unwrap();

    assert_eq!(store.get_user(user.id).await.unwrap(), user);
    assert_eq!(store.get_user_by_email(&user.email).await.unwrap(), user);
    assert_not_found(store.get_user_by_email(&old_email).await);
}

pub async fn updating_to_an_email_someone_else_has_conflicts(store: S) {
    let first = new_user(&store).await;
    let mut second = new_user(&store).await;
    second.email = first.email.clone();

    let read = second.clone();
    assert_conflict_about(store.update_user(second, &read).await, "e-mail address");
}

pub async fn an_update_from_a_stale_read_conflicts(store: S) {
    let user = new_user(&store).await;
    let mut first = user.clone();
    first.name = "First Writer".try_into().unwrap();
    first.updated_at += Duration::milliseconds(5);
    let mut second = user.clone();
    second.name = "Second Writer".try_into().unwrap();
    second.updated_at += Duration::milliseconds(6);

    store.update_user(first.clone(), &user).await.unwrap();
    let stale = store.update_user(second, &user).await;

    assert_conflict(stale);
    assert_eq!(store.get_user(user.id).await.unwrap(), first);
}

pub async fn updating_or_deleting_a_missing_user_is_not_found(store: S) {
    let ghost = fixtures::user(unique_email("ghost"));

    assert_not_found(store.update_user(ghost.clone(), &ghost).await);
    assert_not_found(store.delete_user(ghost.id).await);
}

/// Kept answers are bytes by user and kind: the newest in place of the older,
/// one user's never another's, and gone with their user.
pub async fn kept_answers_are_read_back_by_user_and_kind_until_the_user_is_deleted(store: S) {
    let leaving = new_user(&store).await;
    let staying = new_user(&store).await;
    let answers = store.kept_answers();
    let read = |user: &User, kind: &'static str| {
        let id = user.id;
        async move { answers.get(id, kind).await.unwrap() }
    };
    assert_eq!(read(&leaving, "records").await, None, "none kept yet");
    answers
        .put(leaving.id, "records", b"first".to_vec())
        .await
        .unwrap();
    answers
        .put(leaving.id, "volume", b"of another kind".to_vec())
        .await
        .unwrap();
    answers
        .put(staying.id, "records", b"another user's".to_vec())
        .await
        .unwrap();
    answers
        .put(leaving.id, "records", b"second".to_vec())
        .await
        .unwrap();
    assert_eq!(read(&leaving, "records").await, Some(b"second".to_vec()));
    assert_eq!(
        read(&leaving, "volume").await,
        Some(b"of another kind".to_vec())
    );
    assert_eq!(
        read(&staying, "records").await,
        Some(b"another user's".to_vec())
    );

    store.delete_user(leaving.id).await.unwrap();
    assert_eq!(read(&leaving, "records").await, None);
    assert_eq!(read(&leaving, "volume").await, None);
    assert_eq!(
        read(&staying, "records").await,
        Some(b"another user's".to_vec())
    );
    answers.forget(staying.id).await.unwrap();
    assert_eq!(read(&staying, "records").await, None, "forgotten");
}

pub async fn deleting_a_user_deletes_their_entries_and_no_one_elses(store: S) {
    let leaving = new_user(&store).await;
    let staying = new_user(&store).await;
    let when = at("2026-03-01", "12:00");
    let gone_meal = entry::<MealData>(leaving.id, 1, when);
    let gone_workout = entry::<WorkoutData>(leaving.id, 1, when);
    let gone_weigh_in = entry::<BodyMetricData>(leaving.id, 1, when);
    let kept_meal = entry::<MealData>(staying.id, 1, when);
    let kept_weigh_in = entry::<BodyMetricData>(staying.id, 2, when);
    for weigh_in in [&gone_weigh_in, &kept_weigh_in] {
        store.body_metrics().create(weigh_in.clone()).await.unwrap();
    }
    store
        .meal_entries()
        .create(gone_meal.clone())
        .await
        .unwrap();
    store
        .workout_entries()
        .create(gone_workout.clone())
        .await
        .unwrap();
    store
        .meal_entries()
        .create(kept_meal.clone())
        .await
        .unwrap();

    let deleted = store.delete_user(leaving.id).await.unwrap();

    assert_eq!(deleted, leaving, "the deletion returns what it deleted");
    assert_not_found(store.get_user(leaving.id).await);
    assert_not_found(store.get_user_by_email(&leaving.email).await);
    assert_not_found(store.meal_entries().get(leaving.id, gone_meal.id).await);
    assert_not_found(
        store
            .workout_entries()
            .get(leaving.id, gone_workout.id)
            .await,
    );
    assert_not_found(store.body_metrics().get(leaving.id, gone_weigh_in.id).await);
    let kept = store.body_metrics().get(staying.id, kept_weigh_in.id).await;
    assert_eq!(kept.unwrap(), kept_weigh_in);
    let day = DateRange::day(date("2026-03-01"));
    let page = store
        .meal_entries()
        .list(leaving.id, day, PageRequest::first(limit(10)))
        .await
        .unwrap();
    assert!(page.items.is_empty());
    assert_eq!(
        store
            .meal_entries()
            .get(staying.id, kept_meal.id)
            .await
            .unwrap(),
        kept_meal
    );
}

// ---- packages ----

pub async fn packages_are_listed_in_slug_order_across_pages(store: S) {
    for slug in ["delta", "alpha", "echo", "charlie", "bravo"] {
        store
            .meal_packages()
            .upsert(fixtures::meal_package(slug, &[], true))
            .await
            .unwrap();
    }
    let filter = PackageFilter::default();

    let mut slugs = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store
            .meal_packages()
            .list(
                &filter,
                PageRequest {
                    limit: limit(2),
                    after,
                },
            )
            .await
            .unwrap();
        pages += 1;
        slugs.extend(page.items.iter().map(|p| p.slug.to_string()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }

    assert_eq!(slugs, ["alpha", "bravo", "charlie", "delta", "echo"]);
    assert_eq!(pages, 3);
}

pub async fn packages_can_be_filtered_by_tag_and_level(store: S) {
    let packages = store.workout_packages();
    packages
        .upsert(fixtures::workout_package(
            "a-easy-cardio",
            Level::Beginner,
            &["cardio"],
        ))
        .await
        .unwrap();
    packages
        .upsert(fixtures::workout_package(
            "b-hard-cardio",
            Level::Advanced,
            &["cardio"],
        ))
        .await
        .unwrap();
    packages
        .upsert(fixtures::workout_package(
            "c-easy-strength",
            Level::Beginner,
            &["strength"],
        ))
        .await
        .unwrap();
    store
        .meal_packages()
        .upsert(fixtures::meal_package("quick-one", &["quick"], true))
        .await
        .unwrap();
    store
        .meal_packages()
        .upsert(fixtures::meal_package("slow-one", &["slow"], true))
        .await
        .unwrap();
    let first = |filter: PackageFilter| {
        let store = store.clone();
        async move {
            let page = store
                .workout_packages()
                .list(&filter, PageRequest::first(limit(10)))
                .await
                .unwrap();
            page.items
                .into_iter()
                .map(|p| p.slug.to_string())
                .collect::<Vec<_>>()
        }
    };

    let cardio = first(PackageFilter {
        tag: Some("cardio".parse().unwrap()),
        ..Default::default()
    })
    .await;
    let beginner = first(PackageFilter {
        level: Some(Level::Beginner),
        ..Default::default()
    })
    .await;
    let both = first(PackageFilter {
        tag: Some("cardio".parse().unwrap()),
        level: Some(Level::Beginner),
        ..Default::default()
    })
    .await;
    let vegetarian = store
        .meal_packages()
        .list(
            &PackageFilter {
                tag: Some("vegetarian".parse().unwrap()),
                ..Default::default()
            },
            PageRequest::first(limit(10)),
        )
        .await
        .unwrap();
    let quick = store
        .meal_packages()
        .list(
            &PackageFilter {
                tag: Some("quick".parse().unwrap()),
                ..Default::default()
            },
            PageRequest::first(limit(10)),
        )
        .await
        .unwrap();

    assert_eq!(cardio, ["a-easy-cardio", "b-hard-cardio"]);
    assert_eq!(beginner, ["a-easy-cardio", "c-easy-strength"]);
    assert_eq!(both, ["a-easy-cardio"]);
    assert_eq!(vegetarian.items.len(), 2, "diet tags are searchable too");
    assert_eq!(quick.items.len(), 1);
    assert_eq!(quick.items[0].slug.as_str(), "quick-one");
}

pub async fn each_status_is_listed_only_when_asked(store: S) {
    let mut archived = fixtures::meal_package("archived", &[], true);
    archived.status = PackageStatus::Archived;
    for package in [
        fixtures::meal_package("draft", &[], false),
        fixtures::meal_package("live", &[], true),
        archived,
    ] {
        store.meal_packages().upsert(package).await.unwrap();
    }

    let mut listed = Vec::new();
    for status in StatusFilter::EVERY {
        let filter = PackageFilter {
            status,
            ..Default::default()
        };
        let page = store
            .meal_packages()
            .list(&filter, PageRequest::first(limit(10)))
            .await
            .unwrap();
        let slugs: Vec<String> = page.items.iter().map(|p| p.slug.to_string()).collect();
        listed.push((status, slugs));
    }

    assert_eq!(
        listed,
        [
            (StatusFilter::Draft, vec!["draft".to_owned()]),
            (StatusFilter::Published, vec!["live".to_owned()]),
            (StatusFilter::Archived, vec!["archived".to_owned()]),
            (
                StatusFilter::All,
                vec!["archived".to_owned(), "draft".to_owned(), "live".to_owned()]
            ),
        ]
    );
    assert_eq!(
        PackageFilter::default().status,
        StatusFilter::Published,
        "the public sees published packages only"
    );
}

/// An administrator's write: only on top of the revision read, so two editors never
/// overwrite each other; a slug stays unique.
pub async fn a_package_is_replaced_only_over_the_revision_read(store: S) {
    let mut read = fixtures::meal_package("editable", &[], false);
    read.updated_at = Some(at("2026-05-01", "10:00"));
    store.meal_packages().upsert(read.clone()).await.unwrap();
    store
        .meal_packages()
        .upsert(fixtures::meal_package("other", &[], true))
        .await
        .unwrap();
    let revise = |from: &MealPackage, minute: u32, name: &str| {
        let mut next = from.clone();
        next.name = name.try_into().unwrap();
        next.updated_at = Some(at("2026-05-01", &format!("10:{minute:02}")));
        next
    };

    let first = revise(&read, 1, "First editor");
    let written = store
        .meal_packages()
        .replace(first.clone(), &read)
        .await
        .unwrap();
    let second = store
        .meal_packages()
        .replace(revise(&read, 2, "Second editor"), &read)
        .await;
    let mut clash = revise(&first, 3, "Clash");
    clash.slug = "other".parse().unwrap();
    let taken = store.meal_packages().replace(clash, &first).await;
    let mut missing = fixtures::meal_package("missing", &[], true);
    missing.updated_at = read.updated_at;
    let absent = store
        .meal_packages()
        .replace(missing.clone(), &missing)
        .await;

    assert_eq!(
        written,
        Written::Replaced {
            stored: first.clone(),
            previous: read.clone()
        }
    );
    assert!(
        matches!(second, Err(StoreError::Stale)),
        "a write over a revision that is gone: {second:?}"
    );
    assert_conflict_about(taken, "slug");
    assert!(matches!(absent, Err(StoreError::NotFound)), "{absent:?}");
    assert_eq!(store.meal_packages().get(read.id).await.unwrap(), first);

    // A package stored without a revision time (the sample, an older release).
    let mut seeded = fixtures::meal_package("seeded", &[], true);
    seeded.updated_at = None;
    store.meal_packages().upsert(seeded.clone()).await.unwrap();
    let edited = revise(&seeded, 4, "Edited");
    store
        .meal_packages()
        .replace(edited.clone(), &seeded)
        .await
        .unwrap();
    assert_eq!(store.meal_packages().get(seeded.id).await.unwrap(), edited);
}

/// A deletion, like a replacement, happens only at the revision read: an edit or a
/// publication in between makes it stale.
pub async fn a_package_is_deleted_only_at_the_revision_read(store: S) {
    let mut read = fixtures::meal_package("doomed", &[], false);
    read.updated_at = Some(at("2026-05-01", "10:00"));
    store.meal_packages().upsert(read.clone()).await.unwrap();
    let mut edited = read.clone();
    edited.name = "Edited meanwhile".try_into().unwrap();
    edited.updated_at = Some(at("2026-05-01", "10:01"));
    store
        .meal_packages()
        .replace(edited.clone(), &read)
        .await
        .unwrap();

    let stale = store.meal_packages().delete(read.id, &read).await;
    let deleted = store.meal_packages().delete(read.id, &edited).await;
    let again = store.meal_packages().delete(read.id, &edited).await;

    assert!(matches!(stale, Err(StoreError::Stale)), "{stale:?}");
    assert_eq!(
        deleted.unwrap(),
        edited,
        "the deletion returns what it deleted"
    );
    assert_not_found(again);
    assert_not_found(store.meal_packages().get(read.id).await);
    let everything = PackageFilter {
        status: StatusFilter::All,
        ..PackageFilter::default()
    };
    let listed = store
        .meal_packages()
        .list(&everything, PageRequest::first(limit(10)))
        .await
        .unwrap();
    assert!(listed.items.is_empty(), "{:?}", listed.items);
    let successor = fixtures::meal_package("doomed", &[], true);
    let reused = store.meal_packages().upsert(successor).await;
    assert!(
        matches!(reused, Ok(Written::Created(_))),
        "the slug is free: {reused:?}"
    );
}

pub async fn upserting_a_package_is_idempotent(store: S) {
    let package = fixtures::meal_package("stable", &["quick"], true);
    let mut revised = package.clone();
    revised.version = Version::try_from(2).unwrap();

    let first = store.meal_packages().upsert(package.clone()).await.unwrap();
    let again = store.meal_packages().upsert(package.clone()).await.unwrap();
    let replaced = store.meal_packages().upsert(revised.clone()).await.unwrap();

    assert_eq!(first, Written::Created(package.clone()));
    assert_eq!(again, Written::Unchanged(package.clone()));
    assert_eq!(
        replaced,
        Written::Replaced {
            stored: revised.clone(),
            previous: package.clone()
        }
    );
    assert_eq!(
        store.meal_packages().get(package.id).await.unwrap(),
        revised
    );
    let listed = store
        .meal_packages()
        .list(&PackageFilter::default(), PageRequest::first(limit(10)))
        .await
        .unwrap();
    assert_eq!(listed.items, vec![revised]);
}

pub async fn a_slug_held_by_another_package_conflicts(store: S) {
    store
        .workout_packages()
        .upsert(fixtures::workout_package("taken", Level::Beginner, &[]))
        .await
        .unwrap();

    let clash = store
        .workout_packages()
        .upsert(fixtures::workout_package("taken", Level::Advanced, &[]))
        .await;

    assert_conflict_about(clash, "slug");
}

pub async fn custom_exercises_are_kept_whole_and_revised_like_packages(store: S) {
    let exercises = store.custom_exercises();
    let draft = CustomExercise {
        status: PackageStatus::Draft,
        first_published_at: None,
        ..fixtures::custom_exercise("press-draft")
    };
    let published = fixtures::custom_exercise("press");
    for exercise in [&draft, &published] {
        let written = exercises.upsert(exercise.clone()).await.unwrap();
        assert_eq!(written, Written::Created(exercise.clone()));
        assert_eq!(exercises.get(exercise.id).await.unwrap(), *exercise);
    }
    let listed = exercises
        .list(&PackageFilter::default(), PageRequest::first(limit(10)))
        .await
        .unwrap();
    assert_eq!(
        listed.items,
        vec![published.clone()],
        "drafts are not listed"
    );

    let mut revised = published.clone();
    revised.name = "Landmine press, one arm".try_into().unwrap();
    revised.equipment = None;
    revised.version = Version::try_from(2).unwrap();
    revised.updated_at = Some(at("2026-03-01", "12:00"));
    exercises
        .replace(revised.clone(), &published)
        .await
        .unwrap();
    assert_eq!(exercises.get(published.id).await.unwrap(), revised);
    assert!(matches!(
        exercises.replace(published.clone(), &published).await,
        Err(StoreError::Stale)
    ));
    assert_conflict_about(
        exercises.upsert(fixtures::custom_exercise("press")).await,
        "slug",
    );
    exercises.delete(draft.id, &draft).await.unwrap();
    assert_not_found(exercises.get(draft.id).await);
}

pub async fn a_missing_package_is_not_found(store: S) {
    assert_not_found(store.meal_packages().get(new_id()).await);
    assert_not_found(store.workout_packages().get(new_id()).await);
}

// ---- entries, for each kind ----

pub async fn creating_an_entry_is_idempotent_on_its_id<D: EntryFixture + StoreAccess>(store: S) {
    let user = new_user(&store).await;
    let original = entry::<D>(user.id, 1, at("2026-03-02", "08:00"));
    let mut retried = original.clone();
    retried.created_at += Duration::seconds(5);
    retried.updated_at += Duration::seconds(5);
    let mut different = original.clone();
    different.data = original.data.altered();

    let first = entries::<D>(&store).create(original.clone()).await.unwrap();
    let repeat = entries::<D>(&store).create(retried).await.unwrap();
    let clash = entries::<D>(&store).create(different).await;

    assert_eq!(first, Written::Created(original.clone()));
    assert_eq!(
        repeat,
        Written::Unchanged(original.clone()),
        "a retry returns what is stored"
    );
    assert_conflict_about(clash, "other content");
    assert_eq!(
        entries::<D>(&store)
            .get(user.id, original.id)
            .await
            .unwrap(),
        original
    );
}

pub async fn an_id_owned_by_another_user_is_not_found_on_create_and_put<
    D: EntryFixture + StoreAccess,
>(
    store: S,
) {
    let owner = new_user(&store).await;
    let intruder = new_user(&store).await;
    let original = entry::<D>(owner.id, 1, at("2026-03-02", "08:00"));
    entries::<D>(&store).create(original.clone()).await.unwrap();
    let mut hijack = original.clone();
    hijack.user_id = intruder.id;

    assert_not_found(entries::<D>(&store).create(hijack.clone()).await);
    assert_not_found(entries::<D>(&store).put(hijack).await);
    assert_eq!(
        entries::<D>(&store)
            .get(owner.id, original.id)
            .await
            .unwrap(),
        original
    );
}

pub async fn put_creates_then_replaces_keeping_created_at<D: EntryFixture + StoreAccess>(store: S) {
    let user = new_user(&store).await;
    let original = entry::<D>(user.id, 1, at("2026-03-03", "09:30"));
    let mut replacement = original.clone();
    replacement.data = original.data.altered();
    replacement.created_at += Duration::minutes(1);
    replacement.updated_at += Duration::minutes(1);

    let created = entries::<D>(&store).put(original.clone()).await.unwrap();
    let unchanged = entries::<D>(&store).put(original.clone()).await.unwrap();
    let replaced = entries::<D>(&store).put(replacement.clone()).await.unwrap();

    assert!(matches!(created, Written::Created(_)));
    assert!(matches!(unchanged, Written::Unchanged(_)));
    let Written::Replaced { stored, previous } = replaced else {
        panic!("expected Replaced, got {replaced:?}");
    };
    assert_eq!(previous, original, "what was replaced, as it was");
    assert_eq!(
        stored.created_at, original.created_at,
        "created_at survives a replace"
    );
    assert_eq!(stored.updated_at, replacement.updated_at);
    assert_eq!(stored.data, replacement.data);
    assert_eq!(
        entries::<D>(&store)
            .get(user.id, original.id)
            .await
            .unwrap(),
        stored
    );
}

/// A phone's batch: each entry answered as its own `put` would be, the feed
/// numbering each write, whether the store writes them together or one by one.
pub async fn putting_many_answers_each_as_its_own_put_would<D: EntryFixture + StoreAccess>(
    store: S,
) {
    let (user, stranger) = (new_user(&store).await, new_user(&store).await);
    let (start, _) = read_all(&store, user.id, FeedPosition::START, 100).await;
    let kept = entry::<D>(user.id, 1, at("2026-03-03", "08:00"));
    let edited = entry::<D>(user.id, 2, at("2026-03-03", "09:00"));
    let theirs = entry::<D>(stranger.id, 3, at("2026-03-03", "10:00"));
    for existing in [&kept, &edited, &theirs] {
        entries::<D>(&store).put(existing.clone()).await.unwrap();
    }
    let (before, after_existing) = read_all(&store, user.id, FeedPosition::START, 100).await;
    assert_eq!(before.len(), start.len() + 2);
    let mut edit = edited.clone();
    edit.data = edited.data.altered();
    // Moved to another day: the day it left must not keep it.
    edit.local_date = date("2026-03-04");
    let mut hijack = theirs.clone();
    hijack.user_id = user.id;
    let fresh: Vec<Entry<D>> = (4..7)
        .map(|n| entry::<D>(user.id, n, at("2026-03-05", "12:00")))
        .collect();
    let mut batch = vec![kept.clone(), edit.clone(), hijack];
    batch.extend(fresh.iter().cloned());

    let results = entries::<D>(&store).put_many(batch).await.unwrap();

    assert_eq!(results.len(), 6);
    assert_eq!(
        results[0].as_ref().ok(),
        Some(&Written::Unchanged(kept.clone()))
    );
    match &results[1] {
        Ok(Written::Replaced { stored, previous }) => {
            assert_eq!(previous, &edited, "what was replaced, as it was");
            assert_eq!(stored.data, edit.data);
            assert_eq!(stored.created_at, edited.created_at, "created_at survives");
        }
        other => panic!("expected Replaced, got {other:?}"),
    }
    assert!(
        matches!(results[2], Err(StoreError::NotFound)),
        "another user's id: {:?}",
        results[2]
    );
    for (result, made) in results[3..].iter().zip(&fresh) {
        assert_eq!(result.as_ref().ok(), Some(&Written::Created(made.clone())));
        assert_eq!(
            entries::<D>(&store).get(user.id, made.id).await.unwrap(),
            *made
        );
    }
    assert_eq!(
        entries::<D>(&store)
            .get(stranger.id, theirs.id)
            .await
            .unwrap(),
        theirs,
        "another user's entry is left as it was"
    );
    let moved = entries::<D>(&store)
        .list(
            user.id,
            DateRange::new(date("2026-03-03"), date("2026-03-05")).unwrap(),
            PageRequest::first(limit(10)),
        )
        .await
        .unwrap();
    let mut days: Vec<(uuid::Uuid, chrono::NaiveDate)> = moved
        .items
        .iter()
        .map(|entry| (entry.id, entry.local_date))
        .collect();
    let mut expected = vec![(kept.id, kept.local_date), (edit.id, edit.local_date)];
    expected.extend(fresh.iter().map(|made| (made.id, made.local_date)));
    days.sort();
    expected.sort();
    assert_eq!(days, expected, "each listed once, on its day");
    // The feed after the batch: the edit and the new entries, each once; the
    // entry put as it was may come again (MongoDB moves the place of a write that
    // changed nothing), as it is.
    let (changed, _) = read_all(&store, user.id, after_existing, 100).await;
    let mut ids: Vec<uuid::Uuid> = changed.iter().map(FeedRecord::id).collect();
    ids.retain(|id| *id != kept.id);
    ids.sort();
    let mut written = vec![edit.id];
    written.extend(fresh.iter().map(|made| made.id));
    written.sort();
    assert_eq!(ids, written);
}

pub async fn entries_of_other_users_are_invisible<D: EntryFixture + StoreAccess>(store: S) {
    let owner = new_user(&store).await;
    let other = new_user(&store).await;
    let mine = entry::<D>(owner.id, 1, at("2026-03-04", "12:00"));
    entries::<D>(&store).create(mine.clone()).await.unwrap();
    let mut as_other = mine.clone();
    as_other.user_id = other.id;
    as_other.data = mine.data.altered();

    assert_not_found(entries::<D>(&store).get(other.id, mine.id).await);
    assert_not_found(entries::<D>(&store).update(as_other, mine.updated_at).await);
    assert_not_found(entries::<D>(&store).delete(other.id, mine.id).await);
    let page = entries::<D>(&store)
        .list(
            other.id,
            DateRange::day(date("2026-03-04")),
            PageRequest::first(limit(10)),
        )
        .await
        .unwrap();
    assert!(page.items.is_empty());
    assert_eq!(
        entries::<D>(&store).get(owner.id, mine.id).await.unwrap(),
        mine
    );
}

/// A cursor is a position, and a client may send one from another range (paging a
/// week, then asking for a day): the page still holds only the range.
pub async fn a_cursor_from_before_the_range_starts_the_page_at_the_range<
    D: EntryFixture + StoreAccess,
>(
    store: S,
) {
    let user = new_user(&store).await;
    let early = entry::<D>(user.id, 1, at("2026-03-02", "08:00"));
    let later = entry::<D>(user.id, 2, at("2026-03-02", "12:00"));
    let next_day = entry::<D>(user.id, 3, at("2026-03-03", "08:00"));
    for written in [&early, &later, &next_day] {
        entries::<D>(&store).create(written.clone()).await.unwrap();
    }

    let page = entries::<D>(&store)
        .list(
            user.id,
            DateRange::day(date("2026-03-03")),
            PageRequest {
                limit: PageLimit::DEFAULT,
                after: Some(early.position()),
            },
        )
        .await
        .unwrap();

    assert_eq!(page.items, vec![next_day]);
    assert_eq!(page.next, None);
}

pub async fn listing_returns_the_date_range_in_order_across_pages<D: EntryFixture + StoreAccess>(
    store: S,
) {
    let user = new_user(&store).await;
    let other = new_user(&store).await;
    // Two entries at the same instant on 03-06 make the id the tie-breaker.
    let times = [
        ("2026-03-05", "23:00"),
        ("2026-03-06", "18:00"),
        ("2026-03-06", "07:00"),
        ("2026-03-06", "07:00"),
        ("2026-03-07", "12:00"),
        ("2026-03-08", "06:00"),
    ];
    let mut created = Vec::new();
    for (n, (day, time)) in (0..).zip(times) {
        let e = entry::<D>(user.id, n, at(day, time));
        entries::<D>(&store).create(e.clone()).await.unwrap();
        created.push(e);
    }
    entries::<D>(&store)
        .create(entry::<D>(other.id, 9, at("2026-03-06", "10:00")))
        .await
        .unwrap();
    let range = DateRange::new(date("2026-03-06"), date("2026-03-07")).unwrap();

    let mut listed = Vec::new();
    let mut after = None;
    loop {
        let page = entries::<D>(&store)
            .list(
                user.id,
                range,
                PageRequest {
                    limit: limit(2),
                    after,
                },
            )
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        listed.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }

    let mut expected: Vec<_> = created
        .into_iter()
        .filter(|e| range.contains(e.local_date))
        .collect();
    expected.sort_by_key(|e| e.position());
    assert_eq!(expected.len(), 4);
    assert_eq!(listed, expected);
}

pub async fn updating_an_entry_can_move_it_to_another_day<D: EntryFixture + StoreAccess>(store: S) {
    let user = new_user(&store).await;
    let original = entry::<D>(user.id, 1, at("2026-03-09", "12:00"));
    entries::<D>(&store).create(original.clone()).await.unwrap();
    let moved_at = at("2026-03-10", "12:00");
    let mut moved = original.clone();
    moved.data = D::sample(1, moved_at);
    moved.local_date = moved_at.date_naive();
    moved.updated_at += Duration::minutes(3);

    let stored = entries::<D>(&store)
        .update(moved.clone(), original.updated_at)
        .await
        .unwrap();

    assert_eq!(stored, moved);
    let list = |day: &str| {
        let store = store.clone();
        let day = date(day);
        async move {
            entries::<D>(&store)
                .list(user.id, DateRange::day(day), PageRequest::first(limit(10)))
                .await
                .unwrap()
                .items
        }
    };
    assert!(list("2026-03-09").await.is_empty());
    assert_eq!(list("2026-03-10").await, vec![moved]);
}

pub async fn an_entry_update_from_a_stale_read_conflicts<D: EntryFixture + StoreAccess>(store: S) {
    let user = new_user(&store).await;
    let original = entry::<D>(user.id, 1, at("2026-03-14", "12:00"));
    entries::<D>(&store).create(original.clone()).await.unwrap();
    let mut first = original.clone();
    first.data = original.data.altered();
    first.updated_at += Duration::milliseconds(5);
    let mut second = first.clone();
    second.data = first.data.altered();
    second.updated_at += Duration::milliseconds(1);

    entries::<D>(&store)
        .update(first.clone(), original.updated_at)
        .await
        .unwrap();
    let stale = entries::<D>(&store)
        .update(second, original.updated_at)
        .await;

    assert_conflict(stale);
    assert_eq!(
        entries::<D>(&store)
            .get(user.id, original.id)
            .await
            .unwrap(),
        first
    );
}

/// A deletion of the revision read (`If-Match`): refused once the entry changed.
pub async fn a_deletion_from_a_stale_read_conflicts_and_deletes_nothing<
    D: EntryFixture + StoreAccess,
>(
    store: S,
) {
    let (user, stranger) = (new_user(&store).await, new_user(&store).await);
    let original = entry::<D>(user.id, 1, at("2026-03-14", "12:00"));
    entries::<D>(&store).create(original.clone()).await.unwrap();
    let mut changed = original.clone();
    changed.data = original.data.altered();
    changed.updated_at += Duration::milliseconds(5);
    entries::<D>(&store)
        .update(changed.clone(), original.updated_at)
        .await
        .unwrap();

    let stale = entries::<D>(&store)
        .delete_unchanged(user.id, original.id, original.updated_at)
        .await;
    assert_conflict(stale);
    assert_eq!(
        entries::<D>(&store)
            .get(user.id, original.id)
            .await
            .unwrap(),
        changed,
        "nothing deleted"
    );
    assert_not_found(
        entries::<D>(&store)
            .delete_unchanged(stranger.id, original.id, changed.updated_at)
            .await,
    );
    let deleted = entries::<D>(&store)
        .delete_unchanged(user.id, original.id, changed.updated_at)
        .await
        .unwrap();
    assert_eq!(deleted, changed);
    assert_not_found(entries::<D>(&store).get(user.id, original.id).await);
    assert_not_found(
        entries::<D>(&store)
            .delete_unchanged(user.id, original.id, changed.updated_at)
            .await,
    );
}

pub async fn a_deleted_entry_is_gone<D: EntryFixture + StoreAccess>(store: S) {
    let user = new_user(&store).await;
    let doomed = entry::<D>(user.id, 1, at("2026-03-11", "12:00"));
    entries::<D>(&store).create(doomed.clone()).await.unwrap();

    let deleted = entries::<D>(&store)
        .delete(user.id, doomed.id)
        .await
        .unwrap();

    assert_eq!(deleted, doomed, "the deletion returns what it deleted");
    assert_not_found(entries::<D>(&store).get(user.id, doomed.id).await);
    assert_not_found(entries::<D>(&store).delete(user.id, doomed.id).await);
    let page = entries::<D>(&store)
        .list(
            user.id,
            DateRange::day(date("2026-03-11")),
            PageRequest::first(limit(10)),
        )
        .await
        .unwrap();
    assert!(page.items.is_empty());
}

/// Whether a package may be deleted depends on it: any user's entry counts, and
/// only while it exists.
pub async fn entries_name_the_package_they_were_logged_from<D: EntryFixture + StoreAccess>(
    store: S,
) {
    let (package, other_package) = (new_id(), new_id());
    let version = Version::try_from(1).unwrap();
    let (first, second) = (new_user(&store).await, new_user(&store).await);
    let mine = entry::<D>(first.id, 1, at("2026-03-11", "12:00"));
    let mut theirs = entry::<D>(second.id, 2, at("2026-03-11", "13:00"));
    theirs.data = theirs.data.logged_from(PackageRef {
        package_id: package,
        package_version: version,
    });
    entries::<D>(&store).create(mine).await.unwrap();
    assert!(!entries::<D>(&store).names_package(package).await.unwrap());

    entries::<D>(&store).create(theirs.clone()).await.unwrap();

    assert!(entries::<D>(&store).names_package(package).await.unwrap());
    assert!(
        !entries::<D>(&store)
            .names_package(other_package)
            .await
            .unwrap()
    );
    entries::<D>(&store)
        .delete(second.id, theirs.id)
        .await
        .unwrap();
    assert!(!entries::<D>(&store).names_package(package).await.unwrap());
}

pub async fn entries_for_a_missing_user_are_refused<D: EntryFixture + StoreAccess>(store: S) {
    let orphan = entry::<D>(new_id(), 1, at("2026-03-12", "12:00"));

    assert_not_found(entries::<D>(&store).create(orphan.clone()).await);
    assert_not_found(entries::<D>(&store).put(orphan).await);
}

pub async fn concurrent_creates_with_one_id_store_one_entry<D: EntryFixture + StoreAccess>(
    store: S,
) {
    let user = new_user(&store).await;
    let original = entry::<D>(user.id, 1, at("2026-03-13", "12:00"));

    let attempts = (0..8).map(|_| {
        let store = store.clone();
        let e = original.clone();
        tokio::spawn(async move { entries::<D>(&store).create(e).await })
    });
    let results: Vec<_> = futures_util::future::join_all(attempts).await;

    let created = results
        .iter()
        .filter(|r| matches!(r.as_ref().unwrap(), Ok(Written::Created(_))))
        .count();
    assert_eq!(created, 1, "exactly one attempt creates: {results:?}");
    assert!(
        results.iter().all(|r| r.as_ref().unwrap().is_ok()),
        "retries are not errors: {results:?}"
    );
    let page = entries::<D>(&store)
        .list(
            user.id,
            DateRange::day(date("2026-03-13")),
            PageRequest::first(limit(10)),
        )
        .await
        .unwrap();
    assert_eq!(page.items, vec![original]);
}

/// What summaries are made of: per day, exactly the sum of what `list` returns, read
/// again after each kind of write (a cache must recompute what a write touched, and
/// keep what it did not).
pub async fn day_sums_add_up_each_days_entries_and_follow_every_write<
    D: EntryFixture + StoreAccess,
>(
    store: S,
) {
    let user = new_user(&store).await;
    let other = new_user(&store).await;
    // Three days over a month boundary, two entries on the first.
    let days = ["2026-04-30", "2026-04-30", "2026-05-01", "2026-05-03"];
    let mut written = Vec::new();
    for (n, day) in (1_u32..).zip(days) {
        let made = entry::<D>(user.id, n, at(day, &format!("{:02}:00", 7 + n)));
        entries::<D>(&store).create(made.clone()).await.unwrap();
        written.push(made);
    }
    let noise = entry::<D>(other.id, 9, at("2026-04-30", "09:00"));
    entries::<D>(&store).create(noise).await.unwrap();
    let range = DateRange::new(date("2026-04-29"), date("2026-05-03")).unwrap();
    let check = |why: &'static str| {
        let store = store.clone();
        async move {
            let listed = all_entries(entries::<D>(&store), user.id, range)
                .await
                .unwrap();
            sums_match_a_recount::<D>(&store, user.id, range, &listed, why).await
        }
    };

    let first = check("as written").await;
    assert_eq!(first[&date("2026-04-30")].entries, 2);
    assert_eq!(first.len(), 3, "days without entries are left out");
    check("read again").await;

    // Moved across the month boundary, changed, deleted: each one is seen.
    let mut moved = written[0].clone();
    let moved_at = at("2026-05-03", "20:00");
    moved.data = D::sample(5, moved_at);
    moved.local_date = moved_at.date_naive();
    moved.updated_at += Duration::minutes(1);
    entries::<D>(&store)
        .update(moved, written[0].updated_at)
        .await
        .unwrap();
    let after_move = check("after a move to another month").await;
    assert_eq!(after_move[&date("2026-04-30")].entries, 1);
    assert_eq!(after_move[&date("2026-05-03")].entries, 2);

    entries::<D>(&store)
        .delete(user.id, written[2].id)
        .await
        .unwrap();
    let after_delete = check("after a deletion").await;
    assert!(!after_delete.contains_key(&date("2026-05-01")));
}

/// The store's day sums of `range` for `user_id`, checked against a recount of
/// `entries` (the user's entries in `range`): the same days, the same counts, the
/// same sums.
async fn sums_match_a_recount<D: EntryFixture + StoreAccess>(
    store: &S,
    user_id: uuid::Uuid,
    range: DateRange,
    entries_in_range: &[Entry<D>],
    why: &str,
) -> DaySumsByDate {
    let sums = entries::<D>(store).day_sums(user_id, range).await.unwrap();
    let mut expected = DaySumsByDate::new();
    for entry in entries_in_range {
        expected
            .entry(entry.local_date)
            .or_default()
            .add(&entry.data.sums());
    }
    assert_eq!(
        sums.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "{why}: the days with entries"
    );
    for (day, want) in &expected {
        let got = sums[day];
        assert_eq!(got.entries, want.entries, "{why}: entries on {day}");
        assert_eq!(
            got.without_macros, want.without_macros,
            "{why}: entries without macros on {day}"
        );
        assert_eq!(got.weigh_ins, want.weigh_ins, "{why}: weigh-ins on {day}");
        for (name, got, want) in [
            ("weight_kg", got.weight_kg, want.weight_kg),
            ("kcal", got.kcal, want.kcal),
            ("protein_g", got.protein_g, want.protein_g),
            ("carbs_g", got.carbs_g, want.carbs_g),
            ("fat_g", got.fat_g, want.fat_g),
        ] {
            assert!(
                (got - want).abs() < 1e-6,
                "{why}: {name} on {day}: {got} vs {want}"
            );
        }
    }
    sums
}

/// Rounds of random writes by concurrent writers, each on entries of its own over
/// forty days and two months, while a reader keeps reading (and so caching) the
/// sums: creates (some retried, which changes nothing), puts that create or replace,
/// updates that move an entry to another day or month, deletes; a third of the meals
/// without their macros. After each round, the day sums of the whole span and of a
/// 28-day summary within it equal a recount of what the writers know they left.
pub async fn day_sums_equal_a_recount_after_concurrent_random_writes<
    D: EntryFixture + StoreAccess,
>(
    store: S,
) {
    const WRITERS: usize = 3;
    const ROUNDS: usize = 3;
    const WRITES_PER_ROUND: usize = 8;
    let user = new_user(&store).await;
    let span = DateRange::new(date("2026-01-20"), date("2026-02-28")).unwrap();
    let summary = DateRange::new(date("2026-01-29"), date("2026-02-25")).unwrap();
    // Fixed: each writer makes the same choices on every run (ids, clocks and how
    // the writers interleave still vary).
    let mut seeds = StdRng::seed_from_u64(0x5eed_da15);
    let mut writers: Vec<RandomWriter<D>> = (0..WRITERS)
        .map(|_| RandomWriter::new(seeds.random()))
        .collect();

    for round in 1..=ROUNDS {
        let writing = std::sync::atomic::AtomicBool::new(true);
        let writes = futures_util::future::join_all(
            writers
                .iter_mut()
                .map(|writer| writer.write(&store, user.id, span, WRITES_PER_ROUND)),
        );
        let reads = async {
            while writing.load(std::sync::atomic::Ordering::Relaxed) {
                for range in [span, summary] {
                    entries::<D>(&store).day_sums(user.id, range).await.unwrap();
                }
                tokio::task::yield_now().await;
            }
        };
        let writes = async {
            writes.await;
            writing.store(false, std::sync::atomic::Ordering::Relaxed);
        };
        tokio::join!(writes, reads);

        let left: Vec<Entry<D>> = writers
            .iter()
            .flat_map(|writer| writer.live.iter().cloned())
            .collect();
        for (range, name) in [(span, "the span"), (summary, "the summary")] {
            let in_range: Vec<Entry<D>> = left
                .iter()
                .filter(|entry| range.contains(entry.local_date))
                .cloned()
                .collect();
            let why = format!("round {round}, {name}");
            sums_match_a_recount::<D>(&store, user.id, range, &in_range, &why).await;
            let mut listed = all_entries(entries::<D>(&store), user.id, range)
                .await
                .unwrap();
            let mut expected = in_range;
            listed.sort_by_key(|entry| entry.id);
            expected.sort_by_key(|entry| entry.id);
            assert_eq!(listed, expected, "{why}: the entries listed");
        }
    }
}

/// One writer of `day_sums_equal_a_recount_after_concurrent_random_writes`: its
/// random choices, and the entries it has left in the store.
struct RandomWriter<D> {
    random: StdRng,
    live: Vec<Entry<D>>,
    next_n: u32,
}

impl<D: EntryFixture + StoreAccess> RandomWriter<D> {
    fn new(seed: u64) -> Self {
        Self {
            random: StdRng::seed_from_u64(seed),
            live: Vec::new(),
            next_n: 1,
        }
    }

    /// A random instant in `span`, and a new sample number.
    fn next_sample(&mut self, span: DateRange) -> (u32, chrono::DateTime<chrono::Utc>) {
        let days = self.random.random_range(0..span.days());
        let minute = self.random.random_range(0..24 * 60);
        let day = span.from() + Duration::days(days);
        let instant = day.and_hms_opt(0, 0, 0).unwrap().and_utc() + Duration::minutes(minute);
        self.next_n += 1;
        (self.next_n, instant)
    }

    /// `previous` moved to a random instant in `span`, with new data, a moment later.
    fn moved(&mut self, previous: &Entry<D>, span: DateRange) -> Entry<D> {
        let (n, instant) = self.next_sample(span);
        let mut moved = previous.clone();
        moved.data = D::sample(n, instant);
        moved.local_date = instant.date_naive();
        moved.updated_at = previous.updated_at + Duration::milliseconds(1);
        moved
    }

    async fn write(&mut self, store: &S, user_id: uuid::Uuid, span: DateRange, writes: usize) {
        let entries = entries::<D>(store);
        for _ in 0..writes {
            let pick = self.random.random_range(0..self.live.len().max(1));
            let choices = if self.live.is_empty() { 2 } else { 6 };
            match self.random.random_range(0..choices) {
                choice @ (0 | 1) => {
                    let (n, instant) = self.next_sample(span);
                    let made = entry::<D>(user_id, n, instant);
                    let written = if choice == 0 {
                        entries.create(made.clone()).await.unwrap()
                    } else {
                        entries.put(made.clone()).await.unwrap()
                    };
                    assert_eq!(written, Written::Created(made.clone()));
                    if self.random.random_bool(0.3) {
                        let retried = entries.create(made.clone()).await.unwrap();
                        assert_eq!(retried, Written::Unchanged(made.clone()), "a retry");
                    }
                    self.live.push(made);
                }
                2 => {
                    let replacement = self.moved(&self.live[pick].clone(), span);
                    entries.put(replacement.clone()).await.unwrap();
                    self.live[pick] = replacement;
                }
                3 | 4 => {
                    let previous = self.live[pick].clone();
                    let moved = self.moved(&previous, span);
                    let stored = entries
                        .update(moved.clone(), previous.updated_at)
                        .await
                        .unwrap();
                    self.live[pick] = stored;
                }
                _ => {
                    let gone = self.live.swap_remove(pick);
                    entries.delete(user_id, gone.id).await.unwrap();
                }
            }
        }
    }
}
