//! What a caller asks the engine to generate ([`GenerateRequest`]) and what comes back: a
//! stream of [`GenerationEvent`]s ending in [`GenerationStats`], or [`Embeddings`].

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc as async_mpsc;

use crate::tools::ToolSpec;
use crate::EngineError;
use sirocco_types::{ChatMessage, GenerationStats, OverflowPolicy, ReasoningEffort, SamplingParams, ToolCall};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GenerateRequest {
    pub messages: Vec<ChatMessage>,
    #[serde(default)]
    pub sampling: SamplingParams,
    /// "Start reply with": the assistant's reply begins with this text and generation
    /// continues it (the text itself is not streamed back).
    #[serde(default)]
    pub reply_prefix: Option<String>,
    /// Plain completion: this text is the whole prompt (no chat template; the model's BOS is
    /// added and special-token text is parsed, as llama.cpp's tools do). `messages` is ignored.
    #[serde(default)]
    pub raw_prompt: Option<String>,
    /// The whole prompt as token ids, used as they are (no template, no BOS added, nothing
    /// parsed): Ollama's `context` continued. Ids outside the vocabulary are refused. Takes
    /// precedence over `raw_prompt` and `messages`.
    #[serde(default)]
    pub prompt_tokens: Option<Vec<i32>>,
    /// Fill-in-the-middle: with `raw_prompt` as the code before the cursor, this is the code
    /// after it; the model writes what goes between, in its own FIM format.
    #[serde(default)]
    pub suffix: Option<String>,
    /// What to do when the conversation does not fit the context.
    #[serde(default)]
    pub overflow: OverflowPolicy,
    /// The conversation this request continues: its cache can be saved under this key
    /// ([`Engine::persist_state`]) and is read back when the conversation returns, even after
    /// a restart, so a long chat resumes without reading its whole history again.
    #[serde(default)]
    pub cache_key: Option<String>,
    /// Tools the model may call; its calls arrive as [`GenerationEvent::ToolCalls`].
    #[serde(default)]
    pub tools: Option<ToolSpec>,
    /// A reasoning model's thought arrives as [`GenerationEvent::Reasoning`], apart from the
    /// answer (`false`: in the text, as the model wrote it, like llama.cpp's `reasoning_format:
    /// none`).
    #[serde(default)]
    pub separate_reasoning: bool,
    /// How hard a reasoning model thinks, where its format has a setting for it (Mistral v15's
    /// model settings; `None`: the model's default).
    #[serde(default)]
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Most tokens a reasoning model may think for: once its thought is this long, the engine
    /// writes the model's own closing marker (`[/THINK]`, `</think>`) and the answer follows.
    /// `None`: no limit but `max_tokens`.
    #[serde(default)]
    pub thinking_budget: Option<u32>,
    /// Report each generated token's log-probability and this many likeliest alternatives at
    /// its step (at most [`crate::logprobs::MAX_TOP_LOGPROBS`]) with the text events.
    #[serde(default)]
    pub logprobs: Option<u32>,
    /// This request's limits on drafted tokens (`n_max: 0` turns drafting off for it).
    #[serde(default)]
    pub drafting: Option<sirocco_types::DraftLimits>,
}

impl GenerateRequest {
    pub fn new(messages: Vec<ChatMessage>, sampling: SamplingParams) -> Self {
        Self {
            messages,
            sampling,
            reply_prefix: None,
            raw_prompt: None,
            prompt_tokens: None,
            suffix: None,
            overflow: OverflowPolicy::Stop,
            cache_key: None,
            tools: None,
            separate_reasoning: false,
            reasoning_effort: None,
            thinking_budget: None,
            logprobs: None,
            drafting: None,
        }
    }

    /// The code between `prefix` and `suffix` (fill-in-the-middle).
    pub fn infill(prefix: impl Into<String>, suffix: impl Into<String>, sampling: SamplingParams) -> Self {
        Self { suffix: Some(suffix.into()), ..Self::completion(prefix, sampling) }
    }

    /// A plain completion of `prompt`.
    pub fn completion(prompt: impl Into<String>, sampling: SamplingParams) -> Self {
        Self { raw_prompt: Some(prompt.into()), ..Self::new(Vec::new(), sampling) }
    }
}

/// Embedding vectors, one per input, and the tokens they took.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Embeddings {
    pub vectors: Vec<Vec<f32>>,
    pub prompt_tokens: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GenerationEvent {
    /// A piece of the model's thought (a reasoning model, when the request keeps thought apart:
    /// [`GenerateRequest::separate_reasoning`]): whole UTF-8 characters, never answer text.
    Reasoning {
        text: String,
    },
    /// A piece of text: always whole UTF-8 characters.
    Text {
        text: String,
        /// Tokens of the context the request fills once this text is out (its prompt and the
        /// reply so far): what a context meter shows while the answer streams.
        #[serde(default)]
        context_used: usize,
        /// With [`GenerateRequest::logprobs`]: the tokens generated since the last text event
        /// (this text's, and a thought's before it), each with its log-probability.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        #[ts(optional, as = "Option<Vec<crate::logprobs::TokenLogprob>>")]
        logprobs: Vec<crate::logprobs::TokenLogprob>,
    },
    /// The reply calls these tools (sent once, just before `Done`).
    ToolCalls {
        calls: Vec<ToolCall>,
    },
    Done {
        stats: GenerationStats,
    },
    Error {
        message: String,
        /// The engine's state, not the request, is at fault (no model, the context busy with
        /// other requests): the same request may succeed later.
        #[serde(default)]
        busy: bool,
        /// The prompt does not fit the model's context at all (OpenAI's
        /// `context_length_exceeded`: a client may shorten the conversation and retry).
        #[serde(default)]
        overflow: bool,
    },
}

impl GenerationEvent {
    pub fn error(e: &EngineError) -> Self {
        let busy = matches!(
            e,
            EngineError::NoModelLoaded
                | EngineError::ModelUnloaded
                | EngineError::ContextBusy { .. }
                | EngineError::EngineGone
        );
        let overflow = matches!(e, EngineError::ContextOverflow { .. });
        Self::Error { message: e.to_string(), busy, overflow }
    }
}

/// A running generation: its events, and a flag that stops it within one token.
pub struct Generation {
    pub events: async_mpsc::UnboundedReceiver<GenerationEvent>,
    pub(crate) cancel: Arc<AtomicBool>,
}

impl Generation {
    pub fn cancel_handle(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }
}
