//! The plan: what to send and when. Flags and the config file become a validated
//! [`config::Config`]; [`workload`] renders its requests; [`schedule`] spaces open-loop
//! arrivals. Nothing here measures or prints.

pub mod config;
pub mod schedule;
pub mod workload;
