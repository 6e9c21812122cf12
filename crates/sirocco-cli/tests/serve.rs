//! `sirocco serve` as a user runs it: a process that loads the model, prints its address, serves
//! the OpenAI API, and exits cleanly on SIGTERM with the port closed.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

#[tokio::test]
async fn serve_runs_headless_and_stops_on_sigterm() {
    let fixtures = std::env::var_os("SIROCCO_FIXTURES").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sirocco/fixtures")
    });
    let model = fixtures.join("SmolLM2-135M-Instruct.Q4_1.gguf");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sirocco"))
        .args(["serve", "--port", "0", "--context", "1024", "--model"])
        .arg(&model)
        .env_remove("SIROCCO_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(line.starts_with("serving SmolLM2-135M-Instruct.Q4_1 on http://127.0.0.1:"), "{line}");

    let models: serde_json::Value = reqwest::get(format!("{base}/models")).await.unwrap().json().await.unwrap();
    assert_eq!(models["data"][0]["id"], "SmolLM2-135M-Instruct.Q4_1");
    let reply: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/chat/completions"))
        .json(&serde_json::json!({"messages": [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}], "temperature": 0, "max_tokens": 40}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(reply["choices"][0]["message"]["content"].as_str().unwrap().contains("Paris"), "{reply}");

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success(), "exits cleanly on SIGTERM");
    assert!(reqwest::get(format!("{base}/models")).await.is_err(), "the port is closed");
}
