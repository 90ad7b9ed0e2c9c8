//! The body over time, as numbers with their formulas: the weight trend and its
//! weekly rate (`trend`), energy targets computed from the body or read off the
//! log (`energy`), strength from sets (`strength`) and the energy of exercise
//! (`met`). Each module states its formulas and a worked example that its tests
//! compute.

pub mod energy;
pub mod met;
pub mod strength;
pub mod trend;
