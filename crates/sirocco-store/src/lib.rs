//! `sirocco-store`: conversations in SQLite through sqlx.
//!
//! A conversation is a tree of messages (each has a parent), so edits and regenerations make
//! branches; the branch on screen is the path from the root to `current_leaf_id`. A streaming
//! answer is written as it grows ([`MessageStream`], flushed at least every 250 ms), so a killed
//! app loses at most that much and the database stays consistent (WAL, foreign keys on).
//! Full-text search runs on an FTS5 index kept in step by triggers.
//!
//! Nothing here knows about Tauri or any UI.

mod avatar;
mod card;
pub mod lorebook;
mod personas;
mod presets;
mod transfer;

pub use card::{parse_character_card, CardError};
pub use lorebook::LoreEntry;
pub use personas::{expand_macros, Persona, PersonaDraft};
pub use presets::{builtin_presets, Preset, PresetParams};
pub use transfer::{write_export_file, Export, ExportedConversation, ExportedMessage};

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Row;

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
pub use sirocco_engine::Role;

pub(crate) fn role_str(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    }
}

fn role_of(s: &str) -> Role {
    match s {
        "system" => Role::System,
        "user" => Role::User,
        "tool" => Role::Tool,
        _ => Role::Assistant,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    Complete,
    /// Being written.
    Streaming,
    Stopped,
    Error,
    /// Was being written when the process that wrote it ended (a crash, a kill): the part that
    /// was saved. Marked when the store is opened; it can be continued.
    Interrupted,
}

impl MessageStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::Streaming => "streaming",
            Self::Stopped => "stopped",
            Self::Error => "error",
            Self::Interrupted => "interrupted",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "streaming" => Self::Streaming,
            "stopped" => Self::Stopped,
            "error" => Self::Error,
            "interrupted" => Self::Interrupted,
            _ => Self::Complete,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Conversation {
    pub id: i64,
    pub title: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub pinned: bool,
    pub current_leaf_id: Option<i64>,
    /// The model file it was last used with.
    pub model: Option<String>,
    pub preset_id: Option<i64>,
    pub persona_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: i64,
    pub conversation_id: i64,
    pub parent_id: Option<i64>,
    pub role: Role,
    pub content: String,
    pub status: MessageStatus,
    pub created_at: i64,
    /// The generation's figures (time to first token, tokens/s…) as the engine reported them.
    pub stats: Option<serde_json::Value>,
    /// Why the answer failed, if it did.
    pub error: Option<String>,
}

/// A message of the branch on screen, with its place among its siblings ("‹ 2/3 ›").
#[derive(Debug, Clone, Serialize)]
pub struct BranchMessage {
    #[serde(flatten)]
    pub message: Message,
    /// 1-based position among the messages with the same parent, oldest first.
    pub sibling_index: u32,
    pub sibling_count: u32,
}

/// A page of the branch on screen: its messages (oldest first) and whether older ones exist.
#[derive(Debug, Clone, Serialize)]
pub struct BranchPage {
    pub messages: Vec<BranchMessage>,
    pub has_more: bool,
}

/// What a conversation's first message makes a title of: its first line, at most 60 characters.
pub fn title_from(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("New chat");
    let mut title: String = line.chars().take(60).collect();
    if line.chars().count() > 60 {
        title = format!("{}…", title.trim_end());
    }
    title
}

/// A search hit: the message, its conversation, and a snippet with each match between
/// U+0002 and U+0003 (characters no message contains, so the UI can mark them safely).
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub conversation_id: i64,
    pub conversation_title: String,
    pub message_id: i64,
    pub snippet: String,
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

    pub async fn create_conversation(&self, title: &str) -> Result<i64> {
        let now = now_ms();
        let id = sqlx::query("INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)")
            .bind(title)
            .bind(now)
            .bind(now)
            .execute(&self.pool)
            .await?
            .last_insert_rowid();
        Ok(id)
    }

    /// Conversations, pinned first, then most recently active first.
    pub async fn conversations(&self) -> Result<Vec<Conversation>> {
        let rows = sqlx::query("SELECT * FROM conversations ORDER BY pinned DESC, updated_at DESC, id DESC")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(conversation_of).collect())
    }

    pub async fn conversation(&self, id: i64) -> Result<Conversation> {
        let row = sqlx::query("SELECT * FROM conversations WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("conversation {id}")))?;
        Ok(conversation_of(&row))
    }

    /// Remembers the model, preset and persona a conversation uses.
    pub async fn set_conversation_setup(
        &self,
        id: i64,
        model: Option<&str>,
        preset_id: Option<i64>,
        persona_id: Option<i64>,
    ) -> Result<()> {
        self.expect_one(
            sqlx::query("UPDATE conversations SET model = ?, preset_id = ?, persona_id = ? WHERE id = ?")
                .bind(model)
                .bind(preset_id)
                .bind(persona_id)
                .bind(id),
            id,
        )
        .await
    }

    pub async fn rename(&self, id: i64, title: &str) -> Result<()> {
        self.expect_one(sqlx::query("UPDATE conversations SET title = ? WHERE id = ?").bind(title).bind(id), id).await
    }

    pub async fn set_pinned(&self, id: i64, pinned: bool) -> Result<()> {
        self.expect_one(
            sqlx::query("UPDATE conversations SET pinned = ? WHERE id = ?").bind(pinned as i64).bind(id),
            id,
        )
        .await
    }

    /// Deletes a conversation and all its messages.
    pub async fn delete_conversation(&self, id: i64) -> Result<()> {
        self.expect_one(sqlx::query("DELETE FROM conversations WHERE id = ?").bind(id), id).await
    }

    async fn expect_one(
        &self,
        query: sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
        id: i64,
    ) -> Result<()> {
        match query.execute(&self.pool).await?.rows_affected() {
            0 => Err(StoreError::NotFound(format!("conversation {id}"))),
            _ => Ok(()),
        }
    }

    /// Adds a message under `parent` (a new branch if `parent` already has children) and makes
    /// it the conversation's current leaf.
    pub async fn add_message(
        &self,
        conversation_id: i64,
        parent_id: Option<i64>,
        role: Role,
        content: &str,
        status: MessageStatus,
    ) -> Result<i64> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let id = sqlx::query(
            "INSERT INTO messages (conversation_id, parent_id, role, content, status, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(conversation_id)
        .bind(parent_id)
        .bind(role_str(role))
        .bind(content)
        .bind(status.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?
        .last_insert_rowid();
        sqlx::query("UPDATE conversations SET current_leaf_id = ?, updated_at = ? WHERE id = ?")
            .bind(id)
            .bind(now)
            .bind(conversation_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn set_message_content(&self, id: i64, content: &str, status: MessageStatus) -> Result<()> {
        sqlx::query("UPDATE messages SET content = ?, status = ? WHERE id = ?")
            .bind(content)
            .bind(status.as_str())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// An answer edited by hand: a sibling answer with `text` (the original stays a branch);
    /// it becomes the branch on screen.
    pub async fn edit_answer(&self, id: i64, text: &str) -> Result<i64> {
        let m = self.message(id).await?;
        if m.role != Role::Assistant {
            return Err(StoreError::Invalid("only an answer is edited this way".into()));
        }
        self.add_message(m.conversation_id, m.parent_id, Role::Assistant, text, MessageStatus::Complete).await
    }

    /// Saves the engine's figures for a finished answer.
    pub async fn set_message_stats(&self, id: i64, stats: &serde_json::Value) -> Result<()> {
        sqlx::query("UPDATE messages SET stats_json = ? WHERE id = ?")
            .bind(stats.to_string())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Shows the branch ending at `leaf`.
    pub async fn set_current_leaf(&self, conversation_id: i64, leaf: i64) -> Result<()> {
        sqlx::query("UPDATE conversations SET current_leaf_id = ? WHERE id = ?")
            .bind(leaf)
            .bind(conversation_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn message(&self, id: i64) -> Result<Message> {
        let row = sqlx::query("SELECT * FROM messages WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("message {id}")))?;
        Ok(message_of(&row))
    }

    /// The messages from the root to `leaf`, in order (one recursive query).
    pub async fn path_to(&self, leaf: i64) -> Result<Vec<Message>> {
        let rows = sqlx::query(
            "WITH RECURSIVE path(id, depth) AS ( \
                 SELECT id, 0 FROM messages WHERE id = ? \
                 UNION ALL SELECT m.parent_id, p.depth + 1 FROM messages m JOIN path p ON m.id = p.id \
                 WHERE m.parent_id IS NOT NULL) \
             SELECT m.* FROM path JOIN messages m ON m.id = path.id ORDER BY path.depth DESC",
        )
        .bind(leaf)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(message_of).collect())
    }

    /// The branch on screen: the path to the conversation's current leaf.
    pub async fn current_branch(&self, conversation_id: i64) -> Result<Vec<Message>> {
        let leaf: Option<i64> = sqlx::query_scalar("SELECT current_leaf_id FROM conversations WHERE id = ?")
            .bind(conversation_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("conversation {conversation_id}")))?;
        match leaf {
            Some(leaf) => self.path_to(leaf).await,
            None => Ok(Vec::new()),
        }
    }

    /// The branch on screen with each message's place among its siblings.
    pub async fn branch_view(&self, conversation_id: i64) -> Result<Vec<BranchMessage>> {
        Ok(self.branch_page(conversation_id, None, i64::MAX).await?.messages)
    }

    /// Part of the branch on screen, newest last: the `limit` messages above `before` (or
    /// ending at the current leaf). Costs the same for a 5,000-message conversation as for a
    /// short one: the walk up stops at the limit and sibling counts are read per message.
    pub async fn branch_page(&self, conversation_id: i64, before: Option<i64>, limit: i64) -> Result<BranchPage> {
        let start = match before {
            Some(id) => self.message(id).await?.parent_id,
            None => sqlx::query_scalar("SELECT current_leaf_id FROM conversations WHERE id = ?")
                .bind(conversation_id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("conversation {conversation_id}")))?,
        };
        let Some(start) = start else { return Ok(BranchPage { messages: Vec::new(), has_more: false }) };
        let rows = sqlx::query(
            "WITH RECURSIVE path(id, depth) AS ( \
                 SELECT id, 0 FROM messages WHERE id = ? AND conversation_id = ? \
                 UNION ALL SELECT m.parent_id, p.depth + 1 FROM messages m JOIN path p ON m.id = p.id \
                 WHERE m.parent_id IS NOT NULL AND p.depth < ?) \
             SELECT m.*, \
                 (SELECT COUNT(*) FROM messages s WHERE s.conversation_id = m.conversation_id \
                      AND s.parent_id IS m.parent_id AND s.id <= m.id) AS idx, \
                 (SELECT COUNT(*) FROM messages s WHERE s.conversation_id = m.conversation_id \
                      AND s.parent_id IS m.parent_id) AS n \
             FROM path JOIN messages m ON m.id = path.id ORDER BY path.depth DESC",
        )
        .bind(start)
        .bind(conversation_id)
        .bind(limit.saturating_sub(1).max(0))
        .fetch_all(&self.pool)
        .await?;
        let has_more = rows.first().is_some_and(|r| r.get::<Option<i64>, _>("parent_id").is_some());
        Ok(BranchPage {
            messages: rows
                .iter()
                .map(|r| BranchMessage {
                    message: message_of(r),
                    sibling_index: r.get::<i64, _>("idx") as u32,
                    sibling_count: r.get::<i64, _>("n") as u32,
                })
                .collect(),
            has_more,
        })
    }

    /// Shows the branch through `message_id`: below it, the most recent answer at every step.
    /// Returns the new leaf.
    pub async fn show_branch_through(&self, message_id: i64) -> Result<i64> {
        let m = self.message(message_id).await?;
        let leaf: i64 = sqlx::query_scalar(
            "WITH RECURSIVE down(id, depth) AS ( \
                 SELECT ?, 0 \
                 UNION ALL SELECT (SELECT MAX(c.id) FROM messages c WHERE c.parent_id = down.id), depth + 1 \
                 FROM down WHERE EXISTS (SELECT 1 FROM messages c WHERE c.parent_id = down.id)) \
             SELECT id FROM down ORDER BY depth DESC LIMIT 1",
        )
        .bind(message_id)
        .fetch_one(&self.pool)
        .await?;
        self.set_current_leaf(m.conversation_id, leaf).await?;
        Ok(leaf)
    }

    /// Deletes a message and everything below it; the branch on screen moves to its parent's
    /// latest remaining line (or empties).
    pub async fn delete_message(&self, id: i64) -> Result<()> {
        let m = self.message(id).await?;
        sqlx::query("DELETE FROM messages WHERE id = ?").bind(id).execute(&self.pool).await?;
        match m.parent_id {
            Some(parent) => {
                self.show_branch_through(parent).await?;
            }
            None => {
                let root: Option<i64> =
                    sqlx::query_scalar("SELECT MAX(id) FROM messages WHERE conversation_id = ? AND parent_id IS NULL")
                        .bind(m.conversation_id)
                        .fetch_one(&self.pool)
                        .await?;
                match root {
                    Some(root) => {
                        self.show_branch_through(root).await?;
                    }
                    None => {
                        sqlx::query("UPDATE conversations SET current_leaf_id = NULL WHERE id = ?")
                            .bind(m.conversation_id)
                            .execute(&self.pool)
                            .await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The sibling `step` places from `id` (‹ is -1, › is +1), if there is one.
    pub async fn sibling(&self, id: i64, step: i64) -> Result<Option<i64>> {
        let siblings = self.siblings(id).await?;
        let at = siblings.iter().position(|m| m.id == id).unwrap_or(0) as i64 + step;
        Ok(usize::try_from(at).ok().and_then(|i| siblings.get(i)).map(|m| m.id))
    }

    /// The message and its siblings (same parent), oldest first: the "‹ 2/3 ›" of a branch.
    pub async fn siblings(&self, id: i64) -> Result<Vec<Message>> {
        let m = self.message(id).await?;
        let rows = sqlx::query("SELECT * FROM messages WHERE conversation_id = ? AND parent_id IS ? ORDER BY id")
            .bind(m.conversation_id)
            .bind(m.parent_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(message_of).collect())
    }

    /// Full-text search over every message (FTS5 syntax is neutralised: the words are matched
    /// as given, so user input never fails as a query).
    pub async fn search(&self, text: &str, limit: i64) -> Result<Vec<SearchHit>> {
        let query: String =
            text.split_whitespace().map(|w| format!("\"{}\"", w.replace('"', "\"\""))).collect::<Vec<_>>().join(" ");
        if query.is_empty() {
            return Ok(Vec::new());
        }
        // Newest matches first: FTS5 walks its index backwards and stops at the limit, so a word
        // found in most messages costs no more than a rare one (ranking every match by bm25
        // would read them all).
        let rows = sqlx::query(
            "WITH hits AS ( \
                 SELECT rowid, snippet(messages_fts, 0, char(2), char(3), '…', 12) AS snippet \
                 FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?) \
             SELECT m.id AS message_id, m.conversation_id, c.title, hits.snippet \
             FROM hits JOIN messages m ON m.id = hits.rowid JOIN conversations c ON c.id = m.conversation_id \
             ORDER BY m.id DESC",
        )
        .bind(query)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| SearchHit {
                conversation_id: r.get("conversation_id"),
                conversation_title: r.get("title"),
                message_id: r.get("message_id"),
                snippet: r.get("snippet"),
            })
            .collect())
    }

    /// Starts an assistant answer under `parent` that is saved as it streams.
    pub async fn stream_message(&self, conversation_id: i64, parent_id: Option<i64>) -> Result<MessageStream> {
        let id = self.add_message(conversation_id, parent_id, Role::Assistant, "", MessageStatus::Streaming).await?;
        Ok(MessageStream { store: self.clone(), id, text: String::new(), saved_len: 0, last_flush: Instant::now() })
    }

    /// Continues an existing assistant answer (its text so far stays; new text is appended).
    pub async fn continue_message(&self, id: i64) -> Result<MessageStream> {
        let m = self.message(id).await?;
        if m.role != Role::Assistant {
            return Err(StoreError::Invalid("only an answer can be continued".into()));
        }
        self.set_message_content(id, &m.content, MessageStatus::Streaming).await?;
        self.set_current_leaf(m.conversation_id, id).await?;
        let saved_len = m.content.len();
        Ok(MessageStream { store: self.clone(), id, text: m.content, saved_len, last_flush: Instant::now() })
    }
}

fn conversation_of(r: &sqlx::sqlite::SqliteRow) -> Conversation {
    Conversation {
        id: r.get("id"),
        title: r.get("title"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        pinned: r.get::<i64, _>("pinned") != 0,
        current_leaf_id: r.get("current_leaf_id"),
        model: r.get("model"),
        preset_id: r.get("preset_id"),
        persona_id: r.get("persona_id"),
    }
}

pub(crate) fn message_of(r: &sqlx::sqlite::SqliteRow) -> Message {
    Message {
        id: r.get("id"),
        conversation_id: r.get("conversation_id"),
        parent_id: r.get("parent_id"),
        role: role_of(r.get::<&str, _>("role")),
        content: r.get("content"),
        status: MessageStatus::parse(r.get::<&str, _>("status")),
        created_at: r.get("created_at"),
        stats: r.get::<Option<String>, _>("stats_json").and_then(|s| serde_json::from_str(&s).ok()),
        error: r.get("error"),
    }
}

/// Flush interval of a streaming answer: a killed app loses at most this much of it.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);

/// An answer being written: text is appended as it arrives and saved at least every
/// [`FLUSH_EVERY`], and once more when it ends.
pub struct MessageStream {
    store: Store,
    id: i64,
    text: String,
    saved_len: usize,
    last_flush: Instant,
}

impl MessageStream {
    pub fn id(&self) -> i64 {
        self.id
    }

    /// The answer so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Appends `piece`; saves when the last save is [`FLUSH_EVERY`] old. Returns whether it saved.
    pub async fn push(&mut self, piece: &str) -> Result<bool> {
        self.text.push_str(piece);
        if self.last_flush.elapsed() >= FLUSH_EVERY && self.text.len() > self.saved_len {
            self.flush(MessageStatus::Streaming).await?;
            return Ok(true);
        }
        Ok(false)
    }

    async fn flush(&mut self, status: MessageStatus) -> Result<()> {
        self.store.set_message_content(self.id, &self.text, status).await?;
        self.saved_len = self.text.len();
        self.last_flush = Instant::now();
        Ok(())
    }

    /// Saves the whole answer with its final status.
    pub async fn finish(mut self, status: MessageStatus) -> Result<i64> {
        self.flush(status).await?;
        Ok(self.id)
    }

    /// Saves what was generated, marked failed with the reason.
    pub async fn fail(mut self, error: &str) -> Result<i64> {
        self.flush(MessageStatus::Error).await?;
        sqlx::query("UPDATE messages SET error = ? WHERE id = ?")
            .bind(error)
            .bind(self.id)
            .execute(&self.store.pool)
            .await?;
        Ok(self.id)
    }
}
