//! Images through llama.cpp's real `mtmd`: a tiny random-weight projector of Mistral's kind
//! (`pixtral`: Mistral Small 3.1/3.2) beside a tiny model carrying Mistral Small 3.2's real
//! tokenizer (tests/fixtures/make_vision.py). The prompt of a turn with an image is checked
//! against Mistral's reference library, position by position; the next turn reuses the cache
//! the image left; hostile files are clear errors.

mod common;

use std::io::Cursor;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use common::fixture;
use sirocco_engine::{
    ChatMessage, Engine, EngineError, GenerateRequest, GenerationEvent, ImageInput, LoadParams, LoadedModel, Role,
    SamplingParams,
};

const MODEL: &str = "vision/Tiny-Pixtral-F16.gguf";
const PROJECTOR: &str = "vision/mmproj-Tiny-Pixtral-F32.gguf";

async fn load(projector: Option<&str>) -> Result<(Engine, LoadedModel), EngineError> {
    load_with(projector, None).await
}

async fn load_with(projector: Option<&str>, template: Option<&str>) -> Result<(Engine, LoadedModel), EngineError> {
    let engine = Engine::start();
    let params = LoadParams {
        chat_template_override: template.map(str::to_owned),
        context_length: Some(1024),
        projector: projector.map(fixture),
        threads: Some(2),
        // One sequence: each turn lands on the cache the last one left.
        parallel: 1,
        ..LoadParams::default()
    };
    let loaded = engine.load(&fixture(MODEL), params, |_| {}, Arc::new(AtomicBool::new(false))).await?;
    Ok((engine, loaded))
}

/// The test image as the fixture script makes it (byte i = i mod 251), as a PNG file.
fn png(width: u32, height: u32) -> Vec<u8> {
    let pixels: Vec<u8> = (0..width * height * 3).map(|i| (i % 251) as u8).collect();
    let image = image::RgbImage::from_raw(width, height, pixels).unwrap();
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn with_image(text: &str, image: Vec<u8>) -> ChatMessage {
    ChatMessage { images: vec![ImageInput::new(image)], ..ChatMessage::new(Role::User, text) }
}

fn greedy(messages: Vec<ChatMessage>, tokens: u32) -> GenerateRequest {
    // Random weights may end a turn at once: the length is what is measured.
    let sampling =
        SamplingParams { temperature: 0.0, max_tokens: tokens, ignore_eos: true, ..SamplingParams::default() };
    GenerateRequest::new(messages, sampling)
}

fn reference() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("vision/reference.json")).unwrap()).unwrap()
}

#[tokio::test]
async fn an_image_fills_the_positions_mistrals_reference_gives_it() {
    let (engine, loaded) = load(Some(PROJECTOR)).await.unwrap();
    let projector = loaded.projector.expect("the projector is reported with the model");
    assert_eq!(projector.projector_type.as_deref(), Some("pixtral"));
    assert!(projector.vision && !projector.audio);

    let reference = reference();
    let ids = &reference["control_ids"];
    let (img, img_break) = (ids["[IMG]"].as_i64().unwrap(), ids["[IMG_BREAK]"].as_i64().unwrap());
    for case in reference["cases"].as_array().unwrap() {
        let (width, height) = (case["width"].as_u64().unwrap() as u32, case["height"].as_u64().unwrap() as u32);
        let message = with_image(case["text"].as_str().unwrap(), png(width, height));
        let ours = engine.prompt_tokens_for(greedy(vec![message], 1)).await.unwrap();
        let expected: Vec<i64> = case["tokens"].as_array().unwrap().iter().map(|t| t.as_i64().unwrap()).collect();
        assert_eq!(ours.len(), expected.len(), "{width}×{height}: {ours:?}\nmistral-common: {expected:?}");
        // mistral-common writes [IMG] for each patch and [IMG_BREAK] after each row; the
        // projector fills exactly those positions (its own break embedding included). Every
        // other token — [INST], the closing [IMG_END], the text — is the same.
        for (at, (&ours, &theirs)) in ours.iter().zip(&expected).enumerate() {
            if theirs == img || theirs == img_break {
                assert!(ours < 0, "{width}×{height}: position {at} is the image's in mistral-common, {ours} here");
            } else {
                assert_eq!(i64::from(ours), theirs, "{width}×{height}: position {at}");
            }
        }
        let image_positions = ours.iter().filter(|&&t| t < 0).count();
        let rows = expected.iter().filter(|&&t| t == img_break).count() + 1;
        let patches = expected.iter().filter(|&&t| t == img).count();
        assert_eq!(image_positions, patches + rows - 1, "{width}×{height}");
    }
}

#[tokio::test]
async fn an_image_turn_generates_and_the_next_turn_reuses_its_cache() {
    let (engine, _) = load(Some(PROJECTOR)).await.unwrap();
    let mut messages = vec![with_image("What is in this picture?", png(112, 84))];
    let (first, turn1) = common::answer(&engine, greedy(messages.clone(), 4)).await;
    assert_eq!(turn1.generated_tokens, 4);
    assert_eq!(turn1.prompt_tokens, 24, "BOS, [INST], 15 image positions, 6 of text and [/INST]");
    assert_eq!(turn1.cached_tokens, 0);

    // The next turn: the first prompt, image included, comes from the cache.
    messages.push(ChatMessage::new(Role::Assistant, first));
    messages.push(ChatMessage::new(Role::User, "And the colours?"));
    let (_, turn2) = common::answer(&engine, greedy(messages.clone(), 4)).await;
    assert!(turn2.cached_tokens >= turn1.prompt_tokens, "{turn2:?} after {turn1:?}");

    // Another image in its place: only what comes before it is kept, not a position of the image.
    messages[0] = with_image("What is in this picture?", png(56, 140));
    let (_, other) = common::answer(&engine, greedy(messages, 4)).await;
    assert_eq!(other.cached_tokens, 2, "BOS and [INST] only: {other:?}");
}

/// A vision model whose prompt comes from a Jinja chat template (Gemma 3's, Qwen 2.5 VL's kind)
/// rather than Mistral's own format: the image still takes its place before the text.
#[tokio::test]
async fn an_image_keeps_its_place_under_a_jinja_chat_template() {
    const CHATML: &str = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}\
{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
    let (mistral, _) = load(Some(PROJECTOR)).await.unwrap();
    let (jinja, _) = load_with(Some(PROJECTOR), Some(CHATML)).await.unwrap();
    let message = with_image("What is in this picture?", png(112, 84));
    let native = mistral.prompt_tokens_for(greedy(vec![message.clone()], 1)).await.unwrap();
    let ours = jinja.prompt_tokens_for(greedy(vec![message], 1)).await.unwrap();
    let image = |tokens: &[i32]| tokens.iter().filter(|&&t| t < 0).count();
    assert!(image(&native) > 0);
    assert_eq!(image(&ours), image(&native), "the image's positions: {ours:?}");
    // Before the question's text, after the template's opening of the user's turn.
    let first = ours.iter().position(|&t| t < 0).unwrap();
    let before = jinja.detokenize(ours[..first].to_vec(), true).await.unwrap();
    assert!(before.ends_with("user\n"), "{before:?}");
    let after: Vec<i32> = ours[first..].iter().copied().filter(|&t| t >= 0).collect();
    let after = jinja.detokenize(after, true).await.unwrap();
    // Pixtral's projector closes its image with [IMG_END], as the Mistral path does.
    assert!(after.starts_with("[IMG_END]What is in this picture?<|im_end|>"), "{after:?}");
    assert!(!after.contains('\u{F8F2}'), "no image marker left as text: {after:?}");
    let (_, stats) = common::answer(&jinja, greedy(vec![with_image("And this?", png(112, 84))], 2)).await;
    assert_eq!(stats.generated_tokens, 2);
}

#[tokio::test]
async fn a_model_without_a_projector_says_it_does_not_see() {
    let (engine, loaded) = load(None).await.unwrap();
    assert!(loaded.projector.is_none());
    let request = greedy(vec![with_image("What is this?", png(112, 84))], 4);
    let mut generation = engine.generate(request).unwrap();
    match generation.events.recv().await.unwrap() {
        GenerationEvent::Error { message, busy, .. } => {
            assert!(message.contains("does not see images"), "{message}");
            assert!(!busy);
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_projector_for_another_model_or_no_projector_at_all_is_refused_at_load() {
    let Err(e) = load(Some("vision/mmproj-Wrong-Width-F32.gguf")).await else { panic!("a 48-wide projector loaded") };
    assert!(matches!(e, EngineError::ProjectorFailed { .. }), "{e}");
    assert!(e.to_string().contains("another model"), "{e}");
    let Err(e) = load(Some(MODEL)).await else { panic!("a model loaded as a projector") };
    assert!(e.to_string().contains("not a projector file"), "{e}");
}

#[tokio::test]
async fn a_damaged_image_fails_its_request_and_the_engine_goes_on() {
    let (engine, _) = load(Some(PROJECTOR)).await.unwrap();
    let mut truncated = png(112, 84);
    truncated.truncate(truncated.len() / 2);
    let mut generation = engine.generate(greedy(vec![with_image("What is this?", truncated)], 4)).unwrap();
    match generation.events.recv().await.unwrap() {
        GenerationEvent::Error { message, .. } => assert!(message.contains("damaged or incomplete"), "{message}"),
        other => panic!("expected an error, got {other:?}"),
    }
    let (_, stats) = common::answer(&engine, greedy(vec![with_image("And this?", png(112, 84))], 2)).await;
    assert_eq!(stats.generated_tokens, 2);
}

/// A PNG file whose header declares `width`×`height` RGB pixels, with one small compressed row
/// of data: what a decompression bomb looks like before it is inflated.
fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend(kind);
        out.extend(data);
        let crc = crc32(&out[start..]);
        out.extend(crc.to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    // zlib: a stored block of zeros.
    chunk(&mut out, b"IDAT", &[0x78, 0x01, 0x01, 0x04, 0x00, 0xfb, 0xff, 0, 0, 0, 0, 0x00, 0x04, 0x00, 0x01]);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn hostile_images_are_clear_errors_and_large_ones_are_scaled() {
    use sirocco_engine::vision::{decode, MAX_SIDE};
    let message = |bytes: &[u8]| decode(bytes).unwrap_err().to_string();

    // Dimensions past the limit, and within it but past the memory limit: refused from the
    // header, before anything is inflated.
    let e = message(&png_header_only(30_000, 30_000));
    assert!(e.contains("too large"), "{e}");
    let e = message(&png_header_only(16_000, 16_000));
    assert!(e.contains("too large"), "{e}");
    let mut truncated = png(64, 64);
    truncated.truncate(truncated.len() - 30);
    assert!(message(&truncated).contains("damaged or incomplete"));
    assert!(message(b"hello, not an image").contains("not an image file"));
    assert!(message(b"").contains("not an image file"));

    // A photo larger than the projector takes and a long strip: scaled to fit, shape kept.
    let big = decode(&png(3000, 2000)).unwrap();
    assert_eq!((big.width, big.height), (MAX_SIDE, 1027));
    assert_eq!(big.pixels.len(), (big.width * big.height * 3) as usize);
    let strip = decode(&png(4000, 10)).unwrap();
    assert_eq!(strip.width, MAX_SIDE);
    assert!(strip.height <= 4, "{}", strip.height);
    let small = decode(&png(112, 84)).unwrap();
    assert_eq!((small.width, small.height), (112, 84));
    assert_eq!(&small.pixels[..6], &[0, 1, 2, 3, 4, 5]);
}
