//! Settings precedence: defaults, then the TOML file, then the environment.

// `figment::Jail` fixes the closures' error type; its size is not ours to change.
#![allow(clippy::result_large_err)]

use std::path::Path;
use std::time::Duration;

use figment::Jail;
use secrecy::ExposeSecret;

use balancelife::config::{LogFormat, Settings, Variables};

#[test]
fn defaults_apply_when_nothing_is_set() {
    Jail::expect_with(|jail| {
        let settings = Settings::load(None).unwrap();
        assert_eq!(settings.http.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.http.request_timeout, Duration::from_secs(20));
        assert!(settings.mongodb.is_none(), "no MONGODB_URI, no MongoDB");
        assert!(settings.redis.is_none(), "no REDIS_ADDR, no cache");
        assert_eq!(settings.auth.token_ttl, Duration::from_secs(86_400));
        assert_eq!(settings.log.format, LogFormat::Text);

        jail.set_env("MONGODB_URI", "mongodb://db.internal");
        jail.set_env("REDIS_ADDR", "cache.internal:6379");
        let settings = Settings::load(None).unwrap();
        let mongodb = settings.mongodb.unwrap();
        assert_eq!(mongodb.database, "balancelife");
        assert_eq!(mongodb.timeout, Duration::from_secs(5));
        let redis = settings.redis.unwrap();
        assert_eq!(redis.db, 0);
        assert_eq!(redis.timeout, Duration::from_millis(50));
        assert_eq!(redis.namespace, "bl");
        Ok(())
    });
}

#[test]
fn the_file_overrides_defaults_and_the_environment_overrides_the_file() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "balancelife.toml",
            r#"
                http_addr = "0.0.0.0:9000"
                mongodb_uri = "mongodb://db.internal"
                mongodb_database = "from_file"
                mongodb_timeout_ms = 2500
                redis_addr = "cache.internal:6379"
                redis_db = 3
                log_format = "json"
            "#,
        )?;
        jail.set_env("MONGODB_DATABASE", "from_env");
        jail.set_env("REDIS_DB", "5");

        let settings = Settings::load(Some(Path::new("balancelife.toml"))).unwrap();

        assert_eq!(
            settings.http.addr.to_string(),
            "0.0.0.0:9000",
            "file beats default"
        );
        let mongodb = settings.mongodb.unwrap();
        assert_eq!(mongodb.database, "from_env", "environment beats file");
        assert_eq!(mongodb.timeout, Duration::from_millis(2_500));
        assert_eq!(settings.redis.unwrap().db, 5);
        assert_eq!(settings.log.format, LogFormat::Json);
        Ok(())
    });
}

#[test]
fn secrets_load_from_the_environment_and_never_print() {
    Jail::expect_with(|jail| {
        jail.set_env(
            "AUTH_TOKEN_SECRET",
            "0123456789012345678901234567890123456789",
        );
        jail.set_env("REDIS_PASSWORD", "hunter2-hunter2");
        jail.set_env("MONGODB_URI", "mongodb://admin:s3cr3t-pw@db.internal:27017");

        let settings = Settings::load(None).unwrap();

        assert_eq!(
            settings.auth.token_secret.as_ref().unwrap().expose_secret(),
            "0123456789012345678901234567890123456789",
            "an all-digit secret stays a string"
        );
        let debug = format!("{settings:?}");
        let printed = format!("{:?}", Variables::load(None).unwrap().listing());
        for secret in [
            "0123456789012345678901234567890123456789",
            "hunter2-hunter2",
            "s3cr3t-pw",
        ] {
            assert!(!debug.contains(secret), "Debug leaks {secret}");
            assert!(!printed.contains(secret), "config output leaks {secret}");
        }
        assert!(printed.contains("mongodb://***@db.internal:27017"));
        Ok(())
    });
}

#[test]
fn text_values_that_look_like_numbers_or_booleans_stay_text() {
    Jail::expect_with(|jail| {
        jail.set_env("REDIS_PASSWORD", "12345678");
        jail.set_env("MONGODB_DATABASE", "2024");
        jail.set_env("AUTH_TOKEN_SECRET", "true");
        jail.set_env("MONGODB_URI", "");

        let error = Settings::load(None).unwrap_err().to_string();
        assert!(
            error.contains("AUTH_TOKEN_SECRET: must be at least"),
            "{error}"
        );
        assert!(
            !error.contains("true"),
            "the secret's value is not printed: {error}"
        );

        jail.set_env("AUTH_TOKEN_SECRET", "12345678901234567890123456789012");
        jail.set_env("REDIS_ADDR", "cache.internal:6379");
        let settings = Settings::load(None).unwrap();
        assert_eq!(
            settings.redis.unwrap().password.unwrap().expose_secret(),
            "12345678"
        );
        assert!(
            settings.mongodb.is_none(),
            "an empty MONGODB_URI counts as unset"
        );
        jail.set_env("MONGODB_URI", "mongodb://db.internal");
        assert_eq!(
            Settings::load(None).unwrap().mongodb.unwrap().database,
            "2024"
        );
        Ok(())
    });
}

#[test]
fn a_malformed_value_is_refused_with_its_name() {
    for (name, value) in [
        ("HTTP_ADDR", "not-an-address"),
        ("REDIS_DB", "many"),
        ("REDIS_DB", "300"),
        ("INIT_SAMPLE_DATA", "perhaps"),
        ("LOG_FORMAT", "xml"),
        ("AUTH_TOKEN_SECRET", "too-short"),
        ("AUTH_TOKEN_TTL_SECS", "0"),
        ("REQUEST_TIMEOUT_MS", "99"),
        ("REQUEST_TIMEOUT_MS", "soon"),
        ("REDIS_NAMESPACE", "a:b"),
        ("LOG_LEVEL", "[["),
        ("MONGODB_DATABASE", "bad/name"),
    ] {
        Jail::expect_with(|jail| {
            jail.set_env(name, value);
            let error = Settings::load(None)
                .expect_err(&format!("{name}={value} was accepted"))
                .to_string();
            assert!(
                error.contains(&format!("{name}: ")),
                "{name}={value}: the error does not name it: {error}"
            );
            assert!(
                error.contains("(from environment variable)"),
                "{name}={value}: the error does not say where the value came from: {error}"
            );
            Ok(())
        });
    }
}

#[test]
fn a_secret_of_the_wrong_type_in_the_file_is_refused_without_repeating_it() {
    for (key, line) in [
        ("REDIS_PASSWORD", "redis_password = 86753090"),
        (
            "AUTH_TOKEN_SECRET",
            "auth_token_secret = 1234567890123456789",
        ),
        ("MONGODB_URI", "mongodb_uri = 27017"),
    ] {
        Jail::expect_with(|jail| {
            jail.create_file("secrets.toml", line)?;
            let error = Settings::load(Some(Path::new("secrets.toml")))
                .unwrap_err()
                .to_string();
            let value = line.split(" = ").nth(1).unwrap();
            assert!(error.contains(&format!("{key}: must be text")), "{error}");
            assert!(!error.contains(value), "{error}");
            Ok(())
        });
    }
}

#[test]
fn unknown_keys_in_the_file_are_refused() {
    Jail::expect_with(|jail| {
        jail.create_file("typo.toml", "mongodb_urii = \"mongodb://x\"\n")?;
        let error = Settings::load(Some(Path::new("typo.toml")))
            .unwrap_err()
            .to_string();
        assert!(error.contains("mongodb_urii"), "{error}");
        Ok(())
    });
}

#[test]
fn a_missing_config_file_is_an_error() {
    Jail::expect_with(|_jail| {
        let error = Settings::load(Some(Path::new("nowhere.toml")))
            .unwrap_err()
            .to_string();
        assert!(error.contains("nowhere.toml"), "{error}");
        Ok(())
    });
}

/// The README's table of variables is the list operators read; it must name every
/// setting the service knows, in the same order, with the defaults it really has.
#[test]
fn the_readmes_table_lists_every_setting_with_its_real_default() {
    let readme = include_str!("../../../../README.md");
    let documented: Vec<(&str, &str)> = readme
        .lines()
        .skip_while(|line| !line.starts_with("| variable | default | meaning |"))
        .skip(2)
        .take_while(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split(" | ").collect();
            (
                cells[0].trim_start_matches("| ").trim_matches('`'),
                cells[1],
            )
        })
        .collect();
    let known = Variables::default().listing();

    let documented_names: Vec<&str> = documented.iter().map(|(name, _)| *name).collect();
    let known_names: Vec<&str> = known.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(documented_names, known_names);
    for ((name, documented), (_, value)) in documented.iter().zip(&known) {
        // A default written as code must be the one the service uses; prose
        // ("not set", "random per process") explains a default without a value.
        if let Some(literal) = documented
            .strip_prefix('`')
            .and_then(|d| d.strip_suffix('`'))
        {
            assert_eq!(literal, value, "{name}'s default in the README");
        } else {
            assert!(
                value.starts_with("(not set"),
                "{name} has the default {value}, which the README does not give"
            );
        }
    }
}

#[test]
fn redis_mode_is_read_and_a_cluster_takes_no_database_number() {
    use balancelife::config::RedisMode;
    Jail::expect_with(|jail| {
        jail.set_env("REDIS_ADDR", "node-a:7000,node-b:7000");
        let settings = Settings::load(None).unwrap();
        assert_eq!(settings.redis.unwrap().mode, RedisMode::Auto);

        jail.set_env("REDIS_MODE", "cluster");
        assert_eq!(
            Settings::load(None).unwrap().redis.unwrap().mode,
            RedisMode::Cluster
        );

        jail.set_env("REDIS_DB", "3");
        let refused = Settings::load(None).unwrap_err().to_string();
        assert!(refused.contains("REDIS_DB"), "{refused}");

        jail.set_env("REDIS_MODE", "sharded");
        let refused = Settings::load(None).unwrap_err().to_string();
        assert!(refused.contains("REDIS_MODE"), "{refused}");
        Ok(())
    });
}
