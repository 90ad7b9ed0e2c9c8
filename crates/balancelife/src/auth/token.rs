//! Signed, expiring bearer tokens (JWT, HS256).
//!
//! A token names its user and carries a fingerprint of the user's password hash.
//! Every request reloads the user, so a deleted user's tokens stop working at once,
//! and so do all tokens issued before a password change. The same secret makes the
//! CSRF token of a cookie session (a MAC of its session token).
//!
//! A signature once checked is remembered until its token expires (`Checked`):
//! decoding and checking an HS256 token took 8 % of the CPU of an authenticated
//! read (perf, 2026-12-07), and a client sends the same token with every request.
//! What it says cannot change, so remembering it changes no answer: the user is
//! still reloaded and compared on every request.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::refresh::RefreshTokens;
use crate::domain::{PasswordHash, User};

const ISSUER: &str = "balancelife";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    iss: String,
    iat: i64,
    exp: i64,
    /// `credentials_fingerprint` of the password hash at issue time.
    crd: String,
    /// The device the token was issued to; tokens of older releases have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dev: Option<Uuid>,
}

/// What a genuine token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub user_id: Uuid,
    pub credentials: String,
    /// The device it was issued to: while the device is signed in, the token is
    /// good (a password change signs the other devices out); a token of no device
    /// is good until the password changes.
    pub device: Option<Uuid>,
    /// When it was issued, in Unix seconds.
    pub issued_at: i64,
}

/// A short digest of the password hash. The hash has a fresh salt each time it is
/// set, so the digest changes with every password change; the digest reveals nothing
/// of the hash, which in turn reveals nothing of the password.
pub fn credentials_fingerprint(hash: &PasswordHash) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(hash.as_phc().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..12])
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed, tampered with, expired or not ours")]
    Invalid,
}

/// How many checked tokens are remembered: every signed-in device's of a busy
/// instance, at a few hundred bytes each.
const REMEMBERED_TOKENS: u64 = 50_000;

/// A token whose signature was checked, with its expiry (seconds since the epoch).
#[derive(Clone)]
struct Checked {
    token: VerifiedToken,
    exp: i64,
}

/// The keys and lifetime for issuing and checking tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// The lifetime of a web session's token.
    ttl: Duration,
    /// The lifetime of an API client's access token, renewed by its refresh token.
    access_ttl: Duration,
    refresh: RefreshTokens,
    /// Keyed with a key derived from the secret, apart from the signing key.
    csrf: Hmac<sha2::Sha256>,
    /// Tokens whose signature was checked; only genuine ones are remembered.
    checked: moka::sync::Cache<Arc<str>, Checked>,
}

impl TokenKeys {
    /// The shortest secret accepted: HS256 is only as strong as its key.
    pub const MIN_SECRET_BYTES: usize = 32;

    pub fn new(secret: &SecretString, ttl: Duration, access_ttl: Duration) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            ttl,
            access_ttl,
            refresh: RefreshTokens::new(derive_key(bytes, b"balancelife: refresh tokens")),
            csrf: Hmac::new_from_slice(&derive_key(bytes, b"balancelife: CSRF tokens"))
                .expect("HMAC takes a key of any length"),
            // A token outlives its entry only by being unused for its whole life.
            checked: moka::sync::Cache::builder()
                .max_capacity(REMEMBERED_TOKENS)
                .time_to_live(ttl.max(access_ttl).max(Duration::from_secs(1)))
                .build(),
        }
    }

    /// A random secret for when none is configured: tokens die with the process.
    pub fn random_secret() -> SecretString {
        use base64::Engine;
        let bytes: [u8; 32] = rand::random();
        SecretString::from(base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes))
    }

    /// The lifetime of a web session's token.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The lifetime of an API client's access token.
    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    pub fn refresh(&self) -> &RefreshTokens {
        &self.refresh
    }

    /// A web session's token, of no device: good until the password changes.
    pub fn issue(&self, user: &User) -> String {
        self.issue_for(user, None, self.ttl)
    }

    /// A token of `device`, good for `ttl`.
    pub fn issue_for(&self, user: &User, device: Option<Uuid>, ttl: Duration) -> String {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user.id,
            crd: credentials_fingerprint(&user.password_hash),
            iss: ISSUER.to_owned(),
            iat: now,
            exp: now + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2),
            dev: device,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing with an in-memory key cannot fail")
    }

    /// The CSRF token of the cookie session that holds `session_token`: only this
    /// service can make it, and it is good for that session alone.
    pub fn csrf_token(&self, session_token: &str) -> String {
        use base64::Engine;
        let mut mac = self.csrf.clone();
        mac.update(session_token.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// What the token says, if it is genuine and unexpired.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        if let Some(checked) = self.checked.get(token) {
            return if self.unexpired(checked.exp) {
                Ok(checked.token)
            } else {
                Err(TokenError::Invalid)
            };
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?
            .claims;
        let verified = VerifiedToken {
            user_id: claims.sub,
            credentials: claims.crd,
            device: claims.dev,
            issued_at: claims.iat,
        };
        let checked = Checked {
            token: verified.clone(),
            exp: claims.exp,
        };
        self.checked.insert(token.into(), checked);
        Ok(verified)
    }

    /// Whether a token expiring at `exp` is still good, with the same leeway the
    /// first check allowed.
    fn unexpired(&self, exp: i64) -> bool {
        let leeway = i64::try_from(self.validation.leeway).unwrap_or(0);
        Utc::now().timestamp() <= exp.saturating_add(leeway)
    }
}

/// A key for one `purpose`, derived from the secret: the signing key itself never
/// makes anything but signatures.
fn derive_key(secret: &[u8], purpose: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(purpose);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str, ttl_secs: u64) -> TokenKeys {
        TokenKeys::new(
            &SecretString::from(secret.to_owned()),
            Duration::from_secs(ttl_secs),
            Duration::from_secs(ttl_secs),
        )
    }

    fn user(phc: &str) -> User {
        let now = Utc::now();
        User {
            id: Uuid::now_v7(),
            email: "t@example.com".parse().unwrap(),
            name: "T".try_into().unwrap(),
            password_hash: PasswordHash::from_phc(phc.to_owned()),
            role: crate::domain::Role::User,
            timezone: crate::domain::Timezone::utc(),
            profile: Default::default(),
            favourite_foods: Vec::new(),
            devices: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_token_names_the_user_and_their_credentials() {
        let keys = keys("0123456789abcdef0123456789abcdef", 60);
        let user = user("$argon2id$one");
        let verified = keys.verify(&keys.issue(&user)).unwrap();
        assert_eq!(verified.user_id, user.id);
        assert_eq!(
            verified.credentials,
            credentials_fingerprint(&user.password_hash)
        );
        assert_ne!(
            verified.credentials,
            credentials_fingerprint(&PasswordHash::from_phc("$argon2id$two".into()))
        );
    }

    #[test]
    fn tokens_signed_with_another_secret_are_refused() {
        let token = keys("0123456789abcdef0123456789abcdef", 60).issue(&user("$x"));
        assert!(
            keys("another-secret-another-secret-xx", 60)
                .verify(&token)
                .is_err()
        );
    }

    #[test]
    fn expired_and_tampered_tokens_are_refused() {
        let keys = keys("0123456789abcdef0123456789abcdef", 60);
        let claims = Claims {
            sub: Uuid::now_v7(),
            iss: ISSUER.into(),
            iat: 0,
            exp: Utc::now().timestamp() - 60,
            crd: String::new(),
            dev: None,
        };
        let expired =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap();
        assert!(keys.verify(&expired).is_err());

        // Another user's claims under this token's signature.
        let genuine = keys.issue(&user("$a"));
        let other = keys.issue(&user("$b"));
        let genuine: Vec<&str> = genuine.split('.').collect();
        let other: Vec<&str> = other.split('.').collect();
        let tampered = [genuine[0], other[1], genuine[2]].join(".");
        assert!(keys.verify(&tampered).is_err());
    }

    #[test]
    fn a_csrf_token_belongs_to_one_session_and_one_secret() {
        let ours = keys("0123456789abcdef0123456789abcdef", 60);
        let elsewhere = keys("another-secret-another-secret-xx", 60);
        let (one, other) = (ours.issue(&user("$a")), ours.issue(&user("$b")));
        assert_eq!(ours.csrf_token(&one), ours.csrf_token(&one));
        assert_ne!(ours.csrf_token(&one), ours.csrf_token(&other));
        assert_ne!(ours.csrf_token(&one), elsewhere.csrf_token(&one));
        assert_eq!(ours.csrf_token(&one).len(), 43, "256 bits, base64url");
    }

    #[test]
    fn a_remembered_token_says_the_same_until_it_expires() {
        let keys = keys("0123456789abcdef0123456789abcdef", 60);
        let token = keys.issue(&user("$argon2id$one"));
        let first = keys.verify(&token).unwrap();
        assert_eq!(keys.verify(&token).unwrap(), first, "from memory");
        assert_eq!(keys.checked.entry_count_after_sync(), 1);

        // Remembered, but past its expiry and the leeway: refused all the same.
        let expired = Checked {
            token: first,
            exp: Utc::now().timestamp() - 6,
        };
        keys.checked.insert(token.as_str().into(), expired);
        assert!(keys.verify(&token).is_err());
    }

    #[test]
    fn only_genuine_tokens_are_remembered() {
        let ours = keys("0123456789abcdef0123456789abcdef", 60);
        let forged = keys("another-secret-another-secret-xx", 60).issue(&user("$x"));
        for _ in 0..3 {
            assert!(ours.verify(&forged).is_err());
        }
        assert_eq!(ours.checked.entry_count_after_sync(), 0);
    }

    trait Synced {
        fn entry_count_after_sync(&self) -> u64;
    }

    impl Synced for moka::sync::Cache<Arc<str>, Checked> {
        fn entry_count_after_sync(&self) -> u64 {
            self.run_pending_tasks();
            self.entry_count()
        }
    }

    #[test]
    fn unsigned_tokens_are_refused() {
        let keys = keys("0123456789abcdef0123456789abcdef", 60);
        let token = keys.issue(&user("$x"));
        let mut parts: Vec<&str> = token.split('.').collect();
        // {"alg":"none","typ":"JWT"}
        parts[0] = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        parts[2] = "";
        assert!(keys.verify(&parts.join(".")).is_err());
    }
}
