//! What a request asks of an answer and what an answer reports: how hard a reasoning model
//! thinks, what happens when a conversation outgrows the context, why an answer ended and its
//! figures.

use serde::{Deserialize, Serialize};

/// How hard a reasoning model thinks before it answers (OpenAI's `reasoning_effort` levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum ReasoningEffort {
    None,
    Minimal,
    Low,
    Medium,
    High,
}

impl ReasoningEffort {
    /// The level's name, as OpenAI's API and templates' `reasoning_effort` variable write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Minimal => "minimal",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    /// Whether the model thinks at all (templates' `enable_thinking`).
    pub fn thinks(self) -> bool {
        self != Self::None
    }

    /// Mistral v15's setting: its models know `none` and `high` (Mistral Small 4), so every
    /// level that thinks at all is `high`.
    pub fn mistral_setting(self) -> &'static str {
        match self {
            Self::None | Self::Minimal => "none",
            Self::Low | Self::Medium | Self::High => "high",
        }
    }
}

/// What happens when a conversation no longer fits the context (the engine's `overflow::fit`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum OverflowPolicy {
    /// Refuse, naming the prompt's token count and the context size.
    #[default]
    Stop,
    /// Keep the system prompt and the first exchange; drop the oldest messages after them.
    DropMiddle,
    /// Keep the system prompt; drop the oldest messages.
    RollingWindow,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model ended its turn.
    Stop,
    /// `max_tokens` was reached.
    Length,
    /// The context is full.
    ContextFull,
    Cancelled,
    /// The reply is calls to tools.
    ToolCalls,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct GenerationStats {
    pub prompt_tokens: usize,
    /// Prompt tokens whose KV cache was kept from the previous turn (not computed again).
    pub cached_tokens: usize,
    pub generated_tokens: usize,
    /// Of `generated_tokens`, those of the model's thought (with its markers).
    #[serde(default)]
    pub reasoning_tokens: usize,
    pub time_to_first_token_ms: f64,
    pub prefill_tokens_per_second: f64,
    pub decode_tokens_per_second: f64,
    pub context_used: usize,
    pub context_length: usize,
    pub finish_reason: FinishReason,
    /// The request's stop string that ended the answer (`finish_reason` is then `stop`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub stop_sequence: Option<String>,
    /// Messages the overflow policy left out so the conversation fits.
    pub dropped_messages: usize,
    /// Tokens drafted (see [`crate::drafting`]) and verified, and of those, kept: each kept one is a
    /// token the model did not need a step of its own for (llama-server's `draft_n`,
    /// `draft_n_accepted`).
    #[serde(default)]
    pub draft_tokens: usize,
    #[serde(default)]
    pub draft_accepted_tokens: usize,
    /// Why this answer decoded without drafts although its model drafts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub draft_off: Option<String>,
}
