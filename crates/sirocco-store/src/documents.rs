//! Documents attached to questions: their text as read and their passages' vectors (caches by
//! the file's hash), and what of them each question gave the model (`messages.sources`).

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{Result, Store, StoreError};

/// The media types of the documents a message may carry (beside images).
pub const DOCUMENT_MIMES: [&str; 4] = [
    "text/plain",
    "text/markdown",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
];

/// A document a question carried, as the model was given it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct DocumentSource {
    /// The attachment's hash.
    pub hash: String,
    pub name: String,
    /// Given whole (it fitted the context); else only `passages`.
    pub whole: bool,
    /// Pages in the file (PDF).
    pub pages: Option<u32>,
    /// What reading left out, if anything.
    pub note: Option<String>,
    /// Passages the document was split into.
    pub passage_count: u32,
    /// The passages retrieved for the question, in the document's order (none when whole).
    pub passages: Vec<SourcePassage>,
}

/// A passage given to the model: its number (1-based) in the document and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SourcePassage {
    pub number: u32,
    pub text: String,
}

/// A document's text as it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentText {
    pub text: String,
    pub pages: Option<u32>,
    pub note: Option<String>,
}

impl Store {
    /// The text read from document `hash`, if it was kept.
    pub async fn document_text(&self, hash: &str) -> Result<Option<DocumentText>> {
        let row = sqlx::query("SELECT text, pages, note FROM document_texts WHERE hash = ?")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| DocumentText {
            text: r.get("text"),
            pages: r.get::<Option<i64>, _>("pages").map(|p| p as u32),
            note: r.get("note"),
        }))
    }

    /// Keeps the text read from document `hash`.
    pub async fn set_document_text(&self, hash: &str, text: &DocumentText) -> Result<()> {
        sqlx::query("INSERT OR REPLACE INTO document_texts (hash, text, pages, note) VALUES (?, ?, ?, ?)")
            .bind(hash)
            .bind(&text.text)
            .bind(text.pages.map(i64::from))
            .bind(text.note.as_deref())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The vectors of document `hash`'s passages by embedding model `model`, if kept.
    pub async fn passage_vectors(&self, hash: &str, model: &str) -> Result<Option<Vec<Vec<f32>>>> {
        let row: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT dims, vectors FROM passage_vectors WHERE hash = ? AND model = ?")
                .bind(hash)
                .bind(model)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(dims, bytes)| {
            let dims = usize::try_from(dims).ok().filter(|d| *d > 0)?;
            if bytes.len() % (dims * 4) != 0 {
                return None;
            }
            let floats: Vec<f32> =
                bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            Some(floats.chunks(dims).map(<[f32]>::to_vec).collect())
        }))
    }

    /// Keeps the vectors of document `hash`'s passages by embedding model `model`.
    pub async fn set_passage_vectors(&self, hash: &str, model: &str, vectors: &[Vec<f32>]) -> Result<()> {
        let dims = vectors.first().map_or(0, Vec::len);
        if dims == 0 || vectors.iter().any(|v| v.len() != dims) {
            return Err(StoreError::Invalid("passage vectors must share one length".into()));
        }
        let bytes: Vec<u8> = vectors.iter().flatten().flat_map(|f| f.to_le_bytes()).collect();
        sqlx::query("INSERT OR REPLACE INTO passage_vectors (hash, model, dims, vectors) VALUES (?, ?, ?, ?)")
            .bind(hash)
            .bind(model)
            .bind(dims as i64)
            .bind(bytes)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Sets what of its documents question `id` gave the model.
    pub async fn set_sources(&self, id: i64, sources: &[DocumentSource]) -> Result<()> {
        let json = (!sources.is_empty())
            .then(|| serde_json::to_string(sources).map_err(|e| StoreError::Invalid(e.to_string())))
            .transpose()?;
        sqlx::query("UPDATE messages SET sources = ? WHERE id = ?").bind(json).bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// Removes texts and vectors of documents no message carries any more.
    pub(crate) async fn prune_documents(&self) -> Result<()> {
        for sql in [
            "DELETE FROM document_texts WHERE hash NOT IN (SELECT hash FROM attachments)",
            "DELETE FROM passage_vectors WHERE hash NOT IN (SELECT hash FROM attachments)",
        ] {
            sqlx::query(sql).execute(&self.pool).await?;
        }
        Ok(())
    }
}

/// The sources kept in a `sources` column (none for NULL or what cannot be read).
pub(crate) fn parse(json: Option<String>) -> Vec<DocumentSource> {
    json.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default()
}
