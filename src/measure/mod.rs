//! The measuring core: sending requests and timing every byte of their answers. It takes
//! plain values (`EngineSettings`, `RequestSpec`s), emits one [`record::RequestRecord`] per
//! request, and imports nothing from the plan, the outputs or the mock (ARCHITECTURE.md).

pub mod engine;
pub mod protocol;
pub mod record;
pub mod selfcheck;
pub mod stream;
pub mod tokens;
