//! OpenAI's wire types: what clients send and what they get back. Unknown fields are ignored
//! (clients send many); known fields of the wrong type are a 400 with the field named.
//! The other APIs' types are in modules of their own.

pub mod anthropic;
pub mod ollama;
pub mod responses;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum StopField {
    One(String),
    Many(Vec<String>),
}

impl StopField {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

/// A message's content: a string, or an array of parts of which only text is understood.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<ContentPart>),
}

#[derive(Debug, Deserialize)]
pub struct ContentPart {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
    /// An `image_url` part's image: `{"url": "data:image/png;base64,…"}` (some clients send the
    /// URL as a plain string).
    #[serde(default)]
    pub image_url: Option<ImageUrl>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ImageUrl {
    Url(String),
    Object { url: String },
}

impl ImageUrl {
    pub fn url(&self) -> &str {
        match self {
            Self::Url(url) | Self::Object { url } => url,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct RequestMessage {
    pub role: String,
    #[serde(default)]
    pub content: Option<Content>,
    /// An assistant message's earlier calls.
    #[serde(default)]
    pub tool_calls: Option<Vec<RequestToolCall>>,
    /// A tool message: the call it answers.
    #[serde(default)]
    pub tool_call_id: Option<String>,
    /// An assistant message's thought, as this server (and llama.cpp's, DeepSeek's) returns it:
    /// models whose format keeps earlier thoughts get it back.
    #[serde(default)]
    pub reasoning_content: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RequestToolCall {
    #[serde(default)]
    pub id: Option<String>,
    pub function: FunctionCall,
}

#[derive(Debug, Deserialize, Serialize, Clone)]
pub struct FunctionCall {
    pub name: String,
    /// JSON text, as OpenAI sends it.
    #[serde(default)]
    pub arguments: String,
}

/// A tool a request offers: `{"type": "function", "function": {...}}`.
#[derive(Debug, Deserialize)]
pub struct ToolDefinition {
    #[serde(rename = "type")]
    pub kind: String,
    pub function: FunctionDefinition,
}

#[derive(Debug, Deserialize)]
pub struct FunctionDefinition {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parameters: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct ResponseFormat {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub json_schema: Option<JsonSchemaFormat>,
}

#[derive(Debug, Deserialize)]
pub struct JsonSchemaFormat {
    #[serde(default)]
    pub schema: Option<Value>,
}

/// The sampling fields chat and text completions share.
#[derive(Debug, Deserialize, Default)]
pub struct SamplingFields {
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    /// llama.cpp-server extras.
    pub top_k: Option<i32>,
    pub min_p: Option<f32>,
    pub repeat_penalty: Option<f32>,
    pub presence_penalty: Option<f32>,
    pub frequency_penalty: Option<f32>,
    pub seed: Option<i64>,
    pub max_tokens: Option<u32>,
    pub max_completion_tokens: Option<u32>,
    pub stop: Option<StopField>,
    pub n: Option<u32>,
    /// llama.cpp-server extra: keep generating past end-of-turn (benchmarks).
    pub ignore_eos: Option<bool>,
}

/// llama-server's per-request limits on drafted tokens (`"speculative.n_max": 0` turns
/// drafting off for the request).
#[derive(Debug, Deserialize, Default, Clone, Copy)]
pub struct DraftFields {
    #[serde(rename = "speculative.n_max")]
    pub n_max: Option<u32>,
    #[serde(rename = "speculative.n_min")]
    pub n_min: Option<u32>,
}

impl DraftFields {
    pub fn limits(self) -> Option<sirocco_engine::speculative::DraftLimits> {
        (self.n_max.is_some() || self.n_min.is_some())
            .then_some(sirocco_engine::speculative::DraftLimits { n_max: self.n_max, n_min: self.n_min })
    }
}

#[derive(Debug, Deserialize)]
pub struct ChatCompletionRequest {
    #[serde(default)]
    pub model: Option<String>,
    pub messages: Vec<RequestMessage>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    #[serde(default)]
    pub response_format: Option<ResponseFormat>,
    #[serde(default)]
    pub tools: Option<Vec<ToolDefinition>>,
    /// `"none"`, `"auto"`, `"required"` or `{"type": "function", "function": {"name": …}}`.
    #[serde(default)]
    pub tool_choice: Option<Value>,
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    /// `none`, `minimal`, `low`, `medium` or `high`: how hard a reasoning model thinks, where its
    /// format has a setting for it (Mistral v15).
    #[serde(default)]
    pub reasoning_effort: Option<sirocco_engine::ReasoningEffort>,
    /// Each token's log-probability in the answer (`top_logprobs`: with that many alternatives).
    #[serde(default)]
    pub logprobs: Option<bool>,
    #[serde(default)]
    pub top_logprobs: Option<u32>,
    #[serde(flatten)]
    pub thinking: ThinkingFields,
    #[serde(flatten)]
    pub sampling: SamplingFields,
    #[serde(flatten)]
    pub drafting: DraftFields,
}

/// llama.cpp's `reasoning_format` values: `none` keeps the thought in the text, the others
/// (which differ in llama.cpp only in how a streamed thought is framed) answer it apart.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ReasoningFormat {
    None,
    Auto,
    Deepseek,
    Parsed,
}

/// How a reasoning model's thought is asked for and answered, beyond OpenAI's
/// `reasoning_effort` (the extras llama.cpp's server, vLLM and SGLang read).
#[derive(Debug, Deserialize, Default)]
pub struct ThinkingFields {
    /// `none`: the thought stays in the text, tags and all (llama.cpp's `reasoning_format`);
    /// anything else (the default): apart, as `reasoning_content`.
    #[serde(default)]
    pub reasoning_format: Option<ReasoningFormat>,
    /// Variables for the model's template; `enable_thinking` is read (false: effort `none`,
    /// true: `high`) when the request has no `reasoning_effort`.
    #[serde(default)]
    pub chat_template_kwargs: Option<serde_json::Map<String, Value>>,
    /// Sirocco's extra: the most tokens the model may think for before the server closes its
    /// thought with the model's own closing marker.
    #[serde(default)]
    pub thinking_budget: Option<u32>,
}

impl ThinkingFields {
    /// Whether the thought is answered apart from the text.
    pub fn separate(&self) -> bool {
        self.reasoning_format != Some(ReasoningFormat::None)
    }

    /// The effort `reasoning_effort` names, or the template's `enable_thinking` variable gives.
    pub fn effort(
        &self,
        reasoning_effort: Option<sirocco_engine::ReasoningEffort>,
    ) -> Option<sirocco_engine::ReasoningEffort> {
        use sirocco_engine::ReasoningEffort;
        reasoning_effort.or_else(|| {
            let enable = self.chat_template_kwargs.as_ref()?.get("enable_thinking")?.as_bool()?;
            Some(if enable { ReasoningEffort::High } else { ReasoningEffort::None })
        })
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: bool,
}

#[derive(Debug, Deserialize)]
pub struct CompletionRequest {
    #[serde(default)]
    pub model: Option<String>,
    pub prompt: PromptField,
    #[serde(default)]
    pub suffix: Option<String>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    /// Legacy completions: each token's log-probability with this many alternatives.
    #[serde(default)]
    pub logprobs: Option<u32>,
    #[serde(flatten)]
    pub thinking: ThinkingFields,
    #[serde(flatten)]
    pub sampling: SamplingFields,
    #[serde(flatten)]
    pub drafting: DraftFields,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum PromptField {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Serialize, Clone, Copy)]
pub struct Usage {
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    pub total_tokens: usize,
    /// OpenAI's field: prompt tokens served from the cache (not computed again).
    pub prompt_tokens_details: PromptTokensDetails,
    /// OpenAI's field: of the completion tokens, those of the model's thought.
    pub completion_tokens_details: CompletionTokensDetails,
    /// llama.cpp-server's extra: where the time went.
    pub timings: Timings,
}

#[derive(Debug, Serialize, Clone, Copy)]
pub struct PromptTokensDetails {
    pub cached_tokens: usize,
}

#[derive(Debug, Serialize, Clone, Copy)]
pub struct CompletionTokensDetails {
    pub reasoning_tokens: usize,
}

/// llama.cpp server's `timings` names: `prompt_*` is the prefill of the tokens not cached,
/// `predicted_*` the generated tokens.
#[derive(Debug, Serialize, Clone, Copy)]
pub struct Timings {
    pub cache_n: usize,
    pub prompt_n: usize,
    pub prompt_ms: f64,
    pub prompt_per_second: f64,
    pub predicted_n: usize,
    pub predicted_ms: f64,
    pub predicted_per_second: f64,
    /// Drafted tokens verified, and of those kept (only when the answer drafted, as
    /// llama-server reports them).
    #[serde(skip_serializing_if = "is_zero")]
    pub draft_n: usize,
    #[serde(skip_serializing_if = "is_zero")]
    pub draft_n_accepted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Usage {
    pub fn from_stats(stats: &sirocco_engine::GenerationStats) -> Self {
        let computed = stats.prompt_tokens.saturating_sub(stats.cached_tokens);
        let per = |n: usize, rate: f64| if rate > 0.0 { n as f64 * 1000.0 / rate } else { 0.0 };
        Self {
            prompt_tokens: stats.prompt_tokens,
            completion_tokens: stats.generated_tokens,
            total_tokens: stats.prompt_tokens + stats.generated_tokens,
            prompt_tokens_details: PromptTokensDetails { cached_tokens: stats.cached_tokens },
            completion_tokens_details: CompletionTokensDetails { reasoning_tokens: stats.reasoning_tokens },
            timings: Timings {
                cache_n: stats.cached_tokens,
                prompt_n: computed,
                prompt_ms: per(computed, stats.prefill_tokens_per_second),
                prompt_per_second: stats.prefill_tokens_per_second,
                predicted_n: stats.generated_tokens,
                predicted_ms: per(stats.generated_tokens, stats.decode_tokens_per_second),
                predicted_per_second: stats.decode_tokens_per_second,
                draft_n: stats.draft_tokens,
                draft_n_accepted: stats.draft_accepted_tokens,
            },
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ModelObject {
    pub id: String,
    pub object: &'static str,
    pub created: u64,
    pub owned_by: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ModelList {
    pub object: &'static str,
    pub data: Vec<ModelObject>,
}

#[derive(Debug, Serialize)]
pub struct AssistantMessage {
    pub role: &'static str,
    /// Null when the reply is tool calls only.
    pub content: Option<String>,
    /// A reasoning model's thought, apart from the answer (llama.cpp's and DeepSeek's field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ResponseToolCall>>,
}

#[derive(Debug, Serialize)]
pub struct ResponseToolCall {
    /// Present in streamed deltas: which call this is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionCall,
}

impl ResponseToolCall {
    pub fn from_calls(calls: Vec<sirocco_engine::ToolCall>, streamed: bool) -> Vec<Self> {
        calls
            .into_iter()
            .enumerate()
            .map(|(i, c)| Self {
                index: streamed.then_some(i),
                id: c.id,
                kind: "function",
                function: FunctionCall { name: c.name, arguments: c.arguments },
            })
            .collect()
    }
}

#[derive(Debug, Serialize)]
pub struct ChatChoice {
    pub index: u32,
    pub message: AssistantMessage,
    pub finish_reason: &'static str,
    pub logprobs: Option<ChatLogprobs>,
}

/// A log-probability as the API writes it: never `-inf` (JSON has none), floored as OpenAI does;
/// the `f32`'s shortest decimal as an `f64` (so the same number reads the same in every field).
fn api_logprob(lp: f32) -> f64 {
    if lp.is_finite() {
        lp.to_string().parse().unwrap_or(lp as f64)
    } else {
        -9999.0
    }
}

/// Chat completions' `logprobs`: each token of the answer.
#[derive(Debug, Serialize, Default)]
pub struct ChatLogprobs {
    pub content: Vec<LogprobEntry>,
}

#[derive(Debug, Serialize)]
pub struct LogprobEntry {
    pub token: String,
    pub logprob: f64,
    pub bytes: Vec<u8>,
    pub top_logprobs: Vec<TopLogprob>,
}

#[derive(Debug, Serialize)]
pub struct TopLogprob {
    pub token: String,
    pub logprob: f64,
    pub bytes: Vec<u8>,
}

impl ChatLogprobs {
    pub fn of(tokens: Vec<sirocco_engine::logprobs::TokenLogprob>) -> Self {
        let content = tokens
            .into_iter()
            .map(|t| LogprobEntry {
                token: t.token,
                logprob: api_logprob(t.logprob),
                bytes: t.bytes,
                top_logprobs: t
                    .top
                    .into_iter()
                    .map(|a| TopLogprob { token: a.token, logprob: api_logprob(a.logprob), bytes: a.bytes })
                    .collect(),
            })
            .collect();
        Self { content }
    }
}

/// Legacy completions' `logprobs`: the tokens, theirs, the alternatives by text, and where
/// each token starts in the text (bytes).
#[derive(Debug, Serialize, Default)]
pub struct TextLogprobs {
    pub tokens: Vec<String>,
    pub token_logprobs: Vec<f64>,
    pub top_logprobs: Vec<serde_json::Map<String, Value>>,
    pub text_offset: Vec<usize>,
}

impl TextLogprobs {
    /// `tokens` appended; `offset`: where the first starts in the completion's text.
    pub fn of(tokens: Vec<sirocco_engine::logprobs::TokenLogprob>, offset: &mut usize) -> Self {
        let mut out = Self::default();
        for t in tokens {
            out.text_offset.push(*offset);
            *offset += t.bytes.len();
            out.token_logprobs.push(api_logprob(t.logprob));
            out.top_logprobs.push(t.top.into_iter().map(|a| (a.token, Value::from(api_logprob(a.logprob)))).collect());
            out.tokens.push(t.token);
        }
        out
    }
}

#[derive(Debug, Serialize)]
pub struct ChatCompletion {
    pub id: String,
    pub object: &'static str,
    pub created: u64,
    pub model: String,
    pub choices: Vec<ChatChoice>,
    pub usage: Usage,
    pub system_fingerprint: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Delta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// A piece of a reasoning model's thought.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ResponseToolCall>>,
}

#[derive(Debug, Serialize)]
pub struct ChunkChoice {
    pub index: u32,
    pub delta: Delta,
    pub finish_reason: Option<&'static str>,
    pub logprobs: Option<ChatLogprobs>,
}

#[derive(Debug, Serialize)]
pub struct ChatCompletionChunk {
    pub id: String,
    pub object: &'static str,
    pub created: u64,
    pub model: String,
    pub choices: Vec<ChunkChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    pub system_fingerprint: &'static str,
}

#[derive(Debug, Serialize)]
pub struct TextChoice {
    pub index: u32,
    pub text: String,
    /// A reasoning model's thought, apart from the text (as in chat completions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    pub finish_reason: Option<&'static str>,
    pub logprobs: Option<TextLogprobs>,
}

#[derive(Debug, Serialize)]
pub struct TextCompletion {
    pub id: String,
    pub object: &'static str,
    pub created: u64,
    pub model: String,
    pub choices: Vec<TextChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    pub system_fingerprint: &'static str,
}

/// `input` of an embeddings request: one text, several, or token ids (refused).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingInput {
    One(String),
    Many(Vec<String>),
    Tokens(serde::de::IgnoredAny),
}

#[derive(Debug, Deserialize)]
pub struct EmbeddingsRequest {
    #[serde(default)]
    pub model: Option<String>,
    pub input: EmbeddingInput,
    #[serde(default)]
    pub encoding_format: Option<String>,
    #[serde(default)]
    pub dimensions: Option<u32>,
}
