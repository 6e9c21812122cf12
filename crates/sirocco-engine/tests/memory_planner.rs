//! The planner's RAM prediction against the measured resident memory of real loads.
//!
//! Each load runs in a fresh child process (this test binary re-run on the ignored
//! `measure_one_load`), so nothing one load leaves behind counts against the next.
//! Weights are read into RAM (no mmap) and a prompt longer than one batch is decoded, so
//! every buffer the planner counts has been touched.

mod common;

use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use common::{fixture, SMOLLM2, TINY_MIXTRAL};
use sirocco_engine::gguf_file::inspect;
use sirocco_engine::planner::{estimate, PlanRequest};
use sirocco_engine::{ChatMessage, Engine, GenerateRequest, GenerationEvent, LoadParams, Role, SamplingParams};
use sirocco_engine::{FlashAttention, KvCacheType};

const CONFIGS: &[(&str, u64, KvCacheType)] = &[
    (SMOLLM2, 1024, KvCacheType::F16),
    (SMOLLM2, 4096, KvCacheType::F16),
    (SMOLLM2, 8192, KvCacheType::Q8_0),
    (TINY_MIXTRAL, 16384, KvCacheType::F16),
];

fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    kib * 1024
}

#[test]
fn predicted_ram_is_within_five_percent_of_measured() {
    for (index, (model, context, kv)) in CONFIGS.iter().enumerate() {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["measure_one_load", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env("SIROCCO_MEASURE_CONFIG", index.to_string())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "child failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
        let measured: u64 = stdout
            .lines()
            .find_map(|l| l.split_once("MEASURED_RSS_DELTA=").map(|(_, v)| v.trim()))
            .expect("the child reports its measurement")
            .parse()
            .unwrap();
        let summary = inspect(&fixture(model)).unwrap();
        let req = PlanRequest { kv_cache_type: *kv, ..PlanRequest::cpu(*context) };
        let predicted = estimate(&summary, &req).ram();
        let error = (predicted as f64 - measured as f64) / measured as f64;
        println!(
            "{model} ctx={context} kv={kv:?}: predicted {:.1} MiB, measured {:.1} MiB ({:+.1} %)",
            predicted as f64 / 1048576.0,
            measured as f64 / 1048576.0,
            error * 100.0
        );
        assert!(error.abs() <= 0.05, "{model} ctx={context} {kv:?}: off by {:.1} %", error * 100.0);
    }
}

/// One measured load; run only by the test above, in its own process.
#[tokio::test]
#[ignore = "run by predicted_ram_is_within_five_percent_of_measured in a child process"]
async fn measure_one_load() {
    let index: usize = std::env::var("SIROCCO_MEASURE_CONFIG").unwrap().parse().unwrap();
    let (model, context, kv) = CONFIGS[index];
    let engine = Engine::start();
    let before = rss();
    let params = LoadParams {
        context_length: Some(context as u32),
        kv_cache_type: kv,
        flash_attention: FlashAttention::Auto,
        use_mmap: false,
        ..LoadParams::default()
    };
    engine.load(&fixture(model), params, |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
    let prompt = "The quick brown fox jumps over the lazy dog. ".repeat(60);
    let sampling = SamplingParams { temperature: 0.0, max_tokens: 4, ..SamplingParams::default() };
    let request = GenerateRequest::new(vec![ChatMessage::new(Role::User, prompt)], sampling);
    let mut generation = engine.generate(request).unwrap();
    loop {
        match generation.events.recv().await.unwrap() {
            GenerationEvent::Done { stats } => {
                assert!(stats.prompt_tokens > 512, "the prompt spans more than one batch");
                break;
            }
            GenerationEvent::ToolCalls { calls } => panic!("unexpected tool calls: {calls:?}"),
            GenerationEvent::Reasoning { text } => panic!("unexpected reasoning: {text:?}"),
            GenerationEvent::Error { message, .. } => panic!("{message}"),
            GenerationEvent::Text { .. } => {}
        }
    }
    println!("MEASURED_RSS_DELTA={}", rss() - before);
}
