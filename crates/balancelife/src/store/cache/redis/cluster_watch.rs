//! Keeps this process's picture of a Redis Cluster current, and reaches its nodes
//! one by one: the view (`CLUSTER NODES`) is read every recovery round, from the
//! node that answered last (one node's view only moves forward; asking around
//! could step back to a node that has not heard of a failover yet), and each
//! heartbeat is published through every node in it.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};

use crate::store::cache::redis::cluster_view::ClusterView;
use crate::store::cache::redis::node_links::{NodeLinks, NodeTemplate};

pub struct ClusterWatch {
    view: RwLock<Option<Arc<ClusterView>>>,
    /// The node that told last, asked first next time.
    source: Mutex<Option<String>>,
    links: NodeLinks,
}

/// A message published through every node of the cluster.
pub struct Published {
    /// Nodes it was sent through.
    pub targets: usize,
    /// Nodes that took it.
    pub took: usize,
    /// Masters (by id) that did not.
    pub refused_by_masters: Vec<String>,
}

impl ClusterWatch {
    pub fn new(template: NodeTemplate) -> Self {
        Self {
            view: RwLock::new(None),
            source: Mutex::new(None),
            links: NodeLinks::new(template),
        }
    }

    /// The cluster as last read, once it was.
    pub fn view(&self) -> Option<Arc<ClusterView>> {
        self.view.read().clone()
    }

    /// Reads the cluster afresh from the node that told last, else from any node
    /// of the last view, else from a seed; false when none answered.
    pub async fn refresh(&self, seeds: &[String], deadline: Duration) -> bool {
        let mut candidates: Vec<String> = self.source.lock().iter().cloned().collect();
        if let Some(view) = self.view() {
            candidates.extend(view.in_cluster().map(|node| node.addr.clone()));
        }
        candidates.extend(seeds.iter().cloned());
        let mut asked = Vec::new();
        let command = redis::cmd("CLUSTER").arg("NODES").clone();
        for addr in candidates {
            if asked.contains(&addr) {
                continue;
            }
            if let Some(text) = self.links.query::<String>(&addr, &command, deadline).await {
                let view = ClusterView::parse(&text, &addr);
                self.links.keep_only(
                    view.in_cluster()
                        .map(|node| node.addr.as_str())
                        .chain(seeds.iter().map(String::as_str)),
                );
                *self.view.write() = Some(Arc::new(view));
                *self.source.lock() = Some(addr);
                return true;
            }
            asked.push(addr);
        }
        false
    }

    /// Publishes `message` on `channel` through every node in the cluster (see
    /// `ClusterView::in_cluster`); `None` before the cluster was read.
    pub async fn publish_through_every_node(
        &self,
        channel: &str,
        message: &str,
        deadline: Duration,
    ) -> Option<Published> {
        let view = self.view()?;
        let command = redis::cmd("PUBLISH").arg(channel).arg(message).clone();
        let targets: Vec<_> = view.in_cluster().collect();
        let sent = targets.iter().map(|node| {
            let command = &command;
            async move {
                let took = self
                    .links
                    .query::<i64>(&node.addr, command, deadline)
                    .await
                    .is_some();
                (node, took)
            }
        });
        let outcomes = futures_util::future::join_all(sent).await;
        Some(Published {
            targets: targets.len(),
            took: outcomes.iter().filter(|(_, took)| *took).count(),
            refused_by_masters: outcomes
                .iter()
                .filter(|(node, took)| node.master && !took)
                .map(|(node, _)| node.id.clone())
                .collect(),
        })
    }

    /// Whether the node at `addr` answers a PING within `deadline`.
    pub async fn ping(&self, addr: &str, deadline: Duration) -> bool {
        self.links
            .query::<String>(addr, &redis::cmd("PING"), deadline)
            .await
            .is_some()
    }
}
