//! The engine: one thread owns llama.cpp (backend, model, context); callers talk to it
//! through channels. Loading reports progress and can be cancelled; generation streams
//! UTF-8 text pieces and stops within one token of a cancel.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc as async_mpsc, oneshot};

use crate::chat_template::ChatMessage;
use crate::tools::{ToolCall, ToolSpec};
use crate::gguf_file::{self, GgufSummary};
use crate::overflow::OverflowPolicy;
use crate::prompt::{PromptFormat, PromptFormatKind};
use crate::sampling::SamplingParams;
use crate::scheduler::{Scheduler, StateFiles};
use crate::{EngineError, Result};

/// Default context when the user has not chosen one: never the trained maximum
/// (some models claim a million positions).
pub const DEFAULT_CONTEXT: u32 = 4096;
/// llama.cpp rounds contexts up to a multiple of 256; smaller requests gain nothing.
const MIN_CONTEXT: u32 = 256;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum FlashAttention {
    /// llama.cpp decides per device.
    #[default]
    Auto,
    On,
    Off,
}

/// Element type of the KV cache (keys and values alike).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum KvCacheType {
    #[default]
    F16,
    Q8_0,
    Q4_0,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
    pub moe_experts_on_cpu: bool,
    /// Requests decoded together (continuous batching); the context's cells are shared by
    /// them, so one conversation alone can still use the whole context.
    pub parallel: u32,
    /// Where conversations' KV state is saved (see [`GenerateRequest::cache_key`]); `None`
    /// keeps nothing on disk.
    pub state_dir: Option<PathBuf>,
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
            moe_experts_on_cpu: false,
            parallel: DEFAULT_PARALLEL,
            state_dir: None,
        }
    }
}

/// A model the engine has loaded, as the UI describes it.
#[derive(Debug, Clone, Serialize)]
pub struct LoadedModel {
    pub summary: GgufSummary,
    pub context_length: u32,
    pub threads: u32,
    /// Requests that decode at once; more wait in a queue.
    pub parallel: u32,
    pub load_ms: u64,
    /// How prompts are built for this model.
    pub prompt_format: PromptFormatKind,
}

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
}

impl GenerateRequest {
    pub fn new(messages: Vec<ChatMessage>, sampling: SamplingParams) -> Self {
        Self {
            messages,
            sampling,
            reply_prefix: None,
            raw_prompt: None,
            suffix: None,
            overflow: OverflowPolicy::Stop,
            cache_key: None,
            tools: None,
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

#[derive(Debug, Clone, Serialize, PartialEq)]
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

#[derive(Debug, Clone, Serialize)]
pub struct GenerationStats {
    pub prompt_tokens: usize,
    /// Prompt tokens whose KV cache was kept from the previous turn (not computed again).
    pub cached_tokens: usize,
    pub generated_tokens: usize,
    pub time_to_first_token_ms: f64,
    pub prefill_tokens_per_second: f64,
    pub decode_tokens_per_second: f64,
    pub context_used: usize,
    pub context_length: usize,
    pub finish_reason: FinishReason,
    /// Messages the overflow policy left out so the conversation fits.
    pub dropped_messages: usize,
}

/// Embedding vectors, one per input, and the tokens they took.
#[derive(Debug, Clone, Serialize)]
pub struct Embeddings {
    pub vectors: Vec<Vec<f32>>,
    pub prompt_tokens: usize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GenerationEvent {
    /// A piece of text: always whole UTF-8 characters.
    Text { text: String },
    /// The reply calls these tools (sent once, just before `Done`).
    ToolCalls { calls: Vec<ToolCall> },
    Done { stats: GenerationStats },
    Error {
        message: String,
        /// The engine's state, not the request, is at fault (no model, the context busy with
        /// other requests): the same request may succeed later.
        #[serde(default)]
        busy: bool,
    },
}

impl GenerationEvent {
    pub fn error(e: &EngineError) -> Self {
        let busy = matches!(
            e,
            EngineError::NoModelLoaded | EngineError::ModelUnloaded | EngineError::ContextBusy { .. } | EngineError::EngineGone
        );
        Self::Error { message: e.to_string(), busy }
    }
}

/// A running generation: its events, and a flag that stops it within one token.
pub struct Generation {
    pub events: async_mpsc::UnboundedReceiver<GenerationEvent>,
    cancel: Arc<AtomicBool>,
}

impl Generation {
    pub fn cancel_handle(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }
}

type Progress = Box<dyn FnMut(f32) + Send>;

enum Command {
    Load {
        path: PathBuf,
        params: LoadParams,
        progress: Progress,
        cancel: Arc<AtomicBool>,
        reply: oneshot::Sender<Result<LoadedModel>>,
    },
    Unload {
        reply: oneshot::Sender<()>,
    },
    Generate {
        request: GenerateRequest,
        events: async_mpsc::UnboundedSender<GenerationEvent>,
        cancel: Arc<AtomicBool>,
    },
    PromptTokens {
        messages: Vec<ChatMessage>,
        reply_prefix: Option<String>,
        tools: Option<ToolSpec>,
        reply: oneshot::Sender<Result<Vec<i32>>>,
    },
    PersistState {
        key: String,
        reply: oneshot::Sender<Result<bool>>,
    },
    Embed {
        inputs: Vec<String>,
        reply: oneshot::Sender<Result<Embeddings>>,
    },
    InfillTokens {
        prefix: String,
        suffix: String,
        reply: oneshot::Sender<Result<Vec<i32>>>,
    },
    Tokenize {
        text: String,
        add_special: bool,
        parse_special: bool,
        reply: oneshot::Sender<Result<Vec<i32>>>,
    },
    Detokenize {
        tokens: Vec<i32>,
        special: bool,
        reply: oneshot::Sender<Result<String>>,
    },
}

/// Handle to the engine thread. Cheap to clone; the thread ends when every handle is gone.
#[derive(Clone)]
pub struct Engine {
    commands: mpsc::Sender<Command>,
}

/// llama.cpp's backend is process-wide and may be initialised once.
fn backend() -> &'static LlamaBackend {
    static BACKEND: OnceLock<LlamaBackend> = OnceLock::new();
    BACKEND.get_or_init(|| {
        llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
        LlamaBackend::init().expect("llama.cpp backend is initialised once, here")
    })
}

/// Initialises llama.cpp's backend if nothing has yet (device lists need it).
pub(crate) fn ensure_backend() {
    backend();
}

impl Default for Engine {
    fn default() -> Self {
        Self::start()
    }
}

impl Engine {
    pub fn start() -> Self {
        let (commands, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("sirocco-engine".into())
            .spawn(move || owner_loop(&rx))
            .expect("spawn the engine thread");
        Self { commands }
    }

    /// Validates and loads a model, replacing any loaded one. `progress` receives 0..=1;
    /// setting `cancel` aborts the load.
    pub async fn load(
        &self,
        path: &Path,
        params: LoadParams,
        progress: impl FnMut(f32) + Send + 'static,
        cancel: Arc<AtomicBool>,
    ) -> Result<LoadedModel> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Load {
            path: path.to_path_buf(),
            params,
            progress: Box::new(progress),
            cancel,
            reply,
        })?;
        answer.await.map_err(|_| EngineError::EngineGone)?
    }

    pub async fn unload(&self) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Unload { reply })?;
        answer.await.map_err(|_| EngineError::EngineGone)
    }

    /// Starts generating a reply to `request.messages`.
    pub fn generate(&self, request: GenerateRequest) -> Result<Generation> {
        let (events, rx) = async_mpsc::unbounded_channel();
        let cancel = Arc::new(AtomicBool::new(false));
        self.send(Command::Generate { request, events, cancel: cancel.clone() })?;
        Ok(Generation { events: rx, cancel })
    }

    /// The prompt tokens the loaded model would be given for `messages` (to count them, or
    /// to check a prompt format).
    pub async fn prompt_tokens(
        &self,
        messages: Vec<ChatMessage>,
        reply_prefix: Option<String>,
        tools: Option<ToolSpec>,
    ) -> Result<Vec<i32>> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::PromptTokens { messages, reply_prefix, tools, reply })?;
        answer.await.map_err(|_| EngineError::EngineGone)?
    }

    /// Saves the KV state of conversation `key` (when a slot holds it and it is not answering)
    /// to the load's `state_dir`; true when a file was written. The app calls it when the
    /// user leaves a conversation; every held conversation is also saved before a model
    /// unloads and when the engine stops.
    pub async fn persist_state(&self, key: String) -> Result<bool> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::PersistState { key, reply })?;
        answer.await.map_err(|_| EngineError::EngineGone)?
    }

    /// One embedding per input: the loaded model's hidden states pooled (the file's pooling, or
    /// the mean for a chat model) and scaled to unit length.
    pub async fn embed(&self, inputs: Vec<String>) -> Result<Embeddings> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Embed { inputs, reply })?;
        answer.await.map_err(|_| EngineError::EngineGone)?
    }

    /// The fill-in-the-middle prompt the loaded model would be given.
    pub async fn infill_tokens(&self, prefix: String, suffix: String) -> Result<Vec<i32>> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::InfillTokens { prefix, suffix, reply })?;
        answer.await.map_err(|_| EngineError::EngineGone)?
    }

    /// `text` as the loaded model's token ids (`add_special`: BOS and the like; `parse_special`:
    /// control-token text such as `<|im_start|>` becomes the control token).
    pub async fn tokenize(&self, text: String, add_special: bool, parse_special: bool) -> Result<Vec<i32>> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Tokenize { text, add_special, parse_special, reply })?;
        answer.await.map_err(|_| EngineError::EngineGone)?
    }

    /// Token ids back to text (`special`: control tokens rendered as their text). Ids outside
    /// the vocabulary are refused, never handed to llama.cpp.
    pub async fn detokenize(&self, tokens: Vec<i32>, special: bool) -> Result<String> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Detokenize { tokens, special, reply })?;
        answer.await.map_err(|_| EngineError::EngineGone)?
    }

    fn send(&self, command: Command) -> Result<()> {
        self.commands.send(command).map_err(|_| EngineError::EngineGone)
    }
}

fn owner_loop(rx: &mpsc::Receiver<Command>) {
    let mut next = None;
    loop {
        let command = match next.take() {
            Some(c) => c,
            None => match rx.recv() {
                Ok(c) => c,
                Err(_) => return,
            },
        };
        match command {
            Command::Load { path, params, progress, cancel, reply } => {
                next = serve_model(&path, &params, progress, &cancel, reply, rx);
            }
            Command::Unload { reply } => {
                let _ = reply.send(());
            }
            Command::Generate { events, .. } => {
                let _ = events.send(GenerationEvent::error(&EngineError::NoModelLoaded));
            }
            Command::Embed { reply, .. } => {
                let _ = reply.send(Err(EngineError::NoModelLoaded));
            }
            Command::PersistState { reply, .. } => {
                let _ = reply.send(Ok(false));
            }
            Command::PromptTokens { reply, .. } | Command::InfillTokens { reply, .. } | Command::Tokenize { reply, .. } => {
                let _ = reply.send(Err(EngineError::NoModelLoaded));
            }
            Command::Detokenize { reply, .. } => {
                let _ = reply.send(Err(EngineError::NoModelLoaded));
            }
        }
    }
}

/// Loads a model and serves generations on it until another load or an unload arrives.
/// The model and context live on this stack frame, so they are freed before the next load.
fn serve_model(
    path: &Path,
    params: &LoadParams,
    mut progress: Progress,
    cancel: &Arc<AtomicBool>,
    reply: oneshot::Sender<Result<LoadedModel>>,
    rx: &mpsc::Receiver<Command>,
) -> Option<Command> {
    let started = Instant::now();
    let summary = match gguf_file::inspect(path) {
        Ok(s) => s,
        Err(e) => {
            let _ = reply.send(Err(e));
            return None;
        }
    };
    let cancel_load = cancel.clone();
    if params.kv_cache_type != KvCacheType::F16 && params.flash_attention == FlashAttention::Off {
        let _ = reply.send(Err(EngineError::InvalidRequest(
            "a quantized KV cache needs flash attention (set it to on or auto)".into(),
        )));
        return None;
    }
    let model_params = LlamaModelParams::default()
        .with_n_gpu_layers(params.gpu_layers)
        .with_use_mmap(params.use_mmap)
        .with_use_mlock(params.use_mlock)
        .with_progress_callback(move |fraction| {
            progress(fraction);
            !cancel_load.load(Ordering::Relaxed)
        });
    // The override list points into itself: the parameters must not move once it is set.
    let mut model_params = std::pin::pin!(model_params);
    if params.moe_experts_on_cpu && summary.expert_count.unwrap_or(0) > 1 {
        model_params.as_mut().add_cpu_moe_override();
    }
    let model = match LlamaModel::load_from_file(backend(), path, &model_params) {
        Ok(m) => m,
        Err(_) if cancel.load(Ordering::Relaxed) => {
            let _ = reply.send(Err(EngineError::LoadCancelled));
            return None;
        }
        Err(_) => {
            let _ = reply.send(Err(EngineError::LoadFailed { path: path.to_path_buf() }));
            return None;
        }
    };
    let threads = params.threads.unwrap_or_else(default_threads).max(1);
    let trained = model.n_ctx_train().max(1);
    let context_length =
        params.context_length.unwrap_or(DEFAULT_CONTEXT).clamp(MIN_CONTEXT.min(trained), trained);
    let batch = params.batch_size.max(1).min(context_length);
    let slots = params.parallel.clamp(1, MAX_PARALLEL);
    let ctx_params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(context_length))
        .with_n_batch(batch)
        .with_n_ubatch(batch)
        .with_n_seq_max(slots)
        .with_kv_unified(true)
        .with_n_threads(threads as i32)
        .with_n_threads_batch(threads as i32)
        .with_flash_attention_policy(match params.flash_attention {
            FlashAttention::Auto => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_AUTO,
            FlashAttention::On => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_ENABLED,
            FlashAttention::Off => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED,
        })
        .with_type_k(params.kv_cache_type.into())
        .with_type_v(params.kv_cache_type.into());
    let ctx = match model.new_context(backend(), ctx_params) {
        Ok(c) => c,
        Err(e) => {
            let _ = reply.send(Err(EngineError::ContextFailed(e.to_string())));
            return None;
        }
    };
    let prompt_format = PromptFormat::for_model(&model, &summary, params.chat_template_override.as_deref());
    let states = params.state_dir.clone().map(|dir| StateFiles { dir, fingerprint: fingerprint(&summary, params, context_length) });
    let mut scheduler = Scheduler::new(&model, ctx, slots as usize, batch as usize, states);
    // Made on the first embeddings request.
    let mut embedder: Option<Embedder<'_>> = None;
    let loaded = LoadedModel {
        summary,
        context_length: scheduler.ctx.n_ctx(),
        threads,
        parallel: slots,
        load_ms: started.elapsed().as_millis() as u64,
        prompt_format: prompt_format.kind.clone(),
    };
    tracing::info!(path = %path.display(), ms = loaded.load_ms, "model loaded");
    if reply.send(Ok(loaded)).is_err() {
        return None;
    }

    loop {
        // While requests are decoding, take commands between steps without waiting.
        let command = if scheduler.has_work() {
            match rx.try_recv() {
                Ok(c) => Some(c),
                Err(mpsc::TryRecvError::Empty) => None,
                Err(mpsc::TryRecvError::Disconnected) => {
                    scheduler.persist_all();
                    return None;
                }
            }
        } else {
            match rx.recv() {
                Ok(c) => Some(c),
                Err(_) => {
                    // Every handle is gone (the app is closing): keep the conversations.
                    scheduler.persist_all();
                    return None;
                }
            }
        };
        let Some(command) = command else {
            scheduler.step();
            continue;
        };
        match command {
            Command::Generate { request, events, cancel } => {
                scheduler.submit(&prompt_format, &request, events, cancel);
            }
            Command::PromptTokens { messages, reply_prefix, tools, reply } => {
                let tokens = prompt_format.tokens(&model, &messages, reply_prefix.as_deref(), tools.as_ref());
                let _ = reply.send(tokens.map(|t| t.into_iter().map(|t| t.0).collect()));
            }
            Command::Embed { inputs, reply } => {
                if embedder.is_none() {
                    match Embedder::new(&model, threads) {
                        Ok(e) => embedder = Some(e),
                        Err(e) => {
                            let _ = reply.send(Err(e));
                            continue;
                        }
                    }
                }
                let _ = reply.send(embedder.as_mut().expect("made above").embed(&model, &inputs));
            }
            Command::InfillTokens { prefix, suffix, reply } => {
                let tokens = prompt_format.infill_tokens(&model, &prefix, &suffix);
                let _ = reply.send(tokens.map(|t| t.into_iter().map(|t| t.0).collect()));
            }
            Command::Tokenize { text, add_special, parse_special, reply } => {
                let tokens = model.vocab().tokenize(text.as_bytes(), add_special, parse_special);
                let _ = reply.send(Ok(tokens.into_iter().map(|t| t.0).collect()));
            }
            Command::Detokenize { tokens, special, reply } => {
                let _ = reply.send(detokenize(&model, tokens, special));
            }
            Command::PersistState { key, reply } => {
                let _ = reply.send(scheduler.persist(&key));
            }
            Command::Unload { reply } => {
                scheduler.abort_all(&EngineError::ModelUnloaded);
                scheduler.persist_all();
                drop(embedder);
                drop(scheduler);
                drop(model);
                let _ = reply.send(());
                return None;
            }
            load @ Command::Load { .. } => {
                scheduler.abort_all(&EngineError::ModelUnloaded);
                scheduler.persist_all();
                return Some(load);
            }
        }
    }
}

/// Names a load's saved states: the model file (path and size) and what shapes its cache
/// (context length, cache type, flash attention). FNV-1a, stable across builds.
fn fingerprint(summary: &GgufSummary, params: &LoadParams, context_length: u32) -> String {
    let text = format!(
        "{}|{}|{}|{:?}|{:?}",
        summary.path.display(),
        summary.file_size,
        context_length,
        params.kv_cache_type,
        params.flash_attention
    );
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    format!("{hash:016x}")
}

/// A second context on the same weights, for embeddings: pooled output, one input at a time.
struct Embedder<'m> {
    ctx: llama_cpp_2::context::LlamaContext<'m>,
    n_ctx: usize,
}

/// Longest input an embedding takes (one batch: pooling sees the whole input at once).
const EMBED_CONTEXT: u32 = 2048;

impl<'m> Embedder<'m> {
    fn new(model: &'m LlamaModel, threads: u32) -> Result<Self> {
        use llama_cpp_2::context::params::LlamaPoolingType;
        let n = EMBED_CONTEXT.min(model.n_ctx_train().max(1));
        // Embedding models say how they pool; a chat model's states are averaged.
        let arch = model.meta_val_str("general.architecture").unwrap_or_default();
        let pooling = if model.meta_val_str(&format!("{arch}.pooling_type")).is_ok() {
            LlamaPoolingType::Unspecified
        } else {
            LlamaPoolingType::Mean
        };
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n))
            .with_n_batch(n)
            .with_n_ubatch(n)
            .with_n_seq_max(1)
            .with_n_threads(threads as i32)
            .with_n_threads_batch(threads as i32)
            .with_embeddings(true)
            .with_pooling_type(pooling);
        let ctx = model.new_context(backend(), params).map_err(|e| EngineError::ContextFailed(e.to_string()))?;
        Ok(Self { ctx, n_ctx: n as usize })
    }

    fn embed(&mut self, model: &LlamaModel, inputs: &[String]) -> Result<Embeddings> {
        let mut vectors = Vec::with_capacity(inputs.len());
        let mut prompt_tokens = 0;
        for (i, input) in inputs.iter().enumerate() {
            let tokens = model.vocab().tokenize(input.as_bytes(), true, false);
            if tokens.is_empty() || tokens.len() > self.n_ctx {
                return Err(EngineError::InvalidRequest(format!(
                    "input {i} is {} tokens long; an embedding takes 1 to {} tokens",
                    tokens.len(),
                    self.n_ctx
                )));
            }
            prompt_tokens += tokens.len();
            self.ctx.clear_kv_cache();
            let mut batch = LlamaBatch::new(tokens.len(), 1);
            for (pos, token) in tokens.iter().enumerate() {
                batch.add(*token, pos as i32, &[0], true).map_err(|e| EngineError::Decode(e.to_string()))?;
            }
            let decoded = crate::compute::run(|| self.ctx.decode(&mut batch));
            decoded.map_err(|e| EngineError::Decode(e.to_string()))?;
            let pooled = self.ctx.embeddings_seq_ith(0).map_err(|e| EngineError::Decode(e.to_string()))?;
            let norm = pooled.iter().map(|x| x * x).sum::<f32>().sqrt();
            vectors.push(pooled.iter().map(|x| if norm > 0.0 { x / norm } else { *x }).collect());
        }
        Ok(Embeddings { vectors, prompt_tokens })
    }
}

fn detokenize(model: &LlamaModel, tokens: Vec<i32>, special: bool) -> Result<String> {
    let vocab = model.vocab();
    let n = vocab.n_tokens();
    if let Some(bad) = tokens.iter().find(|&&t| t < 0 || t >= n) {
        return Err(EngineError::InvalidRequest(format!(
            "token id {bad} is outside this model's vocabulary (0 to {})",
            n - 1
        )));
    }
    let mut bytes = Vec::new();
    for t in tokens {
        bytes.extend(vocab.token_to_piece(LlamaToken(t), special, None));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

impl From<KvCacheType> for llama_cpp_2::context::params::KvCacheType {
    fn from(t: KvCacheType) -> Self {
        match t {
            KvCacheType::F16 => Self::F16,
            KvCacheType::Q8_0 => Self::Q8_0,
            KvCacheType::Q4_0 => Self::Q4_0,
        }
    }
}

/// Physical cores: hyper-threads only add contention to llama.cpp's matrix kernels.
fn default_threads() -> u32 {
    static CORES: OnceLock<u32> = OnceLock::new();
    *CORES.get_or_init(|| crate::hardware::Hardware::detect().physical_cores)
}
