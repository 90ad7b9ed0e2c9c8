//! Food search: an index in each instance, answered without the store, and kept
//! current from the store's feed of changes (`follower`), so it works the same on
//! the memory store, on MongoDB alone and behind the cache, with any number of
//! instances.

mod follower;
pub mod index;
pub mod text;

pub use follower::{FoodSearch, POLL_EVERY, SearchError};
pub use index::{SearchPage, SearchRequest};
