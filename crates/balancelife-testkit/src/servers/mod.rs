//! Throwaway MongoDB-wire (SecantusDB) and Redis servers (single or a Redis Cluster)
//! on free ports, for the test suite and `balancelife-bench --spawn`.
//!
//! Children are spawned from one long-lived thread with `PR_SET_PDEATHSIG`, so even a
//! panicking or killed process leaves no server behind (the signal follows the
//! spawning *thread*, hence the dedicated one).

pub mod cluster;
pub mod mongo;
pub mod redis;

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

static SPAWNER: LazyLock<Mutex<mpsc::Sender<SpawnRequest>>> = LazyLock::new(|| {
    let (requests, incoming) = mpsc::channel::<SpawnRequest>();
    std::thread::spawn(move || {
        for (mut command, reply) in incoming {
            let _ = reply.send(command.spawn());
        }
        // Never reached while the process lives: the sender is in a static.
    });
    Mutex::new(requests)
});

/// Why a server could not be started, in one line that says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}")]
    NotInstalled(String),
    #[error(
        "no data directory for a test server in {root} ({error}); set \
         BALANCELIFE_SERVER_DATA to a writable directory",
        root = data_root().display(),
        error = .0
    )]
    DataDirectory(#[source] std::io::Error),
    #[error("{what} could not be started: {source}")]
    Spawn {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("{what} exited with {status} before it listened on port {port}")]
    Exited {
        what: &'static str,
        status: std::process::ExitStatus,
        port: u16,
    },
    #[error("{what} did not listen on port {port} within 60 s")]
    NotListening { what: &'static str, port: u16 },
    /// Running, but not yet (or never) in the state its users rely on.
    #[error("{what} did not become ready: {why}")]
    NotReady { what: &'static str, why: String },
}

/// Spawns `command` so that it dies with this process.
pub fn spawn_tied(mut command: Command, what: &'static str) -> Result<Child, ServerError> {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches only the child being created.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (reply, answer) = mpsc::channel();
    SPAWNER.lock().unwrap().send((command, reply)).unwrap();
    answer
        .recv()
        .unwrap()
        .map_err(|source| ServerError::Spawn { what, source })
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, what: &'static str, child: &mut Child) -> Result<(), ServerError> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(ServerError::Exited { what, status, port });
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(ServerError::NotListening { what, port });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Sends `signal` to the process (SIGSTOP, SIGCONT, SIGTERM). SIGSTOP returns only
/// once the process is really stopped: delivery is asynchronous, and a test that
/// talks to a "frozen" server a moment too early would still get an answer.
pub fn signal(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) with a pid we own and a valid signal number.
    assert_eq!(
        unsafe { libc::kill(pid, signal) },
        0,
        "kill({pid}, {signal})"
    );
    if signal == libc::SIGSTOP {
        let deadline = Instant::now() + Duration::from_secs(5);
        while process_state(child.id()) != Some('T') {
            assert!(Instant::now() < deadline, "process {pid} did not stop");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// The state letter of /proc/<pid>/stat (`R`, `S`, `T` for stopped, …).
fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces; the state follows.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Where `program` is on `PATH`, if it is.
pub(crate) fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

/// Where servers keep their data: `BALANCELIFE_SERVER_DATA`, else the system's
/// temporary directory.
pub fn data_root() -> PathBuf {
    std::env::var_os("BALANCELIFE_SERVER_DATA").map_or_else(std::env::temp_dir, PathBuf::from)
}
