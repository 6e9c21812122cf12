//! Test harness for the fake Hugging Face Hub (`tests/fakehub/fakehub.py`): starts it on
//! 127.0.0.1 with the standard repositories, injects faults, reads its request log.
//! Included by the Rust test crates that need it (`#[path = …] mod fake_hub;`).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

pub fn fixture(name: &str) -> PathBuf {
    let dir = std::env::var_os("SIROCCO_FIXTURES").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sirocco/fixtures")
    });
    let path = dir.join(name);
    assert!(path.is_file(), "missing fixture {} — run tests/fixtures/fetch.sh", path.display());
    path
}

pub const SMOL_REPO: &str = "bartowski/SmolLM2-135M-Instruct-GGUF";
pub const SMOL_FILE: &str = "SmolLM2-135M-Instruct-Q4_1.gguf";
pub const MIXTRAL_REPO: &str = "sirocco-test/Mixtral-8x7B-shape-GGUF";
pub const GATED_REPO: &str = "mistralai/Gated-Mistral-GGUF";
/// SmolLM2 published as a two-part split model.
pub const SPLIT_REPO: &str = "sirocco-test/SmolLM2-135M-split-GGUF";

pub struct FakeHub {
    child: Child,
    pub api: String,
    pub cdn: String,
    _dir: tempfile::TempDir,
}

impl FakeHub {
    /// The standard set of repositories: SmolLM2 (real, and split in two parts), the tiny
    /// Mixtral and Mistral shapes, a gated repository.
    pub fn start() -> Self {
        let smol = fixture("SmolLM2-135M-Instruct.Q4_1.gguf");
        let mixtral = fixture("tiny-mixtral-8x7b-shape.gguf");
        let mistral = fixture("tiny-mistral-7b-shape.gguf");
        let repos = json!([
            {"id": SMOL_REPO, "downloads": 5000, "likes": 40, "lastModified": "2024-11-02T10:00:00.000Z",
             "tags": ["gguf", "text-generation"], "readme": "# SmolLM2 135M Instruct\n\nA small model.",
             "files": [{"path": SMOL_FILE, "source": smol}]},
            {"id": MIXTRAL_REPO, "downloads": 900, "likes": 70, "lastModified": "2024-01-10T10:00:00.000Z",
             "tags": ["gguf"], "files": [{"path": "Mixtral-8x7B-shape-F16.gguf", "source": mixtral}]},
            {"id": "sirocco-test/Mistral-7B-shape-GGUF", "downloads": 3000, "likes": 10,
             "lastModified": "2025-03-01T10:00:00.000Z", "tags": ["gguf"],
             "files": [{"path": "Mistral-7B-shape-F16.gguf", "source": mistral}]},
            {"id": GATED_REPO, "downloads": 10, "likes": 1, "gated": "manual", "tags": ["gguf"],
             "files": [{"path": "Gated-F16.gguf", "source": mistral}]},
            {"id": SPLIT_REPO, "downloads": 5, "likes": 0, "tags": ["gguf"],
             "files": [{"path": "SmolLM2-135M-Instruct-Q4_1-00001-of-00002.gguf", "source": fixture("split/SmolLM2-135M-Instruct-Q4_1-00001-of-00002.gguf")},
                       {"path": "SmolLM2-135M-Instruct-Q4_1-00002-of-00002.gguf", "source": fixture("split/SmolLM2-135M-Instruct-Q4_1-00002-of-00002.gguf")}]},
            {"id": "someone/not-gguf", "downloads": 99999, "tags": ["safetensors"], "files": []}
        ]);
        Self::with_repos(&repos)
    }

    pub fn with_repos(repos: &Value) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("repos.json");
        std::fs::write(&spec, repos.to_string()).unwrap();
        let script = workspace_root().join("tests/fakehub/fakehub.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--repos")
            .arg(&spec)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the fake hub (python3)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let mut words = line.split_whitespace();
        assert_eq!(words.next(), Some("READY"), "fake hub said {line:?}");
        let api = words.next().unwrap().to_owned();
        let cdn = words.next().unwrap().to_owned();
        Self { child, api, cdn, _dir: dir }
    }

    /// Replaces the injected faults (and clears the request log).
    pub async fn faults(&self, faults: Value) {
        let r =
            reqwest::Client::new().post(format!("{}/_faults", self.api)).body(faults.to_string()).send().await.unwrap();
        assert!(r.status().is_success());
    }

    /// The CDN requests served since the last `faults` call.
    pub async fn log(&self) -> Vec<Value> {
        reqwest::get(format!("{}/_log", self.api)).await.unwrap().json().await.unwrap()
    }
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn sha256_file(path: &std::path::Path) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let mut f = std::fs::File::open(path).unwrap();
    std::io::copy(&mut f, &mut h).unwrap();
    hex::encode(h.finalize())
}

/// The workspace root (test binaries run in their crate's folder).
fn workspace_root() -> PathBuf {
    let mut dir = std::env::current_dir().unwrap();
    while !dir.join("tests/fakehub/fakehub.py").is_file() {
        assert!(dir.pop(), "cannot find the workspace root");
    }
    dir
}
