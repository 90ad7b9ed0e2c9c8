//! Test tooling for BalanceLife, kept out of the service crate: throwaway servers on
//! free ports tied to the test process (`servers`), the Store contract suite written
//! once for any store (`contract`), a store wrapper that counts and holds reads
//! (`probe_store`), a TCP proxy that partitions links (`proxy`), and builders for
//! domain values (`fixtures`).
//!
//! The service's tests and the benchmark depend on it; the service never does.

pub mod contract;
pub mod fixtures;
pub mod probe_store;
pub mod proxy;
pub mod servers;

/// What `contract_tests!` names from the service, so callers need not import it.
#[doc(hidden)]
pub mod reexport {
    pub use balancelife::domain::{BodyMetricData, MealData, WorkoutData};
}
