//! The real server (`balancelife serve`, in-process) on a free port, for tests that
//! need a socket: timeouts, slow clients, graceful shutdown.

use std::net::SocketAddr;

use balancelife::config::Settings;
use balancelife::startup::Application;

pub struct RunningServer {
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Builds the application from `settings` as `balancelife serve` does, on port 0.
    pub async fn start(mut settings: Settings) -> Self {
        settings.http.addr = "127.0.0.1:0".parse().expect("an address");
        let app = Application::build(&settings)
            .await
            .expect("the service starts");
        let addr = app.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Self { addr, stop, task }
    }

    /// Shuts down gracefully, as on SIGTERM, and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("the server task")
            .expect("a clean shutdown");
    }
}
