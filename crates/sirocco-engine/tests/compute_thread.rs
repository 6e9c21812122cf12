//! Several models in one process share one compute thread (see the engine's `compute` module):
//! after two models have answered — and embedded — the only OpenMP teams in the process belong
//! to the compute thread, so each engine thread is a single thread. Alone in its own test
//! binary so that no other test's engines are counted.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use common::{answer, fixture, SMOLLM2};
use sirocco_engine::{ChatMessage, Engine, GenerateRequest, LoadParams, Role, SamplingParams};

/// Threads of this process by name (Linux names a thread's children after it).
fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("Linux lists a process's threads")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == name)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_models_decode_on_one_compute_thread_and_their_engine_threads_stay_single() {
    let params = LoadParams { context_length: Some(1024), threads: Some(2), ..LoadParams::default() };
    let mut engines = Vec::new();
    for file in [SMOLLM2, "tiny-coder-fim.gguf"] {
        let engine = Engine::start();
        engine
            .load(&fixture(file), params.clone(), |_| {}, Arc::new(AtomicBool::new(false)))
            .await
            .expect("model loads");
        engines.push(engine);
    }
    let greedy = SamplingParams { temperature: 0.0, max_tokens: 8, ..SamplingParams::default() };
    for round in 0..2 {
        for engine in &engines {
            let request =
                GenerateRequest::new(vec![ChatMessage::new(Role::User, format!("Count to {round}."))], greedy.clone());
            let (_, stats) = answer(engine, request).await;
            assert!(stats.generated_tokens > 0);
        }
    }
    engines[0].embed(vec!["an embedding decodes too".into()]).await.expect("embeddings");

    assert_eq!(threads_named("sirocco-engine"), 2, "one thread per model, no OpenMP team of its own");
    // The compute thread and its team's worker (two threads asked for).
    assert_eq!(threads_named("sirocco-compute"), 2);
}
