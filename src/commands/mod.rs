//! One file (or folder) a subcommand: each reads its `cli::*Args`, turns the flags into plain
//! values and calls the layers below it. The only code under [`crate::cli`] that reads clap
//! types: `run/resolve.rs` builds the run's `Config` from `cli::RunArgs` and the config file.

pub mod compare;
pub mod demo;
pub mod history;
pub mod merge;
pub mod mock;
pub mod report;
pub mod run;
