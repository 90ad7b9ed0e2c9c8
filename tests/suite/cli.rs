//! The `balancelife` binary as an operator meets it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn balancelife() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_balancelife"));
    // Only what each test sets may reach the child.
    for name in balancelife::config::ENV_VARS
        .iter()
        .chain(&["BALANCELIFE_CONFIG"])
    {
        command.env_remove(name);
    }
    command
}

#[test]
fn config_prints_the_settings_with_secrets_masked_and_the_store_choice() {
    let output = balancelife()
        .arg("config")
        .env("AUTH_TOKEN_SECRET", "cli-secret-cli-secret-cli-secret-cli")
        .env("REDIS_PASSWORD", "redis-pass-123")
        .output()
        .unwrap();

    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("HTTP_ADDR"));
    assert!(stdout.contains("Store: memory"));
    assert!(stdout.contains("MONGODB_URI is not set"));
    assert!(!stdout.contains("cli-secret"), "{stdout}");
    assert!(!stdout.contains("redis-pass-123"), "{stdout}");
}

#[test]
fn a_malformed_setting_stops_start_up_naming_it() {
    let output = balancelife()
        .arg("serve")
        .env("HTTP_ADDR", "nowhere")
        .output()
        .unwrap();

    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("HTTP_ADDR"), "{stderr}");
}

#[test]
fn serve_answers_and_stops_gracefully_on_sigterm() {
    let mut child = KillOnDrop(
        balancelife()
            .env("HTTP_ADDR", "127.0.0.1:0")
            .env("LOG_FORMAT", "json")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stderr.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr = loop {
        assert!(Instant::now() < deadline, "the service did not start");
        let line = lines.next().expect("the service exited early").unwrap();
        let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if event["message"] == "listening" {
            break event["addr"].as_str().unwrap().to_owned();
        }
    };

    let health: serde_json::Value = reqwest::blocking_get(&format!("http://{addr}/health"));
    let killed = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    let status = child.0.wait().unwrap();

    assert_eq!(health["store"], "memory");
    assert!(killed.success());
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

/// Kills the service if the test fails before it is stopped.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

mod reqwest {
    /// A one-off GET from a synchronous test.
    pub fn blocking_get(url: &str) -> serde_json::Value {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async { ::reqwest::get(url).await.unwrap().json().await.unwrap() })
    }
}
