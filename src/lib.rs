//! streamperf: a fast, truthful load tester for HTTP streaming APIs.
//!
//! Layers (DESIGN §6): [`cli`] flags → [`config`] (validated [`config::Config`]) → [`workload`]
//! (rendered requests) → [`engine`] (closed-loop load, sending, timing) → [`stream`] (framing)
//! → [`protocol`] (adapters) → [`record`] (per-request metrics) → [`metrics`] (HDR summary) →
//! [`report`] (terminal, JSON). [`mock`] is the built-in server used by `demo` and the tests.

#![warn(missing_docs)]

pub mod cli;
pub mod config;
pub mod engine;
pub mod i18n;
pub mod metrics;
pub mod mock;
pub mod protocol;
pub mod record;
pub mod redact;
pub mod report;
pub mod stream;
pub mod workload;
