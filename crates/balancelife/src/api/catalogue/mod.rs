//! The catalogue of meal and workout packages and custom exercises: reading it
//! (`packages`), editing it as an admin (`admin`, with the inputs it validates in
//! `inputs` and `exercise_inputs`), and logging a package's day in one action
//! (`apply`).

pub(crate) mod admin;
pub(crate) mod apply;
pub(crate) mod exercise_inputs;
pub(crate) mod inputs;
pub(crate) mod packages;
