//! What a Redis Cluster looks like now, as one of its nodes tells it (`CLUSTER
//! NODES`): which master serves each slot, and which nodes are in the cluster at
//! all. The cache reads it every recovery round and uses it to keep a circuit
//! breaker per master, to send each master its share of a batch, to send heartbeats
//! through every node, and to notice a failover (a new set of masters), after
//! which its cluster client starts afresh from the new slot map.

/// How many hash slots a Redis Cluster has.
const SLOTS: u16 = 16384;

/// One node, as far as the cache needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub id: String,
    /// `host:port`.
    pub addr: String,
    pub master: bool,
    /// The cluster agreed it failed (`fail`), or it has no address or has not
    /// joined yet: it serves nothing.
    pub out: bool,
    /// Suspected by the node that told (`fail?`), or its link to it is down.
    pub suspect: bool,
    /// Slot ranges it serves, first and last slot (a master's).
    pub slots: Vec<(u16, u16)>,
}

impl Node {
    fn serves(&self, slot: u16) -> bool {
        self.slots
            .iter()
            .any(|&(first, last)| first <= slot && slot <= last)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterView {
    nodes: Vec<Node>,
}

impl ClusterView {
    /// From a `CLUSTER NODES` reply given by the node at `told_by` (`host:port`),
    /// which may show its own address without the host.
    pub fn parse(text: &str, told_by: &str) -> Self {
        let nodes = text
            .lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                if fields.len() < 8 {
                    return None;
                }
                let flags: Vec<&str> = fields[2].split(',').collect();
                let has = |flag: &str| flags.contains(&flag);
                // `ip:port@cport[,hostname]`: the hostname where the node announces
                // one (what a TLS certificate names), else the address.
                let (endpoint, hostname) = fields[1].split_once(',').unwrap_or((fields[1], ""));
                let address = endpoint.split('@').next()?;
                let addr = match address.rsplit_once(':') {
                    Some((_, port)) if !hostname.is_empty() => format!("{hostname}:{port}"),
                    Some(("", _)) if has("myself") => told_by.to_owned(),
                    Some((_, _)) => address.to_owned(),
                    None => return None,
                };
                Some(Node {
                    id: fields[0].to_owned(),
                    addr,
                    master: has("master"),
                    out: has("fail") || has("noaddr") || has("handshake"),
                    suspect: has("fail?") || fields[7] != "connected",
                    slots: fields[8..]
                        .iter()
                        .filter_map(|range| slot_range(range))
                        .collect(),
                })
            })
            .collect();
        Self { nodes }
    }

    /// Masters that serve slots and are neither failed nor suspected, for `/health`.
    pub fn masters_answering(&self) -> usize {
        self.masters()
            .filter(|node| !node.suspect && !node.slots.is_empty())
            .count()
    }

    /// The masters in the cluster (not failed), serving slots or not.
    pub fn masters(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|node| node.master && !node.out)
    }

    /// The master serving `slot`, if one that has not failed does.
    pub fn owner(&self, slot: u16) -> Option<&Node> {
        self.masters().find(|node| node.serves(slot))
    }

    /// The master serving `key`'s slot.
    pub fn owner_of_key(&self, key: &str) -> Option<&Node> {
        self.owner(slot_of(key))
    }

    /// Every node in the cluster, masters and replicas, suspected or not: whatever
    /// could be publishing invalidations now or after a failover it has not been
    /// told of yet. Only nodes the cluster agreed have failed are left out.
    pub fn in_cluster(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|node| !node.out)
    }

    /// Whether live masters serve every slot (no failover under way).
    pub fn serves_every_slot(&self) -> bool {
        let served: u32 = self
            .masters()
            .flat_map(|node| &node.slots)
            .map(|&(first, last)| u32::from(last - first) + 1)
            .sum();
        served == u32::from(SLOTS)
    }

    /// Whether the same nodes are the masters in both (slots may have moved between
    /// them: a reshard, which the cluster client follows by its redirections).
    pub fn same_masters(&self, other: &Self) -> bool {
        let ids = |view: &Self| {
            let mut ids: Vec<String> = view
                .masters()
                .filter(|node| !node.slots.is_empty())
                .map(|node| format!("{} {}", node.id, node.addr))
                .collect();
            ids.sort();
            ids
        };
        ids(self) == ids(other)
    }
}

/// The hash slot of `key`, as Redis Cluster computes it: CRC16 of the hash tag (the
/// part between the first `{` and the next `}`, if not empty), else of the key.
pub fn slot_of(key: &str) -> u16 {
    let bytes = key.as_bytes();
    let tag = bytes.iter().position(|&b| b == b'{').and_then(|open| {
        let rest = &bytes[open + 1..];
        let close = rest.iter().position(|&b| b == b'}')?;
        (close > 0).then(|| &rest[..close])
    });
    crc16::State::<crc16::XMODEM>::calculate(tag.unwrap_or(bytes)) % SLOTS
}

/// `5461-10922` or `5460`; `[slot->-id]` (a slot migrating) is not served yet.
fn slot_range(range: &str) -> Option<(u16, u16)> {
    if range.starts_with('[') {
        return None;
    }
    let (first, last) = range.split_once('-').unwrap_or((range, range));
    let (first, last) = (first.parse().ok()?, last.parse().ok()?);
    (first <= last && last < SLOTS).then_some((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODES: &str = "\
a1 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460
b2 127.0.0.1:7002@17002 master - 0 1 2 connected 5461-10922 [93->-a1]
c3 127.0.0.1:7003@17003 master,fail - 1 1 3 disconnected 10923-16383
d4 127.0.0.1:7004@17004 slave a1 0 1 1 connected
e5 127.0.0.1:7005@17005 master - 0 1 5 connected
f6 127.0.0.1:7006@17006 slave,fail? c3 0 1 3 connected
";

    #[test]
    fn masters_that_serve_slots_and_did_not_fail_are_counted() {
        let view = ClusterView::parse(NODES, "127.0.0.1:7001");
        assert_eq!(view.masters_answering(), 2);
        assert_eq!(view.masters().count(), 3, "one serves no slot yet");
    }

    #[test]
    fn each_slot_belongs_to_the_master_that_serves_it() {
        let view = ClusterView::parse(NODES, "127.0.0.1:7001");
        assert_eq!(view.owner(0).map(|node| node.id.as_str()), Some("a1"));
        assert_eq!(view.owner(5461).map(|node| node.id.as_str()), Some("b2"));
        assert_eq!(view.owner(12000), None, "its master failed");
        assert!(!view.serves_every_slot());
        assert!(
            ClusterView::parse(&NODES.replace("master,fail", "master"), "").serves_every_slot()
        );
        // The same slot as Redis gives (`CLUSTER KEYSLOT`): the hash tag decides.
        assert_eq!(slot_of("foo"), 12182);
        assert_eq!(slot_of("ns:v4:1:{u:1}:user"), slot_of("{u:1}"));
        assert_eq!(
            slot_of("a{}b"),
            slot_of("a{}b"),
            "an empty tag hashes the key"
        );
    }

    #[test]
    fn only_nodes_the_cluster_agreed_have_failed_are_out() {
        let view = ClusterView::parse(NODES, "127.0.0.1:7001");
        let ids: Vec<&str> = view.in_cluster().map(|node| node.id.as_str()).collect();
        assert_eq!(ids, ["a1", "b2", "d4", "e5", "f6"]);
        assert!(
            view.nodes
                .iter()
                .find(|node| node.id == "f6")
                .unwrap()
                .suspect
        );
    }

    #[test]
    fn a_node_that_does_not_know_its_own_host_is_named_by_who_told() {
        let view = ClusterView::parse(
            "a1 :7001@17001 myself,master - 0 0 1 connected 0-16383",
            "10.0.0.5:7001",
        );
        assert_eq!(view.nodes[0].addr, "10.0.0.5:7001");
    }

    #[test]
    fn a_node_that_announces_a_hostname_is_named_by_it() {
        let view = ClusterView::parse(
            "a1 10.0.0.5:7001@17001,redis-a.example myself,master - 0 0 1 connected 0-16383",
            "10.0.0.5:7001",
        );
        assert_eq!(view.nodes[0].addr, "redis-a.example:7001");
    }

    #[test]
    fn a_failover_changes_the_masters_and_a_reshard_does_not() {
        let before = ClusterView::parse(NODES, "127.0.0.1:7001");
        let resharded = ClusterView::parse(&NODES.replace("0-5460", "0-5000"), "127.0.0.1:7001");
        let failed_over = ClusterView::parse(
            &NODES
                .replace(
                    "myself,master - 0 0 1 connected 0-5460",
                    "myself,master,fail - 0 0 1 connected",
                )
                .replace(
                    "slave a1 0 1 1 connected",
                    "master - 0 1 7 connected 0-5460",
                ),
            "127.0.0.1:7001",
        );
        assert!(before.same_masters(&resharded));
        assert!(!before.same_masters(&failed_over));
    }
}
