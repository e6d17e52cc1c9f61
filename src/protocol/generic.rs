//! The seed's generic SSE rules: `first_token_event`, `completion_event`, `output_path`.

/// Per-request state of the generic adapter.
#[derive(Debug, Default)]
pub struct Generic {}
