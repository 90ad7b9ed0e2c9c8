//! The domain model: what the service stores and serves, free of any storage or
//! transport concern.

pub mod entry;
pub mod package;
pub mod schema;
pub mod user;
pub mod values;

pub use entry::*;
pub use package::*;
pub use user::*;
pub use values::*;
