//! Signed, expiring bearer tokens (JWT, HS256).
//!
//! A token names its user and carries a fingerprint of the user's password hash.
//! Every request reloads the user, so a deleted user's tokens stop working at once,
//! and so do all tokens issued before a password change. The same secret makes the
//! CSRF token of a cookie session (a MAC of its session token).

use std::time::Duration;

use chrono::Utc;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
}

/// What a genuine token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub user_id: Uuid,
    pub credentials: String,
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

/// The keys and lifetime for issuing and checking tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
    /// Keyed with a key derived from the secret, apart from the signing key.
    csrf: Hmac<sha2::Sha256>,
}

impl TokenKeys {
    /// The shortest secret accepted: HS256 is only as strong as its key.
    pub const MIN_SECRET_BYTES: usize = 32;

    pub fn new(secret: &SecretString, ttl: Duration) -> Self {
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
            csrf: Hmac::new_from_slice(&derive_key(bytes, b"balancelife: CSRF tokens"))
                .expect("HMAC takes a key of any length"),
        }
    }

    /// A random secret for when none is configured: tokens die with the process.
    pub fn random_secret() -> SecretString {
        use base64::Engine;
        let bytes: [u8; 32] = rand::random();
        SecretString::from(base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes))
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(&self, user: &User) -> String {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user.id,
            crd: credentials_fingerprint(&user.password_hash),
            iss: ISSUER.to_owned(),
            iat: now,
            exp: now + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2),
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
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| VerifiedToken {
                user_id: data.claims.sub,
                credentials: data.claims.crd,
            })
            .map_err(|_| TokenError::Invalid)
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
