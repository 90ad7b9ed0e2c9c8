//! Settings precedence: defaults, then the TOML file, then the environment.

// `figment::Jail` fixes the closures' error type; its size is not ours to change.
#![allow(clippy::result_large_err)]

use std::path::Path;

use figment::Jail;
use secrecy::ExposeSecret;

use balancelife::config::{LogFormat, Settings};

#[test]
fn defaults_apply_when_nothing_is_set() {
    Jail::expect_with(|_jail| {
        let settings = Settings::load(None).unwrap();
        assert_eq!(settings.http_addr.to_string(), "127.0.0.1:8080");
        assert!(settings.mongodb_uri.is_none());
        assert_eq!(settings.mongodb_database, "balancelife");
        assert_eq!(settings.redis_db, 0);
        assert_eq!(settings.auth_token_ttl_secs, 86_400);
        assert_eq!(settings.log_format, LogFormat::Text);
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
                mongodb_database = "from_file"
                redis_db = 3
                log_format = "json"
            "#,
        )?;
        jail.set_env("MONGODB_DATABASE", "from_env");
        jail.set_env("REDIS_DB", "5");

        let settings = Settings::load(Some(Path::new("balancelife.toml"))).unwrap();

        assert_eq!(
            settings.http_addr.to_string(),
            "0.0.0.0:9000",
            "file beats default"
        );
        assert_eq!(
            settings.mongodb_database, "from_env",
            "environment beats file"
        );
        assert_eq!(settings.redis_db, 5);
        assert_eq!(settings.log_format, LogFormat::Json);
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
            settings.auth_token_secret.as_ref().unwrap().expose_secret(),
            "0123456789012345678901234567890123456789",
            "an all-digit secret stays a string"
        );
        let debug = format!("{settings:?}");
        let printed = format!("{:?}", settings.masked_lines());
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
            error.contains("AUTH_TOKEN_SECRET must be at least"),
            "{error}"
        );
        assert!(
            !error.contains("true"),
            "the secret's value is not printed: {error}"
        );

        jail.set_env("AUTH_TOKEN_SECRET", "12345678901234567890123456789012");
        let settings = Settings::load(None).unwrap();
        assert_eq!(settings.redis_password.unwrap().expose_secret(), "12345678");
        assert_eq!(settings.mongodb_database, "2024");
        assert!(
            settings.mongodb_uri.is_none(),
            "an empty MONGODB_URI counts as unset"
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
        ("MONGODB_DATABASE", "bad/name"),
    ] {
        Jail::expect_with(|jail| {
            jail.set_env(name, value);
            let error = Settings::load(None)
                .expect_err(&format!("{name}={value} was accepted"))
                .to_string();
            assert!(
                error.contains(name),
                "{name}={value}: the error does not name it: {error}"
            );
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
