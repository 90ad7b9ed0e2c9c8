//! The Store contract suite (written once, in `balancelife_testkit::contract`) run
//! against every backend.

mod cached;
mod cluster;
mod memory;
mod mongo;
