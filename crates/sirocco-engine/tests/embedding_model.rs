//! An embedding model (llama.cpp's `bert` architecture, mean pooling: the tiny fixture of
//! tests/fixtures/make_embedding.py) loads like any model and embeds: unit vectors of its
//! width, the same text the same vector, different texts different ones; the header says what
//! it is, so the library can offer it for documents.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use common::fixture;
use sirocco_engine::{Engine, LoadParams};

#[tokio::test]
async fn an_embedding_model_loads_and_embeds() {
    let path = fixture("embedding/Tiny-BERT-Embed-F32.gguf");
    let summary = sirocco_engine::gguf_file::inspect(&path).unwrap();
    assert_eq!(summary.architecture, "bert");
    assert!(summary.is_embedding_model());
    let chat = sirocco_engine::gguf_file::inspect(&fixture("SmolLM2-135M-Instruct.Q4_1.gguf")).unwrap();
    assert!(!chat.is_embedding_model());

    let engine = Engine::start();
    let params = LoadParams { context_length: Some(512), parallel: 1, ..LoadParams::default() };
    engine.load(&path, params, |_| {}, Arc::new(AtomicBool::new(false))).await.expect("the model loads");
    let texts = ["The lighthouse keeper counted ships.", "The lighthouse keeper counted ships.", "7 copper crowns"];
    let out = engine.embed(texts.iter().map(|t| t.to_string()).collect()).await.expect("it embeds");
    assert_eq!(out.vectors.len(), 3);
    for v in &out.vectors {
        assert_eq!(v.len(), 64);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{norm}");
    }
    assert_eq!(out.vectors[0], out.vectors[1]);
    let cosine: f32 = out.vectors[0].iter().zip(&out.vectors[2]).map(|(a, b)| a * b).sum();
    assert!(cosine < 0.999, "different texts, different vectors: {cosine}");
    assert!(out.prompt_tokens > 20);

    // Past its 512 tokens: refused as an embedding request, cut to fit for a passage.
    let long = "lighthouse ".repeat(100);
    assert!(engine.embed(vec![long.clone()]).await.unwrap_err().to_string().contains("1 to 512 tokens"));
    let cut = engine.embed_truncating(vec![long]).await.unwrap();
    assert_eq!(cut.prompt_tokens, 512);
}
