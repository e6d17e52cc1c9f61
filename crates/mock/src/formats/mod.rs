//! One module a provider's wire format, each a `Framer` that only formats bytes (events, chunk
//! JSON, usage, end markers, in-stream errors) and a whole answer for non-streaming requests.
//! Timing, faults and recording are the driver's; these mirror the client's `protocol/`.

pub(crate) mod anthropic;
pub(crate) mod completions;
pub(crate) mod dify;
pub(crate) mod gemini;
pub(crate) mod ollama;
pub(crate) mod openai;
pub(crate) mod plain;
pub(crate) mod responses;
pub(crate) mod tgi;
