//! One connection per Redis Cluster node, by address, for what must reach one
//! given node rather than whichever serves a slot: a heartbeat through every node,
//! `CLUSTER NODES` from one node, a probe of one master.
//!
//! Apart from the cluster client on purpose: that one routes by slot, retries,
//! follows redirections and falls back to another node of a shard, any of which
//! would make "this node took it" untrue. A node that does not answer costs one
//! attempt, and is not dialed again for a second.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Cmd, ConnectionAddr, ConnectionInfo, FromRedisValue};

/// How long a node that could not be reached is left alone.
const REDIAL_AFTER: Duration = Duration::from_secs(1);

/// How to connect to any node: the first seed's settings (password, TLS) with
/// another address.
#[derive(Clone)]
pub struct NodeTemplate {
    pub info: ConnectionInfo,
    pub root_cert: Option<Vec<u8>>,
}

impl NodeTemplate {
    fn client(&self, host: &str, port: u16) -> Option<redis::Client> {
        let addr = match self.info.addr() {
            ConnectionAddr::TcpTls { insecure, .. } => ConnectionAddr::TcpTls {
                host: host.to_owned(),
                port,
                insecure: *insecure,
                tls_params: None,
            },
            _ => ConnectionAddr::Tcp(host.to_owned(), port),
        };
        let info = self.info.clone().set_addr(addr);
        match &self.root_cert {
            Some(root_cert) => redis::Client::build_with_tls(
                info,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(root_cert.clone()),
                },
            )
            .ok(),
            None => redis::Client::open(info).ok(),
        }
    }
}

enum Link {
    Up(MultiplexedConnection),
    /// Could not be reached; not dialed again before this.
    Down(Instant),
}

pub struct NodeLinks {
    template: NodeTemplate,
    links: Mutex<HashMap<String, Link>>,
}

impl NodeLinks {
    pub fn new(template: NodeTemplate) -> Self {
        Self {
            template,
            links: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `command` on the node at `addr` (`host:port`) within `deadline`; `None`
    /// when it could not be reached, did not answer in time or answered an error.
    pub async fn query<T: FromRedisValue>(
        &self,
        addr: &str,
        command: &Cmd,
        deadline: Duration,
    ) -> Option<T> {
        let mut connection = self.connection(addr, deadline).await?;
        match tokio::time::timeout(deadline, command.query_async::<T>(&mut connection)).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(error)) if !error.is_io_error() && !error.is_connection_dropped() => {
                tracing::debug!(%error, node = addr, "a Redis node refused a command");
                None
            }
            // Silence or a broken connection: dial afresh next time.
            _ => {
                self.links.lock().remove(addr);
                None
            }
        }
    }

    /// Forgets the links to nodes other than `addrs` (nodes that left the cluster).
    pub fn keep_only<'a>(&self, addrs: impl Iterator<Item = &'a str>) {
        let keep: Vec<&str> = addrs.collect();
        self.links
            .lock()
            .retain(|addr, _| keep.contains(&addr.as_str()));
    }

    async fn connection(&self, addr: &str, deadline: Duration) -> Option<MultiplexedConnection> {
        match self.links.lock().get(addr) {
            Some(Link::Up(connection)) => return Some(connection.clone()),
            Some(Link::Down(until)) if Instant::now() < *until => return None,
            _ => {}
        }
        let (host, port) = addr.rsplit_once(':')?;
        let client = self.template.client(host, port.parse().ok()?)?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(deadline))
            .set_response_timeout(Some(deadline));
        let link = match client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            Ok(connection) => Link::Up(connection),
            Err(error) => {
                tracing::debug!(%error, node = addr, "a Redis node could not be reached");
                Link::Down(Instant::now() + REDIAL_AFTER)
            }
        };
        let connection = match &link {
            Link::Up(connection) => Some(connection.clone()),
            Link::Down(_) => None,
        };
        self.links.lock().insert(addr.to_owned(), link);
        connection
    }
}
