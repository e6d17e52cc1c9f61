//! OpenAI chat completions: `choices[0].delta.content`, `usage`, `[DONE]`.

/// Per-request state of the OpenAI adapter.
#[derive(Debug, Default)]
pub struct OpenAiChat {}
