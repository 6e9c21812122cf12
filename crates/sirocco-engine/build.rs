//! Compiles `cpp/speculative.cpp`, the C face of llama.cpp's speculative decoding, against the
//! very llama.cpp llama-cpp-sys-2 builds and links (its `common/` is in libllama-common).

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=cpp/speculative.cpp");
    println!("cargo:rerun-if-env-changed=DEP_LLAMA_GGML_CMAKE_DIR");
    let llama = llama_sources();
    cc::Build::new()
        .cpp(true)
        .file("cpp/speculative.cpp")
        .include(llama.join("common"))
        .include(llama.join("include"))
        .include(llama.join("ggml/include"))
        .include(llama.join("vendor"))
        .flag_if_supported("-std=c++17")
        .flag_if_supported("-Wno-unused-parameter")
        .pic(true)
        .compile("sirocco_speculative");
}

/// The llama.cpp source folder llama-cpp-sys-2 built: its CMake cache names it. (The sys crate
/// passes dependents only where its CMake install went, `DEP_LLAMA_GGML_CMAKE_DIR`.)
fn llama_sources() -> PathBuf {
    let cmake_dir = std::env::var_os("DEP_LLAMA_GGML_CMAKE_DIR")
        .map(PathBuf::from)
        .expect("llama-cpp-sys-2 names its CMake install (DEP_LLAMA_GGML_CMAKE_DIR)");
    // <out>/lib/cmake → <out>/build/CMakeCache.txt
    let out = cmake_dir.parent().and_then(|p| p.parent()).expect("<out>/lib/cmake");
    let cache = std::fs::read_to_string(out.join("build/CMakeCache.txt")).expect("llama.cpp's CMake cache");
    let source = cache
        .lines()
        .find_map(|l| l.strip_prefix("CMAKE_HOME_DIRECTORY:INTERNAL="))
        .expect("the CMake cache names the source folder");
    let source = PathBuf::from(source.trim());
    assert!(source.join("common/speculative.h").is_file(), "no common/speculative.h in {}", source.display());
    source
}
