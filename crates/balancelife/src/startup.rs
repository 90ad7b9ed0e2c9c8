//! Building the application from settings: choosing the store, loading sample data,
//! binding the listener. `main` only parses arguments and calls into here, and tests
//! build the same application on port 0.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::{Service, ServiceExt};

use crate::api::http::state::{AppState, SharedState, StoreChoice};
use crate::auth::{PasswordHasher, TokenKeys};
use crate::config::{AuthSettings, Settings};
use crate::connection_watch::{Event, Watch};
use crate::metrics::{ConnectionMetrics, Exposition};
use crate::rate_limit::AttemptCounter;
use crate::search::FoodSearch;
use crate::selection::{self, Selected};
use crate::store::cache::RedisCache;
use crate::store::{Store, StoreKind};

/// Builds the service from `settings` and serves until Ctrl-C or SIGTERM, then
/// finishes in-flight requests: `balancelife serve`.
pub async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    app.run_until(shutdown_signal()).await?;
    Ok(())
}

/// Selects the store and loads the sample data where asked (`samples_for`).
pub async fn open_store(settings: &Settings) -> anyhow::Result<(Arc<dyn Store>, StoreChoice)> {
    let Selected {
        store,
        decision,
        cache,
    } = selection::select(settings).await?;
    let report = match samples_for(settings.init_sample_data, &decision) {
        Samples::None => None,
        Samples::Catalogue => Some(crate::sample::load_catalogue(store.as_ref()).await),
        Samples::CatalogueAndDemoAccounts => {
            Some(crate::sample::load(store.as_ref(), crate::domain::now()).await)
        }
    };
    if let Some(report) = report {
        let report = report.context("loading the sample data")?;
        tracing::info!(
            created = report.created,
            unchanged = report.unchanged,
            "sample data loaded"
        );
        // The starter foods come with either: a catalogue to log meals from.
        let foods = crate::sample::load_starter_foods(store.as_ref(), crate::domain::now())
            .await
            .context("loading the starter foods")?;
        tracing::info!(
            created = foods.created,
            replaced = foods.replaced,
            unchanged = foods.unchanged,
            "starter foods loaded"
        );
    }
    tracing::info!(store = decision.kind.as_str(), reason = %decision.reason, "store selected");
    let choice = StoreChoice {
        reason: decision.reason,
        degraded: decision.degraded,
        ..StoreChoice::default()
    };
    Ok((store, with_cache(choice, cache.as_ref())))
}

/// `choice`, with what a Redis cache brings to the handlers: its metrics and the
/// log-in counters shared across instances.
pub fn with_cache(choice: StoreChoice, cache: Option<&Arc<RedisCache>>) -> StoreChoice {
    let Some(cache) = cache else {
        return choice;
    };
    let l1 = cache.l1().map(|l1| &l1.metrics);
    StoreChoice {
        metrics: Arc::new(Exposition::new(Some(&cache.metrics), l1)),
        shared_attempts: Some(Arc::clone(cache) as Arc<dyn AttemptCounter>),
        ..choice
    }
}

/// Which of the sample data a start loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Samples {
    None,
    Catalogue,
    CatalogueAndDemoAccounts,
}

/// `INIT_SAMPLE_DATA` when set; unset, everything for the memory store that was
/// chosen (no `MONGODB_URI`: the README's first command, which signs in with the demo
/// accounts), the catalogue alone for the memory store MongoDB fell back to (a
/// production start during an outage must not let anyone in with the demo
/// accounts' published passwords), nothing for MongoDB.
fn samples_for(init_sample_data: Option<bool>, decision: &selection::Decision) -> Samples {
    match (init_sample_data, decision.kind) {
        (Some(true), _) => Samples::CatalogueAndDemoAccounts,
        (Some(false), _) => Samples::None,
        (None, StoreKind::Memory) if decision.degraded => Samples::Catalogue,
        (None, StoreKind::Memory) => Samples::CatalogueAndDemoAccounts,
        (None, _) => Samples::None,
    }
}

/// The token keys from settings, or a random per-process secret with a warning.
pub fn token_keys(settings: &AuthSettings) -> TokenKeys {
    let secret = settings.token_secret.clone().unwrap_or_else(|| {
        tracing::warn!(
            "AUTH_TOKEN_SECRET is not set: using a random secret, so tokens stop working \
             when the service restarts"
        );
        TokenKeys::random_secret()
    });
    TokenKeys::new(&secret, settings.token_ttl, settings.access_ttl)
}

/// Everything the handlers share, built around `store`. Starts the food index,
/// which fills itself from the store in the background.
pub fn app_state(
    settings: &Settings,
    store: Arc<dyn Store>,
    store_choice: StoreChoice,
) -> anyhow::Result<SharedState> {
    let foods = FoodSearch::start(Arc::clone(&store), None).context("starting the food index")?;
    let shared_counters = store_choice.shared_attempts.clone();
    Ok(Arc::new(AppState {
        store,
        foods,
        store_choice,
        tokens: token_keys(&settings.auth),
        hasher: PasswordHasher::new(),
        auth_limits: crate::api::http::limits::AuthLimits::new(
            settings.auth.attempts_per_minute,
            shared_counters,
        ),
        request_timeout: settings.http.request_timeout,
        catalogue_max_age: settings.http.catalogue_max_age,
        cookie_secure: settings.auth.cookie_secure,
        training: Default::default(),
    }))
}

/// A bound, ready-to-run service.
pub struct Application {
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    send_timeout: Duration,
    max_connections: u32,
    connection_metrics: ConnectionMetrics,
    /// How long shutting down waits for open requests before it gives up on them.
    grace: Duration,
}

/// Beyond the request deadline, what shutting down waits for: responses still being
/// streamed (an export) get this long to finish.
const EXTRA_GRACE: Duration = Duration::from_secs(5);

impl Application {
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let (store, choice) = open_store(settings).await?;
        Self::with_store(settings, store, choice).await
    }

    /// Builds around a given store; tests use it to run the real server on any backend.
    pub async fn with_store(
        settings: &Settings,
        store: Arc<dyn Store>,
        store_choice: StoreChoice,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.http.addr)
            .await
            .with_context(|| format!("binding HTTP_ADDR {}", settings.http.addr))?;
        let connection_metrics = store_choice.metrics.connections().clone();
        Ok(Self {
            listener,
            router: crate::api::router(app_state(settings, store, store_choice)?),
            connection_metrics,
            header_timeout: settings.http.header_timeout,
            send_timeout: settings.http.send_timeout,
            max_connections: settings.http.max_connections,
            grace: settings.http.request_timeout + EXTRA_GRACE,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    ///
    /// hyper-util's server loop rather than `axum::serve`, which has no header-read
    /// timeout: a client trickling its headers (slowloris) would hold a connection for
    /// ever. Each connection is watched besides (`connection_watch`): closed when no
    /// request has been open on it for `HEADER_TIMEOUT_MS` (an HTTP/2 client that
    /// answers pings included), dropped when an answer waits on its client for
    /// `SEND_TIMEOUT_MS`. Past `MAX_CONNECTIONS` open at once, a new connection is
    /// closed as soon as it is accepted: the loop keeps accepting, so it neither
    /// stalls nor leaves clients waiting in the backlog, and no connection can take
    /// the file descriptors the open ones and the stores need.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = %self.local_addr(), "listening");
        let mut connections = auto::Builder::new(TokioExecutor::new());
        connections
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_timeout);
        // Pings find a peer that is gone; whether one that answers may stay is the
        // watch's business.
        connections
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(self.header_timeout)
            .keep_alive_timeout(self.header_timeout);
        let limits = ConnectionLimits {
            idle: self.header_timeout,
            send: self.send_timeout,
        };
        let metrics = self.connection_metrics;
        let open = Arc::new(Semaphore::new(self.max_connections as usize));
        let (phase, _) = watch::channel(Phase::Serving);
        let mut make_service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let mut refusals = Refusals::default();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        pause_after_accept_error(&error).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let Ok(place) = Arc::clone(&open).try_acquire_owned() else {
                metrics.refused.inc();
                refusals.refused(self.max_connections);
                continue;
            };
            let Ok(router) = make_service.call(peer).await;
            let connection = serve_connection(
                connections.clone(),
                stream,
                router,
                limits,
                metrics.clone(),
                phase.subscribe(),
            );
            tokio::spawn(async move {
                connection.await;
                drop(place);
            });
        }
        drop(self.listener);
        phase.send_replace(Phase::Draining);
        let all = self.max_connections;
        let every_connection_closed = || Arc::clone(&open).acquire_many_owned(all);
        if tokio::time::timeout(self.grace, every_connection_closed())
            .await
            .is_err()
        {
            tracing::warn!(
                grace_secs = self.grace.as_secs(),
                "connections still open after the grace period; closing them"
            );
            phase.send_replace(Phase::Closing);
            let _ = tokio::time::timeout(Duration::from_secs(1), every_connection_closed()).await;
        }
        Ok(())
    }
}

/// Where the server is in its life, as every connection learns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Serving,
    /// Shutting down: finish what is in flight, take nothing new.
    Draining,
    /// The grace period is over: drop whatever is still open.
    Closing,
}

#[derive(Debug, Clone, Copy)]
struct ConnectionLimits {
    /// `HEADER_TIMEOUT_MS`: for the first byte, and without any request open.
    idle: Duration,
    /// `SEND_TIMEOUT_MS`: for an answer waiting on its client.
    send: Duration,
}

/// The router of one connection, which knows its client's address.
type PeerRouter = axum::middleware::AddExtension<Router, axum::extract::ConnectInfo<SocketAddr>>;

/// Serves one connection until it ends, is idle, stalls, or the server closes.
async fn serve_connection(
    connections: auto::Builder<TokioExecutor>,
    stream: TcpStream,
    router: PeerRouter,
    limits: ConnectionLimits,
    metrics: ConnectionMetrics,
    mut phase: watch::Receiver<Phase>,
) {
    // hyper's header timer starts with the first byte, and telling HTTP/1 from
    // HTTP/2 waits for bytes untimed: a client that sends nothing is timed here.
    let mut first_byte = [0_u8; 1];
    match tokio::time::timeout(limits.idle, stream.peek(&mut first_byte)).await {
        Ok(Ok(read)) if read > 0 => {}
        Err(_) => {
            metrics.closed_idle.inc();
            return;
        }
        // The client hung up, or the socket failed: nothing to count.
        Ok(_) => return,
    }
    let watch = Watch::new(limits.idle, limits.send);
    let requests = Arc::clone(&watch);
    let service = hyper::service::service_fn(move |request| {
        let stream = requests.open();
        let answer = router.clone().oneshot(request);
        async move { answer.await.map(|response| stream.answered(response)) }
    });
    let connection = connections.serve_connection_with_upgrades(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    let mut closing = false;
    // Once an idle connection is asked to close: past this, it is dropped.
    let mut give_up_at: Option<tokio::time::Instant> = None;
    loop {
        let give_up = async {
            match give_up_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ended = connection.as_mut() => {
                if let Err(error) = ended {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            event = watch.next_event(), if give_up_at.is_none() => match event {
                Event::Idle => {
                    if !std::mem::replace(&mut closing, true) {
                        metrics.closed_idle.inc();
                        connection.as_mut().graceful_shutdown();
                    }
                    give_up_at = Some(tokio::time::Instant::now() + limits.idle);
                }
                Event::Stalled => {
                    metrics.dropped_stalled.inc();
                    tracing::debug!("an answer waited on its client for SEND_TIMEOUT_MS");
                    return;
                }
            },
            changed = phase.changed() => match (changed, *phase.borrow_and_update()) {
                (Ok(()), Phase::Serving) => {}
                (Ok(()), Phase::Draining) => {
                    if !std::mem::replace(&mut closing, true) {
                        connection.as_mut().graceful_shutdown();
                    }
                }
                (Ok(()), Phase::Closing) | (Err(_), _) => return,
            },
            () = give_up => return,
        }
    }
}

/// Refused connections, told in the log at most once a minute.
#[derive(Default)]
struct Refusals {
    last_told: Option<tokio::time::Instant>,
    since_told: u64,
}

impl Refusals {
    fn refused(&mut self, max_connections: u32) {
        self.since_told += 1;
        let now = tokio::time::Instant::now();
        if self
            .last_told
            .is_none_or(|told| now.duration_since(told) >= Duration::from_secs(60))
        {
            tracing::warn!(
                max_connections,
                refused = self.since_told,
                "MAX_CONNECTIONS are open: closing new connections as they come"
            );
            self.last_told = Some(now);
            self.since_told = 0;
        }
    }
}

/// After a failed `accept`: a connection that died while queued is no reason to wait;
/// anything else (out of file descriptors) is, or the loop would spin.
async fn pause_after_accept_error(error: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        tracing::warn!(%error, "accepting a connection failed; pausing for a second");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_accounts_are_loaded_only_when_asked_for() {
        let decision = |kind: StoreKind, degraded: bool| selection::Decision {
            kind,
            reason: String::new(),
            degraded,
        };
        let chosen_memory = decision(StoreKind::Memory, false);
        let fallback = decision(StoreKind::Memory, true);
        let mongo = decision(StoreKind::Mongodb, false);
        let all = Samples::CatalogueAndDemoAccounts;
        assert_eq!(samples_for(None, &chosen_memory), all);
        assert_eq!(samples_for(None, &fallback), Samples::Catalogue);
        assert_eq!(samples_for(None, &mongo), Samples::None);
        for asked in [&chosen_memory, &fallback, &mongo] {
            assert_eq!(samples_for(Some(true), asked), all);
            assert_eq!(samples_for(Some(false), asked), Samples::None);
        }
    }
}
