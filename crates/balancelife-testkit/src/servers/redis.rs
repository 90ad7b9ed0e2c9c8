//! `redis-server` processes of our own, on free ports (never the machine's shared
//! Redis).

use std::process::{Child, Command, Stdio};
use std::sync::LazyLock;
use std::time::Duration;

use balancelife::config::RedisSettings;

use super::{ServerError, free_port, spawn_tied, wait_for_port, which};

const INSTALL_HINT: &str =
    "redis-server is not installed; install it (Debian: apt-get install redis-server)";

pub struct RedisServer {
    pub port: u16,
    password: Option<String>,
    /// Server certificate, key and CA: TLS only, on `port`.
    tls: Option<(super::mongo::TlsFiles, std::path::PathBuf)>,
    child: Option<Child>,
}

impl RedisServer {
    /// Panics with install instructions when `redis-server` is missing.
    pub fn start() -> Self {
        Self::launched(free_port(), None)
    }

    /// A server, or why it could not be started.
    pub fn try_start() -> Result<Self, ServerError> {
        let mut server = Self {
            port: free_port(),
            password: None,
            tls: None,
            child: None,
        };
        server.try_launch()?;
        Ok(server)
    }

    pub fn start_with_password(password: &str) -> Self {
        Self::launched(free_port(), Some(password.to_owned()))
    }

    /// TLS only (`rediss://`), with the given server certificate and CA.
    pub fn start_tls(files: super::mongo::TlsFiles, ca: std::path::PathBuf) -> Self {
        let mut server = Self {
            port: free_port(),
            password: None,
            tls: Some((files, ca)),
            child: None,
        };
        server.launch();
        server
    }

    /// On a given port, e.g. one a service already tries to reach.
    pub fn start_on(port: u16) -> Self {
        Self::launched(port, None)
    }

    fn launched(port: u16, password: Option<String>) -> Self {
        let mut server = Self {
            port,
            password,
            tls: None,
            child: None,
        };
        server.launch();
        server
    }

    fn launch(&mut self) {
        self.try_launch().unwrap_or_else(|error| panic!("{error}"));
    }

    fn try_launch(&mut self) -> Result<(), ServerError> {
        if which("redis-server").is_none() {
            return Err(ServerError::NotInstalled(INSTALL_HINT.to_owned()));
        }
        let mut command = Command::new("redis-server");
        let port = self.port.to_string();
        match &self.tls {
            None => command.args(["--port", &port]),
            Some((files, ca)) => command
                .args([
                    "--port",
                    "0",
                    "--tls-port",
                    &port,
                    "--tls-auth-clients",
                    "no",
                ])
                .arg("--tls-cert-file")
                .arg(&files.cert)
                .arg("--tls-key-file")
                .arg(&files.key)
                .arg("--tls-ca-cert-file")
                .arg(ca),
        };
        command
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(password) = &self.password {
            command.args(["--requirepass", password]);
        }
        let mut child = spawn_tied(command, "redis-server")?;
        wait_for_port(self.port, "redis-server", &mut child)?;
        self.child = Some(child);
        Ok(())
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Settings for a cache on this server, in a key namespace of its own.
    pub fn settings(&self) -> RedisSettings {
        RedisSettings {
            namespace: format!("t{}", uuid::Uuid::now_v7().simple()),
            timeout: Duration::from_millis(200),
            ..RedisSettings::new(self.addr())
        }
    }

    /// Kills the server at once, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (empty: it keeps nothing on disk).
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    pub fn child(&self) -> &Child {
        self.child.as_ref().expect("the server is running")
    }

    /// Fills the server with keys that never expire, then lowers `maxmemory` below
    /// what it holds, under the `noeviction` policy the cache requires: from then on
    /// it refuses every command that could grow its memory, as a full production
    /// Redis does. Returns once a plain `SET` is refused so.
    pub fn fill_up(&self) {
        let url = match &self.password {
            Some(password) => format!("redis://:{password}@{}/", self.addr()),
            None => format!("redis://{}/", self.addr()),
        };
        let mut connection = redis::Client::open(url)
            .and_then(|client| client.get_connection())
            .expect("a connection to the test Redis");
        let mut filler = redis::pipe();
        for n in 0..2_000 {
            filler.set(format!("filler:{n}"), "x".repeat(512)).ignore();
        }
        filler
            .query::<()>(&mut connection)
            .expect("filling the test Redis");
        let info: String = redis::cmd("INFO")
            .arg("memory")
            .query(&mut connection)
            .expect("INFO memory");
        let used: u64 = info
            .lines()
            .find_map(|line| line.strip_prefix("used_memory:"))
            .and_then(|value| value.trim().parse().ok())
            .expect("used_memory in INFO");
        // Well below what it holds, so what an invalidation adds cannot bring it back.
        for (setting, value) in [
            ("maxmemory-policy", "noeviction".to_owned()),
            ("maxmemory", (used / 2).to_string()),
        ] {
            redis::cmd("CONFIG")
                .arg("SET")
                .arg(setting)
                .arg(value)
                .query::<()>(&mut connection)
                .expect("CONFIG SET");
        }
        let refused = redis::cmd("SET")
            .arg("filler:probe")
            .arg("x")
            .query::<()>(&mut connection)
            .expect_err("a full Redis refuses a SET");
        assert_eq!(refused.code(), Some("OOM"), "{refused}");
    }

    /// Freezes the process (SIGSTOP): connections stay open and nothing answers.
    /// Returns once it is really stopped.
    pub fn freeze(&self) {
        super::signal(self.child(), libc::SIGSTOP);
    }

    /// Thaws a frozen process (SIGCONT); it then runs what queued on its sockets.
    pub fn thaw(&self) {
        super::signal(self.child(), libc::SIGCONT);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One server for every test that needs no faults; each test uses its own namespace.
pub static SHARED: LazyLock<RedisServer> = LazyLock::new(RedisServer::start);
