//! A corpus of broken files: each must give a clear error from the validator, and loading
//! it must fail cleanly while the engine keeps working.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use common::{fixture, SMOLLM2, TINY_MISTRAL, TINY_MIXTRAL};
use sirocco_engine::gguf_file::{inspect, GgufError};
use sirocco_engine::{Engine, EngineError, LoadParams};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path).unwrap().write_all(bytes).unwrap();
    path
}

fn gguf_prefix(version: u32, n_tensors: u64, n_kv: u64) -> Vec<u8> {
    let mut b = b"GGUF".to_vec();
    b.extend(version.to_le_bytes());
    b.extend(n_tensors.to_le_bytes());
    b.extend(n_kv.to_le_bytes());
    b
}

/// (file name, bytes, words the error must contain)
fn corpus() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let real = std::fs::read(fixture(TINY_MISTRAL)).unwrap();
    let mut wrong_kv_count = real.clone();
    wrong_kv_count[16..24].copy_from_slice(&10_000u64.to_le_bytes());
    let mut flipped_metadata = real.clone();
    for b in &mut flipped_metadata[40..400] {
        *b ^= 0x5a;
    }
    vec![
        ("empty.gguf", vec![], "not a GGUF file"),
        ("text.gguf", b"<html>Rate limited</html>".to_vec(), "not a GGUF file"),
        ("short.gguf", b"GGUF\x03\0".to_vec(), "truncated inside its header"),
        ("version.gguf", gguf_prefix(99, 1, 1).into_iter().chain([0; 64]).collect(), "version 99"),
        ("tensors.gguf", gguf_prefix(3, u64::MAX, 1).into_iter().chain([0; 64]).collect(), "absurd tensor count"),
        ("kvs.gguf", gguf_prefix(3, 1, u64::MAX / 2).into_iter().chain([0; 64]).collect(), "absurd metadata count"),
        ("header-only.gguf", real[..4096].to_vec(), "malformed GGUF"),
        ("truncated.gguf", real[..real.len() / 2].to_vec(), "truncated"),
        ("wrong-kv-count.gguf", wrong_kv_count, "malformed GGUF"),
        ("flipped.gguf", flipped_metadata, "malformed GGUF"),
    ]
}

#[test]
fn every_broken_file_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, expected) in corpus() {
        let path = write(dir.path(), name, &bytes);
        let err = inspect(&path).expect_err(name);
        let message = err.to_string();
        assert!(matches!(err, GgufError::InvalidModelFile { .. }), "{name}: {message}");
        assert!(message.contains(expected), "{name}: expected '{expected}' in '{message}'");
    }
}

#[test]
fn a_folder_or_missing_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(inspect(dir.path()).unwrap_err().to_string().contains("not a regular file"));
    assert!(matches!(inspect(&dir.path().join("nope.gguf")), Err(GgufError::Io { .. })));
}

#[test]
fn real_files_are_summarised() {
    let smol = inspect(&fixture(SMOLLM2)).unwrap();
    assert_eq!(smol.architecture, "llama");
    assert_eq!(smol.block_count, Some(30));
    assert!(smol.chat_template.as_deref().unwrap().contains("<|im_start|>"));
    assert!(smol.tensor_bytes > 80_000_000 && smol.tensor_bytes < smol.file_size);
    // Every tensor's elements, as gguf-py's reader counts them (quantized blocks included).
    assert_eq!(smol.parameter_count, 134_515_008);

    let mistral = inspect(&fixture(TINY_MISTRAL)).unwrap();
    assert_eq!((mistral.head_count, mistral.head_count_kv), (Some(8), Some(2)));
    assert_eq!(mistral.sliding_window, Some(4096));
    assert_eq!(mistral.context_length, Some(32768));

    let mixtral = inspect(&fixture(TINY_MIXTRAL)).unwrap();
    assert_eq!((mixtral.expert_count, mixtral.expert_used_count), (Some(8), Some(2)));
    // The experts' tensors (ffn_*_exps) are most of each layer; a dense model has none.
    assert_eq!(mixtral.expert_bytes.len(), mixtral.layer_bytes.len());
    for (experts, layer) in mixtral.expert_bytes.iter().zip(&mixtral.layer_bytes) {
        assert!(*experts > 0 && experts < layer, "{experts} of {layer}");
    }
    assert!(mistral.expert_bytes.is_empty() && smol.expert_bytes.is_empty());
}

#[tokio::test]
async fn loading_a_broken_file_fails_and_the_engine_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start();
    for (name, bytes, _) in corpus() {
        let path = write(dir.path(), name, &bytes);
        let cancel = Arc::new(AtomicBool::new(false));
        let result = engine.load(&path, LoadParams::default(), |_| {}, cancel).await;
        assert!(matches!(result, Err(EngineError::InvalidModelFile { .. })), "{name}");
    }
    let cancel = Arc::new(AtomicBool::new(false));
    let loaded = engine.load(&fixture(TINY_MISTRAL), LoadParams::default(), |_| {}, cancel).await;
    assert!(loaded.is_ok(), "a good model still loads after the broken ones");
}

/// xorshift64*: a fixed seed makes every mutated file reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Hundreds of damaged variants of a real model: flipped bytes in the header, overwritten
/// lengths and counts, truncation anywhere. The validator must answer each with Ok or a
/// clear error; an abort inside llama.cpp would kill this test binary.
#[test]
fn mutated_headers_never_abort() {
    let original = std::fs::read(fixture(TINY_MISTRAL)).unwrap();
    let header_end = 1_600_000.min(original.len());
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x5151_C0DE_2026);
    let (mut accepted, mut rejected) = (0, 0);
    for case in 0..400 {
        let mut bytes = original.clone();
        match case % 4 {
            // A few random bytes anywhere in the metadata.
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let at = rng.below(header_end);
                    bytes[at] = rng.next() as u8;
                }
            }
            // A length or count field overwritten with an extreme value.
            1 => {
                let at = 8 + rng.below(header_end - 16);
                let value = [u64::MAX, u64::MAX / 2, 1 << 40, 0, rng.next()][rng.below(5)];
                bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
            }
            // Truncated at a random point.
            2 => bytes.truncate(rng.below(original.len())),
            // A run of garbage over the tensor infos.
            _ => {
                let at = rng.below(header_end - 256);
                for b in &mut bytes[at..at + 256] {
                    *b = rng.next() as u8;
                }
            }
        }
        let path = write(dir.path(), &format!("case-{case}.gguf"), &bytes);
        match inspect(&path) {
            Ok(_) => accepted += 1,
            Err(GgufError::InvalidModelFile { .. }) => rejected += 1,
            Err(other) => panic!("case {case}: unexpected error kind {other}"),
        }
    }
    // Most damage must be caught; some (a flipped byte inside a token's text) is harmless.
    assert!(rejected > 200, "only {rejected} of 400 damaged files rejected ({accepted} accepted)");
}

const SPLIT_PART_1: &str = "split/SmolLM2-135M-Instruct-Q4_1-00001-of-00002.gguf";
const SPLIT_PART_2: &str = "split/SmolLM2-135M-Instruct-Q4_1-00002-of-00002.gguf";

/// A split model (SmolLM2 written as two parts) is one model: its summary counts both parts
/// exactly as the single file counts them, it loads from part 1 and answers exactly as the
/// single file does; a missing, truncated or foreign part is a clear error, never an abort.
#[tokio::test]
async fn a_split_model_is_checked_whole_and_loads_as_one() {
    let single = inspect(&fixture(SMOLLM2)).unwrap();
    let split = inspect(&fixture(SPLIT_PART_1)).unwrap();
    assert_eq!(split.split_count, 2);
    assert_eq!(split.tensor_count, single.tensor_count);
    assert_eq!(split.tensor_bytes, single.tensor_bytes);
    assert_eq!(split.layer_bytes, single.layer_bytes);
    assert_eq!(split.other_bytes, single.other_bytes);
    assert_eq!(split.parameter_count, single.parameter_count);
    let part_1 = std::fs::metadata(fixture(SPLIT_PART_1)).unwrap().len();
    let part_2 = std::fs::metadata(fixture(SPLIT_PART_2)).unwrap().len();
    assert_eq!(split.file_size, part_1 + part_2);
    let err = inspect(&fixture(SPLIT_PART_2)).unwrap_err().to_string();
    assert!(err.contains("load its part 1"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("Model-Q4_1-00001-of-00002.gguf");
    std::fs::copy(fixture(SPLIT_PART_1), &first).unwrap();
    let err = inspect(&first).unwrap_err().to_string();
    assert!(err.contains("part 2 of 2") && err.contains("is missing"), "{err}");
    let second = std::fs::read(fixture(SPLIT_PART_2)).unwrap();
    write(dir.path(), "Model-Q4_1-00002-of-00002.gguf", &second[..second.len() / 2]);
    let err = inspect(&first).unwrap_err().to_string();
    assert!(err.contains("Model-Q4_1-00002-of-00002.gguf") && err.contains("truncated"), "{err}");
    let engine = Engine::start();
    let result = engine.load(&first, LoadParams::default(), |_| {}, Arc::new(AtomicBool::new(false))).await;
    assert!(matches!(result, Err(EngineError::InvalidModelFile { .. })), "a truncated part 2 never reaches llama.cpp");

    let params = LoadParams { context_length: Some(512), ..LoadParams::default() };
    let ask = |engine: Engine| async move {
        let request = sirocco_engine::GenerateRequest::new(
            vec![sirocco_engine::ChatMessage::new(sirocco_engine::Role::User, "What is the capital of France?")],
            sirocco_engine::SamplingParams { temperature: 0.0, max_tokens: 24, ..Default::default() },
        );
        common::answer(&engine, request).await.0
    };
    engine.load(&fixture(SPLIT_PART_1), params.clone(), |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
    let from_split = ask(engine.clone()).await;
    engine.load(&fixture(SMOLLM2), params, |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
    let from_single = ask(engine.clone()).await;
    assert!(!from_split.is_empty());
    assert_eq!(from_split, from_single);
}

/// Which vocabulary a model reads, from its header: the same for the same tokens, another for
/// other tokens — what the settings panel pairs draft models by.
#[test]
fn the_vocabulary_fingerprint_tells_tokenizers_apart() {
    let smol = inspect(&fixture(SMOLLM2)).unwrap().vocabulary.expect("SmolLM2 has a vocabulary");
    assert!(smol.starts_with("gpt2:"), "{smol}");
    assert_eq!(inspect(&fixture(SMOLLM2)).unwrap().vocabulary.as_deref(), Some(smol.as_str()));
    // Mistral's own tokenizers: SentencePiece (v3) and tekken (v7), each its own.
    let v3 = inspect(&fixture("mistral-v3.gguf")).unwrap().vocabulary.expect("a vocabulary");
    let tekken = inspect(&fixture("mistral-v7-tekken.gguf")).unwrap().vocabulary.expect("a vocabulary");
    assert!(v3.starts_with("llama:"), "{v3}");
    assert_ne!(v3, smol);
    assert_ne!(tekken, v3);
    assert_ne!(tekken, smol);
    // A copy of the file, renamed, is still the same vocabulary.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("draft.gguf");
    std::fs::copy(fixture(SMOLLM2), &copy).unwrap();
    assert_eq!(inspect(&copy).unwrap().vocabulary, Some(smol));
}
