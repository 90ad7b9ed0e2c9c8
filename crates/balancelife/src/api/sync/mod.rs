//! Keeping a phone's copy of the user's data in step: what changed since it last
//! looked (`changes`), and the writes it made offline sent as one batch (`batch`).

pub mod batch;
pub mod changes;
