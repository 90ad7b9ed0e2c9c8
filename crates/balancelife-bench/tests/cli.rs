//! The benchmark binary as a newcomer meets it.

use std::process::Command;

/// `--spawn` on a machine without SecantusDB: one line that says how to install it,
/// and a failing exit code, not a panic with a backtrace.
#[test]
fn spawning_without_secantusdb_says_how_to_install_it_in_one_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_balancelife-bench"))
        .args(["--spawn", "--quick"])
        .env("SECANTUSD", "/nonexistent/secantusd-py")
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the benchmark runs");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    let install = format!(
        "pip install secantusdb=={}",
        balancelife_testkit::servers::mongo::SECANTUSDB_VERSION
    );
    assert!(stderr.contains(&install), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
