//! Accounts: signing up and in (`auth`, bearer tokens), the web app's cookie
//! session (`session`, `cookies`), and the profile (`users`). `cookies` and
//! `user_view` sit below the other three, which use them and not each other,
//! except that sessions and profiles both rest on `auth`.

pub mod auth;
pub mod cookies;
pub mod session;
pub mod user_view;
pub mod users;
