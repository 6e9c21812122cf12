//! Conversations: the list, one conversation's settings, title and pin, deletion, and full-text
//! search over every message.

use serde::Serialize;
use sqlx::Row;

use crate::{now_ms, Result, Store, StoreError};

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(rename = "ConversationInfo")]
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
    /// The MCP servers whose tools it offers (by name in `mcp.json`).
    pub tools: Vec<String>,
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
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SearchHit {
    pub conversation_id: i64,
    pub conversation_title: String,
    pub message_id: i64,
    pub snippet: String,
}

impl Store {
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

    /// The MCP servers whose tools the conversation offers.
    pub async fn set_conversation_tools(&self, id: i64, tools: &[String]) -> Result<()> {
        let tools = (!tools.is_empty()).then(|| serde_json::to_string(tools).expect("names serialise"));
        self.expect_one(sqlx::query("UPDATE conversations SET tools = ? WHERE id = ?").bind(tools).bind(id), id).await
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
        self.expect_one(sqlx::query("DELETE FROM conversations WHERE id = ?").bind(id), id).await?;
        self.prune_attachments().await
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
        tools: r.get::<Option<String>, _>("tools").and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default(),
    }
}
