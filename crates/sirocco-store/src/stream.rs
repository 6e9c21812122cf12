//! The streaming writer: an answer saved as it grows, so a killed app loses at most
//! [`FLUSH_EVERY`] of it.

use std::time::{Duration, Instant};

use crate::{MessageStatus, Result, Role, Store, StoreError};

impl Store {
    /// Starts an assistant answer under `parent` that is saved as it streams.
    pub async fn stream_message(&self, conversation_id: i64, parent_id: Option<i64>) -> Result<MessageStream> {
        let id = self.add_message(conversation_id, parent_id, Role::Assistant, "", MessageStatus::Streaming).await?;
        Ok(MessageStream {
            store: self.clone(),
            id,
            text: String::new(),
            reasoning: String::new(),
            reasoning_ms: None,
            saved_len: 0,
            last_flush: Instant::now(),
        })
    }

    /// Continues an existing assistant answer (its text so far stays; new text is appended).
    pub async fn continue_message(&self, id: i64) -> Result<MessageStream> {
        let m = self.message(id).await?;
        if m.role != Role::Assistant {
            return Err(StoreError::Invalid("only an answer can be continued".into()));
        }
        self.set_message_content(id, &m.content, MessageStatus::Streaming).await?;
        self.set_current_leaf(m.conversation_id, id).await?;
        let reasoning = m.reasoning.unwrap_or_default();
        let saved_len = m.content.len() + reasoning.len();
        Ok(MessageStream {
            store: self.clone(),
            id,
            text: m.content,
            reasoning,
            reasoning_ms: m.reasoning_ms,
            saved_len,
            last_flush: Instant::now(),
        })
    }
}

/// Flush interval of a streaming answer: a killed app loses at most this much of it.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);

/// An answer being written: text (and a reasoning model's thought) is appended as it arrives
/// and saved at least every [`FLUSH_EVERY`], and once more when it ends.
pub struct MessageStream {
    store: Store,
    id: i64,
    text: String,
    reasoning: String,
    reasoning_ms: Option<i64>,
    /// Bytes of text and thought saved so far.
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

    /// The thought so far.
    pub fn reasoning(&self) -> &str {
        &self.reasoning
    }

    /// Appends `piece`; saves when the last save is [`FLUSH_EVERY`] old. Returns whether it saved.
    pub async fn push(&mut self, piece: &str) -> Result<bool> {
        self.text.push_str(piece);
        self.maybe_flush().await
    }

    /// Appends `piece` to the thought, saved like the text.
    pub async fn push_reasoning(&mut self, piece: &str) -> Result<bool> {
        self.reasoning.push_str(piece);
        self.maybe_flush().await
    }

    /// How long the thought took so far (an answer continued after thinking before).
    pub fn reasoning_ms(&self) -> Option<i64> {
        self.reasoning_ms
    }

    /// How long the thought took, saved with the next save.
    pub fn set_reasoning_ms(&mut self, ms: i64) {
        self.reasoning_ms = Some(ms);
    }

    async fn maybe_flush(&mut self) -> Result<bool> {
        if self.last_flush.elapsed() >= FLUSH_EVERY && self.text.len() + self.reasoning.len() > self.saved_len {
            self.flush(MessageStatus::Streaming).await?;
            return Ok(true);
        }
        Ok(false)
    }

    async fn flush(&mut self, status: MessageStatus) -> Result<()> {
        let reasoning = (!self.reasoning.is_empty()).then_some(self.reasoning.as_str());
        sqlx::query("UPDATE messages SET content = ?, status = ?, reasoning = ?, reasoning_ms = ? WHERE id = ?")
            .bind(&self.text)
            .bind(status.as_str())
            .bind(reasoning)
            .bind(self.reasoning_ms)
            .bind(self.id)
            .execute(&self.store.pool)
            .await?;
        self.saved_len = self.text.len() + self.reasoning.len();
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
