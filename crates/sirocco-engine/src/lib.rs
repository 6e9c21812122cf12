//! `sirocco-engine`: llama.cpp in-process through `llama-cpp-2`.
//!
//! - [`gguf_file`] (`sirocco-gguf`) validates a GGUF file before llama.cpp ever sees it and
//!   summarises its header.
//! - [`chat_template`] renders a conversation with the model's own Jinja template.
//! - [`mistral_format`] builds Mistral's prompt formats exactly as Mistral's reference does.
//! - [`tools`] holds tool calling: the tools offered, the calls made, how replies become calls.
//! - [`vision`] loads a model's projector (llama.cpp's `mtmd`) and decodes images within limits.
//! - [`prompt`] picks the format for a loaded model and turns a conversation into tokens.
//! - [`engine`] owns the loaded model on its own thread and streams generated text; its
//!   scheduler decodes concurrent requests together (continuous batching) and sends each
//!   request's text through an outbox that bundles what comes faster than a frame.
//! - [`process`] runs an engine in a child process instead (models on other machines), the
//!   same API over pipes, so the child's death is an error, not the app's end.
//!
//! The plain data it takes and gives (messages, load and sampling parameters, drafting, stats)
//! lives in `sirocco-types` and is re-exported here under the same names.
//!
//! Modules stand in layers, imports pointing down (`tests/module_graph.rs` fails on a cycle):
//! `process` over `engine`; `engine` over `scheduler` and `embedder`; `scheduler` over `prompt`,
//! `drafter`, `vision`, `outbox`, `state_files`, `reply`, `sampling`; `prompt` over
//! `chat_template`, `mistral_format`, `tools`, `reasoning`; at the bottom `compute`, `backend`,
//! `stop_strings`, `utf8_stream`, `overflow`, `error`. `planner` (over `hardware`) serves the
//! host and the app; the engine thread does not use it.
//!
//! Nothing here knows about Tauri or any UI.

mod backend;
pub mod backend_files;
pub use backend::{build_info, BuildInfo};
pub mod chat_template;
pub mod collect;
mod compute;
mod drafter;
mod embedder;
mod engine;
mod error;
/// A GGUF file's validation and header summary (`sirocco-gguf`).
pub use sirocco_gguf as gguf_file;
pub mod hardware;
mod load;
pub mod logprobs;
pub mod mistral_format;
mod outbox;
pub mod overflow;
pub mod planner;
pub mod process;
pub mod prompt;
mod reasoning;
mod reply;
mod request;
mod sampling;
mod scheduler;
/// Drafted tokens' plain data (the drafters are `drafter.rs`).
pub use sirocco_types::drafting as speculative;
mod state_files;
mod stop_strings;
pub mod tools;
mod utf8_stream;
pub mod vision;
pub mod workers;

pub use collect::{collect, Collected, Collector, Ending};
pub use engine::Engine;
pub use error::{EngineError, Result};
pub use load::LoadedModel;
pub use prompt::PromptFormatKind;
pub use request::{Embeddings, GenerateRequest, Generation, GenerationEvent};
pub use sirocco_gguf::{GgufSummary, ProjectorSummary};
pub use sirocco_types::OverflowPolicy;
pub use sirocco_types::{ChatMessage, ImageInput, Role, ToolCall};
pub use sirocco_types::{FinishReason, GenerationStats, ReasoningEffort};
pub use sirocco_types::{FlashAttention, KvCacheType, LoadParams, DEFAULT_CONTEXT, DEFAULT_PARALLEL, MAX_PARALLEL};
pub use sirocco_types::{SamplingParams, RANDOM_SEED};
pub use tools::{Tool, ToolChoice, ToolSpec};
