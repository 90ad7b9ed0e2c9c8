//! Credentials: password hashing and bearer tokens.

pub mod password;
pub mod token;

pub use password::{Password, PasswordHasher};
pub use token::{TokenError, TokenKeys};
