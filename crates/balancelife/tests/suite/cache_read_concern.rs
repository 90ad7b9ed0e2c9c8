//! Reads that fill the cache ask a replica set for majority-committed data: a write
//! the primary applied and then lost in a failover (rolled back) must not be cached,
//! as no invalidation would ever come for it. What reaches the server is seen through
//! the driver's command monitoring, on a real connection.

use std::sync::{Arc, Mutex};

use bson::Document;
use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;

use balancelife::config::Settings;
use balancelife::domain::{MealData, PackageFilter};
use balancelife::store::cache::{CachedStore, RedisCache};
use balancelife::store::mongo::MongoStore;
use balancelife::store::{DateRange, PageLimit, PageRequest, Store};
use balancelife_testkit::fixtures::{at, date, entry, meal_package, unique_email, user};
use balancelife_testkit::servers::mongo::{SHARED_REPLICA_SET, fresh_database};
use balancelife_testkit::servers::redis::SHARED as SHARED_REDIS;

#[tokio::test]
async fn on_a_replica_set_every_read_that_fills_the_cache_asks_for_majority_committed_data() {
    let sent: Arc<Mutex<Vec<Document>>> = Arc::default();
    let seen = sent.clone();
    let events = EventHandler::callback(move |event: CommandEvent| {
        if let CommandEvent::Started(started) = event
            && ["find", "aggregate"].contains(&started.command_name.as_str())
        {
            seen.lock().unwrap().push(started.command);
        }
    });
    let settings = SHARED_REPLICA_SET.settings(&fresh_database());
    let mongo = Arc::new(
        MongoStore::connect_reporting(&settings, events)
            .await
            .unwrap(),
    );
    let person = mongo
        .create_user(user(unique_email("majority")))
        .await
        .unwrap();
    let package = meal_package("majority-bowl", &["quick"], true);
    mongo.meal_packages().upsert(package.clone()).await.unwrap();
    let meal = entry::<MealData>(person.id, 1, at("2026-06-01", "08:00"));
    mongo.meal_entries().create(meal).await.unwrap();
    let cache = RedisCache::start(&SHARED_REDIS.settings(), &Settings::default().cache)
        .await
        .unwrap();
    let cached = CachedStore::new(mongo.clone(), cache.clone());
    sent.lock().unwrap().clear();

    // Each kind of cached read, each a miss that fills.
    let june = DateRange::new(date("2026-06-01"), date("2026-06-30")).unwrap();
    cached.get_user(person.id).await.unwrap();
    cached.get_user_by_email(&person.email).await.unwrap();
    cached.meal_packages().get(package.id).await.unwrap();
    let catalogue = PackageFilter::default();
    cached
        .meal_packages()
        .list(&catalogue, PageRequest::first(PageLimit::DEFAULT))
        .await
        .unwrap();
    cached
        .meal_entries()
        .list(
            person.id,
            DateRange::day(date("2026-06-01")),
            PageRequest::first(PageLimit::DEFAULT),
        )
        .await
        .unwrap();
    cached
        .meal_entries()
        .day_sums(person.id, june)
        .await
        .unwrap();

    assert!(cache.metrics.fills.get() >= 6, "each read filled the cache");
    let reads = sent.lock().unwrap().clone();
    assert!(reads.len() >= 6, "{reads:?}");
    for read in reads {
        let level = read
            .get_document("readConcern")
            .and_then(|concern| concern.get_str("level"));
        assert_eq!(level, Ok("majority"), "{read}");
    }
}
