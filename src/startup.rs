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
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::{Service, ServiceExt};

use crate::api::state::{AppState, SharedState, StoreChoice};
use crate::auth::{PasswordHasher, TokenKeys};
use crate::config::Settings;
use crate::selection::{self, Selected};
use crate::store::{Store, StoreKind};

/// Selects the store and loads the sample data where asked: by default into the
/// memory store (a demo needs it), never into MongoDB unless `INIT_SAMPLE_DATA=true`.
pub async fn open_store(settings: &Settings) -> anyhow::Result<(Arc<dyn Store>, StoreChoice)> {
    let Selected {
        store,
        decision,
        cache_metrics,
    } = selection::select(settings).await?;
    let wants_samples = settings
        .init_sample_data
        .unwrap_or(decision.kind == StoreKind::Memory);
    if wants_samples {
        let report = crate::sample::load(store.as_ref(), crate::domain::now())
            .await
            .context("loading the sample data")?;
        tracing::info!(
            created = report.created,
            unchanged = report.unchanged,
            "sample data loaded"
        );
    }
    tracing::info!(store = decision.kind.as_str(), reason = %decision.reason, "store selected");
    let choice = StoreChoice {
        reason: decision.reason,
        degraded: decision.degraded,
        cache_metrics,
    };
    Ok((store, choice))
}

/// The token keys from settings, or a random per-process secret with a warning.
pub fn token_keys(settings: &Settings) -> TokenKeys {
    let secret = settings.auth_token_secret.clone().unwrap_or_else(|| {
        tracing::warn!(
            "AUTH_TOKEN_SECRET is not set: using a random secret, so tokens stop working \
             when the service restarts"
        );
        TokenKeys::random_secret()
    });
    TokenKeys::new(&secret, settings.auth_token_ttl())
}

/// Everything the handlers share, built around `store`.
pub fn app_state(
    settings: &Settings,
    store: Arc<dyn Store>,
    store_choice: StoreChoice,
) -> SharedState {
    Arc::new(AppState {
        store,
        store_choice,
        tokens: token_keys(settings),
        hasher: PasswordHasher::new(),
        auth_limits: crate::api::limits::AuthLimits::new(settings.auth_attempts_per_minute),
        request_timeout: settings.request_timeout(),
    })
}

/// A bound, ready-to-run service.
pub struct Application {
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
}

/// The longest a client may take to send a request's headers. `axum::serve` has no
/// such limit, so a client trickling bytes (slowloris) would hold a connection for
/// ever; the request deadline only starts once the headers are in.
const MAX_HEADER_READ: Duration = Duration::from_secs(10);

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
        let listener = TcpListener::bind(settings.http_addr)
            .await
            .with_context(|| format!("binding HTTP_ADDR {}", settings.http_addr))?;
        Ok(Self {
            listener,
            router: crate::api::router(app_state(settings, store, store_choice)),
            header_timeout: MAX_HEADER_READ.min(settings.request_timeout()),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
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
        let graceful = GracefulShutdown::new();
        let mut make_service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: pass, and try again.
                        tracing::warn!(%error, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let Ok(router) = make_service.call(peer).await;
            let service =
                hyper::service::service_fn(move |request| router.clone().oneshot(request));
            let connection = connections
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .into_owned();
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "connection ended with an error");
                }
            });
        }
        drop(self.listener);
        graceful.shutdown().await;
        Ok(())
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
