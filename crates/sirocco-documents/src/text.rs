//! Plain text and Markdown: UTF-8 (with or without its byte-order mark) or UTF-16 with one.

use crate::{DocumentError, DocumentText, Result};

pub(crate) fn text(bytes: &[u8]) -> Result<DocumentText> {
    let text = match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => utf8(rest)?,
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => utf8(bytes)?,
    };
    Ok(DocumentText { text, pages: None, note: None })
}

fn utf8(bytes: &[u8]) -> Result<String> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_owned()),
        // A NUL is no text encoding's: this is a binary file with a text file's name.
        Err(_) if bytes.contains(&0) => {
            Err(DocumentError::Unreadable("this is not a text file (it holds binary data)".into()))
        }
        // Text in a legacy encoding: read as Windows-1252's printable subset, Latin-1.
        Err(_) => Ok(bytes.iter().map(|&b| b as char).collect()),
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|p| unit([p[0], p[1]]));
    char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(text(b"\xEF\xBB\xBFh\xC3\xA9").unwrap().text, "hé");
        assert_eq!(text(&[0xFF, 0xFE, b'h', 0, 0xE9, 0]).unwrap().text, "hé");
        assert_eq!(text(&[0xFE, 0xFF, 0, b'h', 0, 0xE9]).unwrap().text, "hé");
        assert_eq!(text(b"caf\xE9").unwrap().text, "café");
        assert!(matches!(text(b"\x7fELF\x00\x01\xff"), Err(DocumentError::Unreadable(_))));
    }
}
