//! llama.cpp's drafters for the sequence slots of one loaded context (the C face in
//! `cpp/speculative.cpp` over `common/speculative.cpp`), made at load from the load's
//! [`Drafting`]; the scheduler asks them for drafts and verifies them (see `speculative`).
//!
//! llama-cpp-2 keeps its contexts' pointers private, and llama.cpp's drafters need them (the
//! draft model's context, the target's for the vocabulary check and MTP): [`raw_context`]
//! reads the pointer from the context's `Debug` output and checks it against the context's
//! own answers before anything uses it.
//!
//! Where drafting stops: a load whose cache cannot drop rejected drafts (recurrent or hybrid
//! models) gets no drafter (logged); a request that turns drafting off, or holds images while a
//! draft model reads the batches, decodes plainly, and `GenerationStats::draft_off` says why.
//! `tests/drafting.rs` holds that drafts never change an answer.

use std::ffi::{c_char, CStr, CString};
use std::ptr::NonNull;

use llama_cpp_2::context::params::LlamaContextType;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_sys_2::{llama_context, llama_pos, llama_seq_id, llama_token};

use crate::{EngineError, Result};
use sirocco_types::drafting::{DraftKind, Drafting, MAX_DRAFT};
use sirocco_types::LoadParams;

#[repr(C)]
struct RawSpec {
    _private: [u8; 0],
}

extern "C" {
    fn sirocco_spec_new(
        types: *const c_char,
        ctx_tgt: *mut llama_context,
        ctx_dft: *mut llama_context,
        n_seq: u32,
        n_max: i32,
        n_min: i32,
        p_min: f32,
        error: *mut *mut c_char,
    ) -> *mut RawSpec;
    fn sirocco_spec_free(spec: *mut RawSpec);
    fn sirocco_spec_string_free(text: *mut c_char);
    fn sirocco_spec_n_max(spec: *const RawSpec) -> i32;
    fn sirocco_spec_begin(spec: *mut RawSpec, seq: i32, tokens: *const llama_token, n: usize) -> bool;
    fn sirocco_spec_process(
        spec: *mut RawSpec,
        tokens: *const llama_token,
        pos: *const llama_pos,
        seqs: *const llama_seq_id,
        outputs: *const i8,
        n: usize,
    ) -> bool;
    fn sirocco_spec_want(
        spec: *mut RawSpec,
        seq: i32,
        n_max: i32,
        pos0: llama_pos,
        id_last: llama_token,
        history: *const llama_token,
        n: usize,
    ) -> bool;
    fn sirocco_spec_draft(spec: *mut RawSpec) -> bool;
    fn sirocco_spec_result(spec: *const RawSpec, seq: i32, out: *mut llama_token, cap: usize) -> usize;
    fn sirocco_spec_accept(spec: *mut RawSpec, seq: i32, n_accepted: u16) -> bool;
    fn sirocco_spec_can_drop_tail(ctx: *mut llama_context) -> bool;
}

/// Whether `ctx`'s cache can drop a sequence's last tokens (rejected drafts): llama.cpp's own
/// probe, which decodes two tokens and clears the cache — only for a context holding nothing.
pub(crate) fn can_drop_tail(ctx: &mut LlamaContext<'_>) -> Result<bool> {
    let raw = raw_context(ctx)?;
    // The probe decodes, so it runs on the compute thread like every decode.
    // SAFETY: a live context the caller holds mutably for the whole call.
    Ok(crate::compute::run(|| unsafe { sirocco_spec_can_drop_tail(raw.as_ptr()) }))
}

/// The pointer inside a llama-cpp-2 context, read from its `Debug` output
/// (`LlamaContext { context: 0x… }`) and checked against what the context says of itself.
pub(crate) fn raw_context(ctx: &LlamaContext<'_>) -> Result<NonNull<llama_context>> {
    let text = format!("{ctx:?}");
    let hex = text
        .split("0x")
        .nth(1)
        .map(|rest| rest.chars().take_while(char::is_ascii_hexdigit).collect::<String>())
        .filter(|h| !h.is_empty());
    let pointer = hex
        .and_then(|h| usize::from_str_radix(&h, 16).ok())
        .and_then(|p| NonNull::new(p as *mut llama_context))
        .ok_or_else(|| EngineError::ContextFailed("this llama-cpp-2 does not show its context".into()))?;
    if !text.starts_with("LlamaContext { context: 0x") {
        return Err(EngineError::ContextFailed("this llama-cpp-2 does not show its context".into()));
    }
    // SAFETY: the pointer is the only field this llama-cpp-2 shows: its context's; every size
    // read from it must agree with the context's own answers.
    let same = unsafe {
        llama_cpp_sys_2::llama_n_ctx(pointer.as_ptr()) == ctx.n_ctx()
            && llama_cpp_sys_2::llama_n_batch(pointer.as_ptr()) == ctx.n_batch()
            && llama_cpp_sys_2::llama_n_ubatch(pointer.as_ptr()) == ctx.n_ubatch()
    };
    if !same {
        return Err(EngineError::ContextFailed("this llama-cpp-2 does not show its context".into()));
    }
    Ok(pointer)
}

/// llama.cpp's drafters for every sequence slot of one context.
pub(crate) struct Drafter {
    raw: NonNull<RawSpec>,
    /// The most tokens any draft holds.
    n_max: usize,
    /// Whether it drafts with a model that must read every batch the target decodes.
    reads_batches: bool,
    /// Whether that model can read tokens the target read earlier (a draft model can; MTP
    /// heads read the target's own hidden states, so only as the target reads them).
    catches_up: bool,
    /// What it drafts with, for the logs and the load's description.
    pub(crate) description: String,
    tokens: Vec<llama_token>,
    pos: Vec<llama_pos>,
    seqs: Vec<llama_seq_id>,
    outputs: Vec<i8>,
}

// SAFETY: the drafter is used by one thread at a time (the engine's, handing calls to the
// compute thread and waiting), like the contexts it points to.
unsafe impl Send for Drafter {}

impl Drafter {
    /// Drafters of `drafting`'s kinds for `slots` sequences of `target`; `draft` is the draft
    /// model's context (draft-simple) or the MTP context.
    pub(crate) fn new(
        drafting: &Drafting,
        target: &LlamaContext<'_>,
        draft: Option<&LlamaContext<'_>>,
        slots: usize,
    ) -> Result<Self> {
        let ctx_tgt = raw_context(target)?;
        let ctx_dft = draft.map(raw_context).transpose()?;
        let kinds: Vec<DraftKind> =
            drafting.kinds.iter().copied().filter(|k| !k.uses_model() || ctx_dft.is_some()).collect();
        let names = kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join(",");
        let types = CString::new(names.clone()).expect("kind names have no NUL");
        let mut error: *mut c_char = std::ptr::null_mut();
        // SAFETY: both contexts outlive the drafter (the scheduler drops it first).
        let raw = unsafe {
            sirocco_spec_new(
                types.as_ptr(),
                ctx_tgt.as_ptr(),
                ctx_dft.map_or(std::ptr::null_mut(), NonNull::as_ptr),
                slots as u32,
                drafting.draft_max.map_or(0, |n| n as i32),
                drafting.draft_min as i32,
                drafting.draft_p_min,
                &mut error,
            )
        };
        let Some(raw) = NonNull::new(raw) else {
            let why = if error.is_null() {
                "llama.cpp could not start drafting".to_owned()
            } else {
                // SAFETY: the shim wrote a NUL-terminated message it allocated.
                let text = unsafe { CStr::from_ptr(error) }.to_string_lossy().into_owned();
                unsafe { sirocco_spec_string_free(error) };
                text
            };
            return Err(EngineError::InvalidRequest(why));
        };
        // SAFETY: a live drafter.
        let n_max = unsafe { sirocco_spec_n_max(raw.as_ptr()) }.clamp(0, MAX_DRAFT as i32) as usize;
        Ok(Self {
            raw,
            n_max,
            reads_batches: kinds.iter().any(|k| k.uses_model()),
            catches_up: !kinds.contains(&DraftKind::DraftMtp),
            description: names,
            tokens: Vec::new(),
            pos: Vec::new(),
            seqs: Vec::new(),
            outputs: Vec::new(),
        })
    }

    pub(crate) fn n_max(&self) -> usize {
        self.n_max
    }

    /// Whether a draft model reads the batches (and so must see every token of a sequence:
    /// prompts with images, restored states and caches it never read cannot draft).
    pub(crate) fn reads_batches(&self) -> bool {
        self.reads_batches
    }

    pub(crate) fn can_catch_up(&self) -> bool {
        self.catches_up
    }

    /// A request starts on `seq`, whose cache holds `history`.
    pub(crate) fn begin(&mut self, seq: i32, history: &[LlamaToken]) {
        // SAFETY: LlamaToken is a transparent i32.
        let ok = unsafe { sirocco_spec_begin(self.raw.as_ptr(), seq, history.as_ptr().cast(), history.len()) };
        if !ok {
            tracing::warn!(seq, "llama.cpp's drafter did not take the prompt");
        }
    }

    /// Starts a batch the target will decode (its entries are added with [`Self::push`]).
    pub(crate) fn clear_batch(&mut self) {
        self.tokens.clear();
        self.pos.clear();
        self.seqs.clear();
        self.outputs.clear();
    }

    pub(crate) fn push(&mut self, token: LlamaToken, pos: i32, seq: i32, output: bool) {
        if self.reads_batches {
            self.tokens.push(token.0);
            self.pos.push(pos);
            self.seqs.push(seq);
            self.outputs.push(output as i8);
        }
    }

    /// Hands the drafters the batch the target decoded (a draft model decodes it too). Runs
    /// llama.cpp: call it on the compute thread.
    pub(crate) fn process(&mut self) -> bool {
        if self.tokens.is_empty() {
            return true;
        }
        // SAFETY: five arrays of the same length.
        unsafe {
            sirocco_spec_process(
                self.raw.as_ptr(),
                self.tokens.as_ptr(),
                self.pos.as_ptr(),
                self.seqs.as_ptr(),
                self.outputs.as_ptr(),
                self.tokens.len(),
            )
        }
    }

    /// Asks for a draft of at most `n_max` tokens for `seq`, after `last` at position `pos0`,
    /// continuing `history` (made by the next [`Self::draft`]).
    pub(crate) fn want(&mut self, seq: i32, n_max: usize, pos0: usize, last: LlamaToken, history: &[LlamaToken]) {
        // SAFETY: LlamaToken is a transparent i32.
        unsafe {
            sirocco_spec_want(
                self.raw.as_ptr(),
                seq,
                n_max as i32,
                pos0 as i32,
                last.0,
                history.as_ptr().cast(),
                history.len(),
            );
        }
    }

    /// Makes every draft asked for. Runs llama.cpp: call it on the compute thread.
    pub(crate) fn draft(&mut self) -> bool {
        // SAFETY: a live drafter.
        unsafe { sirocco_spec_draft(self.raw.as_ptr()) }
    }

    /// `seq`'s draft from the last [`Self::draft`].
    pub(crate) fn result(&self, seq: i32) -> Vec<LlamaToken> {
        let mut out = vec![0 as llama_token; self.n_max.max(1)];
        // SAFETY: `out` holds `out.len()` tokens.
        let n = unsafe { sirocco_spec_result(self.raw.as_ptr(), seq, out.as_mut_ptr(), out.len()) };
        out.truncate(n);
        out.into_iter().map(LlamaToken).collect()
    }

    /// Says how many of `seq`'s drafted tokens the model kept.
    pub(crate) fn accept(&mut self, seq: i32, accepted: usize) {
        // SAFETY: a live drafter.
        unsafe { sirocco_spec_accept(self.raw.as_ptr(), seq, accepted.min(u16::MAX as usize) as u16) };
    }
}

impl Drop for Drafter {
    fn drop(&mut self) {
        // SAFETY: made by sirocco_spec_new, freed once.
        unsafe { sirocco_spec_free(self.raw.as_ptr()) };
    }
}

/// The draft model a load asks for (draft-simple), checked and loaded: on the GPU when the
/// model is, else in RAM.
pub(crate) fn load_draft_model(params: &LoadParams) -> Result<Option<LlamaModel>> {
    let drafting = &params.drafting;
    if !drafting.kinds.contains(&DraftKind::DraftSimple) {
        return Ok(None);
    }
    drafting.validate()?;
    let path = drafting.draft_model.as_ref().expect("validated: draft-simple has a draft model");
    crate::gguf_file::inspect(path)?;
    let model_params = LlamaModelParams::default()
        .with_n_gpu_layers(sirocco_types::drafting::draft_gpu_layers(params.gpu_layers))
        .with_use_mmap(params.use_mmap);
    LlamaModel::load_from_file(crate::backend::backend(), path, &model_params)
        .map(Some)
        .map_err(|_| EngineError::LoadFailed { path: path.clone() })
}

/// A context's drafter and the context it drafts in (a draft model's, or the MTP heads'), or
/// `None` when the load drafts nothing — or cannot: a cache that cannot drop rejected drafts
/// (recurrent and hybrid models) decodes plainly, as the log says.
pub(crate) fn drafter<'m>(
    params: &LoadParams,
    model: &'m LlamaModel,
    ctx: &mut LlamaContext<'m>,
    draft_model: Option<&'m LlamaModel>,
    slots: u32,
    threads: u32,
) -> Result<Option<(Drafter, Option<LlamaContext<'m>>)>> {
    let drafting = &params.drafting;
    if !drafting.is_on() {
        return Ok(None);
    }
    drafting.validate()?;
    if !can_drop_tail(ctx)? {
        tracing::warn!("this model's cache cannot drop rejected drafts (a recurrent or hybrid model): no drafting");
        return Ok(None);
    }
    let context_params = |n_ctx: u32| crate::backend::context_params(params, n_ctx, ctx.n_batch(), slots, threads);
    let draft_ctx = match draft_model {
        Some(draft) => Some(
            draft
                .new_context(crate::backend::backend(), context_params(ctx.n_ctx()))
                .map_err(|e| EngineError::ContextFailed(format!("the draft model's context: {e}")))?,
        ),
        None if drafting.kinds.contains(&DraftKind::DraftMtp) => Some(
            model
                .new_context_with_ctx_other(
                    crate::backend::backend(),
                    context_params(ctx.n_ctx()).with_context_type(LlamaContextType::Mtp),
                    ctx,
                )
                .map_err(|_| EngineError::InvalidRequest("this model has no MTP heads to draft with".into()))?,
        ),
        None => None,
    };
    let drafter = Drafter::new(drafting, ctx, draft_ctx.as_ref(), slots as usize)?;
    tracing::info!(kinds = %drafter.description, n_max = drafter.n_max(), "drafting tokens");
    Ok(Some((drafter, draft_ctx)))
}
