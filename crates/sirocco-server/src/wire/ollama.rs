//! Ollama's wire types (its native `/api/*` API, as the official clients send and read it).
//! Unknown fields are ignored, as Ollama does; counts and durations it leaves out when zero are
//! left out here too. Durations are nanoseconds; times are RFC 3339 in UTC.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ToolDefinition;

/// `options`: the sampling settings a request may set, and `num_ctx` (the context a model the
/// server loads is loaded with). Ollama logs and ignores keys it does not know; so does this
/// (they are not fields here).
#[derive(Debug, Default, Deserialize)]
pub struct Options {
    pub num_ctx: Option<u32>,
    pub num_predict: Option<i64>,
    pub temperature: Option<f32>,
    pub top_k: Option<i32>,
    pub top_p: Option<f32>,
    pub min_p: Option<f32>,
    pub seed: Option<i64>,
    pub stop: Option<Vec<String>>,
    pub repeat_penalty: Option<f32>,
    pub presence_penalty: Option<f32>,
    pub frequency_penalty: Option<f32>,
}

/// `think`: on, off, or how hard (`low`, `medium`, `high`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Think {
    On(bool),
    Level(String),
}

/// `keep_alive`: seconds as a number, or a duration as text (`5m`, `1h30m`); negative is
/// forever, 0 unloads now.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum KeepAlive {
    Seconds(f64),
    Text(String),
}

#[derive(Debug, Deserialize)]
pub struct Message {
    pub role: String,
    #[serde(default)]
    pub content: String,
    /// Base64 images (no data-URL prefix).
    #[serde(default)]
    pub images: Vec<String>,
    #[serde(default)]
    pub tool_calls: Vec<ToolCallIn>,
    /// A tool result's tool (Ollama's clients send this rather than a call id).
    #[serde(default)]
    pub tool_name: Option<String>,
    #[serde(default)]
    pub tool_call_id: Option<String>,
    #[serde(default)]
    pub thinking: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ToolCallIn {
    #[serde(default)]
    pub id: Option<String>,
    pub function: FunctionIn,
}

#[derive(Debug, Deserialize)]
pub struct FunctionIn {
    pub name: String,
    /// An object (Ollama's form); a JSON string holding one is taken too.
    #[serde(default)]
    pub arguments: Value,
}

#[derive(Debug, Deserialize)]
pub struct ChatRequest {
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub tools: Vec<ToolDefinition>,
    /// `"json"` or a JSON schema.
    #[serde(default)]
    pub format: Option<Value>,
    #[serde(default)]
    pub options: Option<Options>,
    #[serde(default)]
    pub keep_alive: Option<KeepAlive>,
    /// Streams unless `false`.
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub think: Option<Think>,
}

#[derive(Debug, Deserialize)]
pub struct GenerateRequest {
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub prompt: String,
    /// Fill-in-the-middle: the text after the cursor.
    #[serde(default)]
    pub suffix: Option<String>,
    #[serde(default)]
    pub system: Option<String>,
    /// No chat template: the prompt is the whole prompt.
    #[serde(default)]
    pub raw: bool,
    #[serde(default)]
    pub images: Vec<String>,
    #[serde(default)]
    pub format: Option<Value>,
    #[serde(default)]
    pub options: Option<Options>,
    #[serde(default)]
    pub keep_alive: Option<KeepAlive>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub think: Option<Think>,
    /// An earlier answer's `context`: the conversation so far, as tokens, continued.
    #[serde(default)]
    pub context: Option<Vec<i32>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum EmbedInput {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
pub struct EmbedRequest {
    #[serde(default)]
    pub model: String,
    pub input: EmbedInput,
    /// Inputs longer than the context are cut (the default) rather than refused.
    #[serde(default)]
    pub truncate: Option<bool>,
    #[serde(default)]
    pub dimensions: Option<usize>,
    #[serde(default)]
    pub keep_alive: Option<KeepAlive>,
}

/// The older `/api/embeddings`.
#[derive(Debug, Deserialize)]
pub struct EmbeddingsRequest {
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub prompt: String,
    #[serde(default)]
    pub keep_alive: Option<KeepAlive>,
}

/// `/api/show` (and `/api/delete`): the model by `model`, or the older `name`.
#[derive(Debug, Deserialize)]
pub struct ModelRequest {
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub name: String,
}

impl ModelRequest {
    pub fn model(&self) -> &str {
        if self.model.is_empty() {
            &self.name
        } else {
            &self.model
        }
    }
}

/// What a model is, in `tags`, `show` and `ps`.
#[derive(Debug, Clone, Serialize)]
pub struct Details {
    pub parent_model: String,
    pub format: &'static str,
    pub family: String,
    pub families: Vec<String>,
    /// `7.2B`, `135M`.
    pub parameter_size: String,
    /// `Q4_K_M`, `F16`.
    pub quantization_level: String,
}

#[derive(Debug, Serialize)]
pub struct ListedModel {
    pub name: String,
    pub model: String,
    pub modified_at: String,
    pub size: u64,
    pub digest: String,
    pub details: Details,
}

#[derive(Debug, Serialize)]
pub struct RunningModel {
    pub name: String,
    pub model: String,
    pub size: u64,
    pub digest: String,
    pub details: Details,
    pub expires_at: String,
    pub size_vram: u64,
    pub context_length: u32,
}

/// A chat answer's message (a streamed piece, or the whole).
#[derive(Debug, Serialize)]
pub struct AnswerMessage {
    pub role: &'static str,
    pub content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCallOut>,
}

#[derive(Debug, Serialize)]
pub struct ToolCallOut {
    pub id: String,
    pub function: FunctionOut,
}

#[derive(Debug, Serialize)]
pub struct FunctionOut {
    pub index: usize,
    pub name: String,
    /// Always an object.
    pub arguments: Value,
}

/// The figures of a finished answer (nanoseconds; zero ones left out).
#[derive(Debug, Default, Serialize)]
pub struct Metrics {
    #[serde(skip_serializing_if = "is_zero")]
    pub total_duration: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub load_duration: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub prompt_eval_count: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub prompt_eval_duration: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub eval_count: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub eval_duration: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Serialize)]
pub struct ChatChunk {
    pub model: String,
    pub created_at: String,
    pub message: AnswerMessage,
    pub done: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done_reason: Option<&'static str>,
    #[serde(flatten)]
    pub metrics: Metrics,
}

#[derive(Debug, Serialize)]
pub struct GenerateChunk {
    pub model: String,
    pub created_at: String,
    pub response: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    pub done: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done_reason: Option<&'static str>,
    /// The conversation so far as tokens (Ollama's older way to continue one); only on the
    /// last piece, and never for `raw`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Vec<i32>>,
    #[serde(flatten)]
    pub metrics: Metrics,
}
