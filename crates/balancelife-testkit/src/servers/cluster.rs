//! A throwaway Redis Cluster of three masters and three replicas on 127.0.0.1, tied
//! to the test process like the single servers, with the faults a test needs: kill,
//! freeze, thaw and restart one node, then wait until the cluster is whole again.
//!
//! "Started" (and "healthy") means usable, not merely listening: every node reports
//! `cluster_state:ok`; in every node's view the running masters serve all 16384 slots
//! and every replica follows a running master; and every replica has finished its
//! sync, so a failover test can count on the replica holding the data.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use super::{ServerError, data_root, spawn_tied, wait_for_port, which};

const INSTALL_HINT: &str = "redis-server or redis-cli is not installed; install them (Debian: \
                            apt-get install redis-server, which brings redis-cli)";

const WHAT: &str = "Redis Cluster";
const NODE: &str = "redis-server (cluster node)";

/// Three masters, each with one replica: the smallest cluster where killing a master
/// is survivable.
const MASTERS: usize = 3;
const NODES: usize = MASTERS * 2;
const SLOTS: u32 = 16384;

/// How long a node may be unreachable before it counts as failed. Redis defaults to
/// 15 s; at 1 s a failover takes two to three seconds (detection, then the
/// replica's election delay), short enough for a test.
const NODE_TIMEOUT_MS: &str = "1000";

/// A node also listens on its port + 10000, the cluster bus.
const BUS_OFFSET: u16 = 10000;

/// Node ports come from 20000–22767, so bus ports are 30000–32767: both lie below the
/// kernel's ephemeral range (32768–60999 by default), which it hands out for outgoing
/// connections and port-0 binds. Between our probe and the node's bind, only someone
/// binding these exact ports could take them.
const FIRST_PORT: u16 = 20000;
const PORT_CHOICES: u16 = 2768;
/// A port still lost in that window makes the node exit; then we try another.
const PORT_ATTEMPTS: usize = 10;

/// How long creating the cluster, or getting healthy again after a fault, may take.
const READY_WITHIN: Duration = Duration::from_secs(30);
/// One query to one node. Short: a dead or frozen node must fail a health check
/// quickly rather than hang it.
const QUERY_TIMEOUT: Duration = Duration::from_millis(500);

/// One `redis-server --cluster-enabled yes` process and the directory holding its
/// `nodes.conf`, which it needs to rejoin after a restart.
struct Node {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// Stopped with SIGSTOP: running but unable to answer, so health checks skip it.
    frozen: bool,
}

/// A Redis Cluster of three masters and three replicas. Nodes are named by port;
/// roles change with failovers, so ask `masters()` / `replicas()` when it matters.
pub struct RedisCluster {
    nodes: Vec<Node>,
}

impl RedisCluster {
    /// A healthy cluster; panics with install instructions when Redis is missing
    /// (tests fail rather than skip).
    pub fn start() -> Self {
        Self::try_start().unwrap_or_else(|error| panic!("{error}"))
    }

    /// A healthy cluster, or why it could not be had.
    pub fn try_start() -> Result<Self, ServerError> {
        if which("redis-server").is_none() || which("redis-cli").is_none() {
            return Err(ServerError::NotInstalled(INSTALL_HINT.to_owned()));
        }
        let mut cluster = Self {
            nodes: Vec::with_capacity(NODES),
        };
        // Pushed one by one so that Drop stops the ones already running if a later
        // one fails.
        for _ in 0..NODES {
            cluster.nodes.push(Node::start()?);
        }
        let ports: Vec<u16> = cluster.nodes.iter().map(|node| node.port).collect();
        create(&ports, cluster.nodes[0].dir.path())?;
        cluster
            .wait_for_health()
            .map_err(|why| ServerError::NotReady { what: WHAT, why })?;
        Ok(cluster)
    }

    /// `127.0.0.1:port` of every node, whatever its state: a cluster client needs one
    /// reachable seed and learns the rest from it.
    pub fn seed_addrs(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|node| format!("127.0.0.1:{}", node.port))
            .collect()
    }

    /// Settings for a cache on this cluster (every node a seed), in a key namespace
    /// of its own.
    pub fn settings(&self) -> balancelife::config::RedisSettings {
        balancelife::config::RedisSettings {
            namespace: format!("t{}", uuid::Uuid::now_v7().simple()),
            timeout: std::time::Duration::from_millis(200),
            ..balancelife::config::RedisSettings::new(self.seed_addrs().join(","))
        }
    }

    /// Ports of the running nodes the cluster currently counts as masters. Nodes it
    /// has agreed are failed (`fail`, not one node's passing `fail?`) are left out of
    /// both lists: they serve nothing.
    pub fn masters(&self) -> Vec<u16> {
        self.ports_by_role(Role::Master)
    }

    /// Ports of the running nodes the cluster currently counts as replicas.
    pub fn replicas(&self) -> Vec<u16> {
        self.ports_by_role(Role::Replica)
    }

    /// The port of the running master that serves `key`'s hash slot.
    pub fn master_serving(&self, key: &str) -> u16 {
        let port = *self
            .live_ports()
            .first()
            .expect("no running, unfrozen node of the Redis Cluster");
        let slot: u32 = query_int(port, &["CLUSTER", "KEYSLOT", key]);
        let view =
            parse_nodes(&query(port, &["CLUSTER", "NODES"]).unwrap_or_else(|why| panic!("{why}")));
        let masters = self.masters();
        view.iter()
            .filter(|entry| masters.contains(&entry.port) && entry.serves(slot))
            .map(|entry| entry.port)
            .next()
            .unwrap_or_else(|| panic!("no running master serves slot {slot}"))
    }

    /// Kills the node at once, as a crash would. Like every fault here it takes
    /// `&mut`, which keeps faults off `SHARED`.
    pub fn kill_node(&mut self, port: u16) {
        let node = self.node_mut(port);
        node.stop();
    }

    /// Freezes the node (SIGSTOP): its connections stay open and nothing answers,
    /// which the other nodes notice after the node timeout. Returns once it is
    /// really stopped.
    pub fn freeze_node(&mut self, port: u16) {
        let node = self.node_mut(port);
        super::signal(node.child(), libc::SIGSTOP);
        node.frozen = true;
    }

    /// Thaws a frozen node (SIGCONT); it then runs what queued on its sockets.
    pub fn thaw_node(&mut self, port: u16) {
        let node = self.node_mut(port);
        super::signal(node.child(), libc::SIGCONT);
        node.frozen = false;
    }

    /// Starts the node again (killing it first if it runs) on the same port and
    /// directory: its `nodes.conf` lets it rejoin, as a replica if its slots have
    /// moved on. It keeps no data, so a replica resyncs in full. Returns once it
    /// listens; `wait_until_healthy` waits for the rejoin.
    pub fn restart_node(&mut self, port: u16) {
        let node = self.node_mut(port);
        node.stop();
        let child = launch(node.port, node.dir.path()).unwrap_or_else(|error| panic!("{error}"));
        node.child = Some(child);
    }

    /// Moves `slots` slots, with their keys, from master `from` to master `to` with
    /// `redis-cli --cluster reshard` (slot by slot: MIGRATING/IMPORTING, then MIGRATE
    /// of each key), as an operator rebalancing would; clients meet MOVED and ASK
    /// meanwhile. Returns when every slot has moved.
    pub fn move_slots(&self, from: u16, to: u16, slots: u16) {
        let id =
            |port: u16| query(port, &["CLUSTER", "MYID"]).unwrap_or_else(|why| panic!("{why}"));
        let status = Command::new("redis-cli")
            .args(["--cluster", "reshard", &format!("127.0.0.1:{from}")])
            .args(["--cluster-from", &id(from), "--cluster-to", &id(to)])
            .args(["--cluster-slots", &slots.to_string(), "--cluster-yes"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("running redis-cli --cluster reshard");
        assert!(
            status.success(),
            "redis-cli --cluster reshard failed: {status}"
        );
    }

    /// Waits until every running, unfrozen node reports `cluster_state:ok`, sees all
    /// 16384 slots served by such nodes and none of them as failed, and every replica
    /// among them has synced. Panics with what was still wrong after 30 s.
    pub fn wait_until_healthy(&self) {
        if let Err(why) = self.wait_for_health() {
            panic!("the Redis Cluster did not become healthy within 30 s: {why}");
        }
    }

    fn wait_for_health(&self) -> Result<(), String> {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            match self.health() {
                Ok(()) => return Ok(()),
                Err(why) if Instant::now() > deadline => return Err(why),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// `Ok` when the cluster is whole, else the first thing found wrong.
    fn health(&self) -> Result<(), String> {
        let live = self.live_ports();
        if live.is_empty() {
            return Err("no node is running".to_owned());
        }
        for &port in &live {
            let info = query(port, &["CLUSTER", "INFO"])?;
            let state = info_field(&info, "cluster_state");
            if state != Some("ok") {
                return Err(format!(
                    "127.0.0.1:{port} reports cluster_state:{}",
                    state.unwrap_or("?")
                ));
            }
            let view = parse_nodes(&query(port, &["CLUSTER", "NODES"])?);
            check_view(port, &view, &live)?;
            let me = view.iter().find(|entry| entry.flags.contains("myself"));
            if me.and_then(NodeEntry::role) == Some(Role::Replica) {
                let replication = query(port, &["INFO", "replication"])?;
                let synced = info_field(&replication, "master_link_status") == Some("up")
                    && info_field(&replication, "master_sync_in_progress") == Some("0");
                if !synced {
                    return Err(format!(
                        "replica 127.0.0.1:{port} has not synced with its master"
                    ));
                }
            }
        }
        Ok(())
    }

    fn ports_by_role(&self, role: Role) -> Vec<u16> {
        let running: Vec<u16> = self
            .nodes
            .iter()
            .filter(|node| node.child.is_some())
            .map(|node| node.port)
            .collect();
        let view = self.live_ports().into_iter().find_map(|port| {
            query(port, &["CLUSTER", "NODES"])
                .ok()
                .map(|text| parse_nodes(&text))
        });
        let view = view.expect("no running, unfrozen node of the Redis Cluster answered");
        let mut ports: Vec<u16> = view
            .iter()
            .filter(|entry| running.contains(&entry.port))
            .filter(|entry| !entry.has_flag("fail") && entry.role() == Some(role))
            .map(|entry| entry.port)
            .collect();
        ports.sort_unstable();
        ports
    }

    /// Nodes that can answer: running and not frozen.
    fn live_ports(&self) -> Vec<u16> {
        self.nodes
            .iter()
            .filter(|node| node.child.is_some() && !node.frozen)
            .map(|node| node.port)
            .collect()
    }

    fn node_mut(&mut self, port: u16) -> &mut Node {
        self.nodes
            .iter_mut()
            .find(|node| node.port == port)
            .unwrap_or_else(|| panic!("no node of this Redis Cluster has port {port}"))
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.stop();
        }
    }
}

impl Node {
    /// A node on a port of its own, trying another port when one is lost to a race.
    fn start() -> Result<Self, ServerError> {
        let mut last_error = None;
        for _ in 0..PORT_ATTEMPTS {
            let port = free_node_port();
            // A fresh directory per attempt: a failed start may leave a nodes.conf.
            let dir = tempfile::Builder::new()
                .prefix("redis-cluster-")
                .tempdir_in(data_root())
                .map_err(ServerError::DataDirectory)?;
            match launch(port, dir.path()) {
                Ok(child) => {
                    return Ok(Self {
                        port,
                        dir,
                        child: Some(child),
                        frozen: false,
                    });
                }
                Err(error @ ServerError::Exited { .. }) => last_error = Some(error),
                Err(error) => return Err(error),
            }
        }
        Err(last_error.expect("at least one attempt"))
    }

    fn child(&self) -> &Child {
        self.child
            .as_ref()
            .unwrap_or_else(|| panic!("node {} of the Redis Cluster is not running", self.port))
    }

    /// SIGKILL, which also ends a frozen process.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.frozen = false;
    }
}

/// Starts one cluster node in `dir` (where its nodes.conf lives) and waits until it
/// listens.
fn launch(port: u16, dir: &Path) -> Result<Child, ServerError> {
    let mut command = Command::new("redis-server");
    command
        .args(["--port", &port.to_string()])
        .args(["--cluster-enabled", "yes"])
        .args(["--cluster-config-file", "nodes.conf"])
        .args(["--cluster-node-timeout", NODE_TIMEOUT_MS])
        .args(["--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
        // A master waits 5 s by default before a diskless full sync, in case more
        // replicas come; that would hold every start and rejoin up by 5 s.
        .args(["--repl-diskless-sync-delay", "0"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = spawn_tied(command, NODE)?;
    wait_for_port(port, NODE, &mut child)?;
    Ok(child)
}

/// Assigns slots and replicas with `redis-cli --cluster create`, which returns once
/// the nodes agree on the slot map (not yet once they report `ok`).
fn create(ports: &[u16], log_dir: &Path) -> Result<(), ServerError> {
    let log_path = log_dir.join("cluster-create.log");
    let log = File::create(&log_path).expect("a log file for redis-cli --cluster create");
    let mut command = Command::new("redis-cli");
    command
        .args(["--cluster", "create"])
        .args(ports.iter().map(|port| format!("127.0.0.1:{port}")))
        .args(["--cluster-replicas", "1", "--cluster-yes"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("a second handle on the log file"))
        .stderr(log);
    let mut child = spawn_tied(command, "redis-cli --cluster create")?;
    let not_ready = |why: String| ServerError::NotReady { what: WHAT, why };
    // redis-cli waits for the nodes to agree without a limit of its own.
    let deadline = Instant::now() + READY_WITHIN;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the state of redis-cli") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(not_ready(
                "redis-cli --cluster create did not finish within 30 s".to_owned(),
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if status.success() {
        return Ok(());
    }
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    Err(not_ready(format!(
        "redis-cli --cluster create exited with {status}: {}",
        last_lines(&without_colours(&output), 5)
    )))
}

/// A port whose bus port is free as well, from a range no other code here uses.
fn free_node_port() -> u16 {
    // Where the search starts depends on the process, so that test binaries running
    // side by side rarely probe the same ports; within one process the cursor moves on.
    static NEXT: LazyLock<AtomicU16> = LazyLock::new(|| {
        let offset = u16::try_from(std::process::id() % u32::from(PORT_CHOICES))
            .expect("below PORT_CHOICES");
        AtomicU16::new(offset)
    });
    let free = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
    for _ in 0..PORT_CHOICES {
        let port = FIRST_PORT + NEXT.fetch_add(1, Ordering::Relaxed) % PORT_CHOICES;
        if free(port) && free(port + BUS_OFFSET) {
            return port;
        }
    }
    panic!(
        "no port in {FIRST_PORT}–{} is free along with its bus port",
        FIRST_PORT + PORT_CHOICES - 1
    );
}

/// One command to one node, with short timeouts, as text (INFO-style replies).
fn query(port: u16, command: &[&str]) -> Result<String, String> {
    let failed =
        |error: redis::RedisError| format!("127.0.0.1:{port}: {}: {error}", command.join(" "));
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).map_err(failed)?;
    let mut connection = client
        .get_connection_with_timeout(QUERY_TIMEOUT)
        .map_err(failed)?;
    connection
        .set_read_timeout(Some(QUERY_TIMEOUT))
        .and_then(|()| connection.set_write_timeout(Some(QUERY_TIMEOUT)))
        .map_err(failed)?;
    let (name, args) = command.split_first().expect("a command");
    redis::cmd(name)
        .arg(args)
        .query::<String>(&mut connection)
        .map_err(failed)
}

/// One command to one node whose reply is a number.
fn query_int(port: u16, command: &[&str]) -> u32 {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).expect("a node's URL");
    let mut connection = client
        .get_connection_with_timeout(QUERY_TIMEOUT)
        .unwrap_or_else(|error| panic!("127.0.0.1:{port}: {error}"));
    let (name, args) = command.split_first().expect("a command");
    redis::cmd(name)
        .arg(args)
        .query(&mut connection)
        .unwrap_or_else(|error| panic!("127.0.0.1:{port}: {}: {error}", command.join(" ")))
}

/// The value of `name:value` in a CLUSTER INFO or INFO reply.
fn info_field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Master,
    Replica,
}

/// One line of CLUSTER NODES, as far as we need it.
#[derive(Debug)]
struct NodeEntry {
    id: String,
    port: u16,
    /// Comma-separated: `myself`, `master`, `slave`, `fail?`, `fail`, `handshake`, …
    flags: String,
    /// The id of the master it replicates, for a replica.
    master_id: Option<String>,
    /// How many slots it serves (as a master).
    slots: u32,
    /// Which: first and last slot of each range.
    ranges: Vec<(u32, u32)>,
}

impl NodeEntry {
    fn has_flag(&self, flag: &str) -> bool {
        self.flags.split(',').any(|own| own == flag)
    }

    fn role(&self) -> Option<Role> {
        if self.has_flag("master") {
            Some(Role::Master)
        } else if self.has_flag("slave") || self.has_flag("replica") {
            Some(Role::Replica)
        } else {
            None
        }
    }

    fn serves(&self, slot: u32) -> bool {
        self.ranges
            .iter()
            .any(|&(first, last)| first <= slot && slot <= last)
    }

    /// Suspected (`fail?`) or agreed (`fail`) failure, or not properly joined yet.
    fn failed(&self) -> bool {
        self.flags
            .split(',')
            .any(|flag| matches!(flag, "fail" | "fail?" | "handshake" | "noaddr"))
    }
}

/// What is wrong with one node's view of the cluster, if anything. Every live node
/// must be known, unsuspected, and either a master serving slots or a replica of a
/// live master; the live masters together must serve every slot. Views lag: right
/// after creation, or while a node rejoins, a replica may still show as a master
/// without slots. Every view counts, since a node that still routes a slot to a dead
/// master sends clients there with MOVED.
fn check_view(viewer: u16, view: &[NodeEntry], live: &[u16]) -> Result<(), String> {
    let live_master = |id: &str| {
        view.iter().any(|entry| {
            entry.id == id
                && live.contains(&entry.port)
                && entry.role() == Some(Role::Master)
                && !entry.failed()
        })
    };
    let mut served = 0;
    for &other in live {
        let Some(entry) = view.iter().find(|entry| entry.port == other) else {
            return Err(format!(
                "127.0.0.1:{viewer} does not know 127.0.0.1:{other}"
            ));
        };
        let sound = !entry.failed()
            && match entry.role() {
                Some(Role::Master) => entry.slots > 0,
                Some(Role::Replica) => entry.master_id.as_deref().is_some_and(live_master),
                None => false,
            };
        if !sound {
            return Err(format!(
                "127.0.0.1:{viewer} sees 127.0.0.1:{other} as {} with {} slots",
                entry.flags, entry.slots
            ));
        }
        if entry.role() == Some(Role::Master) {
            served += entry.slots;
        }
    }
    if served != SLOTS {
        return Err(format!(
            "127.0.0.1:{viewer} sees {served} of {SLOTS} slots served by running masters"
        ));
    }
    Ok(())
}

/// `<id> <ip:port@bus[,hostname]> <flags> <master> <ping> <pong> <epoch> <link> <slots>…`
fn parse_nodes(text: &str) -> Vec<NodeEntry> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let address = fields.get(1)?.split(['@', ',']).next()?;
            let port = address.rsplit_once(':')?.1.parse().ok()?;
            let ranges: Vec<(u32, u32)> = fields
                .iter()
                .skip(8)
                .filter_map(|range| slot_range(range))
                .collect();
            let slots = ranges.iter().map(|(first, last)| last - first + 1).sum();
            let master_id = fields.get(3).filter(|id| **id != "-");
            Some(NodeEntry {
                id: (*fields.first()?).to_owned(),
                port,
                flags: (*fields.get(2)?).to_owned(),
                master_id: master_id.map(|id| (*id).to_owned()),
                slots,
                ranges,
            })
        })
        .collect()
}

/// `5461-10922` or `5460`; `[slot->-id]` (a slot being migrated) counts for nothing.
fn slot_range(range: &str) -> Option<(u32, u32)> {
    if range.starts_with('[') {
        return None;
    }
    let bounds = range.split_once('-').unwrap_or((range, range));
    match (bounds.0.parse::<u32>(), bounds.1.parse::<u32>()) {
        (Ok(first), Ok(last)) if last >= first => Some((first, last)),
        _ => None,
    }
}

/// redis-cli colours its output even into a file.
fn without_colours(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ … m
            chars.by_ref().find(|&c| c == 'm');
        } else {
            plain.push(c);
        }
    }
    plain
}

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    lines[lines.len().saturating_sub(count)..].join(" | ")
}

/// One cluster for every test that needs no faults; each test keeps to a key
/// namespace of its own. Tests that kill or restart nodes start their own cluster
/// (those methods take `&mut`, which a static cannot give).
pub static SHARED: LazyLock<RedisCluster> = LazyLock::new(RedisCluster::start);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_nodes_lines_yield_port_flags_and_slot_counts() {
        let text = "\
07c3 127.0.0.1:30004@40004 slave e7d1 0 1 1 connected\n\
e7d1 127.0.0.1:30001@40001,host myself,master - 0 0 1 connected 0-5460 7000 [93->-292f]\n\
292f 127.0.0.1:30002@40002 master,fail? - 0 1 2 connected 5461-10922\n";
        let entries = parse_nodes(text);
        assert_eq!(entries.len(), 3);
        assert_eq!(
            (entries[0].port, entries[0].role()),
            (30004, Some(Role::Replica))
        );
        assert_eq!((entries[1].port, entries[1].slots), (30001, 5462));
        assert_eq!(entries[1].role(), Some(Role::Master));
        assert!(!entries[1].failed());
        assert!(entries[2].failed());
    }

    /// Three masters on 1–3, replicas on 4–6; `flags_of_4` and `master_of_4` vary.
    fn view(flags_of_4: &str, master_of_4: &str) -> Vec<NodeEntry> {
        parse_nodes(&format!(
            "m1 127.0.0.1:1@10001 myself,master - 0 0 1 connected 0-5460\n\
             m2 127.0.0.1:2@10002 master - 0 0 2 connected 5461-10922\n\
             m3 127.0.0.1:3@10003 master - 0 0 3 connected 10923-16383\n\
             r4 127.0.0.1:4@10004 {flags_of_4} {master_of_4} 0 0 1 connected\n\
             r5 127.0.0.1:5@10005 slave m2 0 0 2 connected\n\
             r6 127.0.0.1:6@10006 slave m3 0 0 3 connected\n"
        ))
    }

    #[test]
    fn a_view_is_sound_only_when_replicas_follow_live_masters() {
        let all = [1, 2, 3, 4, 5, 6];
        assert_eq!(check_view(1, &view("slave", "m1"), &all), Ok(()));
        // Just after creation: the replica still looks like an empty master.
        assert!(check_view(1, &view("master", "-"), &all).is_err());
        assert!(check_view(1, &view("slave,fail?", "m1"), &all).is_err());
        // Its master is frozen or dead: not yet failed over.
        assert!(check_view(2, &view("slave", "m1"), &[2, 3, 4, 5, 6]).is_err());
        // A dead replica is no concern.
        assert_eq!(
            check_view(1, &view("slave,fail", "m1"), &[1, 2, 3, 5, 6]),
            Ok(())
        );
    }

    #[test]
    fn info_fields_are_found_by_exact_name() {
        let text = "cluster_state:ok\r\ncluster_slots_assigned:16384\r\n";
        assert_eq!(info_field(text, "cluster_state"), Some("ok"));
        assert_eq!(info_field(text, "cluster_slots"), None);
    }

    #[test]
    fn colours_are_stripped_from_redis_cli_output() {
        let text = "\u{1b}[31;1m[ERR] Node is not empty.\u{1b}[0m\n";
        assert_eq!(without_colours(text), "[ERR] Node is not empty.\n");
    }
}
