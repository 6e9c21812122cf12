//! Documents attached to a conversation: their text, and the passages of it a question needs.
//!
//! - [`read`] turns a file's bytes (plain text, Markdown, PDF, Word `.docx`) into its text, in a
//!   reader process of its own ([`isolated`]): PDF readers panic, recurse and loop on hostile
//!   files, and none of that may reach the app. The process has a time and a memory limit.
//! - [`split`] cuts a text into passages at paragraph and sentence boundaries; [`rank`] orders
//!   them for a question by meaning (embedding vectors, from whatever model the caller embeds
//!   with) and by its words (BM25), fused by rank.
//!
//! Invariants:
//! - File parsing runs only in the reader process ([`extract`] is called there, and by tests on
//!   files this crate writes itself).
//! - What comes back is bounded: at most [`MAX_PAGES`] pages and [`MAX_CHARS`] characters; a
//!   longer document comes back cut, with a note that says where.

use serde::{Deserialize, Serialize};

mod docx;
pub mod isolated;
mod passages;
mod pdf;
mod text;

pub use isolated::{read, run_if_reader, set_reader_program, READER_ARG};
pub use passages::{rank, split, Passage, PASSAGE_CHARS};

/// Pages of a PDF read at most; a longer one is read that far.
pub const MAX_PAGES: usize = 2000;
/// Characters of text kept at most (about 500k tokens); a longer document is cut there.
pub const MAX_CHARS: usize = 2_000_000;

/// The kinds of document read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Text,
    Markdown,
    Pdf,
    Docx,
}

/// Word's media type for `.docx`.
pub const DOCX_MIME: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

impl Kind {
    /// Every kind, in the order a file is matched against them (a Markdown file that says it
    /// is `text/plain` is Markdown).
    pub const ALL: [Kind; 4] = [Kind::Pdf, Kind::Docx, Kind::Markdown, Kind::Text];

    /// The kind of the file `name` of media type `mime` (either may be all a browser gives).
    pub fn of(name: &str, mime: &str) -> Option<Kind> {
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        Self::ALL.into_iter().find(|k| k.mimes().contains(&mime) || k.extensions().contains(&ext.as_str()))
    }

    /// The kind's name on a reader's command line.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Markdown => "markdown",
            Kind::Pdf => "pdf",
            Kind::Docx => "docx",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// What a person calls it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Text => "Text",
            Kind::Markdown => "Markdown",
            Kind::Pdf => "PDF",
            Kind::Docx => "Word",
        }
    }

    /// The media type kept for the kind.
    pub fn mime(self) -> &'static str {
        self.mimes()[0]
    }

    /// The media types a file of this kind comes with (the one kept first).
    pub fn mimes(self) -> &'static [&'static str] {
        match self {
            Kind::Text => &["text/plain"],
            Kind::Markdown => &["text/markdown", "text/x-markdown"],
            Kind::Pdf => &["application/pdf"],
            Kind::Docx => &[DOCX_MIME],
        }
    }

    /// The file name extensions (lower case, without the dot) of this kind.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Kind::Text => &["txt", "text", "log", "csv"],
            Kind::Markdown => &["md", "markdown"],
            Kind::Pdf => &["pdf"],
            Kind::Docx => &["docx"],
        }
    }
}

/// A document's text as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentText {
    pub text: String,
    /// Pages in the file (PDF).
    pub pages: Option<u32>,
    /// What was left out, when something was (`read the first 2000 of 5000 pages`).
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum DocumentError {
    #[error("{0}")]
    Unsupported(String),
    /// The file is damaged or not what its name says.
    #[error("{0}")]
    Unreadable(String),
    #[error("{0}")]
    Empty(String),
    /// The reader process could not finish (crashed, ran out of time or memory).
    #[error("{0}")]
    Reader(String),
}

pub type Result<T> = std::result::Result<T, DocumentError>;

/// The text of a `kind` file, in this process. Only the reader process parses PDF and Word
/// files (see [`read`]).
pub fn extract(kind: Kind, bytes: &[u8]) -> Result<DocumentText> {
    let read = match kind {
        Kind::Text | Kind::Markdown => text::text(bytes)?,
        Kind::Pdf => pdf::text(bytes)?,
        Kind::Docx => docx::text(bytes)?,
    };
    let mut read = bound(read);
    read.text = tidy(&read.text);
    if read.text.trim().is_empty() {
        return Err(DocumentError::Empty(match kind {
            Kind::Pdf => "this PDF holds no text (are its pages scanned images?)".into(),
            _ => "this document holds no text".into(),
        }));
    }
    Ok(read)
}

/// `read` cut to [`MAX_CHARS`], saying so.
fn bound(mut read: DocumentText) -> DocumentText {
    if let Some((cut, _)) = read.text.char_indices().nth(MAX_CHARS) {
        read.text.truncate(cut);
        let note = format!("only the first {MAX_CHARS} characters were read");
        read.note = Some(match read.note {
            Some(n) => format!("{n}; {note}"),
            None => note,
        });
    }
    read
}

/// Line ends made `\n`, control characters (but tabs and line ends) dropped, runs of blank
/// lines made one, trailing spaces cut.
fn tidy(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.split('\n') {
        let line: String = line.chars().filter(|c| !c.is_control() || *c == '\t').collect();
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_name_or_the_media_type() {
        assert_eq!(Kind::of("a.PDF", ""), Some(Kind::Pdf));
        assert_eq!(Kind::of("report", "application/pdf"), Some(Kind::Pdf));
        assert_eq!(Kind::of("notes.md", "application/octet-stream"), Some(Kind::Markdown));
        assert_eq!(Kind::of("notes.md", "text/plain"), Some(Kind::Markdown));
        assert_eq!(Kind::of("letter.docx", ""), Some(Kind::Docx));
        assert_eq!(Kind::of("data.csv", "text/csv"), Some(Kind::Text));
        assert_eq!(Kind::of("photo.png", "image/png"), None);
        assert_eq!(Kind::of("old.doc", "application/msword"), None);
    }

    #[test]
    fn tidy_keeps_paragraphs_and_drops_control_characters() {
        assert_eq!(tidy("a\r\nb  \r\n\r\n\r\n\u{7}c\u{0}\td"), "a\nb\n\nc\td");
    }

    #[test]
    fn long_text_is_cut_with_a_note() {
        let long = DocumentText { text: "é".repeat(MAX_CHARS + 5), pages: None, note: None };
        let cut = bound(long);
        assert_eq!(cut.text.chars().count(), MAX_CHARS);
        assert!(cut.note.unwrap().contains("first 2000000 characters"));
    }
}
