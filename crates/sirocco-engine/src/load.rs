//! What a load gives back ([`LoadedModel`]); what it asks for is `sirocco_types::LoadParams`.

use serde::{Deserialize, Serialize};

use crate::gguf_file::GgufSummary;
use crate::prompt::PromptFormatKind;

/// A model the engine has loaded, as the UI describes it.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct LoadedModel {
    pub summary: GgufSummary,
    pub context_length: u32,
    pub threads: u32,
    /// Requests that decode at once; more wait in a queue.
    pub parallel: u32,
    pub load_ms: u64,
    /// How prompts are built for this model.
    pub prompt_format: PromptFormatKind,
    /// The model thinks before it answers (its format marks a thought: Mistral's `[THINK]`
    /// tokens, or `<think>` tags in its template), so effort and a thinking budget apply.
    #[serde(default)]
    pub thinks: bool,
    /// The projector loaded with the model: it sees images.
    #[serde(default)]
    pub projector: Option<crate::gguf_file::ProjectorSummary>,
    /// What it drafts tokens with (llama.cpp's names, e.g. `ngram-mod,draft-simple`), if it does.
    #[serde(default)]
    pub drafting: Option<String>,
}
