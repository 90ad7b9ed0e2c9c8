//! Argon2id password hashing.
//!
//! Hashing costs tens of milliseconds of CPU by design, so callers run it on the
//! blocking pool, in their client's line (`hash_queue`). Logins for unknown e-mails verify against a fixed dummy hash, so
//! the response time does not tell whether an address is registered.

use argon2::password_hash::{PasswordHash as PhcHash, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier, Version};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::hash_queue::{HashQueue, Refused};
use crate::domain::{InvalidValue, PasswordHash};

/// A password as a client sent it: 8 to 128 characters, not only spaces. Its `Debug`
/// never shows it.
#[derive(Deserialize)]
#[serde(try_from = "String")]
pub struct Password(SecretString);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl TryFrom<String> for Password {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        let chars = value.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) || value.trim().is_empty() {
            return Err(InvalidValue(format!(
                "must be {} to {} characters",
                Self::MIN_CHARS,
                Self::MAX_CHARS
            )));
        }
        Ok(Self(SecretString::from(value)))
    }
}

impl utoipa::PartialSchema for Password {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let text = crate::domain::schema::string(
            Self::MAX_CHARS,
            crate::domain::schema::NOT_BLANK,
            "A new password: 8 to 128 characters, not only spaces.",
        )
        .min_length(Some(Self::MIN_CHARS));
        crate::domain::schema::with_format(text, utoipa::openapi::KnownFormat::Password).into()
    }
}

impl utoipa::ToSchema for Password {}

/// Why a hash did not run.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error("the hashing task failed: {0}")]
    Failed(#[from] tokio::task::JoinError),
}

/// Hashes and verifies with one fixed set of Argon2id parameters.
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    dummy: String,
    /// Each hash takes 19 MiB and a core for tens of milliseconds; a login flood must
    /// queue here, in its client's line, instead of filling the blocking pool (512
    /// threads) and the memory, or making everyone else wait behind it.
    queue: HashQueue,
    /// Argon2 verifications run so far, so tests can show that a failed login costs
    /// the same whether or not the e-mail address exists.
    verifications: Arc<AtomicU64>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl PasswordHasher {
    /// OWASP's recommended Argon2id settings: 19 MiB, 2 passes, 1 lane.
    pub fn new() -> Self {
        let params =
            Params::new(19 * 1024, 2, 1, None).expect("constant Argon2 parameters are valid");
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let dummy = argon2
            .hash_password(b"dummy password for unknown e-mails", &salt)
            .expect("hashing a constant succeeds")
            .to_string();
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            argon2,
            dummy,
            queue: HashQueue::new(cores),
            verifications: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Runs `work` (hashing or verifying) for `client` (its network) on the blocking
    /// pool, in that client's line and at most one per core at a time, so the async
    /// workers stay free; refused when the line or the wait for a core is full.
    pub async fn run<T: Send + 'static>(
        &self,
        client: Option<IpAddr>,
        work: impl FnOnce(&Self) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _turn = self.queue.enter(client).await?;
        let hasher = self.clone();
        Ok(tokio::task::spawn_blocking(move || work(&hasher)).await?)
    }

    pub fn hash(&self, password: &Password) -> PasswordHash {
        let salt = SaltString::generate(&mut OsRng);
        let phc = self
            .argon2
            .hash_password(password.expose().as_bytes(), &salt)
            .expect("Argon2 with valid parameters and a fresh salt cannot fail")
            .to_string();
        PasswordHash::from_phc(phc)
    }

    /// Whether `password` matches. `None` stands for "no such user": the work is the
    /// same, the answer is always no.
    pub fn verify(&self, password: &str, hash: Option<&PasswordHash>) -> bool {
        let phc = hash.map_or(self.dummy.as_str(), PasswordHash::as_phc);
        let matches = PhcHash::new(phc).is_ok_and(|parsed| {
            self.verifications.fetch_add(1, Ordering::Relaxed);
            self.argon2
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        });
        matches && hash.is_some()
    }

    /// How many Argon2 verifications this hasher (and its clones) has run.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_own_password_only() {
        let hasher = PasswordHasher::new();
        let password = Password::try_from("correct horse".to_owned()).unwrap();
        let hash = hasher.hash(&password);
        assert!(hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify("correct horse", Some(&hash)));
        assert!(!hasher.verify("wrong horse", Some(&hash)));
        assert!(!hasher.verify("dummy password for unknown e-mails", None));
    }

    /// Unknown e-mails are verified against the dummy hash; it must cost what a real
    /// one does, so its parameters must be the ones real hashes get.
    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let hasher = PasswordHasher::new();
        let real = hasher.hash(&Password::try_from("correct horse".to_owned()).unwrap());
        let params = |phc: &str| phc.rsplitn(3, '$').nth(2).unwrap().to_owned();
        assert_eq!(params(&hasher.dummy), params(real.as_phc()));
        assert!(params(&hasher.dummy).starts_with("$argon2id$v=19$m=19456,t=2,p=1"));
    }

    #[test]
    fn passwords_must_have_a_sane_length() {
        assert!(Password::try_from("short".to_owned()).is_err());
        assert!(Password::try_from(" ".repeat(10)).is_err());
        assert!(Password::try_from("x".repeat(129)).is_err());
        assert!(
            format!(
                "{:?}",
                Password::try_from("secret-value".to_owned()).unwrap()
            )
            .contains("***")
        );
    }
}
