//! Accounts: signing up and in (`auth`, bearer tokens), the web app's cookie
//! session (`session`; its cookies are HTTP machinery, `http::cookies`), the
//! devices signed in and their refresh tokens (`devices`), and the profile
//! (`users`). Below them: `user_view`, a user as all of them answer it;
//! `device_sessions`, opening, renewing and closing a device's session; and
//! `record`, a change of the user's record made again on a concurrent write. The
//! endpoint modules do not import each other but for `auth`, which the others rest
//! on.

pub(crate) mod auth;
pub(crate) mod device_sessions;
pub(crate) mod devices;
pub(crate) mod record;
pub(crate) mod session;
pub(crate) mod user_view;
pub(crate) mod users;
