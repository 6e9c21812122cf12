//! Images for a model that sees: its projector file (`mmproj-*.gguf`) loaded beside it through
//! llama.cpp's `mtmd`, images decoded here within limits, and each image turned into the span of
//! prompt positions it fills.
//!
//! Images are decoded by the `image` crate, not by `mtmd`'s stb_image: its size and memory
//! limits refuse a decompression bomb before it is inflated, and a truncated file is an error,
//! not zero-filled pixels. Then each image is scaled down to fit [`MAX_SIDE`] (keeping its
//! shape), so neither a huge photo nor a long thin strip asks the projector for thousands of
//! positions, and handed to `mtmd` as RGB.
//!
//! In the scheduler's token lists an image's positions hold a placeholder derived from its
//! content ([`ImageSpan::tokens`]; negative, never a vocabulary id), so the cached-prefix
//! comparison that reuses a conversation's cache works across turns with images unchanged.
//!
//! Images travel in `ChatMessage::images` (bytes; base64 across process pipes) and go before
//! their message's text: in Mistral's formats as `Segment::Image`, with a Jinja template as a
//! private-use marker cut out of the rendered prompt (`prompt.rs`).

use std::ffi::CString;
use std::io::Cursor;
use std::path::Path;

use image::{ImageError, ImageFormat, ImageReader, Limits};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::mtmd::{
    mtmd_default_marker, MtmdBitmap, MtmdContext, MtmdContextParams, MtmdInputChunkType, MtmdInputChunks, MtmdInputText,
};
use llama_cpp_2::token::LlamaToken;

use crate::gguf_file::{self, ProjectorSummary};
use crate::{EngineError, Result};
use sirocco_types::ImageInput;

/// The longest side an image file may declare; a larger one is refused before decoding.
pub const MAX_FILE_SIDE: u32 = 16_384;
/// The most memory decoding one image may take.
const MAX_DECODE_BYTES: u64 = 512 << 20;
/// Images are scaled down to fit a square of this side before the projector sees them: what
/// Mistral Small 3.x's projector takes at most (Pixtral 12B's 1024 fits in it).
pub const MAX_SIDE: u32 = 1540;

/// An image decoded and scaled: RGB, three bytes a pixel, row after row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

/// Decodes a PNG, JPEG, WebP, GIF (its first frame) or BMP file within the limits above and
/// scales it to fit [`MAX_SIDE`]. Never panics, never allocates past the limits.
pub fn decode(bytes: &[u8]) -> Result<Rgb> {
    let bad = |why: String| EngineError::InvalidImage(why);
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| bad(format!("the image could not be read: {e}")))?;
    match reader.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif | ImageFormat::Bmp) => {}
        Some(other) => {
            return Err(bad(format!(
                "{} images are not supported (PNG, JPEG, WebP, GIF or BMP are)",
                other.extensions_str().first().unwrap_or(&"these").to_uppercase()
            )))
        }
        None => return Err(bad("not an image file (PNG, JPEG, WebP, GIF or BMP)".into())),
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_FILE_SIDE);
    limits.max_image_height = Some(MAX_FILE_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| match e {
        ImageError::Limits(_) => bad(format!(
            "the image is too large to decode (at most {MAX_FILE_SIDE} pixels a side and {} MiB decoded)",
            MAX_DECODE_BYTES >> 20
        )),
        other => bad(format!("the image is damaged or incomplete: {other}")),
    })?;
    let scaled = if decoded.width() > MAX_SIDE || decoded.height() > MAX_SIDE {
        decoded.resize(MAX_SIDE, MAX_SIDE, image::imageops::FilterType::Triangle)
    } else {
        decoded
    };
    let rgb = scaled.into_rgb8();
    Ok(Rgb { width: rgb.width(), height: rgb.height(), pixels: rgb.into_raw() })
}

/// A model's projector, loaded.
pub(crate) struct Vision {
    ctx: MtmdContext,
    pub summary: ProjectorSummary,
}

/// An image's place in a prompt: what `mtmd` made of it (its embedding positions and the text
/// that closes an image, e.g. Mistral's `[IMG_END]`) and the tokens that stand for them.
pub(crate) struct ImageSpan {
    chunks: MtmdInputChunks,
    /// One entry per position: the placeholder for the image's, the closing text's own tokens.
    pub tokens: Vec<LlamaToken>,
}

/// The placeholder at every position of image `id`: negative, so never a vocabulary id.
pub(crate) fn placeholder(id: u64) -> LlamaToken {
    LlamaToken(-1 - (id & 0x3FFF_FFFF) as i32)
}

pub(crate) fn is_placeholder(token: LlamaToken) -> bool {
    token.0 < 0
}

impl Vision {
    /// Loads `path` for `model` (the projector must be made for it: `mtmd` checks its width).
    pub fn load(path: &Path, model: &LlamaModel, threads: u32, use_gpu: bool) -> Result<Self> {
        let summary = gguf_file::inspect_projector(path)?;
        let failed = |reason: &str| EngineError::ProjectorFailed { path: path.to_path_buf(), reason: reason.into() };
        if !summary.vision {
            return Err(failed("it has no vision encoder (audio projectors are not supported yet)"));
        }
        let path_text = path.to_str().ok_or_else(|| failed("its path is not valid UTF-8"))?;
        let params = MtmdContextParams {
            use_gpu,
            print_timings: false,
            n_threads: threads.max(1) as i32,
            media_marker: CString::new(mtmd_default_marker()).expect("no NUL in mtmd's marker"),
            image_min_tokens: -1,
            image_max_tokens: -1,
        };
        let ctx = MtmdContext::init_from_file(path_text, model, &params).map_err(|_| {
            failed("llama.cpp could not load it with this model (a projector made for another model? see the log)")
        })?;
        if !ctx.support_vision() {
            return Err(failed("it has no vision encoder"));
        }
        if ctx.decode_use_mrope() {
            return Err(failed("its model places images with M-RoPE positions, which Sirocco does not support yet"));
        }
        tracing::info!(path = %path.display(), kind = summary.projector_type.as_deref().unwrap_or("?"), "vision projector loaded");
        Ok(Self { ctx, summary })
    }

    /// Decodes `image` and asks `mtmd` which positions it fills.
    pub fn span(&self, image: &ImageInput) -> Result<ImageSpan> {
        let rgb = decode(image.bytes())?;
        let mut bitmap = MtmdBitmap::from_image_data(rgb.width, rgb.height, &rgb.pixels)
            .map_err(|e| EngineError::InvalidImage(format!("the image could not be prepared: {e}")))?;
        let id = image.id();
        let _ = bitmap.set_id(&format!("{id:016x}"));
        let text = MtmdInputText { text: mtmd_default_marker().to_owned(), add_special: false, parse_special: true };
        let chunks = self
            .ctx
            .tokenize(text, &[&bitmap])
            .map_err(|e| EngineError::InvalidImage(format!("the projector could not take the image: {e}")))?;
        let mut tokens = Vec::new();
        for i in 0..chunks.len() {
            let chunk = chunks.get(i).expect("an index below len");
            match chunk.chunk_type() {
                MtmdInputChunkType::Text => tokens.extend_from_slice(chunk.text_tokens().unwrap_or_default()),
                MtmdInputChunkType::Image | MtmdInputChunkType::Audio => {
                    let n = usize::try_from(chunk.n_positions()).unwrap_or(0);
                    tokens.extend(std::iter::repeat_n(placeholder(id), n));
                }
            }
        }
        Ok(ImageSpan { chunks, tokens })
    }

    /// Computes `span` into sequence `seq` of `ctx` from position `at` (its image through the
    /// projector, then the model), `batch` positions a decode.
    pub fn eval(&mut self, span: &ImageSpan, ctx: &mut LlamaContext, at: usize, seq: i32, batch: usize) -> Result<()> {
        let end =
            crate::compute::run(|| span.chunks.eval_chunks(&mut self.ctx, ctx, at as i32, seq, batch as i32, false))
                .map_err(|e| EngineError::Decode(format!("the image could not be computed: {e}")))?;
        if end as usize != at + span.tokens.len() {
            return Err(EngineError::Decode(format!(
                "the image filled {} positions, {} were expected",
                end as usize - at,
                span.tokens.len()
            )));
        }
        Ok(())
    }
}
