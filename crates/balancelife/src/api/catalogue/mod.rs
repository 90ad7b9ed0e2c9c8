//! The catalogue of meal and workout packages: reading it (`packages`), editing it
//! as an admin (`admin`, with the inputs it validates in `inputs`), and logging a
//! package's day in one action (`apply`).

pub mod admin;
pub mod apply;
pub mod inputs;
pub mod packages;
