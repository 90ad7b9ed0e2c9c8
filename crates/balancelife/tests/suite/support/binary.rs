//! The `balancelife` binary as a child process, as an operator runs it: only the
//! settings a test gives it, its JSON log lines kept, killed if the test fails.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use balancelife::config::Variables;

/// The binary with none of the settings variables of the test's own environment.
pub fn balancelife() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_balancelife"));
    // Only what each test sets may reach the child.
    for name in Variables::names() {
        command.env_remove(name);
    }
    command.env_remove("BALANCELIFE_CONFIG");
    command
}

/// Starts `balancelife serve` on a free port; returns the process and its address.
pub fn serve(configure: impl FnOnce(&mut Command)) -> (KillOnDrop, String) {
    let (service, addr, _) = serve_logged(configure);
    (service, addr)
}

/// Every line the service has logged so far.
pub type Logs = Arc<Mutex<Vec<String>>>;

/// `serve`, keeping the service's log lines.
pub fn serve_logged(configure: impl FnOnce(&mut Command)) -> (KillOnDrop, String, Logs) {
    let mut command = balancelife();
    command
        .env("HTTP_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .env("AUTH_TOKEN_SECRET", "cli-test-secret-cli-test-secret-0123")
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    configure(&mut command);
    let mut child = KillOnDrop(command.spawn().unwrap());
    let mut lines = BufReader::new(child.0.stderr.take().unwrap()).lines();
    let logs = Logs::default();
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr = loop {
        assert!(Instant::now() < deadline, "the service did not start");
        let line = lines.next().expect("the service exited early").unwrap();
        let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        logs.lock().unwrap().push(line);
        if event["message"] == "listening" {
            break event["addr"].as_str().unwrap().to_owned();
        }
    };
    // Keep draining stderr so the service never blocks on a full pipe.
    let kept = logs.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            kept.lock().unwrap().push(line);
        }
    });
    (child, addr, logs)
}

pub fn stop(mut service: KillOnDrop) {
    let killed = Command::new("kill")
        .args(["-TERM", &service.0.id().to_string()])
        .status()
        .unwrap();
    let status = service.0.wait().unwrap();
    assert!(killed.success());
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

/// Kills the service if the test fails before it is stopped.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub mod http {
    //! One-off requests from synchronous tests.

    pub fn run<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Runtime::new().unwrap().block_on(future)
    }

    pub fn get(url: &str) -> serde_json::Value {
        run(async { reqwest::get(url).await.unwrap().json().await.unwrap() })
    }

    pub fn get_with(url: &str, token: &str) -> serde_json::Value {
        run(async {
            let client = reqwest::Client::new();
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        })
    }

    pub fn patch(url: &str, token: &str, body: serde_json::Value) -> serde_json::Value {
        run(async {
            let request = reqwest::Client::new()
                .patch(url)
                .bearer_auth(token)
                .json(&body);
            request.send().await.unwrap().json().await.unwrap()
        })
    }

    pub fn post(url: &str, token: Option<&str>, body: serde_json::Value) -> serde_json::Value {
        run(async {
            let mut request = reqwest::Client::new().post(url).json(&body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request.send().await.unwrap().json().await.unwrap()
        })
    }
}
