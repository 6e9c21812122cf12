//! SillyTavern character cards → a persona draft.
//!
//! Cards come from strangers: JSON (V1 flat, V2 `chara_card_v2`, V3 `chara_card_v3`) or a PNG
//! whose `tEXt` chunk `chara` (or `ccv3`) holds the card as base64 JSON. Everything is bounds-
//! checked; sizes are capped; fields of the wrong type are an error, not a guess. Text is kept
//! as text — the UI renders it sanitised, so script in a field stays inert.

use base64::Engine as _;
use serde_json::Value;

use crate::personas::{PersonaDraft, MAX_ALTERNATE_GREETINGS, MAX_FIELD_BYTES};

/// Largest card file read.
pub const MAX_CARD_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CardError {
    #[error("the card is {0} MB; cards larger than 16 MB are not read")]
    TooLarge(usize),
    #[error("this is not a character card: {0}")]
    NotACard(String),
    #[error("the card's {field} is {kb} KB; at most 100 KB is kept")]
    FieldTooLong { field: String, kb: usize },
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Reads a card file (JSON or PNG) into a persona draft. A PNG card's image becomes the avatar
/// when it is small enough.
pub fn parse_character_card(bytes: &[u8]) -> Result<PersonaDraft, CardError> {
    if bytes.len() > MAX_CARD_BYTES {
        return Err(CardError::TooLarge(bytes.len() / (1024 * 1024)));
    }
    if bytes.starts_with(PNG_SIGNATURE) {
        let json = png_card_text(bytes)?;
        let mut draft = parse_json_card(&json)?;
        // The picture, scaled down and without the card's text chunk; none if it does not decode.
        draft.avatar = crate::avatar::from_image(bytes).unwrap_or_default();
        return Ok(draft);
    }
    parse_json_card(bytes)
}

/// The base64 payload of the `chara`/`ccv3` text chunk, decoded. V3 (`ccv3`) wins when both exist.
fn png_card_text(png: &[u8]) -> Result<Vec<u8>, CardError> {
    let mut at = PNG_SIGNATURE.len();
    let mut found: Option<(bool, &[u8])> = None;
    let mut complete = false;
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let kind = &png[at + 4..at + 8];
        let start = at + 8;
        let Some(end) = start.checked_add(len).filter(|&e| e + 4 <= png.len()) else {
            return Err(CardError::NotACard("the PNG is cut short".into()));
        };
        if kind == b"tEXt" {
            let data = &png[start..end];
            if let Some(nul) = data.iter().position(|&b| b == 0) {
                let (key, value) = (&data[..nul], &data[nul + 1..]);
                if key == b"ccv3" {
                    found = Some((true, value));
                } else if key == b"chara" && !matches!(found, Some((true, _))) {
                    found = Some((false, value));
                }
            }
        }
        if kind == b"IEND" {
            complete = true;
            break;
        }
        at = end + 4; // skip the CRC
    }
    if found.is_none() && !complete {
        return Err(CardError::NotACard("the PNG is cut short".into()));
    }
    let (_, text) = found.ok_or_else(|| CardError::NotACard("the PNG carries no character data".into()))?;
    let cleaned: Vec<u8> = text.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(&cleaned)
        .map_err(|_| CardError::NotACard("the PNG's character data is not base64".into()))
}

fn parse_json_card(bytes: &[u8]) -> Result<PersonaDraft, CardError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| CardError::NotACard(format!("it is not valid JSON ({e})")))?;
    let Value::Object(root) = &value else {
        return Err(CardError::NotACard("it is not a JSON object".into()));
    };
    // V2/V3 keep the fields under `data`; V1 has them at the top.
    let data = match root.get("spec").and_then(Value::as_str) {
        Some("chara_card_v2" | "chara_card_v3") => match root.get("data") {
            Some(Value::Object(d)) => d,
            _ => return Err(CardError::NotACard("its `data` is missing".into())),
        },
        Some(other) => return Err(CardError::NotACard(format!("unknown card format “{}”", truncate(other, 40)))),
        None => root,
    };
    let field = |name: &str| -> Result<String, CardError> {
        match data.get(name) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) if s.len() > MAX_FIELD_BYTES => {
                Err(CardError::FieldTooLong { field: name.into(), kb: s.len() / 1024 })
            }
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(CardError::NotACard(format!("its `{name}` is not text"))),
        }
    };
    let name = field("name")?;
    if name.trim().is_empty() {
        return Err(CardError::NotACard("it has no name".into()));
    }
    let mut description = field("description")?;
    let personality = field("personality")?;
    if !personality.trim().is_empty() {
        description.push_str(&format!("\n\n{{{{char}}}}'s personality: {}", personality.trim()));
    }
    let scenario = field("scenario")?;
    if !scenario.trim().is_empty() {
        description.push_str(&format!("\n\nScenario: {}", scenario.trim()));
    }
    let draft = PersonaDraft {
        name: truncate(name.trim(), 120).to_string(),
        avatar: String::new(),
        description: description.trim().to_string(),
        system_prompt: field("system_prompt")?,
        greeting: field("first_mes")?,
        alternate_greetings: alternate_greetings(data)?,
        example_dialogue: field("mes_example")?,
        lorebook: crate::lorebook::from_card(data.get("character_book")).map_err(CardError::NotACard)?,
    };
    if draft.description.len() > MAX_FIELD_BYTES {
        return Err(CardError::FieldTooLong { field: "description".into(), kb: draft.description.len() / 1024 });
    }
    Ok(draft)
}

/// V2/V3 `alternate_greetings`: a list of texts, bounded in count and size.
fn alternate_greetings(data: &serde_json::Map<String, Value>) -> Result<Vec<String>, CardError> {
    let list = match data.get("alternate_greetings") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(CardError::NotACard("its `alternate_greetings` is not a list".into())),
    };
    if list.len() > MAX_ALTERNATE_GREETINGS {
        return Err(CardError::NotACard(format!(
            "it has {} alternate greetings; at most {MAX_ALTERNATE_GREETINGS} are kept",
            list.len()
        )));
    }
    list.iter()
        .map(|g| match g {
            Value::String(s) if s.len() > MAX_FIELD_BYTES => {
                Err(CardError::FieldTooLong { field: "alternate_greetings".into(), kb: s.len() / 1024 })
            }
            Value::String(s) => Ok(s.clone()),
            _ => Err(CardError::NotACard("an alternate greeting is not text".into())),
        })
        .filter(|g| g.as_ref().map_or(true, |s| !s.trim().is_empty()))
        .collect()
}

fn truncate(s: &str, chars: usize) -> &str {
    match s.char_indices().nth(chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
