//! Accounts: signing up and in (`auth`, bearer tokens), the web app's cookie
//! session (`session`; its cookies are HTTP machinery, `http::cookies`), and the
//! profile (`users`). `user_view`, a user as all of them answer it, sits below the
//! other three, which do not import each other but for `auth`, which sessions and
//! profiles both rest on.

pub(crate) mod auth;
pub(crate) mod session;
pub(crate) mod user_view;
pub(crate) mod users;
