//! Masking what `balancelife config` prints: credentials inside connection strings.

/// Replaces the `user:password@` part of a URI with `***@`, and the values of options
/// that carry secrets (`tlsCertificateKeyFilePassword`, `authMechanismProperties`, …)
/// with `***`. A bare `:password@host:port` (as `REDIS_ADDR` takes) is masked too.
pub fn mask_uri_credentials(uri: &str) -> String {
    let (scheme, rest) = match uri.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), uri),
    };
    // Host names never hold '@', while a password may hold anything unencoded ('/',
    // '?', '@'), so the credentials end at the last '@'.
    let masked = match rest.rfind('@') {
        // An '@' inside an option value: what follows it is options, not a host, so
        // nothing after the scheme is shown.
        Some(at) if rest[at + 1..].contains(['=', '&']) && !rest[at + 1..].contains('?') => {
            "***".to_owned()
        }
        Some(at) => format!("***@{}", mask_options(&rest[at + 1..])),
        None => mask_options(rest),
    };
    format!("{scheme}{masked}")
}

fn mask_options(target: &str) -> String {
    match target.split_once('?') {
        Some((target, options)) => format!("{target}?{}", mask_secret_options(options)),
        None => target.to_owned(),
    }
}

fn mask_secret_options(options: &str) -> String {
    options
        .split('&')
        .map(|option| match option.split_once('=') {
            Some((name, _)) if is_secret_option(name) => format!("{name}=***"),
            _ => option.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn is_secret_option(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["password", "secret", "token", "authmechanismproperties"]
        .iter()
        .any(|secret| name.contains(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_uris_are_masked() {
        assert_eq!(
            mask_uri_credentials("mongodb://admin:hunter2@db.internal:27017/app?tls=true"),
            "mongodb://***@db.internal:27017/app?tls=true"
        );
        assert_eq!(
            mask_uri_credentials("mongodb://db:27017"),
            "mongodb://db:27017"
        );
        assert_eq!(
            mask_uri_credentials("redis://:pw@cache:6379/2"),
            "redis://***@cache:6379/2"
        );
        assert_eq!(mask_uri_credentials("127.0.0.1:6379"), "127.0.0.1:6379");
        assert_eq!(
            mask_uri_credentials("mongodb://u:pa/ss@h:27017/db"),
            "mongodb://***@h:27017/db"
        );
        assert_eq!(
            mask_uri_credentials("mongodb://u:pa?ss@h/db"),
            "mongodb://***@h/db"
        );
        assert_eq!(
            mask_uri_credentials(
                "mongodb://h/db?tls=true&tlsCertificateKeyFilePassword=hunter2\
                 &authMechanismProperties=AWS_SESSION_TOKEN:abc"
            ),
            "mongodb://h/db?tls=true&tlsCertificateKeyFilePassword=***\
             &authMechanismProperties=***"
        );
        assert_eq!(mask_uri_credentials(":pw@cache:6379"), "***@cache:6379");
        assert_eq!(
            mask_uri_credentials(
                "mongodb://u:p@h/db?authMechanismProperties=AWS_SESSION_TOKEN:a@b\
                 &tlsCertificateKeyFilePassword=z"
            ),
            "mongodb://***"
        );
    }
}
