//! `sirocco-types`: the plain data every part of Sirocco passes around — a conversation's
//! messages, what a load and a request ask for, what an answer reports. It links nothing (no
//! llama.cpp), so the store and anything else that only keeps or sends these values builds
//! without the engine.
//!
//! - [`message`]: roles, messages, images, tool calls.
//! - [`load`]: what a load asks for ([`LoadParams`]).
//! - [`sampling`]: how tokens are picked ([`SamplingParams`]), checked before use.
//! - [`drafting`]: drafted tokens, per load ([`Drafting`]) and per request ([`DraftLimits`]).
//! - [`generation`]: reasoning effort, the overflow policy, why an answer ended and its stats.
//!
//! Checks here return [`Invalid`]; the engine reports it as an invalid request.

pub mod drafting;
pub mod generation;
pub mod load;
pub mod message;
pub mod sampling;

pub use drafting::{DraftKind, DraftLimits, Drafting};
pub use generation::{FinishReason, GenerationStats, OverflowPolicy, ReasoningEffort};
pub use load::{FlashAttention, KvCacheType, LoadParams, DEFAULT_CONTEXT, DEFAULT_PARALLEL, MAX_PARALLEL, MIN_CONTEXT};
pub use message::{ChatMessage, ImageInput, Role, ToolCall};
pub use sampling::{SamplingParams, RANDOM_SEED};

/// A value a check refused, with a message naming the field and what it must be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);
