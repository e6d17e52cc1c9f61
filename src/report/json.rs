//! The JSON result file: written atomically, never overwriting an existing file.
