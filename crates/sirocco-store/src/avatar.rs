//! Avatars as the app keeps them: a small PNG (at most 256 px a side) in a `data:` URL. A
//! picture the user picks or a character card's image (often a few MB, with the whole card in
//! a text chunk) is decoded with bounded memory, scaled down and written again without any
//! metadata. Anything that does not decode is left for the persona's validation to refuse.

use std::io::Cursor;

use base64::Engine as _;
use image::{ImageFormat, ImageReader, Limits};

/// Longest side of a kept avatar, in pixels.
pub const AVATAR_SIDE: u32 = 256;
/// Largest picture decoded (a side); larger ones are refused before any pixel is allocated.
const MAX_SIDE: u32 = 8192;
/// Most memory one decode may take.
const MAX_DECODE_BYTES: u64 = 128 << 20;

/// A PNG, JPEG or WebP file as an avatar; `None` when it does not decode as one (or is absurd).
pub fn from_image(bytes: &[u8]) -> Option<String> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().ok()?;
    if !matches!(reader.format(), Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP)) {
        return None;
    }
    reader.limits(limits);
    let image = reader.decode().ok()?;
    let image = if image.width() > AVATAR_SIDE || image.height() > AVATAR_SIDE {
        image.resize(AVATAR_SIDE, AVATAR_SIDE, image::imageops::FilterType::Triangle)
    } else {
        image
    };
    let mut png = Vec::new();
    image.into_rgba8().write_to(&mut Cursor::new(&mut png), ImageFormat::Png).ok()?;
    Some(format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png)))
}

/// An avatar as given (an emoji, or a `data:` URL of a picture) as the app keeps it: pictures
/// scaled down to [`AVATAR_SIDE`]; anything else unchanged (validation decides).
pub fn normalise(avatar: &str) -> String {
    let Some((_, payload)) = ["data:image/png;base64,", "data:image/jpeg;base64,", "data:image/webp;base64,"]
        .iter()
        .find_map(|prefix| avatar.strip_prefix(prefix).map(|rest| (prefix, rest)))
    else {
        return avatar.to_owned();
    };
    match base64::engine::general_purpose::STANDARD.decode(payload).ok().and_then(|bytes| from_image(&bytes)) {
        Some(small) => small,
        None => avatar.to_owned(),
    }
}
