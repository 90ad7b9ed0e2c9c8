//! Clients generated from the running binary's `/openapi.json`, as app teams make
//! them: `openapi-python-client` (pinned 0.29.1, in `.venv`) and `openapi-typescript`
//! (pinned in `clients/typescript`), both installed by `scripts/test`. Each must
//! generate without a warning; the TypeScript program in `clients/typescript` must
//! type-check against the types, and the Python client must carry a new user through
//! sign-up, a meal, a workout from a package and the summary (`clients/python`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::binary::{serve, stop};

const PYTHON_CLIENT_VERSION: &str = "0.29.1";

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A tool `scripts/test` installs, or a failure that says how to get it.
fn installed(path: PathBuf, how: &str) -> PathBuf {
    assert!(
        path.is_file(),
        "{} is not installed: run scripts/test, which installs it, or {how}",
        path.display()
    );
    path
}

fn run(command: &mut Command) -> Output {
    let output = command.output().expect("the tool runs");
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// What a generator printed, for the "no warning" check.
fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The document of the binary serving on the memory store, saved under `dir`.
fn save_document(addr: &str, dir: &Path) -> PathBuf {
    let document = crate::support::binary::http::get(&format!("http://{addr}/openapi.json"));
    let path = dir.join("openapi.json");
    std::fs::write(&path, document.to_string()).unwrap();
    path
}

#[test]
fn the_python_client_generates_cleanly_and_walks_a_first_day() {
    let generator = installed(
        repository().join(".venv/bin/openapi-python-client"),
        &format!("`pip install openapi-python-client=={PYTHON_CLIENT_VERSION}` into .venv"),
    );
    let python = installed(repository().join(".venv/bin/python"), "create .venv");
    let (service, addr) = serve(|_| {});
    let scratch = tempfile::tempdir().unwrap();
    let document = save_document(&addr, scratch.path());
    let package = scratch.path().join("client");

    let generated = run(Command::new(generator)
        .current_dir(scratch.path())
        .arg("generate")
        .arg("--path")
        .arg(&document)
        .arg("--output-path")
        .arg(&package)
        .arg("--config")
        .arg(repository().join("clients/python/config.yaml")));
    let report = printed(&generated);
    assert!(
        !report.to_lowercase().contains("warning"),
        "the generator warned:\n{report}"
    );
    for model in ["exercise.py", "workout_package.py", "meal_entry_input.py"] {
        assert!(
            package
                .join("balance_life_api_client/models")
                .join(model)
                .is_file(),
            "{model} was not generated"
        );
    }

    let email = format!("journey-{}@example.com", uuid::Uuid::now_v7().simple());
    // The demo administrator adds an exercise on the way.
    let coach = &balancelife::sample::DEMO_ACCOUNTS[1];
    let journey = run(Command::new(python)
        .env("PYTHONPATH", &package)
        .arg(repository().join("clients/python/journey.py"))
        .arg(format!("http://{addr}"))
        .arg(&email)
        .args([coach.email, coach.password]));
    assert!(printed(&journey).contains("journey ok"));
    stop(service);
}

#[test]
fn typescript_types_generate_cleanly_and_a_program_using_them_type_checks() {
    let tools = repository().join("clients/typescript/node_modules/.bin");
    let how = "run `npm ci` in clients/typescript (Node.js and npm: apt-get install nodejs npm)";
    let generator = installed(tools.join("openapi-typescript"), how);
    let tsc = installed(tools.join("tsc"), how);
    let (service, addr) = serve(|_| {});
    let scratch = tempfile::tempdir().unwrap();
    let document = save_document(&addr, scratch.path());
    stop(service);
    for file in ["check.ts", "tsconfig.json"] {
        std::fs::copy(
            repository().join("clients/typescript").join(file),
            scratch.path().join(file),
        )
        .unwrap();
    }

    let generated = run(Command::new(generator)
        .arg(&document)
        .arg("--output")
        .arg(scratch.path().join("schema.d.ts")));
    let report = printed(&generated);
    assert!(
        !report.contains('⚠') && !report.to_lowercase().contains("warn"),
        "the generator warned:\n{report}"
    );
    run(Command::new(tsc)
        .arg("-p")
        .arg(scratch.path().join("tsconfig.json")));

    // The check can fail: the same program against types without `Exercise`'s
    // `duration_s` is refused.
    let schema = std::fs::read_to_string(scratch.path().join("schema.d.ts")).unwrap();
    let broken = schema.replacen("duration_s?: number;", "", 1);
    assert_ne!(broken, schema);
    std::fs::write(scratch.path().join("schema.d.ts"), broken).unwrap();
    let refused = Command::new(tools.join("tsc"))
        .arg("-p")
        .arg(scratch.path().join("tsconfig.json"))
        .output()
        .unwrap();
    assert!(!refused.status.success(), "tsc accepted a type error");
}
