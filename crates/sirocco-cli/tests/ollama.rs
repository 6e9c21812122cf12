//! Ollama's API on `sirocco serve`, through the official `ollama` Python client, unmodified
//! (tests/server/ollama_client.py): the library listed and shown, chat and generate streamed
//! and whole, tools, images, JSON schemas, fill-in-the-middle, embeddings, NDJSON on the wire.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::{fixtures, isolated};

#[path = "../../../tests/fakehub/harness.rs"]
mod fake_hub;

fn link(from: &Path, models: &Path) {
    std::os::unix::fs::symlink(from, models.join(from.file_name().unwrap())).unwrap();
}

/// `sirocco serve` on the library in `dir` with `env` beside; its base address (`http://…`).
fn serve(dir: &Path, env: Vec<(&'static str, std::path::PathBuf)>) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sirocco"))
        .args(["serve", "--port", "0", "--context", "1024"])
        .env_remove("SIROCCO_API_KEY")
        .envs(isolated(dir))
        .envs(env)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().rsplit(' ').next().unwrap().to_owned();
    (child, base.strip_suffix("/v1").expect("the line ends with the OpenAI base URL").to_owned())
}

/// Runs `tests/server/<script> <host>`; it must end with "all checks passed".
fn run_script(script: &str, host: &str, mut child: std::process::Child) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/server").join(script);
    let out = Command::new(fixtures().join("venv/bin/python")).arg(path).arg(host).output().expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("all checks passed"), "{stdout}");
}

/// `ollama pull hf.co/owner/repo:QUANT` through Sirocco's verified downloads (the fake hub),
/// then delete; a file the user keeps is never a client's to delete.
#[test]
fn the_ollama_client_pulls_from_hugging_face_and_deletes() {
    let fake = fake_hub::FakeHub::start();
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    link(&fixtures().join("SmolLM2-135M-Instruct.Q4_1.gguf"), &models);
    let (child, host) = serve(dir.path(), vec![("HF_ENDPOINT", fake.api.clone().into())]);
    run_script("ollama_pull.py", &host, child);
    assert!(
        fixtures().join("SmolLM2-135M-Instruct.Q4_1.gguf").is_file()
            && models.join("SmolLM2-135M-Instruct.Q4_1.gguf").exists(),
        "the user's file is where it was"
    );
}

#[test]
fn the_official_ollama_client_works_against_sirocco_serve() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let fixtures = fixtures();
    for file in [
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "tiny-coder-fim.gguf",
        "embedding/Tiny-BERT-Embed-F32.gguf",
        "vision/Tiny-Pixtral-F16.gguf",
        "vision/mmproj-Tiny-Pixtral-F32.gguf",
    ] {
        let path = fixtures.join(file);
        assert!(path.is_file(), "missing fixture {} — run tests/fixtures/fetch.sh", path.display());
        link(&path, &models);
    }
    let (child, host) = serve(dir.path(), vec![]);
    run_script("ollama_client.py", &host, child);
}
