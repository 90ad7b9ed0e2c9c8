//! Connections to Redis as configured: one server, or a Redis Cluster through the
//! `redis` crate's cluster client (which follows MOVED and ASK redirections and
//! reloads the slot map itself; the cache makes it afresh after a failover, see
//! `redis`). Unless `REDIS_MODE` says which, the first seed that
//! answers is asked (`cluster_enabled` in `INFO cluster`).

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, ConnectionInfo, IntoConnectionInfo, Pipeline, RedisFuture, Value};
use secrecy::ExposeSecret;

use crate::config::{RedisMode, RedisSettings};
use crate::store::cache::redis::node_links::NodeTemplate;

/// What the server turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    Standalone,
    Cluster,
}

impl Topology {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standalone => "standalone",
            Self::Cluster => "cluster",
        }
    }
}

/// One multiplexed connection to a server, or a handle on a whole cluster; either
/// reconnects by itself, and either runs the cache's scripts (a cluster routes each
/// by its first key).
#[derive(Clone)]
pub enum RedisConnection {
    Standalone(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Standalone(connection) => connection.req_packed_command(cmd),
            Self::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Standalone(connection) => connection.req_packed_commands(pipeline, offset, count),
            Self::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Standalone(connection) => connection.get_db(),
            Self::Cluster(connection) => connection.get_db(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid Redis settings: {0}")]
pub struct RedisConfigError(pub(super) String);

/// Why a connection attempt failed.
#[derive(Debug)]
pub enum ConnectError {
    /// Nothing answered (yet): try again later.
    Unreachable,
    /// What answered cannot be used with these settings; trying again will not help.
    Misconfigured(String),
}

/// Everything needed to (re)connect: built once from the settings, checked then.
pub struct Connector {
    mode: RedisMode,
    db: u8,
    /// A client for each seed, without a database number, to ask what it is.
    seeds: Vec<redis::Client>,
    /// The first seed with the password and database number applied.
    standalone: redis::Client,
    cluster: ClusterClient,
    /// `host:port` of each seed.
    seed_addrs: Vec<String>,
    /// How to reach one cluster node by its address.
    node_template: NodeTemplate,
}

impl Connector {
    pub fn new(settings: &RedisSettings) -> Result<Self, RedisConfigError> {
        let seeds = seeds(settings)?;
        if settings.mode == RedisMode::Standalone && seeds.len() > 1 {
            return Err(RedisConfigError(
                "REDIS_ADDR names several nodes, but REDIS_MODE=standalone takes one".into(),
            ));
        }
        let root_cert = match &settings.cert_path {
            Some(ca_file) => Some(std::fs::read(ca_file).map_err(|_| {
                RedisConfigError(format!(
                    "REDIS_CERT_PATH {} cannot be read",
                    ca_file.display()
                ))
            })?),
            None => None,
        };
        let unusable = |_| RedisConfigError("REDIS_ADDR cannot be used".into());
        let client = |info: ConnectionInfo| match &root_cert {
            Some(root_cert) => redis::Client::build_with_tls(
                info,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(root_cert.clone()),
                },
            ),
            None => redis::Client::open(info),
        };
        let mut first = seeds[0].clone();
        if settings.db != 0 {
            let redis_settings = first
                .redis_settings()
                .clone()
                .set_db(i64::from(settings.db));
            first = first.set_redis_settings(redis_settings);
        }
        let standalone = client(first).map_err(unusable)?;
        let seed_clients = seeds
            .iter()
            .map(|seed| client(seed.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(unusable)?;
        let mut cluster = ClusterClientBuilder::new(seeds.clone())
            .connection_timeout(Duration::from_secs(1))
            .retries(3);
        if let Some(root_cert) = &root_cert {
            cluster = cluster.certs(redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(root_cert.clone()),
            });
        }
        let seed_addrs = seeds
            .iter()
            .filter_map(|seed| match seed.addr() {
                redis::ConnectionAddr::Tcp(host, port)
                | redis::ConnectionAddr::TcpTls { host, port, .. } => {
                    Some(format!("{host}:{port}"))
                }
                _ => None,
            })
            .collect();
        Ok(Self {
            mode: settings.mode,
            db: settings.db,
            seeds: seed_clients,
            standalone,
            cluster: cluster.build().map_err(unusable)?,
            seed_addrs,
            node_template: NodeTemplate {
                info: seeds[0].clone(),
                root_cert,
            },
        })
    }

    /// `host:port` of each seed node, as configured.
    pub fn seed_addrs(&self) -> &[String] {
        &self.seed_addrs
    }

    /// How to reach any one node of a cluster by its address.
    pub fn node_template(&self) -> NodeTemplate {
        self.node_template.clone()
    }

    /// Finds out what the server is (unless configured) and connects to it.
    pub async fn connect(&self) -> Result<(RedisConnection, Topology), ConnectError> {
        let topology = match self.mode {
            RedisMode::Standalone => Topology::Standalone,
            RedisMode::Cluster => Topology::Cluster,
            RedisMode::Auto => self.detect().await?,
        };
        match topology {
            Topology::Cluster if self.db != 0 => Err(ConnectError::Misconfigured(format!(
                "REDIS_DB is {} but REDIS_ADDR is a Redis Cluster, which has only database 0",
                self.db
            ))),
            Topology::Standalone if self.seeds.len() > 1 => Err(ConnectError::Misconfigured(
                "REDIS_ADDR names several nodes, but the server is not a Redis Cluster".into(),
            )),
            Topology::Standalone => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_secs(1)))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(200));
                let attempt = ConnectionManager::new_with_config(self.standalone.clone(), config);
                match tokio::time::timeout(Duration::from_secs(2), attempt).await {
                    Ok(Ok(connection)) => Ok((RedisConnection::Standalone(connection), topology)),
                    Ok(Err(error)) => {
                        tracing::debug!(%error, "Redis is not reachable yet");
                        Err(ConnectError::Unreachable)
                    }
                    Err(_) => Err(ConnectError::Unreachable),
                }
            }
            Topology::Cluster => {
                let attempt = self.cluster.get_async_connection();
                match tokio::time::timeout(Duration::from_secs(3), attempt).await {
                    Ok(Ok(connection)) => Ok((RedisConnection::Cluster(connection), topology)),
                    Ok(Err(error)) => {
                        tracing::debug!(%error, "the Redis Cluster is not reachable yet");
                        Err(ConnectError::Unreachable)
                    }
                    Err(_) => Err(ConnectError::Unreachable),
                }
            }
        }
    }

    /// Asks the seeds in turn whether they are cluster nodes.
    async fn detect(&self) -> Result<Topology, ConnectError> {
        for client in &self.seeds {
            let ask = async {
                let mut connection = client.get_multiplexed_async_connection().await?;
                redis::cmd("INFO")
                    .arg("cluster")
                    .query_async::<String>(&mut connection)
                    .await
            };
            if let Ok(Ok(info)) = tokio::time::timeout(Duration::from_secs(1), ask).await {
                let clustered = info.lines().any(|line| line.trim() == "cluster_enabled:1");
                return Ok(if clustered {
                    Topology::Cluster
                } else {
                    Topology::Standalone
                });
            }
        }
        Err(ConnectError::Unreachable)
    }

    /// A subscription to `channels`, on one connection, on the first seed that
    /// answers. Any node will do: a cluster passes every `PUBLISH` on to every node.
    pub async fn subscribe(&self, channels: &[String]) -> Option<redis::aio::PubSubStream> {
        for client in &self.seeds {
            let attempt = async {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(channels).await?;
                Ok::<_, redis::RedisError>(pubsub.into_on_message())
            };
            match tokio::time::timeout(Duration::from_secs(1), attempt).await {
                Ok(Ok(stream)) => return Some(stream),
                Ok(Err(error)) => {
                    tracing::debug!(%error, "subscribing to the invalidation channel failed")
                }
                Err(_) => tracing::debug!("subscribing to the invalidation channel timed out"),
            }
        }
        None
    }

    /// Whether Redis answers a PING within a second, for `balancelife config`.
    pub async fn probe(&self) -> bool {
        let Ok((mut connection, _)) = self.connect().await else {
            return false;
        };
        let ping = redis::cmd("PING");
        let answered = ping.query_async::<String>(&mut connection);
        matches!(
            tokio::time::timeout(Duration::from_secs(1), answered).await,
            Ok(Ok(_))
        )
    }
}

/// The seed nodes of `REDIS_ADDR`, each with `REDIS_PASSWORD` applied.
fn seeds(settings: &RedisSettings) -> Result<Vec<ConnectionInfo>, RedisConfigError> {
    let mut seeds = Vec::new();
    for addr in settings
        .addr
        .expose_secret()
        .split(',')
        .map(str::trim)
        .filter(|addr| !addr.is_empty())
    {
        let url = if addr.contains("://") {
            addr.to_owned()
        } else {
            format!("redis://{addr}")
        };
        if settings.cert_path.is_some() && !url.starts_with("rediss://") {
            return Err(RedisConfigError(
                "REDIS_CERT_PATH needs a rediss:// REDIS_ADDR".into(),
            ));
        }
        // The error text could quote the password; it is not passed on.
        let info = url.as_str().into_connection_info().map_err(|_| {
            RedisConfigError("REDIS_ADDR is not a valid Redis address or URL".into())
        })?;
        let mut redis_settings = info.redis_settings().clone();
        if let Some(password) = &settings.password {
            redis_settings = redis_settings.set_password(password.expose_secret());
        }
        seeds.push(info.set_redis_settings(redis_settings));
    }
    if seeds.is_empty() {
        return Err(RedisConfigError("REDIS_ADDR names no Redis node".into()));
    }
    Ok(seeds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_seeds_are_read_and_a_password_applies_to_each() {
        let mut settings = RedisSettings::new("127.0.0.1:7001, redis://127.0.0.1:7002,");
        settings.password = Some("pw".to_owned().into());
        let seeds = seeds(&settings).unwrap();
        assert_eq!(seeds.len(), 2);
        assert!(
            seeds
                .iter()
                .all(|seed| seed.redis_settings().password() == Some("pw"))
        );
    }
}
