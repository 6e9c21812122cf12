//! Files attached to messages (images and documents), kept once by their content's SHA-256 in their own table;
//! a message keeps references to them (`messages.attachments`), never their bytes in its text.
//! Each is at most [`MAX_ATTACHMENT_BYTES`]; rows no message references are pruned when messages
//! or conversations are deleted. Exports carry the bytes as base64; an import computes the hash
//! again (`transfer.rs`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{now_ms, Result, Store, StoreError};

/// The largest file a message may carry (OpenAI's limit for an image).
pub const MAX_ATTACHMENT_BYTES: usize = 20 * 1024 * 1024;

/// A message's reference to an attached file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Attachment {
    /// The SHA-256 of its bytes (hex): how the store finds them.
    pub hash: String,
    /// The file's name as the user attached it (`pasted image` for a paste).
    pub name: String,
    /// Its media type (`image/png`, …).
    pub mime: String,
    #[ts(type = "number")]
    pub size: u64,
}

impl Attachment {
    pub fn is_image(&self) -> bool {
        self.mime.starts_with("image/")
    }

    pub fn is_document(&self) -> bool {
        crate::DOCUMENT_MIMES.contains(&self.mime.as_str())
    }
}

/// An image format the page offers to attach, and a dropped file is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageFormat {
    /// What a person calls it.
    pub label: &'static str,
    pub mime: &'static str,
    /// File name extensions, lower case, without the dot.
    pub extensions: &'static [&'static str],
}

/// The image formats vision models are given (the engine decodes each with the `image` crate).
pub const IMAGE_FORMATS: [ImageFormat; 5] = [
    ImageFormat { label: "PNG", mime: "image/png", extensions: &["png"] },
    ImageFormat { label: "JPEG", mime: "image/jpeg", extensions: &["jpg", "jpeg"] },
    ImageFormat { label: "WebP", mime: "image/webp", extensions: &["webp"] },
    ImageFormat { label: "GIF", mime: "image/gif", extensions: &["gif"] },
    ImageFormat { label: "BMP", mime: "image/bmp", extensions: &["bmp"] },
];

/// Whether a message may carry a file of media type `mime`: an image or a document.
pub fn attachable(mime: &str) -> bool {
    mime.starts_with("image/") || crate::DOCUMENT_MIMES.contains(&mime)
}

impl Store {
    /// Keeps `bytes` (once, whatever how many messages carry them) and returns the reference a
    /// message keeps: an image or a document ([`attachable`]).
    pub async fn add_attachment(&self, name: &str, mime: &str, bytes: &[u8]) -> Result<Attachment> {
        if !attachable(mime) {
            return Err(StoreError::Invalid(format!("{name}: files of type {mime} cannot be attached")));
        }
        if bytes.is_empty() {
            return Err(StoreError::Invalid(format!("{name} is empty")));
        }
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(StoreError::Invalid(format!(
                "{name} is {:.1} MB; an attachment may be at most {} MB",
                bytes.len() as f64 / 1e6,
                MAX_ATTACHMENT_BYTES / 1024 / 1024
            )));
        }
        let hash = hex(&Sha256::digest(bytes));
        sqlx::query("INSERT OR IGNORE INTO attachments (hash, mime, bytes, created_at) VALUES (?, ?, ?, ?)")
            .bind(&hash)
            .bind(mime)
            .bind(bytes)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        let name: String = name.chars().filter(|c| !c.is_control()).take(200).collect();
        Ok(Attachment { hash, name, mime: mime.to_owned(), size: bytes.len() as u64 })
    }

    /// Sets what message `id` carries.
    pub async fn set_attachments(&self, id: i64, attachments: &[Attachment]) -> Result<()> {
        let json = (!attachments.is_empty())
            .then(|| serde_json::to_string(attachments).map_err(|e| StoreError::Invalid(e.to_string())))
            .transpose()?;
        sqlx::query("UPDATE messages SET attachments = ? WHERE id = ?").bind(json).bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// The attachment `hash`: its media type and bytes.
    pub async fn attachment(&self, hash: &str) -> Result<(String, Vec<u8>)> {
        let row: Option<(String, Vec<u8>)> = sqlx::query_as("SELECT mime, bytes FROM attachments WHERE hash = ?")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("attachment {hash}")))
    }

    /// The bytes of the attachment `hash`.
    pub async fn attachment_bytes(&self, hash: &str) -> Result<Vec<u8>> {
        Ok(self.attachment(hash).await?.1)
    }

    /// Removes the files no message carries any more.
    pub(crate) async fn prune_attachments(&self) -> Result<()> {
        sqlx::query(
            "DELETE FROM attachments WHERE hash NOT IN ( \
                 SELECT json_extract(a.value, '$.hash') FROM messages m, json_each(m.attachments) a \
                 WHERE m.attachments IS NOT NULL)",
        )
        .execute(&self.pool)
        .await?;
        self.prune_documents().await
    }
}

/// The attachments kept in an `attachments` column (none for NULL or what cannot be read).
pub(crate) fn parse(json: Option<String>) -> Vec<Attachment> {
    json.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
