//! The engine: one thread per loaded model owns that model and its context (llama.cpp's
//! backend is process-wide); callers talk to it through channels. Loading reports progress and
//! can be cancelled; generation streams UTF-8 text pieces and stops within one token of a cancel.
//!
//! Invariants:
//! - One thread owns each model: `serve_model` keeps the model and its context on its stack
//!   and returns to `owner_loop` before the next load, so the old model is freed first.
//! - Every file passes `gguf_file::inspect` before llama.cpp loads it.
//! - Between commands the thread runs the scheduler's steps; a request stops when its cancel
//!   flag is set or its receiver is dropped (`tests/batching.rs`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Instant;

use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::{mpsc as async_mpsc, oneshot, watch};

use crate::backend::{self, backend};
use crate::drafter as drafting;
use crate::embedder::Embedder;
use crate::gguf_file;
use crate::hardware;
use crate::load::LoadedModel;
use crate::prompt::PromptFormat;
use crate::request::{Embeddings, GenerateRequest, Generation, GenerationEvent};
use crate::scheduler::Scheduler;
use crate::state_files::StateFiles;
use crate::tools::ToolSpec;
use crate::vision::Vision;
use crate::SamplingParams;
use crate::{EngineError, Result};
use sirocco_types::ChatMessage;
use sirocco_types::{FlashAttention, KvCacheType, LoadParams, DEFAULT_CONTEXT, MAX_PARALLEL, MIN_CONTEXT};

pub(crate) type Progress = Box<dyn FnMut(f32) + Send>;

pub(crate) enum Command {
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
        request: GenerateRequest,
        reply: oneshot::Sender<Result<Vec<i32>>>,
    },
    PersistState {
        key: String,
        reply: oneshot::Sender<Result<bool>>,
    },
    Embed {
        inputs: Vec<String>,
        /// Cut an input longer than the embedding context to it (else it is refused).
        truncate: bool,
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

/// Handle to the engine thread (or to an engine process: [`Engine::for_load`]). Cheap to
/// clone; the engine ends when every handle is gone.
#[derive(Clone)]
pub struct Engine {
    commands: mpsc::Sender<Command>,
    /// Set when the engine stopped on its own (its process died), with why.
    stopped: watch::Receiver<Option<String>>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::start()
    }
}

impl Engine {
    /// An engine on a thread of this process.
    pub fn start() -> Self {
        let (commands, rx) = mpsc::channel();
        // Dropped when the thread ends: an in-process engine never stops on its own.
        let (stop, stopped) = watch::channel(None);
        std::thread::Builder::new()
            .name("sirocco-engine".into())
            .spawn(move || {
                owner_loop(&rx);
                drop(stop);
            })
            .expect("spawn the engine thread");
        Self { commands, stopped }
    }

    /// A handle over `commands`, for another owner of the receiving end (an engine process's
    /// proxy, `process.rs`).
    pub(crate) fn from_parts(commands: mpsc::Sender<Command>, stopped: watch::Receiver<Option<String>>) -> Self {
        Self { commands, stopped }
    }

    /// Resolves with the reason when the engine stops on its own — its process died, say
    /// because a worker went away — and with `None` once every handle is gone otherwise.
    pub fn stopped(&self) -> impl std::future::Future<Output = Option<String>> + Send + 'static {
        let mut stopped = self.stopped.clone();
        async move {
            loop {
                if let Some(why) = stopped.borrow_and_update().clone() {
                    return Some(why);
                }
                if stopped.changed().await.is_err() {
                    return stopped.borrow().clone();
                }
            }
        }
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
        self.send(Command::Load { path: path.to_path_buf(), params, progress: Box::new(progress), cancel, reply })?;
        answer.await.map_err(|_| EngineError::EngineGone)?
    }

    pub async fn unload(&self) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Unload { reply })?;
        answer.await.map_err(|_| EngineError::EngineGone)
    }

    /// Starts generating a reply to `request.messages`.
    pub fn generate(&self, request: GenerateRequest) -> Result<Generation> {
        self.generate_with_cancel(request, Arc::new(AtomicBool::new(false)))
    }

    /// As [`generate`](Self::generate), stopped by `cancel` (one flag may stop several
    /// generations in turn: a chat turn's steps between tool calls).
    pub fn generate_with_cancel(&self, request: GenerateRequest, cancel: Arc<AtomicBool>) -> Result<Generation> {
        let (events, rx) = async_mpsc::unbounded_channel();
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
        let request =
            GenerateRequest { reply_prefix, tools, ..GenerateRequest::new(messages, SamplingParams::default()) };
        self.prompt_tokens_for(request).await
    }

    /// The prompt tokens `request` would be answered from (its messages, reply prefix, tools and
    /// reasoning effort), without generating.
    pub async fn prompt_tokens_for(&self, request: GenerateRequest) -> Result<Vec<i32>> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::PromptTokens { request, reply })?;
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
        self.embed_with(inputs, false).await
    }

    /// [`Engine::embed`], an input longer than the model's embedding context cut to it (a
    /// passage of a document, for an embedding model of 512 tokens) instead of refused.
    pub async fn embed_truncating(&self, inputs: Vec<String>) -> Result<Embeddings> {
        self.embed_with(inputs, true).await
    }

    pub(crate) async fn embed_with(&self, inputs: Vec<String>, truncate: bool) -> Result<Embeddings> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Embed { inputs, truncate, reply })?;
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
            Command::PromptTokens { reply, .. }
            | Command::InfillTokens { reply, .. }
            | Command::Tokenize { reply, .. } => {
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
            let _ = reply.send(Err(e.into()));
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
    if params.experts_on_cpu && summary.expert_count.unwrap_or(0) > 1 {
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
    // The draft model lives on this frame beside the model (the scheduler, dropped first,
    // holds its context).
    let draft_model = match drafting::load_draft_model(params) {
        Ok(m) => m,
        Err(e) => {
            let _ = reply.send(Err(e));
            return None;
        }
    };
    let threads = params.threads.unwrap_or_else(hardware::default_threads).max(1);
    let trained = model.n_ctx_train().max(1);
    let context_length = params.context_length.unwrap_or(DEFAULT_CONTEXT).clamp(MIN_CONTEXT.min(trained), trained);
    let batch = params.batch_size.max(1).min(context_length);
    let slots = params.parallel.clamp(1, MAX_PARALLEL);
    let ctx_params = backend::context_params(params, context_length, batch, slots, threads);
    let ctx = match model.new_context(backend(), ctx_params) {
        Ok(c) => c,
        Err(e) => {
            let _ = reply.send(Err(EngineError::ContextFailed(e.to_string())));
            return None;
        }
    };
    let vision = match &params.projector {
        Some(projector) => match Vision::load(projector, &model, threads, params.gpu_layers > 0) {
            Ok(v) => Some(v),
            Err(e) => {
                let _ = reply.send(Err(e));
                return None;
            }
        },
        None => None,
    };
    let prompt_format = PromptFormat::for_model(&model, &summary, params.chat_template_override.as_deref());
    let states = params.state_dir.clone().map(|dir| StateFiles::new(dir, &summary, params, context_length));
    let mut scheduler = Scheduler::new(&model, ctx, slots as usize, batch as usize, states, vision);
    match drafting::drafter(params, &model, &mut scheduler.ctx, draft_model.as_ref(), slots, threads) {
        Ok(Some((drafter, draft_ctx))) => scheduler.set_drafter(drafter, draft_ctx),
        Ok(None) => {}
        Err(e) => {
            let _ = reply.send(Err(e));
            return None;
        }
    }
    // Made on the first embeddings request.
    let mut embedder: Option<Embedder<'_>> = None;
    let loaded = LoadedModel {
        summary,
        context_length: scheduler.ctx.n_ctx(),
        threads,
        parallel: slots,
        load_ms: started.elapsed().as_millis() as u64,
        prompt_format: prompt_format.kind.clone(),
        thinks: prompt_format.think_style().is_some(),
        projector: scheduler.vision().map(|v| v.summary.clone()),
        drafting: scheduler.drafting().map(str::to_owned),
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
            Command::PromptTokens { request: r, reply } => {
                let tokens = scheduler.prompt_tokens(&prompt_format, &r);
                let _ = reply.send(tokens.map(|t| t.into_iter().map(|t| t.0).collect()));
            }
            Command::Embed { inputs, truncate, reply } => {
                if embedder.is_none() {
                    match Embedder::new(&model, threads) {
                        Ok(e) => embedder = Some(e),
                        Err(e) => {
                            let _ = reply.send(Err(e));
                            continue;
                        }
                    }
                }
                let _ = reply.send(embedder.as_mut().expect("made above").embed(&model, &inputs, truncate));
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
