//! The HTTP part: the real binary as a child process (so its memory can be read on
//! its own), loaded by 32 concurrent connections: from `wrk` when it is installed,
//! else from in-process clients (which cost the machine more per request than the
//! service does, so they understate the service's rate; the report says which).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use secrecy::ExposeSecret;

use crate::bench::Fixture;
use crate::bench::Servers;
use crate::measure::{alternating, histogram, one_at_a_time, op};
use crate::report::Row;

pub struct HttpResults {
    pub rows: Vec<Row>,
    pub peak_rss_mib: f64,
    pub load_generator: &'static str,
}

/// The floor: a bare axum server answering the package row's bytes.
pub const FLOOR: &str = "GET / (bare axum, the package's bytes)";
pub const LIVEZ: &str = "GET /livez";
pub const NOT_FOUND: &str = "GET /api/v1/nothing-here (404)";
pub const PACKAGE: &str = "GET /api/v1/meal-packages/{id}";
pub const PACKAGE_SIGNED_IN: &str = "GET /api/v1/meal-packages/{id} (signed in)";
pub const CATALOGUE_PAGE: &str = "GET /api/v1/meal-packages?limit=20";
pub const ONE_DAY: &str = "GET /api/v1/meal-entries?from=&to= (one day)";
/// The package read on the embedded default a newcomer runs: the memory store.
pub const MEMORY_PACKAGE: &str = "GET /api/v1/meal-packages/{id} (memory)";

struct Service(Child);

/// One row's requests: where they go, as whom, and which process serves them.
struct Endpoint {
    name: &'static str,
    url: String,
    /// The bearer token sent, if any.
    token: Option<String>,
    server: u32,
    expect: crate::wrk::Expect,
}

impl Endpoint {
    fn new(name: &'static str, url: String, server: &Service, token: Option<&str>) -> Self {
        Self {
            name,
            url,
            token: token.map(str::to_owned),
            server: server.0.id(),
            expect: expected_answer(name),
        }
    }
}

/// What every answer of row `name` must be.
fn expected_answer(name: &str) -> crate::wrk::Expect {
    if name == NOT_FOUND {
        crate::wrk::Expect::NotFound
    } else {
        crate::wrk::Expect::Success
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn run(
    servers: &Servers,
    fixture: &Fixture,
    requests: usize,
) -> anyhow::Result<HttpResults> {
    let (service, base) = start_service(servers)?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let token = login(&client, &base, fixture).await?;
    let package = format!("{base}/api/v1/meal-packages/{}", fixture.package_id);
    // The public catalogue is read as an app reads it before sign-in (and a CDN
    // would): without credentials. The signed-in read is a row of its own: with a
    // token the service checks it and loads the user, who may be an administrator
    // allowed to see drafts.
    let endpoints = [
        (LIVEZ, format!("{base}/livez"), None),
        (NOT_FOUND, format!("{base}/api/v1/nothing-here"), None),
        (PACKAGE, package.clone(), None),
        (PACKAGE_SIGNED_IN, package, Some(token.as_str())),
        (
            CATALOGUE_PAGE,
            format!("{base}/api/v1/meal-packages?limit=20"),
            None,
        ),
        (
            ONE_DAY,
            format!("{base}/api/v1/meal-entries?from={0}&to={0}", fixture.day),
            Some(token.as_str()),
        ),
    ];
    for (name, url, token) in &endpoints {
        warm_up(&client, name, url, *token).await?;
    }
    // The floor serves the very bytes the package row answers with.
    let (_, package_url, _) = endpoints
        .iter()
        .find(|(name, _, _)| *name == PACKAGE)
        .context("the package row")?;
    let package = client
        .get(package_url)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let (floor, floor_url) = start_floor(&package)?;
    // The same sample catalogue, so the same package id, on the memory store.
    let (memory, memory_base) = start_memory_service()?;
    let memory_package = format!("{memory_base}/api/v1/meal-packages/{}", fixture.package_id);
    warm_up(&client, MEMORY_PACKAGE, &memory_package, None).await?;
    let service_pid = service.0.id();
    // The memory-store service has accounts of its own: its row reads the public
    // catalogue, without a token.
    let endpoints: Vec<Endpoint> = std::iter::once(Endpoint::new(FLOOR, floor_url, &floor, None))
        .chain(
            endpoints
                .into_iter()
                .map(|(name, url, token)| Endpoint::new(name, url, &service, token)),
        )
        .chain(std::iter::once(Endpoint::new(
            MEMORY_PACKAGE,
            memory_package,
            &memory,
            None,
        )))
        .collect();
    let (mut rows, load_generator) = if crate::wrk::available() {
        let mut rows = with_wrk(&endpoints, requests)?;
        let round = Duration::from_secs(if requests >= 10_000 { 40 } else { 8 });
        rows.extend(crate::mixed::run(&client, &base, service_pid, round).await?);
        (rows, "wrk -t1 -c32 (the mixed workload: -c16)")
    } else {
        println!("(no mixed-workload figures: they need wrk)");
        (
            with_clients(&client, &endpoints, requests).await,
            "32 in-process reqwest clients (install wrk for a lighter load generator)",
        )
    };
    // Read before the log-ins below: each Argon2 verification takes 19 MiB.
    let peak_rss_mib = peak_rss_mib(service.0.id())?;
    rows.extend(failed_logins(&client, &base, fixture, requests).await?);
    Ok(HttpResults {
        rows,
        peak_rss_mib,
        load_generator,
    })
}

/// Rounds of one `wrk` run per endpoint in turn (so drift weighs on all alike); the
/// row of each endpoint is its median round by rate.
fn with_wrk(endpoints: &[Endpoint], requests: usize) -> anyhow::Result<Vec<Row>> {
    let (rounds, seconds) = if requests >= 10_000 { (5, 3) } else { (3, 1) };
    let mut runs: Vec<Vec<crate::measure::Stats>> = vec![Vec::new(); endpoints.len()];
    for _ in 0..rounds {
        for (endpoint, runs) in endpoints.iter().zip(&mut runs) {
            runs.push(crate::wrk::run(&crate::wrk::Load {
                url: &endpoint.url,
                token: endpoint.token.as_deref(),
                connections: 32,
                duration: Duration::from_secs(seconds),
                script: None,
                server: endpoint.server,
                expect: endpoint.expect,
            })?);
        }
    }
    Ok(endpoints
        .iter()
        .zip(runs)
        .map(|(endpoint, mut runs)| {
            runs.sort_by(|a, b| a.ops_per_sec.total_cmp(&b.ops_per_sec));
            Row {
                group: "http",
                tier: "service".into(),
                operation: endpoint.name,
                clients: 32,
                stats: runs[runs.len() / 2],
            }
        })
        .collect())
}

/// The endpoints in turn from 32 in-process clients.
async fn with_clients(
    client: &reqwest::Client,
    endpoints: &[Endpoint],
    requests: usize,
) -> Vec<Row> {
    let mut ops = Vec::new();
    for endpoint in endpoints {
        let (client, token, url) = (client.clone(), endpoint.token.clone(), endpoint.url.clone());
        let expect = endpoint.expect;
        ops.push(op(move |_| {
            let request = get_as(&client, &url, token.as_deref()).send();
            async move {
                let response = request.await.expect("the service answers");
                let status = response.status();
                assert!(expect.accepts(status.as_u16()), "answered {status}");
                response.bytes().await.expect("a body");
            }
        }));
    }
    // The endpoints take turns, so the ratios of their rates are fair.
    let results = alternating(32, requests, 5, &ops).await;
    endpoints
        .iter()
        .zip(results)
        .map(|(endpoint, stats)| Row {
            group: "http",
            tier: "service".into(),
            operation: endpoint.name,
            clients: 32,
            stats,
        })
        .collect()
}

/// Failed log-ins, one at a time, with a wrong password for an existing account and
/// for an e-mail address nobody has: the two must take the same time, or timing
/// tells which addresses have accounts. The two alternate, so warm-up and drift
/// weigh on both alike.
async fn failed_logins(
    client: &reqwest::Client,
    base: &str,
    fixture: &Fixture,
    requests: usize,
) -> anyhow::Result<Vec<Row>> {
    let attempts = (requests / 1_000).clamp(10, 40);
    let url = format!("{base}/api/v1/auth/login");
    let cases = [
        (FAILED_LOGIN_KNOWN, fixture.demo_email),
        (FAILED_LOGIN_UNKNOWN, "nobody.here@example.com"),
    ];
    let mut latencies = [histogram(), histogram()];
    for _ in 0..attempts {
        for ((_, email), recorded) in cases.iter().zip(&mut latencies) {
            let body = serde_json::json!({"email": email, "password": "not the password"});
            let began = Instant::now();
            let response = client.post(&url).json(&body).send().await?;
            let nanos = u64::try_from(began.elapsed().as_nanos()).unwrap_or(u64::MAX);
            anyhow::ensure!(
                response.status() == reqwest::StatusCode::UNAUTHORIZED,
                "a failed log-in answered {}",
                response.status()
            );
            recorded.saturating_record(nanos.max(1));
        }
    }
    Ok(cases
        .iter()
        .zip(&latencies)
        .map(|((operation, _), recorded)| Row {
            group: "http",
            tier: "service".into(),
            operation,
            clients: 1,
            stats: one_at_a_time(recorded),
        })
        .collect())
}

pub const FAILED_LOGIN_KNOWN: &str = "POST /api/v1/auth/login (wrong password)";
pub const FAILED_LOGIN_UNKNOWN: &str = "POST /api/v1/auth/login (unknown e-mail)";

/// The service (this binary with `--serve`) on a free port against the benchmark's
/// MongoDB and Redis.
fn start_service(servers: &Servers) -> anyhow::Result<(Service, String)> {
    let mut command = serve_command()?;
    command
        .env("MONGODB_URI", servers.mongodb.uri.expose_secret())
        .env("MONGODB_DATABASE", &servers.mongodb.database)
        .env("REDIS_ADDR", servers.redis.addr.expose_secret())
        .env("REDIS_NAMESPACE", &servers.redis.namespace)
        .env(
            "REDIS_TIMEOUT_MS",
            servers.redis.timeout.as_millis().to_string(),
        )
        .env("INIT_SAMPLE_DATA", "false")
        // The failed log-ins are timed, not limited.
        .env("AUTH_ATTEMPTS_PER_MINUTE", "10000");
    if let Some(password) = &servers.redis.password {
        command.env("REDIS_PASSWORD", password.expose_secret());
    }
    spawn_listening(command, "the service", "service")
}

/// The service on the embedded default (no MongoDB, no Redis: the memory store with
/// the sample data), on a free port.
fn start_memory_service() -> anyhow::Result<(Service, String)> {
    let mut command = serve_command()?;
    command
        .env_remove("MONGODB_URI")
        .env_remove("REDIS_ADDR")
        .env_remove("BALANCELIFE_CONFIG")
        .env("INIT_SAMPLE_DATA", "true");
    spawn_listening(command, "the memory-store service", "memory-service")
}

/// This binary as the service (`--serve`) on a free port, logging JSON (which
/// `listening_addr` reads) with a token secret of its own.
fn serve_command() -> anyhow::Result<Command> {
    let mut command = Command::new(std::env::current_exe()?);
    command
        .arg("--serve")
        .env("HTTP_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .env("LOG_LEVEL", "info")
        .env(
            "AUTH_TOKEN_SECRET",
            balancelife::auth::TokenKeys::random_secret().expose_secret(),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    Ok(command)
}

/// Starts `command` and waits until it says where it listens; its log goes on to
/// `target/bench/<log>.log`.
fn spawn_listening(
    mut command: Command,
    what: &str,
    log: &str,
) -> anyhow::Result<(Service, String)> {
    let mut service = Service(
        command
            .spawn()
            .with_context(|| format!("starting {what}"))?,
    );
    let addr = listening_addr(&mut service.0, log)?;
    Ok((service, format!("http://{addr}")))
}

/// The floor (this binary with `--floor`) on a free port, serving `body`.
fn start_floor(body: &[u8]) -> anyhow::Result<(Service, String)> {
    let file = std::env::temp_dir().join(format!(
        "balancelife-bench-floor-{}.json",
        std::process::id()
    ));
    std::fs::write(&file, body)?;
    let mut floor = Service(
        Command::new(std::env::current_exe()?)
            .arg("--floor")
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting the floor server")?,
    );
    let addr = listening_addr(&mut floor.0, "floor")?;
    // Read before it listens: the file has served its turn.
    let _ = std::fs::remove_file(&file);
    Ok((floor, format!("http://{addr}/")))
}

/// Where the children's logs are kept, beside the report.
const LOG_DIR: &str = "target/bench";

/// The address `child` says it listens on (a JSON log line with the message
/// `listening`). Its later output is read on and written to `target/bench/<log>.log`
/// (for a run that went wrong), so it never blocks on a full pipe.
fn listening_addr(child: &mut Child, log: &str) -> anyhow::Result<String> {
    let stderr = child.stderr.take().context("the child's stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the server did not start within 60 s"
        );
        let line = lines
            .next()
            .context("the server exited during start-up")??;
        let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if event["message"] == "listening" {
            break event["addr"]
                .as_str()
                .context("a listening address")?
                .to_owned();
        }
    };
    let path = std::path::Path::new(LOG_DIR).join(format!("{log}.log"));
    std::fs::create_dir_all(LOG_DIR)?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            // A log that cannot be written is no reason to stop reading the pipe.
            let _ = writeln!(file, "{line}").and_then(|()| file.flush());
        }
    });
    Ok(addr)
}

/// A `GET` of `url`, with `token` as its bearer token if there is one.
fn get_as(client: &reqwest::Client, url: &str, token: Option<&str>) -> reqwest::RequestBuilder {
    let request = client.get(url);
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

/// Reads row `name`'s `url` a few times as the row will, checking each answer: the
/// cache tiers fill, and the in-process one serves once its channel is confirmed, a
/// few heartbeats after start.
async fn warm_up(
    client: &reqwest::Client,
    name: &str,
    url: &str,
    token: Option<&str>,
) -> anyhow::Result<()> {
    for _ in 0..5 {
        let status = get_as(client, url, token).send().await?.status();
        anyhow::ensure!(
            expected_answer(name).accepts(status.as_u16()),
            "{name} answered {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

async fn login(client: &reqwest::Client, base: &str, fixture: &Fixture) -> anyhow::Result<String> {
    let body = serde_json::json!({"email": fixture.demo_email, "password": fixture.demo_password});
    session_token(client, &format!("{base}/api/v1/auth/login"), &body).await
}

/// The token of the session that posting `body` to `url` (log-in, registration)
/// opens.
pub async fn session_token(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> anyhow::Result<String> {
    let session: serde_json::Value = client
        .post(url)
        .json(body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(session["token"].as_str().context("a token")?.to_owned())
}

/// The process's peak resident set (VmHWM), in MiB.
fn peak_rss_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .context("VmHWM in /proc/<pid>/status")?
        .parse()?;
    Ok(kib / 1024.0)
}
