//! Credentials: password hashing, bearer tokens and devices' refresh tokens.

pub mod hash_queue;
pub mod password;
pub mod refresh;
pub mod token;

pub use hash_queue::Refused as HashRefused;
pub use password::{HashError, Password, PasswordHasher};
pub use token::{TokenError, TokenKeys};
