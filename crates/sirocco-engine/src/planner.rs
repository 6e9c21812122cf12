//! The memory planner: from a GGUF header alone, how much RAM and VRAM a load takes for a
//! given (GPU layers, context, KV type), and the most GPU layers and longest context that fit.
//!
//! Weights and KV cache are exact (tensor sizes from the header; KV = cells × layers ×
//! KV heads × head size × bytes per element, with llama.cpp's sliding-window caches where
//! llama.cpp applies them). Compute buffers and the runtime's own memory are modelled from
//! llama.cpp's graph shapes and calibrated against measured resident memory on this project's
//! fixtures (see `tests/memory_planner.rs`).
//!
//! Layers are placed as llama.cpp places them ([`layer_devices`]: the output layer first, the
//! offloaded ones split in proportion to each device's free memory); [`estimate_split`] gives
//! each device's share; [`fit`], [`fit_across`] (other machines' devices too) and
//! [`fit_at_context`] pick a load (a MoE model keeps its experts in RAM when that puts more of
//! it on the GPU).

use serde::{Deserialize, Serialize};

use crate::hardware::Hardware;
use crate::GgufSummary;
use sirocco_types::{FlashAttention, KvCacheType, DEFAULT_CONTEXT, DEFAULT_PARALLEL};

const MIB: u64 = 1024 * 1024;
/// llama.cpp pads KV cells and contexts to this multiple.
const CELL_PAD: u64 = 256;
/// Runtime memory besides buffers: thread pools, allocator arenas, graph metadata, the code
/// first touched by a load and a generation. Calibrated by `tests/memory_planner.rs` (with 12 MiB
/// every configuration there came out 1.1–2.2 MiB under the measured resident memory).
const RUNTIME_BASE: u64 = 13 * MIB;
/// The vocabulary as llama.cpp keeps it (token text, maps, piece cache), per token.
const VOCAB_BYTES_PER_TOKEN: u64 = 210;
/// Default context a user gets when they have not chosen one, if it fits.
pub const DEFAULT_CONTEXT_CAP: u64 = 8192;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct PlanRequest {
    pub gpu_layers: u32,
    pub context_length: u64,
    pub kv_cache_type: KvCacheType,
    pub flash_attention: FlashAttention,
    /// Physical batch (llama.cpp's `n_ubatch`).
    pub batch_size: u64,
    /// Parallel sequences sharing the context.
    pub sequences: u64,
    /// Mixture-of-experts tensors stay in RAM even in layers on the GPU.
    #[serde(default)]
    pub experts_on_cpu: bool,
}

impl PlanRequest {
    pub fn cpu(context_length: u64) -> Self {
        Self {
            gpu_layers: 0,
            context_length,
            kv_cache_type: KvCacheType::F16,
            flash_attention: FlashAttention::Auto,
            batch_size: 512,
            sequences: DEFAULT_PARALLEL as u64,
            experts_on_cpu: false,
        }
    }
}

/// Predicted memory of one load, by kind and device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct MemoryEstimate {
    pub weights_ram: u64,
    pub weights_vram: u64,
    pub kv_ram: u64,
    pub kv_vram: u64,
    /// Compute buffers as resident in use (llama.cpp reserves more: logits for a whole batch).
    pub compute_ram: u64,
    pub compute_vram: u64,
    pub runtime_ram: u64,
    /// A vision projector loaded with the model: its weights and its encoder's buffers (mtmd
    /// keeps them in RAM in the builds that have no GPU; counted in RAM here).
    pub projector_ram: u64,
}

impl MemoryEstimate {
    pub fn ram(&self) -> u64 {
        self.weights_ram + self.kv_ram + self.compute_ram + self.runtime_ram + self.projector_ram
    }
    pub fn vram(&self) -> u64 {
        self.weights_vram + self.kv_vram + self.compute_vram
    }
}

/// How a model fits this machine.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FitVerdict {
    FullyOnGpu,
    PartialOffload { gpu_layers: u32, total_layers: u32 },
    CpuOnly,
    TooLarge,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct FitPlan {
    pub verdict: FitVerdict,
    pub gpu_layers: u32,
    /// A mixture-of-experts model that fits more of itself on the GPU with its experts in RAM.
    pub experts_on_cpu: bool,
    pub context_length: u64,
    pub estimate: MemoryEstimate,
    /// Each offload device's share (local GPUs, then other machines' devices).
    pub devices: Vec<DeviceShare>,
    /// Other machines' devices that take part ("fits across this machine and N others").
    pub workers_used: u32,
}

/// Which layers llama.cpp gives a sliding-window KV cache, per architecture. Architectures
/// that declare a window llama.cpp does not apply (Mistral 7B v0.1's `llama`) get none.
fn sliding_window_layer(arch: &str, layer: u64) -> bool {
    match arch {
        "gemma2" | "gpt-oss" => layer.is_multiple_of(2),
        "gemma3" | "gemma3n" => layer % 6 < 5,
        "cohere2" => layer % 4 < 3,
        _ => false,
    }
}

fn pad(n: u64, to: u64) -> u64 {
    n.div_ceil(to) * to
}

/// Bytes of one KV element row of `n` values.
fn kv_row_bytes(kind: KvCacheType, n: u64) -> u64 {
    match kind {
        KvCacheType::F16 => n * 2,
        KvCacheType::Q8_0 => n.div_ceil(32) * 34,
        KvCacheType::Q4_0 => n.div_ceil(32) * 18,
    }
}

/// The model's shape as the planner needs it.
struct Shape<'a> {
    summary: &'a GgufSummary,
    layers: u64,
    embd: u64,
    ff: u64,
    heads: u64,
    kv_heads: u64,
    key_len: u64,
    value_len: u64,
    vocab: u64,
    experts_used: u64,
}

impl<'a> Shape<'a> {
    fn of(summary: &'a GgufSummary) -> Self {
        let layers = summary.block_count.unwrap_or(summary.layer_bytes.len() as u64).max(1);
        let embd = summary.embedding_length.unwrap_or(0);
        let heads = summary.head_count.unwrap_or(1).max(1);
        let head_dim = embd / heads;
        Self {
            summary,
            layers,
            embd,
            ff: summary.feed_forward_length.unwrap_or(embd * 4),
            heads,
            kv_heads: summary.head_count_kv.unwrap_or(heads),
            key_len: summary.key_length.unwrap_or(head_dim),
            value_len: summary.value_length.unwrap_or(head_dim),
            vocab: summary.vocab_size.unwrap_or(32_000),
            experts_used: summary.expert_used_count.unwrap_or(1).max(1),
        }
    }

    fn layer_bytes(&self, layer: u64) -> u64 {
        self.summary.layer_bytes.get(layer as usize).copied().unwrap_or(0)
    }

    fn expert_bytes(&self, layer: u64) -> u64 {
        self.summary.expert_bytes.get(layer as usize).copied().unwrap_or(0).min(self.layer_bytes(layer))
    }

    /// KV cache bytes of one layer.
    fn kv_layer_bytes(&self, layer: u64, req: &PlanRequest) -> u64 {
        let full = pad(req.context_length, CELL_PAD);
        let cells = match self.summary.sliding_window {
            Some(window) if sliding_window_layer(&self.summary.architecture, layer) => {
                full.min(pad(window * req.sequences + req.batch_size, CELL_PAD))
            }
            _ => full,
        };
        let kv = self.kv_heads;
        cells
            * (kv_row_bytes(req.kv_cache_type, kv * self.key_len)
                + kv_row_bytes(req.kv_cache_type, kv * self.value_len))
    }

    /// Compute buffer in use for one batch, in two parts: what every device running layers
    /// holds (activations of one layer, the attention mask, attention scores when flash
    /// attention is off), and one row of logits per sequence (the output layer's device).
    fn compute_parts(&self, req: &PlanRequest) -> (u64, u64) {
        let batch = req.batch_size;
        let activations = batch * 4 * (6 * self.embd + 3 * self.ff * self.experts_used);
        let scores = match req.flash_attention {
            FlashAttention::Off => batch * pad(req.context_length, CELL_PAD) * self.heads * 4,
            _ => 0,
        };
        (activations + scores, self.vocab * 4 * req.sequences)
    }
}

/// One offload device's share of a load — a local GPU or a worker's device — as llama.cpp
/// splits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct DeviceShare {
    /// Repeating layers on it: `first_layer..end_layer` (none when equal).
    pub first_layer: u32,
    pub end_layer: u32,
    /// The output layer (final norm and head) is on it too.
    pub output: bool,
    pub weights: u64,
    pub kv: u64,
    pub compute: u64,
}

impl DeviceShare {
    pub fn total(&self) -> u64 {
        self.weights + self.kv + self.compute
    }
    pub fn layers(&self) -> u32 {
        self.end_layer - self.first_layer
    }
}

/// Where llama.cpp puts each layer for `gpu_layers` (its `-ngl`) over offload devices with
/// `free` bytes each, in its order: index `layers` is the output layer; `None` is the CPU.
///
/// As `llama_model::load_tensors` does: the output layer counts as one of the `gpu_layers`
/// and goes first, then the last repeating layers (so 15 of 30 puts layers 16–29 and the
/// output layer on the devices); the offloaded ones are cut into consecutive runs in
/// proportion to each device's free memory (the default tensor split).
pub fn layer_devices(layers: u32, gpu_layers: u32, free: &[u64]) -> Vec<Option<usize>> {
    let (n, ngl) = (i64::from(layers), i64::from(gpu_layers));
    let start = (n + 1 - ngl).max(0);
    let offloaded = if free.is_empty() { 0 } else { ngl.min(n + 1) };
    // llama.cpp sums and normalises in f32; the same arithmetic gives the same cut points.
    let mut splits: Vec<f32> = Vec::with_capacity(free.len());
    let mut sum = 0f32;
    for &f in free {
        sum += f as f32;
        splits.push(sum);
    }
    if sum > 0.0 {
        splits.iter_mut().for_each(|s| *s /= sum);
    } else {
        let n = splits.len() as f32;
        splits.iter_mut().enumerate().for_each(|(i, s)| *s = (i + 1) as f32 / n);
    }
    (0..=n)
        .map(|il| {
            if il < start || il - start >= offloaded {
                return None;
            }
            let at = (il - start) as f32 / offloaded as f32;
            Some(splits.iter().position(|&s| s > at).unwrap_or(free.len() - 1))
        })
        .collect()
}

/// Predicts the memory of loading `summary` with `req`, with every offloaded layer on one
/// device (the VRAM side is that device's share).
pub fn estimate(summary: &GgufSummary, req: &PlanRequest) -> MemoryEstimate {
    estimate_split(summary, req, &[1]).0
}

/// Predicts the memory of loading `summary` with `req` over offload devices with `free` bytes
/// each (local GPUs, then workers, as llama.cpp lists them): what stays in RAM and each
/// device's share; the estimate's VRAM fields are the devices' sums.
pub fn estimate_split(summary: &GgufSummary, req: &PlanRequest, free: &[u64]) -> (MemoryEstimate, Vec<DeviceShare>) {
    let shape = Shape::of(summary);
    let layers = shape.layers as u32;
    let placed = layer_devices(layers, req.gpu_layers, free);
    let mut shares: Vec<DeviceShare> = (0..free.len())
        .map(|_| DeviceShare { first_layer: 0, end_layer: 0, output: false, weights: 0, kv: 0, compute: 0 })
        .collect();
    let (mut weights_ram, mut kv_ram) = (0, 0);
    for layer in 0..shape.layers {
        let (w, kv) = (shape.layer_bytes(layer), shape.kv_layer_bytes(layer, req));
        match placed[layer as usize] {
            Some(d) => {
                let experts = if req.experts_on_cpu { shape.expert_bytes(layer) } else { 0 };
                let share = &mut shares[d];
                if share.first_layer == share.end_layer {
                    share.first_layer = layer as u32;
                }
                share.end_layer = layer as u32 + 1;
                share.weights += w - experts;
                share.kv += kv;
                weights_ram += experts;
            }
            None => {
                weights_ram += w;
                kv_ram += kv;
            }
        }
    }
    weights_ram += summary.other_bytes;
    let (activations, logits) = shape.compute_parts(req);
    if let Some(d) = placed[layers as usize] {
        // The head leaves RAM; a tied one is a copy of the token embeddings, which stay.
        weights_ram -= (summary.output_norm_bytes + summary.output_head_bytes).min(summary.other_bytes);
        shares[d].output = true;
        shares[d].weights += summary.output_layer_bytes();
        shares[d].compute += logits;
    }
    for share in shares.iter_mut().filter(|s| s.layers() > 0 || s.output) {
        share.compute += activations;
    }
    let offloaded = placed.iter().any(Option::is_some);
    let compute = activations + logits;
    let estimate = MemoryEstimate {
        weights_ram,
        weights_vram: shares.iter().map(|s| s.weights).sum(),
        kv_ram,
        kv_vram: shares.iter().map(|s| s.kv).sum(),
        compute_ram: if offloaded { compute / 4 } else { compute },
        compute_vram: shares.iter().map(|s| s.compute).sum(),
        runtime_ram: RUNTIME_BASE + shape.vocab * VOCAB_BYTES_PER_TOKEN,
        projector_ram: 0,
    };
    (estimate, shares)
}

/// The most GPU layers, then the longest context (up to `max_context`, default
/// [`DEFAULT_CONTEXT_CAP`], never beyond the trained length) that fit `hardware`.
pub fn fit(summary: &GgufSummary, hardware: &Hardware, max_context: Option<u64>) -> FitPlan {
    fit_across(summary, hardware, &[], max_context)
}

/// [`fit`] with other machines' devices too (`workers`: each device's free memory, in the
/// order llama.cpp lists them after the local GPUs): every device's share, as llama.cpp splits
/// the offloaded layers, must fit that device, and what stays here this machine's RAM.
pub fn fit_across(summary: &GgufSummary, hardware: &Hardware, workers: &[u64], max_context: Option<u64>) -> FitPlan {
    plan(summary, hardware, workers, max_context, false)
}

/// The most GPU layers that fit `hardware` and `workers` with exactly `context` tokens of
/// context (the user chose it): the GPU-layers slider's default for that choice.
pub fn fit_at_context(summary: &GgufSummary, hardware: &Hardware, workers: &[u64], context: u64) -> FitPlan {
    plan(summary, hardware, workers, Some(context), true)
}

fn plan(summary: &GgufSummary, hardware: &Hardware, workers: &[u64], max_context: Option<u64>, exact: bool) -> FitPlan {
    let shape = Shape::of(summary);
    let trained = summary.context_length.unwrap_or(4096).max(CELL_PAD);
    let mut cap = max_context.unwrap_or(DEFAULT_CONTEXT_CAP).min(trained);
    // Mistral 7B v0.1 and kin declare a window llama.cpp does not apply: beyond it the
    // model was not trained to attend, so that is the sensible default.
    if let Some(window) = summary.sliding_window.filter(|_| !exact) {
        if !(0..shape.layers).any(|l| sliding_window_layer(&summary.architecture, l)) {
            cap = cap.min(window.max(CELL_PAD));
        }
    }
    // The smallest context tried: the chosen one when it is chosen.
    let least = if exact { cap } else { CELL_PAD.min(cap) };
    let ram = hardware.ram_available;
    let mut free: Vec<u64> = if hardware.gpus.is_empty() {
        if hardware.vram_free > 0 {
            vec![hardware.vram_free]
        } else {
            Vec::new()
        }
    } else {
        hardware.gpus.iter().map(|g| g.memory_free).collect()
    };
    let local = free.len();
    // Every worker device keeps its place (a full one gets no layers: the split is by free
    // memory), so `devices` lines up with the local GPUs followed by `workers`.
    free.extend_from_slice(workers);
    let layers = shape.layers as u32;
    let fits = |gpu_layers: u32, context: u64, experts_on_cpu: bool| {
        let req = PlanRequest { gpu_layers, experts_on_cpu, ..PlanRequest::cpu(context) };
        let (est, shares) = estimate_split(summary, &req, &free);
        (est.ram() <= ram && shares.iter().zip(&free).all(|(s, &f)| s.total() <= f)).then_some((est, shares))
    };
    // Most GPU layers that fit with a minimal context, then the longest context for them.
    let max_gpu = if free.is_empty() { 0 } else { layers + 1 };
    let most_layers = |experts_on_cpu: bool| (0..=max_gpu).rev().find(|&g| fits(g, least, experts_on_cpu).is_some());
    // A mixture of experts that does not fit whole on the GPU: keeping its experts in RAM puts
    // every other tensor (attention, KV cache) on the GPU, which is worth more than some whole
    // layers there (only a few experts' weights are read per token).
    let whole = most_layers(false);
    let moe = !summary.expert_bytes.iter().all(|&b| b == 0);
    let (gpu_layers, experts_on_cpu) = match (whole, moe && !free.is_empty()) {
        (Some(g), _) if g > layers => (Some(g), false),
        (whole, true) => match most_layers(true) {
            Some(g) if whole.is_none_or(|w| g > w) => (Some(g), true),
            _ => (whole, false),
        },
        (whole, false) => (whole, false),
    };
    let try_fit = |gpu_layers: u32, context: u64| fits(gpu_layers, context, experts_on_cpu);
    let Some(gpu_layers) = gpu_layers else {
        let estimate = estimate(summary, &PlanRequest::cpu(least));
        return FitPlan {
            verdict: FitVerdict::TooLarge,
            gpu_layers: 0,
            experts_on_cpu: false,
            context_length: 0,
            estimate,
            devices: Vec::new(),
            workers_used: 0,
        };
    };
    let mut context = least;
    let mut candidate = cap;
    while candidate > context {
        if try_fit(gpu_layers, candidate).is_some() {
            context = candidate;
            break;
        }
        candidate = pad(candidate / 2, CELL_PAD);
    }
    let (estimate, devices) = try_fit(gpu_layers, context).expect("checked above");
    let verdict = match gpu_layers {
        0 => FitVerdict::CpuOnly,
        g if g >= layers => FitVerdict::FullyOnGpu,
        g => FitVerdict::PartialOffload { gpu_layers: g, total_layers: layers },
    };
    let workers_used = devices[local..].iter().filter(|d| d.layers() > 0 || d.output).count() as u32;
    FitPlan { verdict, gpu_layers, experts_on_cpu, context_length: context, estimate, devices, workers_used }
}

/// Memory a vision projector of `file_size` bytes takes loaded: its weights, and the image
/// encoder's compute buffers — which grow with the encoder (its attention over an image's
/// patches at full width), taken as a quarter of the weights and at least 32 MiB.
pub fn projector_memory(file_size: u64) -> u64 {
    file_size + (file_size / 4).max(32 << 20)
}

/// [`fit_across`] for a model loaded with a vision projector of `projector_size` bytes: the
/// projector's memory is set aside from the RAM first, so the model gets what is left.
pub fn fit_with_projector(
    summary: &GgufSummary,
    hardware: &Hardware,
    workers: &[u64],
    max_context: Option<u64>,
    projector_size: Option<u64>,
) -> FitPlan {
    let projector = projector_size.map_or(0, projector_memory);
    let mut rest = hardware.clone();
    rest.ram_available = rest.ram_available.saturating_sub(projector);
    let mut plan = fit_across(summary, &rest, workers, max_context);
    plan.estimate.projector_ram = projector;
    plan
}

/// Predicted memory of loading `summary` with `params`, the context chosen as the engine
/// chooses it (the default when unset, within the trained length).
pub fn estimate_load(summary: &GgufSummary, params: &crate::LoadParams) -> MemoryEstimate {
    let trained = summary.context_length.unwrap_or(u64::from(DEFAULT_CONTEXT)).max(1);
    let context = u64::from(params.context_length.unwrap_or(DEFAULT_CONTEXT)).min(trained);
    estimate(
        summary,
        &PlanRequest {
            gpu_layers: params.gpu_layers,
            context_length: context,
            kv_cache_type: params.kv_cache_type,
            flash_attention: params.flash_attention,
            batch_size: u64::from(params.batch_size),
            sequences: u64::from(params.parallel),
            experts_on_cpu: params.experts_on_cpu,
        },
    )
}

/// `base` with the GPU offload this machine takes for `summary` (the most layers that fit, a
/// mixture of experts' experts in RAM when that fits more): how a model loads when nobody
/// chose (the server loading a model a request names). A saved preset goes on top.
pub fn planned_load(summary: &GgufSummary, hardware: &Hardware, base: crate::LoadParams) -> crate::LoadParams {
    let plan = fit(summary, hardware, base.context_length.map(u64::from));
    if plan.verdict == FitVerdict::TooLarge {
        return base;
    }
    crate::LoadParams { gpu_layers: plan.gpu_layers, experts_on_cpu: plan.experts_on_cpu, ..base }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mistral 7B v0.1's header as the planner sees it (Q4_K_M sizes).
    pub(crate) fn mistral_7b() -> GgufSummary {
        GgufSummary {
            path: "mistral-7b-instruct-v0.1.Q4_K_M.gguf".into(),
            file_size: 4_368_439_584,
            architecture: "llama".into(),
            name: Some("Mistral 7B Instruct v0.1".into()),
            tensor_count: 291,
            tensor_bytes: 4_368_000_000,
            block_count: Some(32),
            context_length: Some(32_768),
            embedding_length: Some(4096),
            head_count: Some(32),
            head_count_kv: Some(8),
            sliding_window: Some(4096),
            expert_count: None,
            expert_used_count: None,
            chat_template: None,
            split_count: 1,
            feed_forward_length: Some(14_336),
            key_length: None,
            value_length: None,
            vocab_size: Some(32_000),
            layer_bytes: vec![130_000_000; 32],
            parameter_count: 7_241_732_096,
            expert_bytes: Vec::new(),
            other_bytes: 208_000_000,
            // 32,000 × 4096 at Q4_K (embeddings) and Q6_K (head), and the f32 norm.
            output_norm_bytes: 16_384,
            output_head_bytes: 107_520_000,
            token_embd_bytes: 73_728_000,
            vocabulary: None,
        }
    }

    #[test]
    fn kv_cache_matches_the_published_figures() {
        // Mistral 7B at 32,768 tokens: f16 4.00 GiB, q8_0 2.125 GiB, q4_0 1.125 GiB.
        let m = mistral_7b();
        for (kind, gib) in [(KvCacheType::F16, 4.0), (KvCacheType::Q8_0, 2.125), (KvCacheType::Q4_0, 1.125)] {
            let req = PlanRequest { kv_cache_type: kind, ..PlanRequest::cpu(32_768) };
            let est = estimate(&m, &req);
            assert_eq!(est.kv_ram as f64 / (1u64 << 30) as f64, gib, "{kind:?}");
        }
    }

    #[test]
    fn mistral_large_kv_per_token() {
        // 88 layers × 8 KV heads × 128 × 2 (K and V) × 2 bytes = 352 KiB per token.
        let mut m = mistral_7b();
        m.block_count = Some(88);
        m.embedding_length = Some(12_288);
        m.head_count = Some(96);
        m.sliding_window = None;
        m.layer_bytes = vec![0; 88];
        let est = estimate(&m, &PlanRequest::cpu(1024));
        assert_eq!(est.kv_ram / 1024, 352 * 1024);
    }

    #[test]
    fn gpu_layers_move_weights_and_kv_to_vram() {
        let m = mistral_7b();
        let cpu = estimate(&m, &PlanRequest::cpu(4096));
        // llama.cpp's -ngl 17: the output layer first, then the last 16 repeating layers.
        let half = estimate(&m, &PlanRequest { gpu_layers: 17, ..PlanRequest::cpu(4096) });
        assert_eq!(half.weights_vram, 16 * 130_000_000 + 107_520_000 + 16_384);
        assert_eq!(half.kv_vram, cpu.kv_ram / 2);
        assert_eq!(half.weights_ram + half.weights_vram, cpu.weights_ram);
        // -ngl 1 is the output layer alone.
        let head = estimate(&m, &PlanRequest { gpu_layers: 1, ..PlanRequest::cpu(4096) });
        assert_eq!((head.weights_vram, head.kv_vram), (107_520_000 + 16_384, 0));
    }

    #[test]
    fn sliding_window_saves_only_where_llama_cpp_applies_it() {
        let mut gemma = mistral_7b();
        gemma.architecture = "gemma3".into();
        gemma.sliding_window = Some(512);
        let mistral = estimate(&mistral_7b(), &PlanRequest::cpu(32_768));
        let with_swa = estimate(&gemma, &PlanRequest::cpu(32_768));
        // 5 of every 6 gemma3 layers keep 512 + 512 cells instead of 32,768.
        assert!(with_swa.kv_ram < mistral.kv_ram / 4, "{with_swa:?}");
    }

    /// Mixtral 8x7B's shape (Q4_K_M sizes): of each layer's 805 MB, 780 MB are the 8 experts.
    fn mixtral_8x7b() -> GgufSummary {
        GgufSummary {
            name: Some("Mixtral 8x7B Instruct v0.1".into()),
            expert_count: Some(8),
            expert_used_count: Some(2),
            layer_bytes: vec![805_000_000; 32],
            expert_bytes: vec![780_000_000; 32],
            parameter_count: 46_702_792_704,
            ..mistral_7b()
        }
    }

    #[test]
    fn experts_on_the_cpu_keep_their_bytes_in_ram() {
        let m = mixtral_8x7b();
        let on_gpu = estimate(&m, &PlanRequest { gpu_layers: 33, ..PlanRequest::cpu(4096) });
        let experts_home =
            estimate(&m, &PlanRequest { gpu_layers: 33, experts_on_cpu: true, ..PlanRequest::cpu(4096) });
        assert_eq!(on_gpu.weights_vram - experts_home.weights_vram, 32 * 780_000_000);
        assert_eq!(experts_home.weights_ram - on_gpu.weights_ram, 32 * 780_000_000);
        assert_eq!(on_gpu.kv_vram, experts_home.kv_vram, "the KV cache stays on the GPU");
        // A dense model has no experts to keep back.
        let dense =
            estimate(&mistral_7b(), &PlanRequest { gpu_layers: 33, experts_on_cpu: true, ..PlanRequest::cpu(4096) });
        assert_eq!(dense, estimate(&mistral_7b(), &PlanRequest { gpu_layers: 33, ..PlanRequest::cpu(4096) }));
    }

    #[test]
    fn fit_keeps_a_moe_models_experts_on_the_cpu_when_that_puts_more_on_the_gpu() {
        let gib = 1u64 << 30;
        let m = mixtral_8x7b();
        // 8 GB of VRAM: whole layers, ~9 of 33; experts in RAM, every layer.
        let plan = fit(&m, &Hardware::test(64 * gib, 8 * gib), None);
        assert!(plan.experts_on_cpu);
        assert_eq!(plan.gpu_layers, 33);
        assert!(plan.estimate.vram() <= 8 * gib && plan.estimate.ram() <= 64 * gib);
        // Enough VRAM for all of it: nothing is kept back.
        let plan = fit(&m, &Hardware::test(64 * gib, 48 * gib), None);
        assert!(!plan.experts_on_cpu);
        assert_eq!(plan.verdict, FitVerdict::FullyOnGpu);
        // No GPU: nothing to decide.
        assert!(!fit(&m, &Hardware::test(64 * gib, 0), None).experts_on_cpu);
        // A dense model never.
        assert!(!fit(&mistral_7b(), &Hardware::test(64 * gib, 2 * gib), None).experts_on_cpu);
    }

    #[test]
    fn a_model_nobody_configured_loads_with_the_offload_this_machine_takes() {
        let gib = 1u64 << 30;
        let gpu = planned_load(&mixtral_8x7b(), &Hardware::test(64 * gib, 8 * gib), crate::LoadParams::default());
        assert_eq!((gpu.gpu_layers, gpu.experts_on_cpu), (33, true));
        let cpu = planned_load(&mistral_7b(), &Hardware::test(64 * gib, 0), crate::LoadParams::default());
        assert_eq!((cpu.gpu_layers, cpu.experts_on_cpu), (0, false));
        let big_gpu = planned_load(&mistral_7b(), &Hardware::test(64 * gib, 24 * gib), crate::LoadParams::default());
        assert_eq!(big_gpu.gpu_layers, 33);
    }

    #[test]
    fn fit_picks_the_most_gpu_layers_then_the_longest_context() {
        let m = mistral_7b();
        let gib = 1u64 << 30;
        let cpu_box = Hardware::test(16 * gib, 0);
        let plan = fit(&m, &cpu_box, None);
        assert_eq!(plan.verdict, FitVerdict::CpuOnly);
        // v0.1's declared window caps the default context.
        assert_eq!(plan.context_length, 4096);

        let big_gpu = Hardware::test(16 * gib, 24 * gib);
        assert_eq!(fit(&m, &big_gpu, None).verdict, FitVerdict::FullyOnGpu);

        let small_gpu = Hardware::test(16 * gib, 2 * gib);
        let plan = fit(&m, &small_gpu, None);
        let FitVerdict::PartialOffload { gpu_layers, total_layers } = plan.verdict else { panic!("{plan:?}") };
        assert!(gpu_layers > 4 && gpu_layers < 16 && total_layers == 32, "{gpu_layers}");
        assert!(plan.estimate.vram() <= 2 * gib && plan.estimate.ram() <= 16 * gib);

        let tiny_box = Hardware::test(gib, 0);
        assert_eq!(fit(&m, &tiny_box, None).verdict, FitVerdict::TooLarge);
    }

    #[test]
    fn a_vision_projector_takes_its_memory_before_the_model() {
        // Mistral Small 3.1's projector at f16 is about 0.8 GB.
        let m = mistral_7b();
        let (gib, projector) = (1u64 << 30, 800_000_000);
        let alone = fit(&m, &Hardware::test(16 * gib, 0), None);
        let with = fit_with_projector(&m, &Hardware::test(16 * gib, 0), &[], None, Some(projector));
        assert_eq!(alone.estimate.projector_ram, 0);
        assert_eq!(with.estimate.projector_ram, projector_memory(projector));
        assert!(projector_memory(projector) > projector, "the encoder's buffers count too");
        assert_eq!(
            with.estimate.ram(),
            with.estimate.weights_ram
                + with.estimate.kv_ram
                + with.estimate.compute_ram
                + with.estimate.runtime_ram
                + with.estimate.projector_ram
        );
        // Just enough RAM for the model at its smallest context: with the projector, not enough.
        let least = estimate(&m, &PlanRequest::cpu(CELL_PAD)).ram();
        let tight = Hardware::test(least + (1 << 20), 0);
        assert_ne!(fit(&m, &tight, None).verdict, FitVerdict::TooLarge);
        assert_eq!(fit_with_projector(&m, &tight, &[], None, Some(projector)).verdict, FitVerdict::TooLarge);
        // With room for both, the context the model gets shrinks by what the projector takes.
        let room = Hardware::test(least + projector_memory(projector) + gib, 0);
        let shared = fit_with_projector(&m, &room, &[], None, Some(projector));
        assert!(shared.context_length > CELL_PAD && shared.context_length <= fit(&m, &room, None).context_length);
        assert!(shared.estimate.ram() <= room.ram_available);
    }

    #[test]
    fn context_never_defaults_to_an_absurd_trained_maximum() {
        let mut m = mistral_7b();
        m.sliding_window = None;
        m.context_length = Some(1 << 20);
        let plan = fit(&m, &Hardware::test(64 << 30, 0), None);
        assert_eq!(plan.context_length, DEFAULT_CONTEXT_CAP);
        let plan = fit(&m, &Hardware::test(64 << 30, 0), Some(65_536));
        assert_eq!(plan.context_length, 65_536);
    }

    #[test]
    fn layers_are_placed_as_llama_cpp_places_them() {
        // 30 layers, -ngl 15, one device: the output layer and layers 16–29.
        let one = layer_devices(30, 15, &[1]);
        assert!(one[..16].iter().all(Option::is_none), "{one:?}");
        assert!(one[16..].iter().all(|d| *d == Some(0)), "{one:?}");
        // Every layer: -ngl 31 (layers + 1); nothing without a device.
        assert!(layer_devices(30, 31, &[1]).iter().all(|d| *d == Some(0)));
        assert!(layer_devices(30, 31, &[]).iter().all(Option::is_none));
        // Devices with 1 and 3 GiB free, -ngl 8: of the 8 offloaded (layers 23–29 and the
        // output), the first quarter (offloaded index 0 and 1, at 0/8 and 1/8 < 1/4) on the first.
        let two = layer_devices(30, 8, &[1 << 30, 3 << 30]);
        assert!(two[..23].iter().all(Option::is_none), "{two:?}");
        assert_eq!(&two[23..], &[Some(0), Some(0), Some(1), Some(1), Some(1), Some(1), Some(1), Some(1)]);
    }

    /// Mistral Large 2 (123B) at Q4_K_M, as its header gives it: 88 layers of 825 MB, 96 heads
    /// of 128 with 8 KV heads, 12,288 wide, a 32,768-token vocabulary; token embeddings at
    /// Q4_K (32,768 × 12,288 × 4.5 bits = 226,492,416 bytes), the head at Q6_K
    /// (× 6.5625 bits = 330,301,440), the f32 output norm (49,152).
    fn mistral_large_2() -> GgufSummary {
        GgufSummary {
            name: Some("Mistral Large Instruct 2407".into()),
            block_count: Some(88),
            context_length: Some(131_072),
            embedding_length: Some(12_288),
            head_count: Some(96),
            head_count_kv: Some(8),
            sliding_window: None,
            feed_forward_length: Some(28_672),
            vocab_size: Some(32_768),
            layer_bytes: vec![825_000_000; 88],
            parameter_count: 122_610_000_000,
            token_embd_bytes: 226_492_416,
            vocabulary: None,
            output_head_bytes: 330_301_440,
            output_norm_bytes: 49_152,
            other_bytes: 226_492_416 + 330_301_440 + 49_152,
            ..mistral_7b()
        }
    }

    /// Two machines: this one with 64 GB of RAM (62 GiB available) and a 24 GB GPU (23.5 GiB
    /// free), and a worker with 64 GB (62 GiB free), for Mistral Large 2 at its full 128k
    /// context (f16 KV cache: 131,072 cells × 8 heads × 128 × 2 (K, V) × 2 bytes = 512 MiB a
    /// layer, 44 GiB in all). Alone this machine cannot hold it; across both it loads with 66
    /// of 89 layers offloaded, split as llama.cpp splits them (by free memory, 23.5 : 62).
    #[test]
    fn mistral_large_2_at_128k_fits_across_two_machines() {
        let gib = 1u64 << 30;
        let m = mistral_large_2();
        let here = Hardware::test(62 * gib, 23 * gib + gib / 2);
        let worker = [62 * gib];
        let kv_layer = 512u64 << 20;
        let layer = 825_000_000 + kv_layer;
        // One batch's activations on each device running layers: 512 × 4 × (6 × 12,288 +
        // 3 × 28,672) = 327,155,712 bytes; the logits (32,768 × 4 bytes × 4 sequences) on
        // the output layer's device.
        let activations = 327_155_712u64;
        let logits = 524_288u64;

        assert_eq!(fit_at_context(&m, &here, &[], 131_072).verdict, FitVerdict::TooLarge, "one machine cannot hold it");

        let plan = fit_at_context(&m, &here, &worker, 131_072);
        assert_eq!(plan.context_length, 131_072);
        assert_eq!(plan.gpu_layers, 65);
        assert_eq!(plan.verdict, FitVerdict::PartialOffload { gpu_layers: 65, total_layers: 88 });
        assert_eq!(plan.workers_used, 1);
        let [gpu, other] = &plan.devices[..] else { panic!("{:?}", plan.devices) };
        // -ngl 65: the output layer and layers 24–87; the GPU takes the first 23.5/85.5 of
        // them: offloaded index i with i/65 < 0.27485, i.e. 0–17 → layers 24–41 (18 layers).
        assert_eq!((gpu.first_layer, gpu.end_layer, gpu.output), (24, 42, false));
        assert_eq!((other.first_layer, other.end_layer, other.output), (42, 88, true));
        assert_eq!(gpu.total(), 18 * layer + activations);
        assert_eq!(gpu.total(), 24_840_832_128);
        assert!(gpu.total() <= 23 * gib + gib / 2);
        assert_eq!(other.total(), 46 * layer + 330_301_440 + 49_152 + activations + logits);
        assert_eq!(other.total(), 63_304_092_544);
        assert!(other.total() <= 62 * gib);
        // Here: layers 0–23 with their caches, the token embeddings, a quarter of one batch's
        // compute, the runtime (13 MiB + 210 bytes a token): 33,013,827,072 bytes.
        assert_eq!(plan.estimate.weights_ram, 24 * 825_000_000 + 226_492_416);
        assert_eq!(plan.estimate.kv_ram, 24 * kv_layer);
        assert_eq!(plan.estimate.ram(), 33_013_827_072);
        assert!(plan.estimate.ram() <= 62 * gib, "{:?}", plan.estimate);
        // One layer more would overfill the GPU (its share grows to 19 layers).
        let more = estimate_split(
            &m,
            &PlanRequest { gpu_layers: 66, ..PlanRequest::cpu(131_072) },
            &[23 * gib + gib / 2, 62 * gib],
        )
        .1;
        assert!(more[0].total() > 23 * gib + gib / 2, "{more:?}");

        // Context left to the planner: every layer offloaded, at the longest context that fits.
        let flexible = fit_across(&m, &here, &worker, Some(131_072));
        assert_eq!((flexible.gpu_layers, flexible.context_length), (89, 32_768));
        assert_eq!(flexible.workers_used, 1);
    }
}
