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

    /// The value of the counter `name` (without `_total`) at `GET /metrics`. Asked
    /// again for a while if the connection is refused: a test may have just held
    /// every connection the server allows.
    pub async fn counter(&self, name: &str) -> u64 {
        let url = format!("http://{}/metrics", self.addr);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        let text = loop {
            let answer = async { reqwest::get(&url).await?.error_for_status()?.text().await };
            match answer.await {
                Ok(text) => break text,
                Err(error) if tokio::time::Instant::now() >= deadline => {
                    panic!("GET /metrics: {error}")
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        };
        let line = format!("{name}_total ");
        text.lines()
            .find_map(|row| row.strip_prefix(&line))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("no counter {name} in:\n{text}"))
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
