use std::path::PathBuf;

/// The folder `tests/fixtures/fetch.sh` fills.
pub fn fixture(name: &str) -> PathBuf {
    let dir = std::env::var_os("SIROCCO_FIXTURES").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sirocco/fixtures")
    });
    let path = dir.join(name);
    assert!(path.is_file(), "missing fixture {} — run tests/fixtures/fetch.sh", path.display());
    path
}

pub const SMOLLM2: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
pub const TINY_MISTRAL: &str = "tiny-mistral-7b-shape.gguf";
pub const TINY_MIXTRAL: &str = "tiny-mixtral-8x7b-shape.gguf";
