//! Continuous batching: several requests share one llama.cpp context, each in its own sequence
//! slot, and every step decodes them together in one batch — the next token of each answering
//! sequence plus prompt chunks of sequences still reading their prompt.
//!
//! A request takes the free slot whose cached tokens share the longest prefix with its prompt
//! (a follow-up turn lands where its conversation is), or waits in the queue. The KV cache is
//! unified: the sequences share the context's cells, and the scheduler counts them itself —
//! evicting idle slots' caches first — so llama.cpp is never handed a batch it has no room for.
//!
//! Each slot tracks its cache token by token (`Slot::kv_tokens`): reuse is decided on tokens,
//! never on re-rendered text, and a prefix is reused only when that keeps more than it throws
//! away. After a failed decode the sequences in that batch are cleared and none of it is reused.
//! Images are cached and dropped whole (`PromptImages::boundary_at_or_before`).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::mpsc::UnboundedSender;

use crate::drafter::Drafter;
use crate::outbox::Outbox;
use crate::overflow;
use crate::prompt::{PromptFormat, ToolStyle};
use crate::reasoning::{Piece, ThinkReader, ThinkStyle};
use crate::reply::{ReplyReader, TokenRole};
use crate::request::{GenerateRequest, GenerationEvent};
use crate::sampling::SamplerChain;
use crate::sampling::TokenPicker;
use crate::state_files::StateFiles;
use crate::stop_strings::StopStrings;
use crate::tools::{ToolOutcome, ToolReader};
use crate::utf8_stream::Utf8Stream;
use crate::vision::{ImageSpan, Vision};
use crate::{EngineError, Result};
use sirocco_types::{FinishReason, GenerationStats};

pub(crate) struct Scheduler<'m> {
    model: &'m LlamaModel,
    /// Drafts tokens for answering sequences (see `speculative`). Declared before the
    /// contexts it points into, so it is dropped first.
    drafter: Option<Drafter>,
    /// The draft model's context (draft-simple) or the MTP context: it holds what the
    /// target's holds, up to each slot's `draft_synced`.
    draft_ctx: Option<LlamaContext<'m>>,
    pub(crate) ctx: LlamaContext<'m>,
    slots: Vec<Slot>,
    queue: VecDeque<Active>,
    batch: LlamaBatch<'static>,
    batch_size: usize,
    n_ctx: usize,
    /// Ticks once per finished request: which idle slot was used least recently.
    clock: u64,
    /// Where conversations' KV state is saved (persisted state), and the fingerprint of this
    /// load that names the files (another model or other cache settings never read them).
    states: Option<StateFiles>,
    /// The model's projector, when it sees images.
    vision: Option<Vision>,
}

/// A sequence of the context and the tokens its KV cache holds.
struct Slot {
    seq: i32,
    kv_tokens: Vec<LlamaToken>,
    /// The conversation whose tokens the cache holds (its state can be saved under this key).
    key: Option<String>,
    used_at: u64,
    active: Option<Active>,
    /// How many of `kv_tokens` the draft context holds too (a draft model reads every token
    /// of a sequence; one it missed — an image, a restored state — stops its drafts there).
    draft_synced: usize,
}

/// One request, from its arrival to its last event.
struct Active {
    key: Option<String>,
    events: Outbox,
    cancel: Arc<AtomicBool>,
    picker: TokenPicker,
    prompt: Vec<LlamaToken>,
    /// The prompt's images: where each starts in `prompt`, and what fills its positions.
    images: PromptImages,
    /// Prompt tokens already in the slot's cache (kept from before or decoded).
    fed: usize,
    cached: usize,
    dropped_messages: usize,
    started: Instant,
    /// When the first token was picked: the prefill's end. Not when the decode call returned:
    /// on a GPU or a worker llama.cpp computes asynchronously, and the prompt is done only once
    /// its logits are read.
    first_token_at: Option<Instant>,
    utf8: Utf8Stream,
    stops: StopStrings,
    /// Reads the reply: a reasoning model's thought, then tool calls in what is not thought.
    reply: ReplyReader,
    /// Tokens of the thought so far (markers included).
    thought_tokens: usize,
    /// The thought's length limit and the model's own tokens that close a thought, written
    /// for it when the limit is reached (see [`GenerateRequest::thinking_budget`]).
    budget: Option<ThinkingBudget>,
    /// Tokens the engine writes next instead of sampling (a thought closed by the budget).
    forced: VecDeque<LlamaToken>,
    /// Alternatives reported with each token's log-probability (`None`: none reported).
    logprobs: Option<usize>,
    generated: usize,
    max_tokens: usize,
    ignore_eos: bool,
    /// The sampled token that goes into the next batch.
    next: Option<LlamaToken>,
    /// Where this sequence's logits are in the batch just decoded.
    logits_at: Option<i32>,
    /// Most tokens a draft may hold for this request (0: it does not draft).
    draft_limit: usize,
    /// Fewer drafted tokens than this are not verified.
    draft_min: usize,
    /// The drafted tokens in the batch just decoded, after `next`.
    drafted: Vec<LlamaToken>,
    /// Tokens drafted and of those, kept.
    draft_n: usize,
    draft_accepted: usize,
    /// Why this request decodes plainly although the model drafts.
    draft_off: Option<&'static str>,
    /// Steps this request decodes without drafts after drafts it mostly refused, and how many
    /// such drafts came in a row (the pause doubles with each: see `verified`).
    draft_pause: usize,
    draft_misses: u32,
}

/// How long a thought may grow, and the model's own tokens that close it.
struct ThinkingBudget {
    limit: usize,
    closing: Vec<LlamaToken>,
}

/// A prompt's images: each distinct one prepared once, and the spans of the prompt they fill.
#[derive(Default)]
struct PromptImages {
    prepared: HashMap<u64, ImageSpan>,
    /// `(start, image id)`, in prompt order.
    spans: Vec<(usize, u64)>,
}

impl PromptImages {
    /// The span that starts at `at`: its image's id and length.
    fn starting_at(&self, at: usize) -> Option<(u64, usize)> {
        let &(_, id) = self.spans.iter().find(|(start, _)| *start == at)?;
        Some((id, self.prepared[&id].tokens.len()))
    }

    /// Where the next span at or after `at` starts.
    fn next_start(&self, at: usize) -> Option<usize> {
        self.spans.iter().map(|(start, _)| *start).find(|&start| start >= at)
    }

    /// `at`, or the start of the span it falls inside (a cache is kept or dropped by whole images).
    fn boundary_at_or_before(&self, at: usize) -> usize {
        self.spans
            .iter()
            .map(|&(start, id)| (start, start + self.prepared[&id].tokens.len()))
            .find(|&(start, end)| start < at && at < end)
            .map_or(at, |(start, _)| start)
    }
}

/// A request made ready to run: its sampler, prompt and readers.
struct Prepared {
    picker: TokenPicker,
    prompt: Vec<LlamaToken>,
    images: PromptImages,
    dropped_messages: usize,
    tools: ToolReader,
    think: ThinkReader,
    budget: Option<ThinkingBudget>,
}

/// Longest pause, in steps, after drafts the model keeps refusing.
const MAX_DRAFT_PAUSE: usize = 64;

impl Active {
    /// After a draft was verified: a draft the model mostly refused cost a step as wide as
    /// the draft (on a CPU, nearly that many steps' time) for little, so drafting pauses —
    /// 2, 4, 8 … steps for refusals in a row — and resumes fully once a draft is mostly kept.
    /// The answer is the same either way; only which steps draft changes.
    fn verified(&mut self, kept: usize, drafted: usize) {
        if kept * 2 < drafted {
            self.draft_misses += 1;
            self.draft_pause = (1usize << self.draft_misses.min(6)).min(MAX_DRAFT_PAUSE);
        } else {
            self.draft_misses = 0;
        }
    }

    fn gone(&self) -> bool {
        self.cancel.load(Ordering::Relaxed) || self.events.is_closed()
    }

    fn stats(&self, finish_reason: FinishReason, n_ctx: usize) -> GenerationStats {
        let now = Instant::now();
        let per_second = |n: usize, secs: f64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        let prefill_secs = self.first_token_at.map_or(0.0, |t| (t - self.started).as_secs_f64());
        let decode_secs = self.first_token_at.map_or(0.0, |t| (now - t).as_secs_f64());
        GenerationStats {
            prompt_tokens: self.prompt.len(),
            cached_tokens: self.cached,
            generated_tokens: self.generated,
            reasoning_tokens: self.thought_tokens,
            time_to_first_token_ms: self.first_token_at.map_or(0.0, |t| (t - self.started).as_secs_f64() * 1e3),
            prefill_tokens_per_second: per_second(self.prompt.len() - self.cached, prefill_secs),
            // The first token's time belongs to the prefill; decode counts the rest.
            decode_tokens_per_second: per_second(self.generated.saturating_sub(1), decode_secs),
            context_used: self.prompt.len() + self.generated,
            context_length: n_ctx,
            stop_sequence: self.stops.matched().filter(|_| finish_reason == FinishReason::Stop).map(str::to_owned),
            finish_reason,
            dropped_messages: self.dropped_messages,
            draft_tokens: self.draft_n,
            draft_accepted_tokens: self.draft_accepted,
            draft_off: self.draft_off.map(str::to_owned),
        }
    }

    /// Sends `text` unless it belongs to tool calls being collected; false when nobody listens.
    fn emit(&mut self, text: String) -> bool {
        self.events.fills(self.prompt.len() + self.generated);
        let pieces = self.reply.text(text);
        self.send(pieces)
    }

    /// Sends thought as thought, and answer text unless tool calls being collected hold it.
    fn send(&mut self, pieces: Vec<Piece>) -> bool {
        let now = Instant::now();
        pieces.into_iter().all(|piece| match piece {
            Piece::Thought(text) => self.events.thought(&text, now),
            Piece::Answer(text) => self.events.text(&text, now),
        })
    }

    /// Sends what is still held back (an incomplete character, a possible stop string's start,
    /// the reply's tool calls) and the final stats.
    fn finish(mut self, mut reason: FinishReason, n_ctx: usize) {
        let tail = self.utf8.finish();
        let held = self.stops.push(&tail);
        if !held.stopped {
            let rest = held.emit + &self.stops.finish();
            self.emit(rest);
        }
        let (held, outcome) = self.reply.finish();
        self.send(held);
        match outcome {
            Some(ToolOutcome::Calls(calls)) => {
                self.events.send(GenerationEvent::ToolCalls { calls });
                if reason == FinishReason::Stop {
                    reason = FinishReason::ToolCalls;
                }
            }
            Some(ToolOutcome::Text(text)) => {
                self.events.text(&text, Instant::now());
            }
            None => {}
        }
        let stats = self.stats(reason, n_ctx);
        self.events.send(GenerationEvent::Done { stats });
    }

    fn fail(mut self, error: &EngineError) {
        self.events.send(GenerationEvent::error(error));
    }
}

impl<'m> Scheduler<'m> {
    pub(crate) fn new(
        model: &'m LlamaModel,
        ctx: LlamaContext<'m>,
        slots: usize,
        batch_size: usize,
        states: Option<StateFiles>,
        vision: Option<Vision>,
    ) -> Self {
        let n_ctx = ctx.n_ctx() as usize;
        Self {
            model,
            drafter: None,
            draft_ctx: None,
            ctx,
            slots: (0..slots.max(1))
                .map(|i| Slot {
                    seq: i as i32,
                    kv_tokens: Vec::new(),
                    key: None,
                    used_at: 0,
                    active: None,
                    draft_synced: 0,
                })
                .collect(),
            queue: VecDeque::new(),
            batch: LlamaBatch::new(batch_size, 1),
            batch_size,
            n_ctx,
            clock: 0,
            states,
            vision,
        }
    }

    /// Drafts tokens with `drafter`; `draft_ctx` is the context it drafts in, when it
    /// drafts with a model.
    pub(crate) fn set_drafter(&mut self, drafter: Drafter, draft_ctx: Option<LlamaContext<'m>>) {
        self.drafter = Some(drafter);
        self.draft_ctx = draft_ctx;
    }

    /// What the model drafts with (llama.cpp's names), if it drafts.
    pub(crate) fn drafting(&self) -> Option<&str> {
        self.drafter.as_ref().map(|d| d.description.as_str())
    }

    /// The projector loaded with the model, if any.
    pub(crate) fn vision(&self) -> Option<&Vision> {
        self.vision.as_ref()
    }

    pub(crate) fn has_work(&self) -> bool {
        !self.queue.is_empty() || self.slots.iter().any(|s| s.active.is_some())
    }

    /// Builds the prompt and the sampler (a bad request fails here, before it queues).
    pub(crate) fn submit(
        &mut self,
        format: &PromptFormat,
        request: &GenerateRequest,
        events: UnboundedSender<GenerationEvent>,
        cancel: Arc<AtomicBool>,
    ) {
        let started = Instant::now();
        match self.prepare(format, request) {
            Ok(Prepared { picker, prompt, images, dropped_messages, tools, think, budget }) => {
                let limits = request.drafting.unwrap_or_default();
                let (draft_limit, draft_off) = match &self.drafter {
                    None => (0, None),
                    Some(_) if limits.n_max == Some(0) => (0, Some("the request turned drafting off")),
                    Some(d) if d.reads_batches() && !images.spans.is_empty() => {
                        (0, Some("the draft model does not see images"))
                    }
                    Some(d) => (limits.n_max.map_or(d.n_max(), |n| (n as usize).min(d.n_max())), None),
                };
                self.queue.push_back(Active {
                    key: request.cache_key.clone(),
                    events: Outbox::new(events),
                    cancel,
                    picker,
                    prompt,
                    images,
                    fed: 0,
                    cached: 0,
                    dropped_messages,
                    started,
                    first_token_at: None,
                    utf8: Utf8Stream::default(),
                    stops: StopStrings::new(&request.sampling.stop),
                    reply: ReplyReader::new(think, tools),
                    thought_tokens: 0,
                    budget,
                    forced: VecDeque::new(),
                    logprobs: request.logprobs.map(|n| n.min(crate::logprobs::MAX_TOP_LOGPROBS) as usize),
                    generated: 0,
                    max_tokens: request.sampling.max_tokens.max(1) as usize,
                    ignore_eos: request.sampling.ignore_eos,
                    next: None,
                    logits_at: None,
                    draft_limit,
                    draft_min: limits.n_min.unwrap_or(0) as usize,
                    drafted: Vec::new(),
                    draft_n: 0,
                    draft_accepted: 0,
                    draft_off,
                    draft_pause: 0,
                    draft_misses: 0,
                })
            }
            Err(e) => {
                let _ = events.send(GenerationEvent::error(&e));
            }
        }
    }

    fn prepare(&self, format: &PromptFormat, request: &GenerateRequest) -> Result<Prepared> {
        let tools = request
            .tools
            .as_ref()
            .filter(|t| !t.tools.is_empty() && request.raw_prompt.is_none() && request.prompt_tokens.is_none());
        let (picker, reader, opening) = match tools {
            None => (request.sampling.token_picker(self.model)?, ToolReader::Off, None),
            Some(spec) => {
                if request.sampling.json_schema.is_some() || request.sampling.grammar.is_some() {
                    return Err(EngineError::InvalidRequest(
                        "tools cannot be combined with a JSON schema or a grammar for the reply".into(),
                    ));
                }
                let mut sampling = request.sampling.clone();
                match format.tool_style() {
                    // The model's own format: a required call starts the reply with the marker
                    // and (v3, v7: calls as JSON) a grammar holds the calls to the tools' schemas.
                    ToolStyle::Mistral(tokens) => {
                        let must = spec.must_call();
                        if must && tokens.args.is_none() {
                            sampling.grammar = Some(crate::tools::mistral_calls_grammar(spec)?);
                        }
                        let reader = ToolReader::Marker { tokens, collecting: must, buffer: String::new() };
                        (sampling.token_picker(self.model)?, reader, must.then_some(tokens.calls))
                    }
                    // The template's tags: a required call is held to `<tool_call>` blocks.
                    ToolStyle::Tagged => {
                        if spec.must_call() {
                            sampling.grammar = Some(crate::tools::tagged_calls_grammar(spec)?);
                        }
                        let reader =
                            ToolReader::Tagged { pending: String::new(), collecting: false, buffer: String::new() };
                        (sampling.token_picker(self.model)?, reader, None)
                    }
                    ToolStyle::Generic => {
                        sampling.grammar = Some(crate::tools::generic_grammar(spec)?);
                        (sampling.token_picker(self.model)?, ToolReader::Json { buffer: String::new() }, None)
                    }
                }
            }
        };
        let n_ctx = self.n_ctx;
        let prefix = request.reply_prefix.as_deref();
        let effort = request.reasoning_effort;
        let mut images = self.prepare_images(request)?;
        let (tokens, dropped) = match (&request.prompt_tokens, &request.raw_prompt) {
            (Some(ids), _) => {
                let n = self.model.vocab().n_tokens();
                if let Some(bad) = ids.iter().find(|&&t| t < 0 || t >= n) {
                    return Err(EngineError::InvalidRequest(format!(
                        "token id {bad} is outside this model's vocabulary (0 to {})",
                        n - 1
                    )));
                }
                (ids.iter().map(|&t| LlamaToken(t)).collect(), 0)
            }
            (None, Some(prefix)) => match &request.suffix {
                Some(suffix) => (format.infill_tokens(self.model, prefix, suffix)?, 0),
                None => (self.model.vocab().tokenize(prefix.as_bytes(), true, true), 0),
            },
            (None, None) => {
                let mut last = Vec::new();
                let (kept, dropped) = overflow::fit(&request.messages, request.overflow, n_ctx, |ms| {
                    let prompt = format.prompt(self.model, ms, prefix, tools, effort)?;
                    (last, images.spans) = with_images(prompt, &images.prepared);
                    last.extend(opening);
                    Ok(last.len())
                })?;
                // `last` holds the tokens of the final candidate, which is `kept`.
                debug_assert_eq!(kept.len() + dropped, request.messages.len());
                (last, dropped)
            }
        };
        if let Some(&(start, id)) = images.spans.last() {
            if start + images.prepared[&id].tokens.len() >= tokens.len() {
                return Err(EngineError::InvalidRequest("the prompt ends with an image: text must follow it".into()));
            }
        }
        // One position must stay free for the first generated token.
        if tokens.is_empty() || tokens.len() >= n_ctx {
            return Err(EngineError::ContextOverflow { prompt_tokens: tokens.len(), context_size: n_ctx });
        }
        // A plain completion may think too (its prompt may open the thought); an infill not.
        let style = format.think_style().filter(|_| request.suffix.is_none());
        // A grammar would refuse a marker it did not pick: a grammar-held reply has no budget.
        let grammar = request.sampling.grammar.is_some()
            || request.sampling.json_schema.is_some()
            || tools.is_some_and(|spec| spec.must_call() || format.tool_style() == ToolStyle::Generic);
        let budget = match (style, request.thinking_budget.filter(|_| !grammar)) {
            (Some(ThinkStyle::Tokens { close, .. }), Some(n)) => {
                Some(ThinkingBudget { limit: n as usize, closing: vec![close] })
            }
            (Some(ThinkStyle::Tags), Some(n)) => Some(ThinkingBudget {
                limit: n as usize,
                // As thinking templates write a closed thought: the tag, then a blank line.
                closing: self.model.vocab().tokenize(
                    format!("{}\n\n", crate::reasoning::CLOSE_TAG).as_bytes(),
                    false,
                    true,
                ),
            }),
            _ => None,
        };
        // The budget counts the thought even when it is shown inline.
        let think = match style.filter(|_| request.separate_reasoning || budget.is_some()) {
            None => ThinkReader::off(),
            Some(style) => {
                // A template may open the thought in the prompt itself: the reply starts in it.
                let opened = match style {
                    ThinkStyle::Tokens { open, .. } => tokens.last() == Some(&open),
                    ThinkStyle::Tags => {
                        let vocab = self.model.vocab();
                        let tail: Vec<u8> = tokens[tokens.len().saturating_sub(4)..]
                            .iter()
                            .filter(|&&t| !crate::vision::is_placeholder(t))
                            .flat_map(|&t| vocab.token_to_piece(t, true, None))
                            .collect();
                        String::from_utf8_lossy(&tail).trim_end().ends_with(crate::reasoning::OPEN_TAG)
                    }
                };
                ThinkReader::new(style, opened).inline(!request.separate_reasoning)
            }
        };
        Ok(Prepared { picker, prompt: tokens, images, dropped_messages: dropped, tools: reader, think, budget })
    }

    /// Each distinct image of the request's messages decoded and measured by the projector
    /// (once, however often the overflow policy renders the conversation).
    fn prepare_images(&self, request: &GenerateRequest) -> Result<PromptImages> {
        let mut images = PromptImages::default();
        let all = request.messages.iter().flat_map(|m| &m.images);
        for image in all {
            let vision = self.vision.as_ref().ok_or(EngineError::NoVision)?;
            if let std::collections::hash_map::Entry::Vacant(slot) = images.prepared.entry(image.id()) {
                slot.insert(vision.span(image)?);
            }
        }
        Ok(images)
    }

    /// The prompt tokens `request` would be answered from, images' positions included (their
    /// placeholders), without generating.
    pub(crate) fn prompt_tokens(&self, format: &PromptFormat, request: &GenerateRequest) -> Result<Vec<LlamaToken>> {
        let images = self.prepare_images(request)?;
        let prompt = format.prompt(
            self.model,
            &request.messages,
            request.reply_prefix.as_deref(),
            request.tools.as_ref(),
            request.reasoning_effort,
        )?;
        Ok(with_images(prompt, &images.prepared).0)
    }

    /// Ends every request: the model is going away.
    pub(crate) fn abort_all(&mut self, why: &EngineError) {
        for a in self.queue.drain(..) {
            a.fail(why);
        }
        for slot in &mut self.slots {
            if let Some(a) = slot.active.take() {
                a.fail(why);
            }
        }
    }

    /// One round: admit waiting requests, drop cancelled ones, decode one batch, pick tokens.
    pub(crate) fn step(&mut self) {
        self.admit();
        for i in 0..self.slots.len() {
            if self.slots[i].active.as_ref().is_some_and(Active::gone) {
                self.finish(i, FinishReason::Cancelled);
            }
        }

        let mut drafts = self.make_drafts();
        self.batch.clear();
        if let Some(d) = self.drafter.as_mut() {
            d.clear_batch();
        }
        let mut in_batch: Vec<usize> = Vec::new();
        // Answering sequences first: one token each keeps every stream moving (and the tokens
        // drafted after it, each verified by its logits).
        for (i, draft) in drafts.iter_mut().enumerate() {
            let Some(token) = self.slots[i].active.as_ref().and_then(|a| a.next) else { continue };
            let mut draft = std::mem::take(draft);
            if !draft.is_empty() && !self.make_room(1 + draft.len(), i) {
                draft.clear();
            }
            if self.slots[i].kv_tokens.len() + 1 >= self.n_ctx || !self.make_room(1, i) {
                self.finish(i, FinishReason::ContextFull);
                continue;
            }
            let added = std::iter::once(token).chain(draft.iter().copied()).try_for_each(|t| self.add(i, t, true));
            if let Err(e) = added {
                self.fail(i, &e);
                continue;
            }
            let slot = &mut self.slots[i];
            let a = slot.active.as_mut().expect("an answering slot is active");
            a.next = None;
            a.draft_n += draft.len();
            a.drafted = draft;
            in_batch.push(i);
        }
        let answering = in_batch.len();
        // Then prompt chunks, as much as the batch holds.
        for i in 0..self.slots.len() {
            let Some((fed, len)) =
                self.slots[i].active.as_ref().filter(|a| a.next.is_none()).map(|a| (a.fed, a.prompt.len()))
            else {
                continue;
            };
            if fed == len {
                continue;
            }
            // An image starting here is computed on its own (the projector, then the model).
            let fed = match self.slots[i].active.as_ref().and_then(|a| a.images.starting_at(fed)) {
                Some((id, n)) => {
                    if !self.feed_image(i, id, fed, n) {
                        continue;
                    }
                    fed + n
                }
                None => fed,
            };
            let next_image = self.slots[i].active.as_ref().and_then(|a| a.images.next_start(fed)).unwrap_or(len);
            let n = (next_image - fed).min(self.batch_size - self.batch.n_tokens() as usize);
            if n == 0 {
                break;
            }
            if !self.make_room(n, i) {
                let free = self.free_cells_for(i);
                self.fail(i, &EngineError::ContextBusy { prompt_tokens: len, free, context_size: self.n_ctx });
                continue;
            }
            for k in fed..fed + n {
                let token = self.slots[i].active.as_ref().expect("a prefilling slot is active").prompt[k];
                if let Err(e) = self.add(i, token, k == len - 1) {
                    self.fail(i, &e);
                    break;
                }
            }
            if let Some(a) = self.slots[i].active.as_mut() {
                a.fed += n;
                in_batch.push(i);
            }
        }
        if self.batch.n_tokens() == 0 {
            return;
        }
        if self.batch.n_tokens() as usize > answering {
            // Reading a prompt makes this step long: text held back goes out before it.
            for a in self.slots.iter_mut().filter_map(|s| s.active.as_mut()) {
                a.events.flush();
            }
        }

        let decoded = crate::compute::run(|| self.ctx.decode(&mut self.batch));
        if let Err(e) = decoded {
            // What the cache holds for these sequences is unknown now: reuse none of it.
            let error = EngineError::Decode(e.to_string());
            for &i in &in_batch {
                self.drop_cache_from(i, 0);
                self.fail(i, &error);
            }
            return;
        }
        // A draft model reads what the model read (its cache follows the model's).
        if let Some(d) = self.drafter.as_mut().filter(|d| d.reads_batches()) {
            if !crate::compute::run(|| d.process()) {
                self.stop_drafting("the draft model could not read a batch");
            }
        }

        for i in in_batch {
            let Some(a) = self.slots[i].active.as_mut() else { continue };
            let Some(index) = a.logits_at.take() else { continue };
            let drafted = std::mem::take(&mut a.drafted);
            // Each position's logits pick a token as plain decoding would; a drafted token is
            // kept while it is the one picked (llama.cpp's rule: the same answer, fewer steps).
            let mut kept = 0;
            for (j, at) in (index..).take(drafted.len() + 1).enumerate() {
                let Some(a) = self.slots[i].active.as_mut() else { break };
                let token = match a.forced.pop_front() {
                    Some(token) => {
                        a.picker.accept(token);
                        token
                    }
                    None => a.picker.pick(&self.ctx, at),
                };
                let matches = drafted.get(j) == Some(&token);
                if matches {
                    kept += 1;
                    a.draft_accepted += 1;
                }
                if !self.take_token(i, token, at) || !matches {
                    break;
                }
            }
            if !drafted.is_empty() {
                let len = self.slots[i].kv_tokens.len() - (drafted.len() - kept);
                self.drop_cache_from(i, len);
                let seq = self.slots[i].seq;
                if let Some(d) = self.drafter.as_mut() {
                    d.accept(seq, kept);
                }
                if let Some(a) = self.slots[i].active.as_mut() {
                    a.verified(kept, drafted.len());
                }
            }
        }
    }

    /// Drafts for the answering sequences that draft this step (by slot; most empty): up to
    /// each request's limit, within the batch, the context and the tokens it may still make.
    fn make_drafts(&mut self) -> Vec<Vec<LlamaToken>> {
        let mut drafts = vec![Vec::new(); self.slots.len()];
        let Some(drafter) = self.drafter.as_mut() else { return drafts };
        let answering = self.slots.iter().filter(|s| s.active.as_ref().is_some_and(|a| a.next.is_some())).count();
        if answering == 0 {
            return drafts;
        }
        let share = (self.batch_size / answering).saturating_sub(1);
        let mut wanted = Vec::new();
        let mut paused = Vec::new();
        for (i, slot) in self.slots.iter().enumerate() {
            let Some(a) = slot.active.as_ref() else { continue };
            let Some(token) = a.next else { continue };
            let cached = slot.kv_tokens.len();
            if a.draft_limit == 0 || !a.forced.is_empty() || (drafter.reads_batches() && slot.draft_synced != cached) {
                continue;
            }
            if a.draft_pause > 0 {
                paused.push(i);
                continue;
            }
            let n = a
                .draft_limit
                .min(share)
                .min(self.n_ctx.saturating_sub(cached + 2))
                .min(a.max_tokens.saturating_sub(a.generated + 1));
            if n == 0 || n < a.draft_min {
                continue;
            }
            drafter.want(slot.seq, n, cached, token, &slot.kv_tokens);
            wanted.push((i, n));
        }
        for i in paused {
            if let Some(a) = self.slots[i].active.as_mut() {
                a.draft_pause -= 1;
            }
        }
        if wanted.is_empty() {
            return drafts;
        }
        // n-grams are looked up here; a model drafts on the compute thread.
        let drafted = if drafter.reads_batches() { crate::compute::run(|| drafter.draft()) } else { drafter.draft() };
        if !drafted {
            self.stop_drafting("llama.cpp's drafter failed");
            return drafts;
        }
        for (i, n) in wanted {
            let slot = &self.slots[i];
            let mut draft = drafter.result(slot.seq);
            draft.truncate(n);
            if slot.active.as_ref().is_some_and(|a| draft.len() < a.draft_min) {
                draft.clear();
            }
            // A draft model's own pass over its draft leaves it in its cache: the verified
            // batch is what it keeps.
            if let Some(ctx) = self.draft_ctx.as_mut() {
                let _ = ctx.clear_kv_cache_seq(Some(slot.seq as u32), Some(slot.kv_tokens.len() as u32), None);
            }
            drafts[i] = draft;
        }
        drafts
    }

    /// Ends drafting for this load (a failure of llama.cpp's drafter): every request decodes
    /// plainly from here, saying why.
    fn stop_drafting(&mut self, why: &'static str) {
        tracing::warn!("{why}; decoding without drafts from here");
        self.drafter = None;
        for slot in &mut self.slots {
            slot.draft_synced = 0;
            if let Some(a) = slot.active.as_mut() {
                a.draft_limit = 0;
                a.draft_off = Some(why);
            }
        }
    }

    /// Drops slot `i`'s cache from position `from` on (the model's and the draft model's).
    fn drop_cache_from(&mut self, i: usize, from: usize) {
        let slot = &mut self.slots[i];
        if from >= slot.kv_tokens.len() {
            return;
        }
        let seq = slot.seq as u32;
        let removed = self.ctx.clear_kv_cache_seq(Some(seq), (from > 0).then_some(from as u32), None);
        if from > 0 && !matches!(removed, Ok(true)) {
            // Some caches (e.g. sliding-window ones) cannot drop a tail: start over.
            let _ = self.ctx.clear_kv_cache_seq(Some(seq), None, None);
            slot.kv_tokens.clear();
        } else {
            slot.kv_tokens.truncate(from);
        }
        slot.draft_synced = slot.draft_synced.min(slot.kv_tokens.len());
        if let Some(ctx) = self.draft_ctx.as_mut() {
            let kept = slot.draft_synced as u32;
            if !matches!(ctx.clear_kv_cache_seq(Some(seq), (kept > 0).then_some(kept), None), Ok(true)) {
                let _ = ctx.clear_kv_cache_seq(Some(seq), None, None);
                slot.draft_synced = 0;
            }
        }
    }

    /// Takes the token picked for slot `i` from the logits at `index`: streams it, or ends the
    /// request (end of generation, a stop string, the length). True while the request goes on
    /// (the token is then its `next`).
    fn take_token(&mut self, i: usize, token: LlamaToken, index: i32) -> bool {
        let model = self.model;
        let vocab = model.vocab();
        let Some(a) = self.slots[i].active.as_mut() else { return false };
        {
            a.first_token_at.get_or_insert_with(Instant::now);
            if vocab.is_eog(token) && !a.ignore_eos {
                self.finish(i, FinishReason::Stop);
                return false;
            }
            a.generated += 1;
            if let Some(top) = a.logprobs {
                let logits = self.ctx.get_logits_ith(index);
                let (logprob, best) = crate::logprobs::log_softmax_at(logits, token.0 as usize, top);
                let text = |t: LlamaToken| {
                    let bytes = vocab.token_to_piece(t, true, None);
                    (String::from_utf8_lossy(&bytes).into_owned(), bytes)
                };
                let (token_text, bytes) = text(token);
                let top = best
                    .into_iter()
                    .map(|(id, logprob)| {
                        let (token, bytes) = text(LlamaToken(id as i32));
                        crate::logprobs::TokenAlternative { token, bytes, logprob }
                    })
                    .collect();
                a.events.logprob(crate::logprobs::TokenLogprob { token: token_text, bytes, logprob, top });
            }
            // A thought's markers, and call markers outside a thought, are consumed (shown
            // inline, a thought's markers are their text); a call token inside a thought is
            // not a call.
            let was_thinking = a.reply.in_thought();
            let piece = match a.reply.token(token) {
                TokenRole::Marker => Vec::new(),
                TokenRole::MarkerText => vocab.token_to_piece(token, true, None),
                TokenRole::Text => vocab.token_to_piece(token, false, None),
            };
            let checked = a.stops.push(&a.utf8.push(&piece));
            if !a.emit(checked.emit) {
                // Nobody is listening any more: the caller went away.
                self.finish(i, FinishReason::Cancelled);
                return false;
            }
            if was_thinking || a.reply.in_thought() {
                a.thought_tokens += 1;
                if let Some(budget) = &a.budget {
                    if a.thought_tokens >= budget.limit && a.reply.in_thought() && a.forced.is_empty() {
                        a.forced.extend(budget.closing.iter().copied());
                        a.budget = None;
                    }
                }
            }
            let reason = if checked.stopped {
                Some(FinishReason::Stop)
            } else if a.generated >= a.max_tokens {
                Some(FinishReason::Length)
            } else {
                None
            };
            match reason {
                Some(r) => {
                    self.finish(i, r);
                    false
                }
                None => {
                    a.next = Some(token);
                    true
                }
            }
        }
    }

    /// Puts waiting requests into free slots, each where its prompt's longest cached prefix is.
    fn admit(&mut self) {
        while let Some(waiting) = self.queue.front() {
            if waiting.gone() {
                let a = self.queue.pop_front().expect("front exists");
                a.finish(FinishReason::Cancelled, self.n_ctx);
                continue;
            }
            let best = self.pick_slot(&waiting.prompt);
            let Some(i) = best else { return };
            let mut a = self.queue.pop_front().expect("front exists");
            if let Some(key) = a.key.clone() {
                if self.slots[i].key.as_deref() != Some(key.as_str())
                    && shared_prefix(&self.slots[i].kv_tokens, &a.prompt) * 2 < a.prompt.len()
                {
                    // Its conversation is in no slot: read its saved state, when there is one.
                    self.restore(i, &key);
                }
            }
            // Another conversation takes over the slot: its cache is saved before it goes.
            if let Some(old) = self.slots[i].key.clone().filter(|k| Some(k) != a.key.as_ref()) {
                if let Err(e) = self.persist_slot(i, &old) {
                    tracing::warn!("{e}");
                }
            }
            self.slots[i].key = a.key.clone();
            // The last prompt token is always computed again: its logits start the reply. An
            // image is kept whole or computed again whole.
            let keep = a
                .images
                .boundary_at_or_before(shared_prefix(&self.slots[i].kv_tokens, &a.prompt).min(a.prompt.len() - 1));
            self.drop_cache_from(i, keep);
            let keep = self.slots[i].kv_tokens.len();
            if a.draft_limit > 0 && !self.catch_up_draft(i) {
                a.draft_limit = 0;
                a.draft_off = Some("the draft model could not read the cached prompt");
            }
            if let Some(d) = self.drafter.as_mut() {
                d.begin(self.slots[i].seq, &a.prompt);
            }
            a.fed = keep;
            a.cached = keep;
            self.slots[i].active = Some(a);
        }
    }

    /// Gives the draft model what slot `i`'s cache holds and it does not (a restored state,
    /// another conversation's turn decoded while it drafted nothing); false when it cannot.
    fn catch_up_draft(&mut self, i: usize) -> bool {
        let Some(d) = self.drafter.as_mut().filter(|d| d.reads_batches()) else { return true };
        let slot = &mut self.slots[i];
        while slot.draft_synced < slot.kv_tokens.len() {
            let from = slot.draft_synced;
            let to = slot.kv_tokens.len().min(from + self.batch_size);
            d.clear_batch();
            for (pos, &token) in slot.kv_tokens.iter().enumerate().take(to).skip(from) {
                d.push(token, pos as i32, slot.seq, pos + 1 == to);
            }
            if !d.can_catch_up() || !crate::compute::run(|| d.process()) {
                return false;
            }
            slot.draft_synced = to;
        }
        true
    }

    /// The free slot for `prompt`: the one whose cache holds the longest prefix of it, when
    /// that keeps more of the cache than it throws away (a follow-up turn, an edit near the
    /// end); otherwise the emptiest, least recently used one — a shared system prompt alone
    /// never evicts another conversation.
    fn pick_slot(&self, prompt: &[LlamaToken]) -> Option<usize> {
        let free = || self.slots.iter().enumerate().filter(|(_, s)| s.active.is_none());
        let (best, shared, cached) = free()
            .map(|(i, s)| (i, shared_prefix(&s.kv_tokens, prompt), s.kv_tokens.len()))
            .max_by_key(|&(_, n, _)| n)?;
        if shared > 0 && shared >= cached - shared {
            return Some(best);
        }
        free().min_by_key(|(_, s)| (!s.kv_tokens.is_empty(), s.used_at)).map(|(i, _)| i)
    }

    /// Loads the saved state of conversation `key` into slot `i` (its old cache goes). A file
    /// that is missing, unreadable or does not fit leaves the slot empty: the prompt is then
    /// simply computed.
    fn restore(&mut self, i: usize, key: &str) {
        let Some(states) = &self.states else { return };
        let Some((path, count)) = states.readable(key) else { return };
        let seq = self.slots[i].seq;
        self.evict(i);
        if count == 0 || count >= self.n_ctx || !self.make_room(count, i) {
            return;
        }
        match self.ctx.state_seq_load_file(&path, seq, count) {
            Ok((tokens, _)) if tokens.len() == count => {
                tracing::info!(key, tokens = count, "restored a conversation's saved state");
                self.slots[i].kv_tokens = tokens;
                self.slots[i].draft_synced = 0;
            }
            _ => {
                tracing::warn!(path = %path.display(), "a saved state could not be read; computing the prompt instead");
                let _ = self.ctx.clear_kv_cache_seq(Some(seq as u32), None, None);
                if let Some(states) = &self.states {
                    states.discard(key);
                }
            }
        }
    }

    /// Saves the state of conversation `key`'s slot (if a slot holds it and is idle).
    pub(crate) fn persist(&mut self, key: &str) -> Result<bool> {
        match self.slots.iter().position(|s| s.key.as_deref() == Some(key) && s.active.is_none()) {
            Some(j) => self.persist_slot(j, key),
            None => Ok(false),
        }
    }

    fn persist_slot(&self, j: usize, key: &str) -> Result<bool> {
        let Some(states) = &self.states else { return Ok(false) };
        let slot = &self.slots[j];
        if slot.kv_tokens.is_empty() || slot.active.is_some() {
            return Ok(false);
        }
        states.save(key, |partial| {
            self.ctx
                .state_seq_save_file(partial, slot.seq, &slot.kv_tokens)
                .map(|_| ())
                .map_err(|e| EngineError::Decode(format!("saving the conversation's state: {e}")))
        })?;
        Ok(true)
    }

    /// Saves every idle slot that holds a conversation (before the model goes away).
    pub(crate) fn persist_all(&mut self) {
        let keys: Vec<String> = self.slots.iter().filter_map(|s| s.key.clone()).collect();
        for key in keys {
            if let Err(e) = self.persist(&key) {
                tracing::warn!("{e}");
            }
        }
    }

    /// Computes image `id` (`n` positions) of slot `i`'s prompt at position `at`; false when it
    /// failed (the request has been told).
    fn feed_image(&mut self, i: usize, id: u64, at: usize, n: usize) -> bool {
        if !self.make_room(n, i) {
            let len = self.slots[i].active.as_ref().map_or(0, |a| a.prompt.len());
            let free = self.free_cells_for(i);
            self.fail(i, &EngineError::ContextBusy { prompt_tokens: len, free, context_size: self.n_ctx });
            return false;
        }
        // Computing an image takes a while: what other requests have streamed goes out first.
        for a in self.slots.iter_mut().filter_map(|s| s.active.as_mut()) {
            a.events.flush();
        }
        let Scheduler { vision, ctx, slots, batch_size, .. } = self;
        let slot = &mut slots[i];
        let (Some(vision), Some(a)) = (vision.as_mut(), slot.active.as_mut()) else { return false };
        let span = &a.images.prepared[&id];
        match vision.eval(span, ctx, at, slot.seq, *batch_size) {
            Ok(()) => {
                slot.kv_tokens.extend_from_slice(&span.tokens);
                a.fed = at + n;
                true
            }
            Err(e) => {
                // What the cache holds for this sequence past `at` is unknown now.
                self.drop_cache_from(i, at);
                self.fail(i, &e);
                false
            }
        }
    }

    /// Adds one token of slot `i` at its next position.
    /// Adds one token of slot `i` at its next position (the draft model reads it too, when
    /// its cache holds everything before it). The first token with logits is where the
    /// request's next pick reads.
    fn add(&mut self, i: usize, token: LlamaToken, logits: bool) -> Result<()> {
        let slot = &mut self.slots[i];
        let pos = slot.kv_tokens.len();
        self.batch.add(token, pos as i32, &[slot.seq], logits).map_err(|e| EngineError::Decode(e.to_string()))?;
        slot.kv_tokens.push(token);
        if let Some(d) = self.drafter.as_mut().filter(|d| d.reads_batches()) {
            if slot.draft_synced == pos {
                d.push(token, pos as i32, slot.seq, logits);
                slot.draft_synced += 1;
            }
        }
        if logits {
            if let Some(a) = slot.active.as_mut() {
                a.logits_at.get_or_insert(self.batch.n_tokens() - 1);
            }
        }
        Ok(())
    }

    /// Cells in use: every slot's cached tokens (the batch's are counted as they are added).
    fn used_cells(&self) -> usize {
        self.slots.iter().map(|s| s.kv_tokens.len()).sum()
    }

    /// The most cells slot `i` could have if every idle slot's cache were dropped.
    fn free_cells_for(&self, i: usize) -> usize {
        let busy: usize = self
            .slots
            .iter()
            .enumerate()
            .filter(|(j, s)| *j != i && s.active.is_some())
            .map(|(_, s)| s.kv_tokens.len())
            .sum();
        self.n_ctx.saturating_sub(busy)
    }

    /// Makes room for `n` more cells, dropping idle slots' caches (least recently used first).
    fn make_room(&mut self, n: usize, for_slot: usize) -> bool {
        while self.used_cells() + n > self.n_ctx {
            let idle = self
                .slots
                .iter()
                .enumerate()
                .filter(|(j, s)| *j != for_slot && s.active.is_none() && !s.kv_tokens.is_empty())
                .min_by_key(|(_, s)| s.used_at)
                .map(|(j, _)| j);
            let Some(j) = idle else { return false };
            self.evict(j);
        }
        true
    }

    /// Empties idle slot `j`'s cache, saving it first when it holds a conversation.
    fn evict(&mut self, j: usize) {
        if let Some(key) = self.slots[j].key.take() {
            if let Err(e) = self.persist_slot(j, &key) {
                tracing::warn!("{e}");
            }
        }
        self.drop_cache_from(j, 0);
    }

    fn finish(&mut self, i: usize, reason: FinishReason) {
        self.clock += 1;
        let slot = &mut self.slots[i];
        slot.used_at = self.clock;
        if let Some(a) = slot.active.take() {
            a.finish(reason, self.n_ctx);
        }
    }

    fn fail(&mut self, i: usize, error: &EngineError) {
        self.clock += 1;
        let slot = &mut self.slots[i];
        slot.used_at = self.clock;
        if let Some(a) = slot.active.take() {
            a.fail(error);
        }
    }
}

/// A prompt's text tokens with each image's positions put in its place, and where each starts.
fn with_images(
    prompt: crate::prompt::Prompt,
    prepared: &HashMap<u64, ImageSpan>,
) -> (Vec<LlamaToken>, Vec<(usize, u64)>) {
    if prompt.images.is_empty() {
        return (prompt.tokens, Vec::new());
    }
    let mut tokens = Vec::with_capacity(prompt.tokens.len());
    let mut spans = Vec::with_capacity(prompt.images.len());
    let mut copied = 0;
    for (at, id) in prompt.images {
        tokens.extend_from_slice(&prompt.tokens[copied..at]);
        copied = at;
        // Every image of the messages was prepared; a template that invents one gets none.
        let Some(span) = prepared.get(&id) else { continue };
        spans.push((tokens.len(), id));
        tokens.extend_from_slice(&span.tokens);
    }
    tokens.extend_from_slice(&prompt.tokens[copied..]);
    (tokens, spans)
}

fn shared_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}
