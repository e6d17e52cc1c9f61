//! One file a subcommand: each reads its `cli::*Args`, turns the flags into plain values and
//! calls the domain modules below it. The only code under [`crate::cli`] that reads clap types
//! (with `config`, which builds its `Config` from `cli::RunArgs`).

pub mod compare;
pub mod demo;
pub mod history;
pub mod mock;
pub mod report;
pub mod run;
