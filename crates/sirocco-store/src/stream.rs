//! The streaming writer: an answer saved as it grows, so a killed app loses at most
//! [`FLUSH_EVERY`] of it.

use std::time::{Duration, Instant};

use crate::{MessageStatus, Result, Role, Store, StoreError};

impl Store {
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
