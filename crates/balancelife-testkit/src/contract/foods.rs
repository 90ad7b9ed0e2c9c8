//! The contract cases of foods. Each takes a fresh, empty store.

use std::collections::HashMap;
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use balancelife::domain::*;
use balancelife::store::foods::{FeedPosition, FoodChange, ImportCounts, Shelf};
use balancelife::store::{Store, StoreError, Written};

use crate::fixtures::{self, food, renamed_food, unique_email, with_barcode};

type S = Arc<dyn Store>;

async fn new_user(store: &S) -> User {
    store
        .create_user(fixtures::user(unique_email("eater")))
        .await
        .unwrap()
}

/// Every change after `after`, page by page, as a follower reads the feed.
async fn feed(store: &S, mut after: FeedPosition, page: usize) -> Vec<FoodChange> {
    let mut all = Vec::new();
    loop {
        let changes = store.foods().changes(after, page).await.unwrap();
        let Some(last) = changes.last() else {
            return all;
        };
        after = last.position();
        let full = changes.len() == page;
        all.extend(changes);
        if !full {
            return all;
        }
    }
}

pub async fn a_created_food_reads_back_and_creating_it_again_is_idempotent(store: S) {
    let owner = new_user(&store).await;
    let bread = food(FoodSource::User, Some(owner.id), "Rye bread");

    let created = store.foods().create(bread.clone()).await.unwrap();
    assert_eq!(created, Written::Created(bread.clone()));
    assert_eq!(store.foods().get(bread.id).await.unwrap(), bread);

    let again = store.foods().create(bread.clone()).await.unwrap();
    assert!(matches!(again, Written::Unchanged(_)), "{again:?}");
    let other = renamed_food(&bread, "Spelt bread");
    assert!(matches!(
        store.foods().create(other).await,
        Err(StoreError::Conflict(_))
    ));
    let stranger = new_user(&store).await;
    let mut theirs = bread.clone();
    theirs.owner = Some(stranger.id);
    assert!(
        matches!(
            store.foods().create(theirs).await,
            Err(StoreError::NotFound)
        ),
        "another user's food id is not revealed"
    );
    assert!(matches!(
        store.foods().get(Uuid::now_v7()).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn a_barcode_finds_the_viewers_own_food_first_then_the_admins_then_usdas(store: S) {
    let viewer = new_user(&store).await;
    let stranger = new_user(&store).await;
    let code = "036000291452";
    let usda = with_barcode(food(FoodSource::Usda, None, "Oats, USDA"), code);
    let off = with_barcode(food(FoodSource::OpenFoodFacts, None, "Oats, OFF"), code);
    let admin = with_barcode(food(FoodSource::Admin, None, "Oats, admin"), code);
    let mine = with_barcode(
        food(FoodSource::User, Some(viewer.id), "My oats"),
        "0036000291452",
    );
    let theirs = with_barcode(
        food(FoodSource::User, Some(stranger.id), "Their oats"),
        code,
    );
    store
        .foods()
        .import(vec![off.clone(), usda.clone()])
        .await
        .unwrap();
    let barcode = Barcode::parse(code).unwrap();
    let found = |viewer: Option<Uuid>| {
        let store = store.clone();
        let barcode = barcode.clone();
        async move { store.foods().by_barcode(&barcode, viewer).await.unwrap().id }
    };
    assert_eq!(found(Some(viewer.id)).await, usda.id, "USDA before OFF");
    store.foods().create(theirs).await.unwrap();
    store.foods().create(admin.clone()).await.unwrap();
    assert_eq!(
        found(Some(viewer.id)).await,
        admin.id,
        "another user's is never seen"
    );
    store.foods().create(mine.clone()).await.unwrap();
    assert_eq!(
        found(Some(viewer.id)).await,
        mine.id,
        "the UPC-A and EAN-13 forms match"
    );
    assert_eq!(found(None).await, admin.id);
    let unknown = Barcode::parse("4006381333931").unwrap();
    assert!(matches!(
        store.foods().by_barcode(&unknown, None).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn a_food_is_replaced_and_deleted_only_at_the_revision_read(store: S) {
    let owner = new_user(&store).await;
    let bread = with_barcode(
        food(FoodSource::User, Some(owner.id), "Rye bread"),
        "4006381333931",
    );
    store.foods().create(bread.clone()).await.unwrap();

    let renamed = renamed_food(&bread, "Dark rye bread");
    let replaced = store
        .foods()
        .replace(renamed.clone(), &bread)
        .await
        .unwrap();
    assert_eq!(
        replaced,
        Written::Replaced {
            stored: renamed.clone(),
            previous: bread.clone()
        }
    );
    assert!(matches!(
        store
            .foods()
            .replace(renamed_food(&bread, "Lost"), &bread)
            .await,
        Err(StoreError::Stale)
    ));
    assert!(matches!(
        store.foods().delete(bread.id, &bread).await,
        Err(StoreError::Stale)
    ));
    assert_eq!(store.foods().get(bread.id).await.unwrap(), renamed);

    let deleted = store.foods().delete(bread.id, &renamed).await.unwrap();
    assert_eq!(deleted, renamed);
    assert!(matches!(
        store.foods().get(bread.id).await,
        Err(StoreError::NotFound)
    ));
    let barcode = Barcode::parse("4006381333931").unwrap();
    assert!(matches!(
        store.foods().by_barcode(&barcode, Some(owner.id)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.foods().delete(bread.id, &renamed).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .foods()
            .replace(renamed_food(&renamed, "Back"), &renamed)
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn importing_twice_changes_nothing_and_a_changed_row_is_a_new_version(store: S) {
    let rows: Vec<Food> = (0..30)
        .map(|n| food(FoodSource::Usda, None, &format!("Food {n}")))
        .collect();
    let first = store.foods().import(rows.clone()).await.unwrap();
    assert_eq!(
        first,
        ImportCounts {
            created: 30,
            ..ImportCounts::default()
        }
    );

    // The same rows again, as a second run of the file makes them: new ids.
    let mut again: Vec<Food> = rows
        .iter()
        .map(|row| Food {
            id: new_id(),
            ..row.clone()
        })
        .collect();
    let second = store.foods().import(again.clone()).await.unwrap();
    assert_eq!(
        second,
        ImportCounts {
            unchanged: 30,
            ..ImportCounts::default()
        }
    );

    again[7].name.text = "Food 7, corrected".try_into().unwrap();
    let third = store.foods().import(again).await.unwrap();
    assert_eq!((third.replaced, third.unchanged), (1, 29));
    let stored = store.foods().get(rows[7].id).await.unwrap();
    assert_eq!(stored.name.text.as_str(), "Food 7, corrected");
    assert_eq!(stored.version.get(), 2, "the version follows the content");
    assert_eq!(
        stored.created_at, rows[7].created_at,
        "the first import's id and time stay"
    );
}

pub async fn an_import_takes_only_public_foods_with_a_source_id(store: S) {
    let owner = new_user(&store).await;
    let mut without_id = food(FoodSource::Usda, None, "Nameless origin");
    without_id.source_id = None;
    let users = food(FoodSource::User, Some(owner.id), "Mine");
    for batch in [vec![without_id], vec![users]] {
        assert!(matches!(
            store.foods().import(batch).await,
            Err(StoreError::Invalid(_))
        ));
    }
    assert_eq!(feed(&store, FeedPosition::START, 100).await.len(), 0);
}

/// Random creates, replaces, deletes and imports: the feed, read in small pages
/// from the start, names each food once with its latest state, and its positions
/// only go forward.
pub async fn the_feed_of_changes_holds_each_foods_latest_state_and_its_deletion(store: S) {
    let owner = new_user(&store).await;
    let mut rng = StdRng::seed_from_u64(0xF00D);
    let mut expected: HashMap<Uuid, Option<Food>> = HashMap::new();
    let mut live: Vec<Food> = Vec::new();
    for step in 0..40 {
        match rng.random_range(0..4) {
            0 | 1 if !live.is_empty() && step % 3 != 0 => {
                let index = rng.random_range(0..live.len());
                let current = live[index].clone();
                if rng.random_bool(0.5) {
                    let next = renamed_food(&current, &format!("Step {step}"));
                    store.foods().replace(next.clone(), &current).await.unwrap();
                    expected.insert(next.id, Some(next.clone()));
                    live[index] = next;
                } else {
                    store.foods().delete(current.id, &current).await.unwrap();
                    expected.insert(current.id, None);
                    live.swap_remove(index);
                }
            }
            2 => {
                let batch: Vec<Food> = (0..3)
                    .map(|n| {
                        food(
                            FoodSource::OpenFoodFacts,
                            None,
                            &format!("Import {step}.{n}"),
                        )
                    })
                    .collect();
                store.foods().import(batch.clone()).await.unwrap();
                for row in batch {
                    expected.insert(row.id, Some(row.clone()));
                    live.push(row);
                }
            }
            _ => {
                let mine = food(FoodSource::User, Some(owner.id), &format!("Mine {step}"));
                store.foods().create(mine.clone()).await.unwrap();
                expected.insert(mine.id, Some(mine.clone()));
                live.push(mine);
            }
        }
    }

    let changes = feed(&store, FeedPosition::START, 7).await;
    let positions: Vec<FeedPosition> = changes.iter().map(FoodChange::position).collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "the feed goes forward: {positions:?}"
    );
    let seen: HashMap<Uuid, Option<Food>> = changes
        .into_iter()
        .map(|change| (change.id, change.food))
        .collect();
    assert_eq!(seen.len(), expected.len(), "each food once");
    assert_eq!(seen, expected);

    // Read again from the middle: only what comes after.
    let middle = positions[positions.len() / 2];
    let rest = feed(&store, middle, 5).await;
    assert_eq!(rest.len(), positions.len() - positions.len() / 2 - 1);
}

pub async fn deleting_a_user_deletes_their_foods_and_no_one_elses(store: S) {
    let leaving = new_user(&store).await;
    let staying = new_user(&store).await;
    let theirs = food(FoodSource::User, Some(leaving.id), "Leaving's granola");
    let kept = food(FoodSource::User, Some(staying.id), "Staying's granola");
    store.foods().create(theirs.clone()).await.unwrap();
    store.foods().create(kept.clone()).await.unwrap();

    store.delete_user(leaving.id).await.unwrap();

    assert!(matches!(
        store.foods().get(theirs.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.foods().get(kept.id).await.unwrap(), kept);
    let feed: HashMap<Uuid, Option<Food>> = feed(&store, FeedPosition::START, 100)
        .await
        .into_iter()
        .map(|change| (change.id, change.food))
        .collect();
    let expected = HashMap::from([(theirs.id, None), (kept.id, Some(kept))]);
    assert_eq!(
        feed, expected,
        "the deletion is in the feed, and nothing of the food"
    );
}

pub async fn a_users_own_foods_and_recipes_are_listed_by_name_and_read_back_whole(store: S) {
    let cook = new_user(&store).await;
    let stranger = new_user(&store).await;
    let oats = food(FoodSource::Usda, None, "Oats");
    let milk = food(FoodSource::User, Some(cook.id), "milk, my farm's");
    let mut porridge = food(FoodSource::User, Some(cook.id), "Porridge");
    porridge.recipe = Some(Recipe {
        ingredients: [(&oats, 60.0), (&milk, 250.0)]
            .iter()
            .map(|(part, grams)| Ingredient {
                food_id: part.id,
                food_version: part.version,
                name: part.name.text.clone(),
                grams: RecipeGrams::try_from(*grams).unwrap(),
            })
            .collect(),
        servings: ServingCount::try_from(2.0).unwrap(),
        cooked_grams: Some(RecipeGrams::try_from(290.0).unwrap()),
    });
    let bar = food(FoodSource::User, Some(cook.id), "Oat bar");
    let theirs = food(FoodSource::User, Some(stranger.id), "A stranger's muesli");
    for each in [&oats, &milk, &porridge, &bar, &theirs] {
        store.foods().create(each.clone()).await.unwrap();
    }

    assert_eq!(store.foods().get(porridge.id).await.unwrap(), porridge);
    assert_eq!(
        store.foods().owned(cook.id, Shelf::Foods).await.unwrap(),
        vec![milk.clone(), bar.clone()],
        "by name, case aside; no recipe, no one else's and no public food"
    );
    assert_eq!(
        store.foods().owned(cook.id, Shelf::Recipes).await.unwrap(),
        vec![porridge.clone()]
    );
    let mut many = store
        .foods()
        .get_many(&[bar.id, Uuid::new_v4(), oats.id])
        .await
        .unwrap();
    many.sort_by_key(|food| food.id);
    let mut expected = vec![bar.clone(), oats.clone()];
    expected.sort_by_key(|food| food.id);
    assert_eq!(many, expected, "the ones that exist");

    store.foods().delete(milk.id, &milk).await.unwrap();
    assert_eq!(
        store.foods().owned(cook.id, Shelf::Foods).await.unwrap(),
        vec![bar]
    );
}

pub async fn a_users_favourite_foods_are_kept_in_order(store: S) {
    let user = new_user(&store).await;
    let mut starred = user.clone();
    starred.favourite_foods = vec![Uuid::new_v4(), Uuid::new_v4()];
    starred.updated_at = user.updated_at + chrono::Duration::milliseconds(1);

    store.update_user(starred.clone(), &user).await.unwrap();

    assert_eq!(
        store
            .get_user_stored(user.id)
            .await
            .unwrap()
            .favourite_foods,
        starred.favourite_foods
    );
    assert_eq!(store.get_user(user.id).await.unwrap(), starred);
}
