//! `sirocco-store`: conversations in SQLite through sqlx.
//!
//! A conversation is a tree of messages (each has a parent), so edits and regenerations make
//! branches; the branch on screen is the path from the root to `current_leaf_id`. A streaming
//! answer is written as it grows ([`MessageStream`], flushed at least every 250 ms), so a killed
//! app loses at most that much and the database stays consistent (WAL, foreign keys on).
//! Full-text search runs on an FTS5 index kept in step by triggers. Opening the store marks the
//! answers a killed app left `streaming` as `interrupted`.
//!
//! Nothing here knows about Tauri or any UI.

mod aliases;
mod api_responses;
mod attachments;
mod avatar;
mod card;
mod conversations;
mod documents;
pub mod lorebook;
mod messages;
mod personas;
mod presets;
mod stream;
mod templates;
mod tool_calls;
mod transfer;

pub use api_responses::MAX_KEPT_RESPONSES;
pub use attachments::{attachable, Attachment, ImageFormat, IMAGE_FORMATS, MAX_ATTACHMENT_BYTES};
pub use card::{parse_character_card, CardError};
pub use conversations::{title_from, Conversation, SearchHit};
pub use documents::{DocumentSource, DocumentText, SourcePassage, DOCUMENT_MIMES};
pub use lorebook::LoreEntry;
pub use messages::{BranchMessage, BranchPage, Message, MessageStatus};
pub use personas::{expand_macros, Persona, PersonaDraft};
pub use presets::{builtin_presets, Preset, PresetParams};
pub use stream::{MessageStream, FLUSH_EVERY};
pub use templates::{template_key, MAX_TEMPLATE_BYTES};
pub use tool_calls::{ToolCallRecord, ToolCallResult, ToolCallStatus};
pub use transfer::{write_export_file, Export, ExportedAttachment, ExportedConversation, ExportedMessage};

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the conversation store failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the conversation store could not be updated: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("{0} was not found")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Who wrote a message: the engine's own roles, stored as their lowercase names.
pub use sirocco_types::Role;

pub(crate) fn role_str(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The store: one SQLite file.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        // Answers still streaming when the store opens lost their writer (the app was killed
        // mid-answer): what was saved stays, marked so the page offers Continue.
        sqlx::query("UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'").execute(&pool).await?;
        let store = Self { pool };
        store.install_builtin_presets().await?;
        Ok(store)
    }

    /// SQLite's own consistency check: `"ok"` when the file is sound.
    pub async fn integrity_check(&self) -> Result<String> {
        Ok(sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&self.pool).await?)
    }
}
