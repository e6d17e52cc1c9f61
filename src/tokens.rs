//! Placeholder: token counting is being written.
