//! Messages and branches: a conversation is a tree of messages (each has a parent); the branch
//! on screen is the path from the root to the conversation's current leaf, and siblings are the
//! other versions of a message (edits, regenerations).

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{now_ms, role_str, Result, Role, Store, StoreError};

fn role_of(s: &str) -> Role {
    match s {
        "system" => Role::System,
        "user" => Role::User,
        "tool" => Role::Tool,
        _ => Role::Assistant,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
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

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(rename = "StoredMessage")]
pub struct Message {
    pub id: i64,
    pub conversation_id: i64,
    pub parent_id: Option<i64>,
    pub role: Role,
    pub content: String,
    pub status: MessageStatus,
    pub created_at: i64,
    /// The generation's figures (time to first token, tokens/s…) as the engine reported them.
    #[ts(as = "Option<sirocco_types::GenerationStats>")]
    pub stats: Option<serde_json::Value>,
    /// Why the answer failed, if it did.
    pub error: Option<String>,
    /// A reasoning model's thought before this answer, kept apart from its text.
    pub reasoning: Option<String>,
    /// How long the model thought (from its first thought to its answer's first words).
    #[ts(type = "number | null")]
    pub reasoning_ms: Option<i64>,
    /// The tools this answer called, each with its result once it ran.
    pub tool_calls: Vec<crate::ToolCallRecord>,
    /// Files the user attached to this message (images, documents), by reference.
    pub attachments: Vec<crate::Attachment>,
    /// A question's documents as the model was given them: whole, or the passages retrieved.
    pub sources: Vec<crate::DocumentSource>,
}

/// A message of the branch on screen, with its place among its siblings ("‹ 2/3 ›").
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct BranchMessage {
    #[serde(flatten)]
    pub message: Message,
    /// 1-based position among the messages with the same parent, oldest first.
    pub sibling_index: u32,
    pub sibling_count: u32,
}

/// A page of the branch on screen: its messages (oldest first) and whether older ones exist.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct BranchPage {
    pub messages: Vec<BranchMessage>,
    pub has_more: bool,
}

impl Store {
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
        self.prune_attachments().await?;
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
        reasoning: r.get("reasoning"),
        reasoning_ms: r.get("reasoning_ms"),
        tool_calls: crate::tool_calls::parse(r.get("tool_calls")),
        attachments: crate::attachments::parse(r.get("attachments")),
        sources: crate::documents::parse(r.get("sources")),
    }
}
