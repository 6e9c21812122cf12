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
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc as async_mpsc, oneshot};

use crate::chat_template::ChatMessage;
use crate::gguf_file::{self, GgufSummary};
use crate::overflow::{self, OverflowPolicy};
use crate::prompt::{PromptFormat, PromptFormatKind};
use crate::sampling::SamplingParams;
use crate::stop_strings::StopStrings;
use crate::utf8_stream::Utf8Stream;
use crate::{EngineError, Result};

/// Default context when the user has not chosen one: never the trained maximum
/// (some models claim a million positions).
const DEFAULT_CONTEXT: u32 = 4096;
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
}

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
        }
    }
}

/// A model the engine has loaded, as the UI describes it.
#[derive(Debug, Clone, Serialize)]
pub struct LoadedModel {
    pub summary: GgufSummary,
    pub context_length: u32,
    pub threads: u32,
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
    /// What to do when the conversation does not fit the context.
    #[serde(default)]
    pub overflow: OverflowPolicy,
}

impl GenerateRequest {
    pub fn new(messages: Vec<ChatMessage>, sampling: SamplingParams) -> Self {
        Self { messages, sampling, reply_prefix: None, raw_prompt: None, overflow: OverflowPolicy::Stop }
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

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GenerationEvent {
    /// A piece of text: always whole UTF-8 characters.
    Text { text: String },
    Done { stats: GenerationStats },
    Error { message: String },
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
    ) -> Result<Vec<i32>> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::PromptTokens { messages, reply_prefix, reply })?;
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
                let _ = events.send(GenerationEvent::Error {
                    message: EngineError::NoModelLoaded.to_string(),
                });
            }
            Command::PromptTokens { reply, .. } | Command::Tokenize { reply, .. } => {
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
    let ctx_params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(context_length))
        .with_n_batch(batch)
        .with_n_ubatch(batch)
        .with_n_seq_max(1)
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
    let mut slot = Slot { ctx, kv_tokens: Vec::new(), batch_size: batch as usize };
    let prompt_format = PromptFormat::for_model(&model, &summary, params.chat_template_override.as_deref());
    let loaded = LoadedModel {
        summary,
        context_length: slot.ctx.n_ctx(),
        threads,
        load_ms: started.elapsed().as_millis() as u64,
        prompt_format: prompt_format.kind.clone(),
    };
    tracing::info!(path = %path.display(), ms = loaded.load_ms, "model loaded");
    if reply.send(Ok(loaded)).is_err() {
        return None;
    }

    loop {
        match rx.recv() {
            Ok(Command::Generate { request, events, cancel }) => {
                let outcome = generate(&model, &mut slot, &prompt_format, &request, &events, &cancel);
                let event = match outcome {
                    Ok(stats) => GenerationEvent::Done { stats },
                    Err(e) => GenerationEvent::Error { message: e.to_string() },
                };
                let _ = events.send(event);
            }
            Ok(Command::PromptTokens { messages, reply_prefix, reply }) => {
                let tokens = prompt_format.tokens(&model, &messages, reply_prefix.as_deref());
                let _ = reply.send(tokens.map(|t| t.into_iter().map(|t| t.0).collect()));
            }
            Ok(Command::Tokenize { text, add_special, parse_special, reply }) => {
                let tokens = model.vocab().tokenize(text.as_bytes(), add_special, parse_special);
                let _ = reply.send(Ok(tokens.into_iter().map(|t| t.0).collect()));
            }
            Ok(Command::Detokenize { tokens, special, reply }) => {
                let vocab = model.vocab();
                let n = vocab.n_tokens();
                let result = match tokens.iter().find(|&&t| t < 0 || t >= n) {
                    Some(bad) => Err(EngineError::InvalidRequest(format!(
                        "token id {bad} is outside this model's vocabulary (0 to {})",
                        n - 1
                    ))),
                    None => {
                        let mut bytes = Vec::new();
                        for t in tokens {
                            bytes.extend(vocab.token_to_piece(LlamaToken(t), special, None));
                        }
                        Ok(String::from_utf8_lossy(&bytes).into_owned())
                    }
                };
                let _ = reply.send(result);
            }
            Ok(Command::Unload { reply }) => {
                drop(slot);
                drop(model);
                let _ = reply.send(());
                return None;
            }
            Ok(load @ Command::Load { .. }) => return Some(load),
            Err(_) => return None,
        }
    }
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

/// A context and the tokens its KV cache holds (sequence 0), so the next turn can keep the
/// shared prefix instead of computing it again.
struct Slot<'m> {
    ctx: LlamaContext<'m>,
    kv_tokens: Vec<LlamaToken>,
    batch_size: usize,
}

impl Slot<'_> {
    /// Makes the KV cache hold exactly `tokens[..n]` for the largest reusable `n`, then
    /// computes the rest. Returns how many prompt tokens were reused (`None`: cancelled).
    fn prefill(
        &mut self,
        tokens: &[LlamaToken],
        batch: &mut LlamaBatch,
        cancel: &AtomicBool,
    ) -> Result<Option<usize>> {
        let shared = self.kv_tokens.iter().zip(tokens).take_while(|(a, b)| a == b).count();
        // The last prompt token is always computed again: its logits start the reply.
        let mut keep = shared.min(tokens.len() - 1);
        if keep < self.kv_tokens.len() {
            let removed = self.ctx.clear_kv_cache_seq(Some(0), Some(keep as u32), None);
            if !matches!(removed, Ok(true)) {
                // Some caches (e.g. sliding-window ones) cannot drop a tail: start over.
                self.ctx.clear_kv_cache();
                keep = 0;
            }
        }
        self.kv_tokens.truncate(keep);
        for part in tokens[keep..].chunks(self.batch_size) {
            if cancel.load(Ordering::Relaxed) {
                return Ok(None);
            }
            batch.clear();
            for token in part {
                let pos = self.kv_tokens.len();
                let last = pos == tokens.len() - 1;
                batch.add(*token, pos as i32, &[0], last).map_err(decode_error)?;
                self.kv_tokens.push(*token);
            }
            self.decode(batch)?;
        }
        Ok(Some(keep))
    }

    /// Appends one generated token to the sequence.
    fn push(&mut self, token: LlamaToken, batch: &mut LlamaBatch) -> Result<()> {
        batch.clear();
        batch.add(token, self.kv_tokens.len() as i32, &[0], true).map_err(decode_error)?;
        self.kv_tokens.push(token);
        self.decode(batch)
    }

    fn decode(&mut self, batch: &mut LlamaBatch) -> Result<()> {
        self.ctx.decode(batch).map_err(|e| {
            // What the cache holds is unknown after a failed decode: reuse nothing.
            self.kv_tokens.clear();
            self.ctx.clear_kv_cache();
            decode_error(e)
        })
    }
}

fn decode_error(e: impl std::fmt::Display) -> EngineError {
    EngineError::Decode(e.to_string())
}

fn generate(
    model: &LlamaModel,
    slot: &mut Slot<'_>,
    format: &PromptFormat,
    request: &GenerateRequest,
    events: &async_mpsc::UnboundedSender<GenerationEvent>,
    cancel: &AtomicBool,
) -> Result<GenerationStats> {
    let started = Instant::now();
    let mut sampler = request.sampling.token_picker(model)?;
    let n_ctx = slot.ctx.n_ctx() as usize;
    let prefix = request.reply_prefix.as_deref();
    let (tokens, dropped_messages) = match &request.raw_prompt {
        Some(prompt) => (model.vocab().tokenize(prompt.as_bytes(), true, true), 0),
        None => {
            let mut last = Vec::new();
            let (kept, dropped) = overflow::fit(&request.messages, request.overflow, n_ctx, |ms| {
                last = format.tokens(model, ms, prefix)?;
                Ok(last.len())
            })?;
            // `last` holds the tokens of the final candidate, which is `kept`.
            debug_assert_eq!(kept.len() + dropped, request.messages.len());
            (last, dropped)
        }
    };
    // One position must stay free for the first generated token.
    if tokens.is_empty() || tokens.len() >= n_ctx {
        return Err(EngineError::ContextOverflow { prompt_tokens: tokens.len(), context_size: n_ctx });
    }

    let mut batch = LlamaBatch::new(slot.batch_size, 1);
    let Some(cached) = slot.prefill(&tokens, &mut batch, cancel)? else {
        let mut s = stats(tokens.len(), 0, 0, started, None, None, n_ctx, FinishReason::Cancelled);
        s.dropped_messages = dropped_messages;
        return Ok(s);
    };
    let prefill_done = Instant::now();

    let vocab = model.vocab();
    let mut utf8 = Utf8Stream::default();
    let mut stops = StopStrings::new(&request.sampling.stop);
    let mut generated = 0usize;
    let mut first_token_at = None;
    let max_tokens = request.sampling.max_tokens.max(1) as usize;
    let send = |text: String| text.is_empty() || events.send(GenerationEvent::Text { text }).is_ok();
    let finish = loop {
        if cancel.load(Ordering::Relaxed) {
            break FinishReason::Cancelled;
        }
        let token = sampler.pick(&slot.ctx, batch.n_tokens() - 1);
        first_token_at.get_or_insert_with(Instant::now);
        if vocab.is_eog(token) && !request.sampling.ignore_eos {
            break FinishReason::Stop;
        }
        generated += 1;
        let checked = stops.push(&utf8.push(&vocab.token_to_piece(token, false, None)));
        if !send(checked.emit) {
            // Nobody is listening any more: the caller went away.
            break FinishReason::Cancelled;
        }
        if checked.stopped {
            break FinishReason::Stop;
        }
        if generated >= max_tokens {
            break FinishReason::Length;
        }
        if slot.kv_tokens.len() + 1 >= n_ctx {
            break FinishReason::ContextFull;
        }
        slot.push(token, &mut batch)?;
    };
    // Whatever is still held back (an incomplete character, a possible stop string start).
    let tail = utf8.finish();
    let held = stops.push(&tail);
    if !held.stopped {
        send(held.emit + &stops.finish());
    }
    let mut done = stats(
        tokens.len(),
        cached,
        generated,
        started,
        Some(prefill_done),
        first_token_at,
        n_ctx,
        finish,
    );
    done.dropped_messages = dropped_messages;
    Ok(done)
}

#[allow(clippy::too_many_arguments)]
fn stats(
    prompt_tokens: usize,
    cached_tokens: usize,
    generated: usize,
    started: Instant,
    prefill_done: Option<Instant>,
    first_token_at: Option<Instant>,
    n_ctx: usize,
    finish_reason: FinishReason,
) -> GenerationStats {
    let now = Instant::now();
    let per_second = |n: usize, secs: f64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
    let prefill_secs = prefill_done.map_or(0.0, |t| (t - started).as_secs_f64());
    let decode_secs = first_token_at.map_or(0.0, |t| (now - t).as_secs_f64());
    GenerationStats {
        prompt_tokens,
        cached_tokens,
        generated_tokens: generated,
        time_to_first_token_ms: first_token_at.map_or(0.0, |t| (t - started).as_secs_f64() * 1e3),
        prefill_tokens_per_second: per_second(prompt_tokens - cached_tokens, prefill_secs),
        // The first token's time belongs to the prefill; decode counts the rest.
        decode_tokens_per_second: per_second(generated.saturating_sub(1), decode_secs),
        context_used: prompt_tokens + generated,
        context_length: n_ctx,
        finish_reason,
        dropped_messages: 0,
    }
}
