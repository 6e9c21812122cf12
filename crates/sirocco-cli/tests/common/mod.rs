#![allow(dead_code)]
//! What the CLI's tests share: the fixtures folder, and folders of the app's own under a test's.

use std::path::PathBuf;

pub fn fixtures() -> PathBuf {
    std::env::var_os("SIROCCO_FIXTURES").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sirocco/fixtures")
    })
}

/// The app's folders and the Hugging Face cache, all under `dir` (nothing of this machine's).
pub fn isolated(dir: &std::path::Path) -> Vec<(&'static str, PathBuf)> {
    vec![
        ("SIROCCO_DATA_DIR", dir.join("data")),
        ("SIROCCO_MODELS_DIR", dir.join("models")),
        ("HF_HOME", dir.join("hf")),
        ("HOME", dir.to_path_buf()),
    ]
}

/// SmolLM2 (the fixture) in `isolated(dir)`'s models folder, linked, not copied.
pub fn smollm2_in(dir: &std::path::Path) {
    let models = dir.join("models");
    std::fs::create_dir_all(&models).unwrap();
    let file = "SmolLM2-135M-Instruct.Q4_1.gguf";
    std::os::unix::fs::symlink(fixtures().join(file), models.join(file)).unwrap();
}
