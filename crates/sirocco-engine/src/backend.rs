//! llama.cpp's process-wide backend, and the translation of a load's settings into
//! llama.cpp's context parameters.

use std::num::NonZeroU32;
use std::sync::OnceLock;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;

use crate::load::{FlashAttention, KvCacheType, LoadParams};

/// llama.cpp's backend is process-wide and may be initialised once.
pub(crate) fn backend() -> &'static LlamaBackend {
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

/// The context a load gets: `context_length` cells shared by `slots` sequences, batches of
/// `batch` tokens, `threads` threads.
pub(crate) fn context_params(
    params: &LoadParams,
    context_length: u32,
    batch: u32,
    slots: u32,
    threads: u32,
) -> LlamaContextParams {
    LlamaContextParams::default()
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
        .with_type_v(params.kv_cache_type.into())
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
