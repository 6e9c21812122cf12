//! The memory planner: from a GGUF header alone, how much RAM and VRAM a load takes for a
//! given (GPU layers, context, KV type), and the most GPU layers and longest context that fit.
//!
//! Weights and KV cache are exact (tensor sizes from the header; KV = cells × layers ×
//! KV heads × head size × bytes per element, with llama.cpp's sliding-window caches where
//! llama.cpp applies them). Compute buffers and the runtime's own memory are modelled from
//! llama.cpp's graph shapes and calibrated against measured resident memory on this project's
//! fixtures (see `tests/memory_planner.rs`).

use serde::{Deserialize, Serialize};

use crate::load::{FlashAttention, KvCacheType, DEFAULT_CONTEXT, DEFAULT_PARALLEL};
use crate::hardware::Hardware;
use crate::GgufSummary;

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

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlanRequest {
    pub gpu_layers: u32,
    pub context_length: u64,
    pub kv_cache_type: KvCacheType,
    pub flash_attention: FlashAttention,
    /// Physical batch (llama.cpp's `n_ubatch`).
    pub batch_size: u64,
    /// Parallel sequences sharing the context.
    pub sequences: u64,
    /// Mixture-of-experts tensors stay in RAM even in layers on the GPU (`moe_experts_on_cpu`).
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MemoryEstimate {
    pub weights_ram: u64,
    pub weights_vram: u64,
    pub kv_ram: u64,
    pub kv_vram: u64,
    /// Compute buffers as resident in use (llama.cpp reserves more: logits for a whole batch).
    pub compute_ram: u64,
    pub compute_vram: u64,
    pub runtime_ram: u64,
}

impl MemoryEstimate {
    pub fn ram(&self) -> u64 {
        self.weights_ram + self.kv_ram + self.compute_ram + self.runtime_ram
    }
    pub fn vram(&self) -> u64 {
        self.weights_vram + self.kv_vram + self.compute_vram
    }
}

/// How a model fits this machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FitVerdict {
    FullyOnGpu,
    PartialOffload { gpu_layers: u32, total_layers: u32 },
    CpuOnly,
    TooLarge,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitPlan {
    pub verdict: FitVerdict,
    pub gpu_layers: u32,
    /// A mixture-of-experts model that fits more of itself on the GPU with its experts in RAM.
    pub experts_on_cpu: bool,
    pub context_length: u64,
    pub estimate: MemoryEstimate,
}

/// Which layers llama.cpp gives a sliding-window KV cache, per architecture. Architectures
/// that declare a window llama.cpp does not apply (Mistral 7B v0.1's `llama`) get none.
fn sliding_window_layer(arch: &str, layer: u64) -> bool {
    match arch {
        "gemma2" | "gpt-oss" => layer % 2 == 0,
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
        cells * (kv_row_bytes(req.kv_cache_type, kv * self.key_len)
            + kv_row_bytes(req.kv_cache_type, kv * self.value_len))
    }

    /// Compute buffer in use for one batch: activations of one layer, the attention mask,
    /// attention scores when flash attention is off, and one row of logits per sequence.
    fn compute_bytes(&self, req: &PlanRequest) -> u64 {
        let batch = req.batch_size;
        let activations = batch * 4 * (6 * self.embd + 3 * self.ff * self.experts_used);
        let scores = match req.flash_attention {
            FlashAttention::Off => batch * pad(req.context_length, CELL_PAD) * self.heads * 4,
            _ => 0,
        };
        let logits = self.vocab * 4 * req.sequences;
        activations + scores + logits
    }
}

/// Predicts the memory of loading `summary` with `req`.
pub fn estimate(summary: &GgufSummary, req: &PlanRequest) -> MemoryEstimate {
    let shape = Shape::of(summary);
    let gpu_layers = u64::from(req.gpu_layers).min(shape.layers + 1);
    // llama.cpp offloads the last layers first; "layers + 1" also moves the output head.
    let first_gpu_layer = shape.layers.saturating_sub(gpu_layers);
    let (mut weights_ram, mut weights_vram, mut kv_ram, mut kv_vram) = (0, 0, 0, 0);
    for layer in 0..shape.layers {
        let (w, kv) = (shape.layer_bytes(layer), shape.kv_layer_bytes(layer, req));
        if layer >= first_gpu_layer {
            let experts = if req.experts_on_cpu { shape.expert_bytes(layer) } else { 0 };
            weights_vram += w - experts;
            weights_ram += experts;
            kv_vram += kv;
        } else {
            weights_ram += w;
            kv_ram += kv;
        }
    }
    weights_ram += summary.other_bytes;
    let compute = shape.compute_bytes(req);
    let (compute_ram, compute_vram) = if gpu_layers > 0 { (compute / 4, compute) } else { (compute, 0) };
    MemoryEstimate {
        weights_ram,
        weights_vram,
        kv_ram,
        kv_vram,
        compute_ram,
        compute_vram,
        runtime_ram: RUNTIME_BASE + shape.vocab * VOCAB_BYTES_PER_TOKEN,
    }
}

/// The most GPU layers, then the longest context (up to `max_context`, default
/// [`DEFAULT_CONTEXT_CAP`], never beyond the trained length) that fit `hardware`.
pub fn fit(summary: &GgufSummary, hardware: &Hardware, max_context: Option<u64>) -> FitPlan {
    let shape = Shape::of(summary);
    let trained = summary.context_length.unwrap_or(4096).max(CELL_PAD);
    let mut cap = max_context.unwrap_or(DEFAULT_CONTEXT_CAP).min(trained);
    // Mistral 7B v0.1 and kin declare a window llama.cpp does not apply: beyond it the
    // model was not trained to attend, so that is the sensible default.
    if let Some(window) = summary.sliding_window {
        if !(0..shape.layers).any(|l| sliding_window_layer(&summary.architecture, l)) {
            cap = cap.min(window.max(CELL_PAD));
        }
    }
    let ram = hardware.ram_available;
    let vram = hardware.vram_free;
    let layers = shape.layers as u32;
    let fits = |gpu_layers: u32, context: u64, experts_on_cpu: bool| {
        let est = estimate(summary, &PlanRequest { gpu_layers, experts_on_cpu, ..PlanRequest::cpu(context) });
        (est.ram() <= ram && est.vram() <= vram).then_some(est)
    };
    // Most GPU layers that fit with a minimal context, then the longest context for them.
    let max_gpu = if vram == 0 { 0 } else { layers + 1 };
    let most_layers = |experts_on_cpu: bool| (0..=max_gpu).rev().find(|&g| fits(g, CELL_PAD.min(cap), experts_on_cpu).is_some());
    // A mixture of experts that does not fit whole on the GPU: keeping its experts in RAM puts
    // every other tensor (attention, KV cache) on the GPU, which is worth more than some whole
    // layers there (only a few experts' weights are read per token).
    let whole = most_layers(false);
    let moe = !summary.expert_bytes.iter().all(|&b| b == 0);
    let (gpu_layers, experts_on_cpu) = match (whole, moe && vram > 0) {
        (Some(g), _) if g > layers => (Some(g), false),
        (whole, true) => match most_layers(true) {
            Some(g) if whole.is_none_or(|w| g > w) => (Some(g), true),
            _ => (whole, false),
        },
        (whole, false) => (whole, false),
    };
    let try_fit = |gpu_layers: u32, context: u64| fits(gpu_layers, context, experts_on_cpu);
    let Some(gpu_layers) = gpu_layers else {
        let estimate = estimate(summary, &PlanRequest::cpu(CELL_PAD.min(cap)));
        return FitPlan { verdict: FitVerdict::TooLarge, gpu_layers: 0, experts_on_cpu: false, context_length: 0, estimate };
    };
    let mut context = CELL_PAD.min(cap);
    let mut candidate = cap;
    while candidate > context {
        if try_fit(gpu_layers, candidate).is_some() {
            context = candidate;
            break;
        }
        candidate = pad(candidate / 2, CELL_PAD);
    }
    let estimate = try_fit(gpu_layers, context).expect("checked above");
    let verdict = match gpu_layers {
        0 => FitVerdict::CpuOnly,
        g if g >= layers => FitVerdict::FullyOnGpu,
        g => FitVerdict::PartialOffload { gpu_layers: g, total_layers: layers },
    };
    FitPlan { verdict, gpu_layers, experts_on_cpu, context_length: context, estimate }
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
            experts_on_cpu: params.moe_experts_on_cpu,
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
    crate::LoadParams { gpu_layers: plan.gpu_layers, moe_experts_on_cpu: plan.experts_on_cpu, ..base }
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
        let half = estimate(&m, &PlanRequest { gpu_layers: 16, ..PlanRequest::cpu(4096) });
        assert_eq!(half.weights_vram, 16 * 130_000_000);
        assert_eq!(half.kv_vram, cpu.kv_ram / 2);
        assert_eq!(half.weights_ram + half.weights_vram, cpu.weights_ram);
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
        let experts_home = estimate(&m, &PlanRequest { gpu_layers: 33, experts_on_cpu: true, ..PlanRequest::cpu(4096) });
        assert_eq!(on_gpu.weights_vram - experts_home.weights_vram, 32 * 780_000_000);
        assert_eq!(experts_home.weights_ram - on_gpu.weights_ram, 32 * 780_000_000);
        assert_eq!(on_gpu.kv_vram, experts_home.kv_vram, "the KV cache stays on the GPU");
        // A dense model has no experts to keep back.
        let dense = estimate(&mistral_7b(), &PlanRequest { gpu_layers: 33, experts_on_cpu: true, ..PlanRequest::cpu(4096) });
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
        assert_eq!((gpu.gpu_layers, gpu.moe_experts_on_cpu), (33, true));
        let cpu = planned_load(&mistral_7b(), &Hardware::test(64 * gib, 0), crate::LoadParams::default());
        assert_eq!((cpu.gpu_layers, cpu.moe_experts_on_cpu), (0, false));
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
        let FitVerdict::PartialOffload { gpu_layers, total_layers } = plan.verdict else {
            panic!("{plan:?}")
        };
        assert!(gpu_layers > 4 && gpu_layers < 16 && total_layers == 32, "{gpu_layers}");
        assert!(plan.estimate.vram() <= 2 * gib && plan.estimate.ram() <= 16 * gib);

        let tiny_box = Hardware::test(gib, 0);
        assert_eq!(fit(&m, &tiny_box, None).verdict, FitVerdict::TooLarge);
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
}
