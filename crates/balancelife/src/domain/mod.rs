//! The domain model: what the service stores and serves, free of any storage or
//! transport concern.

pub mod barcode;
pub mod entry;
pub mod food;
pub mod package;
pub mod schema;
pub mod user;
pub mod values;

pub use barcode::Barcode;
pub use entry::*;
pub use food::*;
pub use package::*;
pub use user::*;
pub use values::*;
