//! A tool's result as the model reads it: its text, what is not text named in a line, and cut
//! to a size with a note saying so (a browser snapshot once filled every context in Jan).

use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};
use serde::{Deserialize, Serialize};

/// The most characters of a result kept by default; the chat cuts further to fit its context.
pub const MAX_RESULT_CHARS: usize = 32_000;

/// A call's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ToolOutput {
    /// The text the model is given (with the note when it was cut).
    pub text: String,
    /// The server said the call failed (the text says why).
    pub is_error: bool,
    /// The result's full length in characters, when it was cut.
    #[ts(type = "number | null")]
    pub cut_from: Option<usize>,
}

impl ToolOutput {
    pub(crate) fn from_result(result: CallToolResult, max_chars: usize) -> Self {
        let mut parts: Vec<String> = Vec::new();
        for block in result.content {
            parts.push(match block {
                ContentBlock::Text(t) => t.text,
                ContentBlock::Image(i) => format!("[an image, {}, {} bytes as base64]", i.mime_type, i.data.len()),
                ContentBlock::Audio(a) => format!("[audio, {}, {} bytes as base64]", a.mime_type, a.data.len()),
                ContentBlock::Resource(r) => match r.resource {
                    ResourceContents::TextResourceContents { uri, text, .. } => format!("[{uri}]\n{text}"),
                    ResourceContents::BlobResourceContents { uri, blob, .. } => {
                        format!("[{uri}: {} bytes of binary data as base64]", blob.len())
                    }
                    #[allow(unreachable_patterns)]
                    _ => "[an embedded resource]".to_owned(),
                },
                ContentBlock::ResourceLink(link) => format!("[a link to {} ({})]", link.name, link.uri),
                #[allow(unreachable_patterns)]
                _ => "[content of a kind Sirocco does not read]".to_owned(),
            });
        }
        if parts.is_empty() {
            if let Some(structured) = result.structured_content {
                parts.push(structured.to_string());
            }
        }
        Self::new(parts.join("\n"), result.is_error.unwrap_or(false), max_chars)
    }

    /// `text` cut to `max_chars` characters (at a character boundary), with a note saying how
    /// much there was.
    pub fn new(text: String, is_error: bool, max_chars: usize) -> Self {
        let total = text.chars().count();
        Self::cut(text, total, is_error, max_chars)
    }

    /// The same output cut further (to fit what is left of the context); the note still gives
    /// the result's full length.
    pub fn cut_to(self, max_chars: usize) -> Self {
        match self.cut_from {
            None => Self::new(self.text, self.is_error, max_chars),
            Some(total) => {
                let kept = self.text.find(NOTE).map_or(self.text.as_str(), |at| &self.text[..at]).to_owned();
                Self::cut(kept, total, self.is_error, max_chars)
            }
        }
    }

    /// `text` (the first characters of a result of `total`) cut to `max_chars`.
    fn cut(text: String, total: usize, is_error: bool, max_chars: usize) -> Self {
        let count = text.chars().count();
        if count <= max_chars && count == total {
            return Self { text, is_error, cut_from: None };
        }
        let keep = count.min(max_chars);
        let end = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
        let text =
            format!("{}{NOTE} the tool returned {total} characters and only the first {keep} fit.]", &text[..end]);
        Self { text, is_error, cut_from: Some(total) }
    }
}

/// How the note on a cut result begins.
const NOTE: &str = "\n\n[The result was cut:";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_result_is_cut_at_a_character_with_a_note() {
        let out = ToolOutput::new("é".repeat(50), false, 10);
        assert!(out.text.starts_with(&"é".repeat(10)));
        assert!(!out.text.starts_with(&"é".repeat(11)));
        assert!(out.text.contains("returned 50 characters and only the first 10 fit"), "{}", out.text);
        assert_eq!(out.cut_from, Some(50));
        let short = ToolOutput::new("ok".into(), true, 10);
        assert_eq!(short, ToolOutput { text: "ok".into(), is_error: true, cut_from: None });
        // Cut again to fit a context: the note still gives the full length.
        let again = out.cut_to(5);
        assert!(again.text.contains("returned 50 characters and only the first 5 fit"), "{}", again.text);
    }

    #[test]
    fn content_that_is_not_text_is_named() {
        let result: CallToolResult = serde_json::from_value(serde_json::json!({
            "content": [
                { "type": "text", "text": "two things:" },
                { "type": "image", "data": "aGVsbG8=", "mimeType": "image/png" },
                { "type": "resource", "resource": { "uri": "file:///a.txt", "text": "A" } }
            ],
            "isError": false
        }))
        .unwrap();
        let out = ToolOutput::from_result(result, 1000);
        assert_eq!(out.text, "two things:\n[an image, image/png, 8 bytes as base64]\n[file:///a.txt]\nA");
    }
}
