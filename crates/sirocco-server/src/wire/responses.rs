//! OpenAI's Responses API on the wire (`POST /v1/responses`): the request, the response object,
//! its output items and the streamed events, as the `openai` SDKs and Codex read them. Input
//! items arrive as JSON values and are read one by one (`routes/responses.rs`), so a bad item
//! gets an error naming it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub struct ResponsesRequest {
    #[serde(default)]
    pub model: Option<String>,
    /// A string (one user message) or a list of items.
    pub input: Value,
    /// A system message for this request only (not carried to a follow-up).
    #[serde(default)]
    pub instructions: Option<String>,
    #[serde(default)]
    pub tools: Option<Vec<Value>>,
    #[serde(default)]
    pub tool_choice: Option<Value>,
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub previous_response_id: Option<String>,
    #[serde(default)]
    pub reasoning: Option<ReasoningParam>,
    #[serde(default)]
    pub max_output_tokens: Option<u32>,
    #[serde(default)]
    pub temperature: Option<f32>,
    #[serde(default)]
    pub top_p: Option<f32>,
    /// Keep the answer for `previous_response_id` (the default, as OpenAI's).
    #[serde(default)]
    pub store: Option<bool>,
    #[serde(default)]
    pub text: Option<TextParam>,
    #[serde(default)]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub top_logprobs: Option<u32>,
    /// Sirocco's extra (as on chat completions): the most tokens the model may think for.
    #[serde(default)]
    pub thinking_budget: Option<u32>,
}

#[derive(Debug, Deserialize, Serialize, Clone, Default)]
pub struct ReasoningParam {
    /// `none`, `minimal`, `low`, `medium`, `high`, `xhigh` (Codex's highest; read as high).
    #[serde(default)]
    pub effort: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct TextParam {
    #[serde(default)]
    pub format: Option<TextFormat>,
}

#[derive(Debug, Deserialize)]
pub struct TextFormat {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub schema: Option<Value>,
}

/// The response object, whole or as the streamed events carry it.
#[derive(Debug, Serialize, Clone)]
pub struct ResponseObject {
    pub id: String,
    pub object: &'static str,
    pub created_at: u64,
    /// `in_progress`, `completed`, `incomplete` or `failed`.
    pub status: &'static str,
    pub error: Option<ResponseError>,
    pub incomplete_details: Option<IncompleteDetails>,
    pub instructions: Option<String>,
    pub max_output_tokens: Option<u32>,
    pub model: String,
    pub output: Vec<OutputItem>,
    pub parallel_tool_calls: bool,
    pub previous_response_id: Option<String>,
    pub reasoning: ReasoningParam,
    pub store: bool,
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    pub text: Value,
    pub tool_choice: Value,
    pub tools: Vec<Value>,
    pub truncation: &'static str,
    pub usage: Option<ResponseUsage>,
    pub metadata: Value,
}

#[derive(Debug, Serialize, Clone)]
pub struct ResponseError {
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Serialize, Clone)]
pub struct IncompleteDetails {
    pub reason: &'static str,
}

#[derive(Debug, Serialize, Clone)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputItem {
    /// A reasoning model's thought, whole (a local model's is not summarised).
    Reasoning {
        id: String,
        summary: Vec<Value>,
        content: Vec<ReasoningText>,
        /// The thought again, opaque (base64 of its text): Codex sends reasoning back only as
        /// this, and the server reads it.
        #[serde(skip_serializing_if = "Option::is_none")]
        encrypted_content: Option<String>,
    },
    Message {
        id: String,
        status: &'static str,
        role: &'static str,
        content: Vec<OutputText>,
    },
    FunctionCall {
        id: String,
        call_id: String,
        name: String,
        arguments: String,
        status: &'static str,
    },
}

#[derive(Debug, Serialize, Clone)]
pub struct ReasoningText {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
}

#[derive(Debug, Serialize, Clone)]
pub struct OutputText {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
    pub annotations: Vec<Value>,
    pub logprobs: Vec<Value>,
}

impl OutputText {
    pub fn new(text: String) -> Self {
        Self { kind: "output_text", text, annotations: Vec::new(), logprobs: Vec::new() }
    }
}

#[derive(Debug, Serialize, Clone, Copy)]
pub struct ResponseUsage {
    pub input_tokens: usize,
    pub input_tokens_details: InputTokensDetails,
    pub output_tokens: usize,
    pub output_tokens_details: OutputTokensDetails,
    pub total_tokens: usize,
}

#[derive(Debug, Serialize, Clone, Copy)]
pub struct InputTokensDetails {
    pub cached_tokens: usize,
}

#[derive(Debug, Serialize, Clone, Copy)]
pub struct OutputTokensDetails {
    pub reasoning_tokens: usize,
}

impl ResponseUsage {
    pub fn from_stats(stats: &sirocco_engine::GenerationStats) -> Self {
        Self {
            input_tokens: stats.prompt_tokens,
            input_tokens_details: InputTokensDetails { cached_tokens: stats.cached_tokens },
            output_tokens: stats.generated_tokens,
            output_tokens_details: OutputTokensDetails { reasoning_tokens: stats.reasoning_tokens },
            total_tokens: stats.prompt_tokens + stats.generated_tokens,
        }
    }
}

/// A streamed event: `event: <type>`, and this (with its place in the stream) as data.
#[derive(Debug, Serialize)]
pub struct StreamEvent {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub sequence_number: u64,
    #[serde(flatten)]
    pub body: EventBody,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum EventBody {
    Response {
        response: Box<ResponseObject>,
    },
    Item {
        output_index: usize,
        item: OutputItem,
    },
    Part {
        item_id: String,
        output_index: usize,
        content_index: usize,
        part: Value,
    },
    Delta {
        item_id: String,
        output_index: usize,
        content_index: usize,
        delta: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        logprobs: Option<Vec<Value>>,
    },
    TextDone {
        item_id: String,
        output_index: usize,
        content_index: usize,
        text: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        logprobs: Option<Vec<Value>>,
    },
    ArgumentsDelta {
        item_id: String,
        output_index: usize,
        delta: String,
    },
    ArgumentsDone {
        item_id: String,
        output_index: usize,
        name: String,
        arguments: String,
    },
}
