//! SecantusDB, a MongoDB wire-protocol server, as a throwaway MongoDB.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::LazyLock;
use std::time::Duration;

use balancelife::config::MongoSettings;

use super::{ServerError, data_root, free_port, spawn_tied, wait_for_port, which};

/// The SecantusDB release the tests are known to work with (`scripts/test` installs
/// the same; a test holds the two equal).
pub const SECANTUSDB_VERSION: &str = "0.7.0b3";

fn install_command() -> String {
    format!("python3 -m venv .venv && .venv/bin/pip install secantusdb=={SECANTUSDB_VERSION}")
}

/// The `secantusd-py` to run: `$SECANTUSD`, else the one `scripts/test` installs in
/// `.venv`, else one on `PATH`.
fn secantusd() -> Result<PathBuf, ServerError> {
    if let Some(path) = std::env::var_os("SECANTUSD") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(ServerError::NotInstalled(format!(
                "SECANTUSD does not name a file. Point it at secantusd-py, or unset it and run \
                 scripts/test, which installs SecantusDB into .venv: {}",
                install_command()
            )))
        };
    }
    // Where `scripts/test` installs it: the working directory's or the workspace's.
    let venvs = [
        PathBuf::from(".venv/bin/secantusd-py"),
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../.venv/bin/secantusd-py"
        )),
    ];
    if let Some(in_venv) = venvs.into_iter().find(|path| path.is_file()) {
        // Absolute: the server runs in its data directory.
        return Ok(in_venv.canonicalize().unwrap_or(in_venv));
    }
    which("secantusd-py").ok_or_else(|| {
        ServerError::NotInstalled(format!(
            "SecantusDB is not installed. Run scripts/test, which installs it into .venv, or \
             install it yourself: {} (or set SECANTUSD to the path of secantusd-py)",
            install_command()
        ))
    })
}

/// TLS files for a server started with TLS.
#[derive(Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// One SecantusDB process with its own port and data directory.
pub struct MongoServer {
    pub port: u16,
    data_dir: tempfile::TempDir,
    tls: Option<TlsFiles>,
    /// Advertise a single-node replica set (transactions) instead of a standalone.
    replica_set: bool,
    /// Require signing in (`--auth`).
    auth: bool,
    /// The one user the service signs in as, when signing in is required.
    app_user: Option<AppUser>,
    child: Option<Child>,
}

/// A user of one database, with a password.
#[derive(Clone)]
struct AppUser {
    database: String,
    name: String,
    password: String,
}

/// What a least-privilege user of the service's database may do: read, write,
/// index and watch it; not change its collections' options (`collMod`), as
/// MongoDB's own `readWrite` role cannot either.
const LEAST_PRIVILEGES: [&str; 12] = [
    "find",
    "insert",
    "update",
    "remove",
    "changeStream",
    "listCollections",
    "listIndexes",
    "createIndex",
    "createCollection",
    "killCursors",
    "collStats",
    "dbStats",
];

impl MongoServer {
    /// A standalone server; panics with install instructions when SecantusDB is
    /// missing (tests fail rather than skip).
    pub fn start() -> Self {
        Self::try_start().unwrap_or_else(|error| panic!("{error}"))
    }

    /// A standalone server, or why it could not be started.
    pub fn try_start() -> Result<Self, ServerError> {
        Self::launched(None, false)
    }

    /// `start_replica_set`, with the error instead of a panic.
    pub fn try_start_replica_set() -> Result<Self, ServerError> {
        Self::launched(None, true)
    }

    pub fn start_with_tls(tls: Option<TlsFiles>) -> Self {
        Self::launched(tls, false).unwrap_or_else(|error| panic!("{error}"))
    }

    /// A single-node replica set, where multi-document transactions and change
    /// streams (with resume tokens) work.
    pub fn start_replica_set() -> Self {
        Self::launched(None, true).unwrap_or_else(|error| panic!("{error}"))
    }

    /// A single-node replica set that requires signing in, with one user who has
    /// only `LEAST_PRIVILEGES` on `database`: the settings of `app_settings` sign in
    /// as that user.
    pub fn start_least_privilege(database: &str) -> Self {
        let mut server = Self::start_replica_set();
        let user = AppUser {
            database: database.to_owned(),
            name: "balancelife".to_owned(),
            password: format!("pw-{}", uuid::Uuid::now_v7().simple()),
        };
        create_least_privileged(&server.uri(), &user)
            .unwrap_or_else(|error| panic!("creating the least-privilege user: {error}"));
        server.app_user = Some(user);
        server.auth = true;
        server.restart();
        server
    }

    /// Settings for the service signing in as the user `start_least_privilege`
    /// made, in its database.
    pub fn app_settings(&self) -> MongoSettings {
        let user = self.app_user.as_ref().expect("a server with an app user");
        let uri = format!(
            "mongodb://{}:{}@127.0.0.1:{}/?directConnection=true&authSource={}",
            user.name, user.password, self.port, user.database
        );
        MongoSettings {
            database: user.database.clone(),
            timeout: Duration::from_secs(3),
            ..MongoSettings::new(uri)
        }
    }

    fn launched(tls: Option<TlsFiles>, replica_set: bool) -> Result<Self, ServerError> {
        let mut server = Self {
            port: free_port(),
            data_dir: tempfile::tempdir_in(data_root()).map_err(ServerError::DataDirectory)?,
            tls,
            replica_set,
            auth: false,
            app_user: None,
            child: None,
        };
        server.launch()?;
        Ok(server)
    }

    fn launch(&mut self) -> Result<(), ServerError> {
        let mut command = Command::new(secantusd()?);
        command
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .arg("--storage-path")
            .arg(self.data_dir.path())
            .args(["--log-level", "WARNING"])
            .current_dir(self.data_dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if !self.replica_set {
            command.arg("--standalone");
        }
        if self.auth {
            command.arg("--auth");
        }
        if let Some(tls) = &self.tls {
            command
                .arg("--tls-cert-file")
                .arg(&tls.cert)
                .arg("--tls-key-file")
                .arg(&tls.key);
        }
        let mut child = spawn_tied(command, "SecantusDB")?;
        wait_for_port(self.port, "SecantusDB", &mut child)?;
        self.child = Some(child);
        Ok(())
    }

    pub fn uri(&self) -> String {
        // Direct: the one member may advertise a host name other than ours.
        format!("mongodb://127.0.0.1:{}/?directConnection=true", self.port)
    }

    /// Settings for the service against this server, in database `database`.
    pub fn settings(&self, database: &str) -> MongoSettings {
        MongoSettings {
            database: database.to_owned(),
            timeout: Duration::from_secs(3),
            ..MongoSettings::new(self.uri())
        }
    }

    /// Stops the server the way an operator would (SIGTERM), waiting for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            super::signal(&child, libc::SIGTERM);
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and data directory.
    pub fn restart(&mut self) {
        self.stop();
        self.launch().unwrap_or_else(|error| panic!("{error}"));
    }

    pub fn child(&self) -> &Child {
        self.child.as_ref().expect("the server is running")
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

impl Drop for MongoServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One server for every test that needs no faults; each test uses its own database.
pub static SHARED: LazyLock<MongoServer> = LazyLock::new(MongoServer::start);

/// One single-node replica set (change streams, transactions) for every test that
/// needs one and no faults; each test uses a database of its own.
pub static SHARED_REPLICA_SET: LazyLock<MongoServer> =
    LazyLock::new(MongoServer::start_replica_set);

/// Names a MongoDB of your own (a real `mongod`, a replica set, Atlas) for the suites
/// that need no faults; unset, they share the SecantusDB started for the process.
pub const EXTERNAL_URI_VARIABLE: &str = "BALANCELIFE_TEST_MONGODB_URI";

/// A database of its own for one test, on the MongoDB the suites share: the server
/// `BALANCELIFE_TEST_MONGODB_URI` names, else `SHARED`. On a server of your own it is
/// dropped when this is, so runs leave nothing behind (a throwaway SecantusDB needs no
/// tidying).
pub struct TestDatabase {
    pub settings: MongoSettings,
    external: bool,
}

impl TestDatabase {
    pub fn new() -> Self {
        let database = fresh_database();
        match std::env::var(EXTERNAL_URI_VARIABLE) {
            Ok(uri) if !uri.is_empty() => Self {
                settings: MongoSettings {
                    database,
                    timeout: Duration::from_secs(10),
                    ..MongoSettings::new(uri)
                },
                external: true,
            },
            _ => Self {
                settings: SHARED.settings(&database),
                external: false,
            },
        }
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.external {
            drop_database(&self.settings);
        }
    }
}

/// Creates `user` on the server at `uri` (which must not require signing in yet),
/// with a role of `LEAST_PRIVILEGES` on the user's database. From a thread of its
/// own, as the callers' runtimes cannot be blocked on.
fn create_least_privileged(
    uri: &str,
    user: &AppUser,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (uri, user) = (uri.to_owned(), user.clone());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let client = mongodb::Client::with_uri_str(&uri).await?;
            let database = client.database(&user.database);
            let privileges = bson::doc! {
                "resource": { "db": &user.database, "collection": "" },
                "actions": LEAST_PRIVILEGES.to_vec(),
            };
            database
                .run_command(bson::doc! {
                    "createRole": "least-privilege",
                    "privileges": [privileges],
                    "roles": [],
                })
                .await?;
            database
                .run_command(bson::doc! {
                    "createUser": &user.name,
                    "pwd": &user.password,
                    "roles": ["least-privilege"],
                })
                .await?;
            Ok(())
        })
    })
    .join()
    .map_err(|_| "the thread creating the user panicked")?
}

/// Drops the database from a thread of its own: `Drop` runs inside the test's runtime,
/// which cannot be blocked on, and the test's client may already be gone with it.
fn drop_database(settings: &MongoSettings) {
    use secrecy::ExposeSecret;
    let (uri, name) = (
        settings.uri.expose_secret().to_owned(),
        settings.database.clone(),
    );
    let dropped = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let client = mongodb::Client::with_uri_str(&uri).await?;
            client.database(&name).drop().await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
    })
    .join();
    if !matches!(dropped, Ok(Ok(()))) {
        eprintln!("could not drop test database {}", settings.database);
    }
}

/// A database name no other test uses.
pub fn fresh_database() -> String {
    format!("t_{}", uuid::Uuid::now_v7().simple())
}
