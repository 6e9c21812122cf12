//! llama.cpp's backends as files loaded at start — how one package runs on every x86-64.
//!
//! A development build links one CPU backend, compiled for the machine that builds it
//! (`target-cpu=native`). A package is built with the `dynamic-backends` feature instead:
//! ggml's CPU backend comes in every x86-64 variant it has (`libggml-cpu-sse42.so`,
//! `…-haswell.so`, `…-skylakex.so`, …) and GPU backends (`libggml-cuda.so`, …) are optional
//! files beside them. At start ggml scores each CPU variant against what this CPU offers and
//! loads the best; a GPU backend loads only where its driver is there. [`loaded_backend_files`]
//! then reads from the dynamic linker which files are in the process, so the log and the About
//! box name the variant really running, not the one we expect.
//!
//! Where the files are, first found wins: `$SIROCCO_BACKENDS_DIR`; `<exe>/../lib/sirocco` (the
//! .deb, the .rpm and the AppImage put them there); the executable's own folder; the folder
//! llama-cpp-sys-2 built them in (a `dynamic-backends` build run from `target/`).

use std::path::{Path, PathBuf};

/// File name prefix of ggml's CPU backend variants.
const CPU_PREFIX: &str = "libggml-cpu-";

/// The folder the backend files are loaded from, when this build loads them.
pub fn backends_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("SIROCCO_BACKENDS_DIR") {
        return Some(PathBuf::from(dir));
    }
    let exe_dir = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf));
    let mut candidates = Vec::new();
    if let Some(dir) = &exe_dir {
        candidates.push(dir.join("../lib/sirocco"));
        candidates.push(dir.clone());
    }
    candidates.extend(built_backends_dir());
    candidates.into_iter().find(|dir| has_cpu_backend(dir))
}

#[cfg(feature = "dynamic-backends")]
fn built_backends_dir() -> Option<PathBuf> {
    llama_cpp_sys_2::BACKENDS_DIR.map(PathBuf::from)
}

#[cfg(not(feature = "dynamic-backends"))]
fn built_backends_dir() -> Option<PathBuf> {
    None
}

fn has_cpu_backend(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|e| e.file_name().to_string_lossy().starts_with(CPU_PREFIX))
    })
}

/// Loads the backend files (before llama.cpp's backend is initialised). ggml picks the best CPU
/// variant; a folder without any leaves the engine with no CPU backend, which the log says.
#[cfg(feature = "dynamic-backends")]
pub(crate) fn load() {
    match backends_dir() {
        Some(dir) => {
            tracing::debug!(dir = %dir.display(), "loading llama.cpp's backend files");
            llama_cpp_2::llama_backend::load_backends_from_path(&dir);
        }
        None => tracing::error!(
            "llama.cpp's CPU backend files (libggml-cpu-*.so) were not found beside the program \
             nor in $SIROCCO_BACKENDS_DIR: no model can run; reinstall Sirocco"
        ),
    }
}

#[cfg(not(feature = "dynamic-backends"))]
pub(crate) fn load() {}

/// The ggml backend files the dynamic linker has loaded into this process (full paths).
pub fn loaded_backend_files() -> Vec<PathBuf> {
    unsafe extern "C" fn each(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: the linker hands a valid info for the call's duration; `data` is our Vec.
        let (info, files) = unsafe { (&*info, &mut *(data as *mut Vec<PathBuf>)) };
        if !info.dlpi_name.is_null() {
            // SAFETY: dlpi_name is a NUL-terminated path owned by the linker.
            let name = unsafe { std::ffi::CStr::from_ptr(info.dlpi_name) }.to_string_lossy().into_owned();
            let path = PathBuf::from(name);
            if path.file_name().is_some_and(|n| is_backend_file(&n.to_string_lossy())) {
                files.push(path);
            }
        }
        0
    }
    let mut files: Vec<PathBuf> = Vec::new();
    // SAFETY: `each` only reads the info and pushes into `files`, which outlives the call.
    unsafe { libc::dl_iterate_phdr(Some(each), &mut files as *mut Vec<PathBuf> as *mut libc::c_void) };
    files
}

/// A loadable backend of ggml (`libggml-cpu-haswell.so`, `libggml-rpc.so`, `libggml-cuda.so`),
/// not one of the libraries every build links (`libggml.so`, `libggml-base.so`).
fn is_backend_file(name: &str) -> bool {
    name.starts_with("libggml-") && !name.starts_with("libggml-base") && name.contains(".so")
}

/// Which CPU backend runs: the variant among loaded files (`haswell` from
/// `libggml-cpu-haswell.so`), or `native` when none was loaded (the backend is linked in, built
/// for the machine that built it).
pub fn cpu_backend_name(files: &[PathBuf]) -> String {
    files
        .iter()
        .filter_map(|p| p.file_name()?.to_str()?.strip_prefix(CPU_PREFIX)?.split(".so").next().map(str::to_owned))
        .next()
        .unwrap_or_else(|| "native".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_variant_is_named_from_its_file() {
        let files = [
            PathBuf::from("/usr/lib/sirocco/libggml-rpc.so"),
            PathBuf::from("/usr/lib/sirocco/libggml-cpu-haswell.so"),
        ];
        assert_eq!(cpu_backend_name(&files), "haswell");
        assert_eq!(cpu_backend_name(&[]), "native");
        assert!(is_backend_file("libggml-cpu-x64.so"));
        assert!(!is_backend_file("libggml-base.so"));
        assert!(!is_backend_file("libllama.so"));
    }
}
