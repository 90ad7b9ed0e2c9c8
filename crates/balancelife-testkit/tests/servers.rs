//! The testkit's servers do what tests elsewhere will count on: a Redis Cluster that
//! is one key space across its nodes and survives losing a master, and a SecantusDB
//! replica set with resumable change streams.
//!
//! They need redis-server, redis-cli and SecantusDB, and fail (never skip) without.

mod redis_cluster {
    //! `RedisCluster`: the shared one for reads and writes, a cluster of its own for
    //! each failover (faults there would disturb other tests).

    use std::time::{Duration, Instant};

    use balancelife_testkit::servers::cluster::{RedisCluster, SHARED};
    use redis::AsyncCommands;
    use redis::cluster::ClusterClient;

    fn urls(addrs: &[String]) -> Vec<String> {
        addrs.iter().map(|addr| format!("redis://{addr}")).collect()
    }

    fn namespace() -> String {
        format!("t{}", uuid::Uuid::now_v7().simple())
    }

    /// Proves that the nodes form one key space: a client that knows a single
    /// replica (which owns no slots) writes the key to whichever master owns it;
    /// a client that knows only another replica reads it back; and every node
    /// agrees on where the key lives, either answering (its master) or redirecting
    /// there with MOVED (all five others, replicas included).
    #[tokio::test]
    async fn a_key_written_through_one_node_is_read_back_through_another() {
        let cluster = &*SHARED;
        let replicas: Vec<String> = cluster
            .replicas()
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        assert!(replicas.len() >= 2, "replicas: {replicas:?}");
        let key = format!("{}:greeting", namespace());

        let writer = ClusterClient::new(urls(&replicas[..1])).expect("a cluster client");
        let mut writer = writer
            .get_async_connection()
            .await
            .expect("a cluster connection seeded with one replica");
        let () = writer
            .set(&key, "hello")
            .await
            .expect("SET through the cluster");

        let reader = ClusterClient::new(urls(&replicas[1..2])).expect("a cluster client");
        let mut reader = reader
            .get_async_connection()
            .await
            .expect("a cluster connection seeded with another replica");
        let read: Option<String> = reader.get(&key).await.expect("GET through the cluster");
        assert_eq!(read.as_deref(), Some("hello"));

        let mut answered = Vec::new();
        let mut redirected_to = Vec::new();
        for addr in cluster.seed_addrs() {
            let client = redis::Client::open(format!("redis://{addr}")).expect("a client");
            let mut node = client
                .get_multiplexed_async_connection()
                .await
                .unwrap_or_else(|error| panic!("a connection to {addr}: {error}"));
            match node.get::<_, Option<String>>(&key).await {
                Ok(value) => {
                    assert_eq!(value.as_deref(), Some("hello"), "from {addr}");
                    answered.push(addr);
                }
                Err(error) => {
                    let (target, _slot) = error.redirect_node().unwrap_or_else(|| {
                        panic!("{addr} neither answered nor redirected: {error}")
                    });
                    redirected_to.push(target.to_owned());
                }
            }
        }
        assert_eq!(answered.len(), 1, "only the owning master answers");
        assert_eq!(redirected_to.len(), 5);
        assert!(
            redirected_to.iter().all(|target| *target == answered[0]),
            "every other node redirects to {}: {redirected_to:?}",
            answered[0]
        );
    }

    /// A key on `port`'s slots, written there directly and acknowledged by its
    /// replica (WAIT), so whichever replica takes over must hold it.
    fn replicated_key_on(port: u16) -> String {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).expect("a client");
        let mut master = client
            .get_connection_with_timeout(Duration::from_secs(2))
            .expect("a connection to the master");
        let namespace = namespace();
        // A third of all slots is the master's: a few candidates find one. The
        // others answer MOVED.
        let key = (0..1000)
            .map(|i| format!("{namespace}:{i}"))
            .find(|key| {
                redis::cmd("SET")
                    .arg(key)
                    .arg("before")
                    .query::<()>(&mut master)
                    .is_ok()
            })
            .expect("a key on the master's slots");
        let acknowledged: i64 = redis::cmd("WAIT")
            .arg(1)
            .arg(2000)
            .query(&mut master)
            .expect("WAIT");
        assert_eq!(acknowledged, 1, "the replica acknowledged the write");
        key
    }

    /// Kills a master outright; its replica must take over its slots, with the data,
    /// within a few seconds (node timeout 1 s), and the old master must come back as
    /// a replica once restarted. A cluster of its own: the others are unaffected.
    #[test]
    fn a_killed_master_is_replaced_by_its_replica_and_rejoins_as_a_replica() {
        let mut cluster = RedisCluster::start();
        let masters = cluster.masters();
        let replicas = cluster.replicas();
        assert_eq!((masters.len(), replicas.len()), (3, 3));
        let victim = masters[0];
        let key = replicated_key_on(victim);

        let killed_at = Instant::now();
        cluster.kill_node(victim);
        cluster.wait_until_healthy();
        let failover = killed_at.elapsed();
        eprintln!("failover took {failover:?}");
        assert!(
            failover < Duration::from_secs(10),
            "failover took {failover:?}"
        );

        let masters_now = cluster.masters();
        let promoted: Vec<u16> = masters_now
            .iter()
            .copied()
            .filter(|port| replicas.contains(port))
            .collect();
        assert_eq!(masters_now.len(), 3, "masters now: {masters_now:?}");
        assert!(!masters_now.contains(&victim));
        assert_eq!(promoted.len(), 1, "one replica promoted: {masters_now:?}");

        // Seeds without the dead node: a fresh client, as after a service restart.
        let seeds: Vec<String> = cluster
            .seed_addrs()
            .into_iter()
            .filter(|addr| !addr.ends_with(&format!(":{victim}")))
            .collect();
        let client = ClusterClient::new(urls(&seeds)).expect("a cluster client");
        let mut connection = client.get_connection().expect("a cluster connection");
        let value: Option<String> = redis::cmd("GET")
            .arg(&key)
            .query(&mut connection)
            .expect("GET after the failover");
        assert_eq!(
            value.as_deref(),
            Some("before"),
            "the promoted replica has the data"
        );
        redis::cmd("SET")
            .arg(&key)
            .arg("after")
            .query::<()>(&mut connection)
            .expect("SET to the promoted replica's slots");

        let restarted_at = Instant::now();
        cluster.restart_node(victim);
        cluster.wait_until_healthy();
        eprintln!("rejoining took {:?}", restarted_at.elapsed());
        assert!(
            cluster.replicas().contains(&victim),
            "{victim} rejoined as a replica: replicas {:?}",
            cluster.replicas()
        );
        assert_eq!(cluster.masters(), masters_now);
    }

    /// A frozen master (alive, silent) is failed over like a dead one; thawed, it
    /// learns it lost its slots and follows its former replica.
    #[test]
    fn a_frozen_master_is_failed_over_and_follows_its_replica_once_thawed() {
        let mut cluster = RedisCluster::start();
        let replicas = cluster.replicas();
        let victim = cluster.masters()[0];

        let frozen_at = Instant::now();
        cluster.freeze_node(victim);
        cluster.wait_until_healthy();
        eprintln!("failover of a frozen master took {:?}", frozen_at.elapsed());
        let promoted: Vec<u16> = cluster
            .masters()
            .into_iter()
            .filter(|port| replicas.contains(port))
            .collect();
        assert_eq!(
            promoted.len(),
            1,
            "one replica promoted: {:?} were replicas, now masters: {:?}",
            replicas,
            cluster.masters()
        );

        let thawed_at = Instant::now();
        cluster.thaw_node(victim);
        cluster.wait_until_healthy();
        eprintln!("the thawed master rejoined in {:?}", thawed_at.elapsed());
        assert!(cluster.replicas().contains(&victim));
    }
}

mod mongo_replica_set {
    //! SecantusDB without `--standalone`: a single-node replica set.

    use std::sync::LazyLock;
    use std::time::Duration;

    use balancelife_testkit::servers::mongo::{MongoServer, fresh_database};
    use bson::{Document, doc};
    use futures_util::StreamExt;
    use mongodb::change_stream::ChangeStream;
    use mongodb::change_stream::event::{ChangeStreamEvent, OperationType};

    static REPLICA_SET: LazyLock<MongoServer> = LazyLock::new(MongoServer::start_replica_set);

    async fn client() -> mongodb::Client {
        mongodb::Client::with_uri_str(REPLICA_SET.uri())
            .await
            .expect("a client for the replica set")
    }

    /// The next insert on the stream, as its `n` and the event.
    async fn next_insert(
        stream: &mut ChangeStream<ChangeStreamEvent<Document>>,
    ) -> (i32, ChangeStreamEvent<Document>) {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("a change event within 10 s")
            .expect("the stream goes on")
            .expect("a change event, not an error");
        assert_eq!(event.operation_type, OperationType::Insert, "{event:?}");
        let document = event
            .full_document
            .as_ref()
            .expect("inserts carry the document");
        let n = document.get_i32("n").expect("the inserted n");
        (n, event)
    }

    #[tokio::test]
    async fn hello_names_the_replica_set() {
        let hello = client()
            .await
            .database("admin")
            .run_command(doc! { "hello": 1 })
            .await
            .expect("hello");
        let name = hello
            .get_str("setName")
            .unwrap_or_else(|_| panic!("hello names no replica set: {hello}"));
        assert!(!name.is_empty());
    }

    /// A stream sees what happens after it opens; a stream resumed after an event's
    /// token sees what happened after that event while no stream was open, and not
    /// the event itself.
    #[tokio::test]
    async fn a_change_stream_sees_later_inserts_and_resumes_after_a_token() {
        let collection = client()
            .await
            .database(&fresh_database())
            .collection::<Document>("events");

        let mut stream = collection.watch().await.expect("a change stream");
        collection
            .insert_one(doc! { "n": 1 })
            .await
            .expect("the first insert");
        let (n, first) = next_insert(&mut stream).await;
        assert_eq!(n, 1);
        drop(stream);

        collection
            .insert_one(doc! { "n": 2 })
            .await
            .expect("the second insert");
        let mut resumed = collection
            .watch()
            .resume_after(first.id)
            .await
            .expect("a change stream resumed after the first event");
        let (n, _) = next_insert(&mut resumed).await;
        assert_eq!(n, 2, "the resumed stream starts after the first insert");
    }
}

/// `scripts/test` installs the SecantusDB release the testkit's install hints name.
#[test]
fn scripts_test_installs_the_secantusdb_release_the_testkit_names() {
    let script = include_str!("../../../scripts/test");
    let pinned = format!(
        "SECANTUSDB_VERSION={}",
        balancelife_testkit::servers::mongo::SECANTUSDB_VERSION
    );
    assert!(
        script.contains(&pinned),
        "scripts/test does not pin {pinned}"
    );
}
