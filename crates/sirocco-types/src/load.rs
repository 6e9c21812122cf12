//! What a load asks for: [`LoadParams`], with its defaults and limits.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Default context when the user has not chosen one: never the trained maximum
/// (some models claim a million positions).
pub const DEFAULT_CONTEXT: u32 = 4096;
/// llama.cpp rounds contexts up to a multiple of 256; smaller requests gain nothing.
pub const MIN_CONTEXT: u32 = 256;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum FlashAttention {
    /// llama.cpp decides per device.
    #[default]
    Auto,
    On,
    Off,
}

/// Element type of the KV cache (keys and values alike).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum KvCacheType {
    #[default]
    F16,
    Q8_0,
    Q4_0,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(default)]
pub struct LoadParams {
    /// Context length in tokens; `None` picks a safe default capped by the trained maximum.
    pub context_length: Option<u32>,
    pub gpu_layers: u32,
    /// Threads for decoding and prefill; `None` uses the machine's cores.
    pub threads: Option<u32>,
    pub batch_size: u32,
    pub flash_attention: FlashAttention,
    pub kv_cache_type: KvCacheType,
    /// Map the file instead of reading it (shares pages with the OS cache).
    pub use_mmap: bool,
    /// Pin the weights in RAM so the OS never swaps them out.
    pub use_mlock: bool,
    /// A Jinja chat template to use instead of the file's (the user's override per model).
    pub chat_template_override: Option<String>,
    /// Mixture-of-experts models: keep the expert tensors (most of the weights, each used by
    /// a few tokens) in RAM while attention and the rest go to the GPU.
    /// (Named `moe_experts_on_cpu` before; that name is still read.)
    #[serde(alias = "moe_experts_on_cpu")]
    pub experts_on_cpu: bool,
    /// Requests decoded together (continuous batching); the context's cells are shared by
    /// them, so one conversation alone can still use the whole context.
    pub parallel: u32,
    /// Where conversations' KV state is saved (see the engine's `GenerateRequest::cache_key`); `None`
    /// keeps nothing on disk.
    pub state_dir: Option<PathBuf>,
    /// Other machines running `sirocco worker` (`host:port`): their devices take offloaded
    /// layers beside local GPUs. A model with workers runs in an engine process of its own
    /// (see the engine's `process`), so a worker lost mid-answer ends that process, never the app.
    pub workers: Vec<String>,
    /// The model's multimodal projector (`mmproj-*.gguf`), loaded with it through llama.cpp's
    /// `mtmd`: the model then sees images in messages.
    pub projector: Option<PathBuf>,
    /// Drafted tokens (see [`crate::drafting`]): n-grams of the conversation, a draft model, MTP.
    pub drafting: crate::drafting::Drafting,
}

/// Sequence slots a context gets unless the user chooses.
pub const DEFAULT_PARALLEL: u32 = 4;
/// Most sequence slots a context gets.
pub const MAX_PARALLEL: u32 = 16;

impl Default for LoadParams {
    fn default() -> Self {
        Self {
            context_length: None,
            gpu_layers: 0,
            threads: None,
            batch_size: 512,
            flash_attention: FlashAttention::Auto,
            kv_cache_type: KvCacheType::F16,
            use_mmap: true,
            use_mlock: false,
            chat_template_override: None,
            experts_on_cpu: false,
            parallel: DEFAULT_PARALLEL,
            state_dir: None,
            workers: Vec::new(),
            projector: None,
            drafting: Default::default(),
        }
    }
}
