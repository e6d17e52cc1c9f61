//! The measuring engine: closed-loop load, sending, timing.

pub mod client;
