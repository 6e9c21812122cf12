//! llama.cpp's process-wide backend, and the translation of a load's settings into
//! llama.cpp's context parameters.

use std::num::NonZeroU32;
use std::sync::OnceLock;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;

use sirocco_types::{FlashAttention, KvCacheType, LoadParams};

/// llama.cpp's backend is process-wide and may be initialised once.
pub(crate) fn backend() -> &'static LlamaBackend {
    static BACKEND: OnceLock<LlamaBackend> = OnceLock::new();
    BACKEND.get_or_init(|| {
        llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
        crate::backend_files::load();
        let backend = LlamaBackend::init().expect("llama.cpp backend is initialised once, here");
        let files = crate::backend_files::loaded_backend_files();
        tracing::info!(
            cpu_backend = %crate::backend_files::cpu_backend_name(&files),
            files = ?files,
            "llama.cpp's backends are ready"
        );
        backend
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
        .with_type_k(llama_kv_type(params.kv_cache_type))
        .with_type_v(llama_kv_type(params.kv_cache_type))
}

fn llama_kv_type(t: KvCacheType) -> llama_cpp_2::context::params::KvCacheType {
    use llama_cpp_2::context::params::KvCacheType as Llama;
    match t {
        KvCacheType::F16 => Llama::F16,
        KvCacheType::Q8_0 => Llama::Q8_0,
        KvCacheType::Q4_0 => Llama::Q4_0,
    }
}

/// Which llama.cpp this is, and what it uses of the CPU.
#[derive(Debug, Clone)]
pub struct BuildInfo {
    /// ggml's version (`ggml_version`).
    pub ggml_version: String,
    /// The llama.cpp commit it was built from, when known.
    pub ggml_commit: String,
    /// The CPU features llama.cpp's CPU backend was built to use (from its system info line:
    /// `AVX2 = 1 | …`, the features that are on).
    pub cpu_features: String,
    /// Which CPU backend runs: `native` (linked in, built for the machine that built it) or the
    /// variant a package loaded for this CPU (`haswell`, `sse42`, …).
    pub cpu_backend: String,
    /// The backend files loaded (a package; empty where the backends are linked in).
    pub backend_files: Vec<std::path::PathBuf>,
}

/// The llama.cpp build in this process.
pub fn build_info() -> BuildInfo {
    ensure_backend();
    let text = |p: *const std::os::raw::c_char| {
        if p.is_null() {
            String::new()
        } else {
            // SAFETY: llama.cpp returns static NUL-terminated strings here.
            unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned()
        }
    };
    // SAFETY: plain getters of static strings; the backend is initialised.
    let (version, commit, system) = unsafe {
        (
            text(llama_cpp_sys_2::ggml_version()),
            text(llama_cpp_sys_2::ggml_commit()),
            text(llama_cpp_sys_2::llama_print_system_info()),
        )
    };
    // A build from a source tree without git history says "unknown".
    let commit = if commit == "unknown" { String::new() } else { commit };
    let backend_files = crate::backend_files::loaded_backend_files();
    BuildInfo {
        ggml_version: version,
        ggml_commit: commit,
        cpu_features: cpu_features(&system),
        cpu_backend: crate::backend_files::cpu_backend_name(&backend_files),
        backend_files,
    }
}

/// The features that are on in llama.cpp's system info line (`CPU : SSE3 = 1 | AVX = 1 | … |`).
fn cpu_features(system: &str) -> String {
    let mut on = Vec::new();
    for part in system.split('|') {
        let part = part.rsplit(':').next().unwrap_or(part);
        if let Some((name, value)) = part.split_once('=') {
            if value.trim() == "1" && !on.contains(&name.trim()) {
                on.push(name.trim());
            }
        }
    }
    on.join(" ")
}

#[cfg(test)]
mod build_info_tests {
    #[test]
    fn this_process_lists_the_backend_files_it_loaded() {
        // The test binary links its CPU backend (no files) unless built with dynamic-backends,
        // in which case the backend's start must have loaded exactly one CPU variant.
        let info = super::build_info();
        let cpus: Vec<_> = info
            .backend_files
            .iter()
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("libggml-cpu-")))
            .collect();
        if cfg!(feature = "dynamic-backends") {
            assert_eq!(cpus.len(), 1, "{cpus:?}");
            assert_ne!(info.cpu_backend, "native");
        } else {
            assert!(cpus.is_empty(), "{cpus:?}");
            assert_eq!(info.cpu_backend, "native");
        }
    }

    #[test]
    fn the_features_on_are_read_from_the_system_info_line() {
        let line = "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 0 | LLAMAFILE = 1 | REPACK = 1 | ";
        assert_eq!(super::cpu_features(line), "SSE3 SSSE3 AVX AVX2 LLAMAFILE REPACK");
        let info = super::build_info();
        assert!(info.ggml_version.split('.').count() == 3, "{info:?}");
        assert!(!info.cpu_features.is_empty(), "this machine's llama.cpp uses some CPU feature: {info:?}");
    }
}
