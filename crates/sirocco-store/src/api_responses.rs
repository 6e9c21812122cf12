//! The server's Responses API answers, kept so a request can continue one
//! (`previous_response_id`): each row is what one request added (its new input and its answer as
//! chat messages) and the response object as answered. A conversation is the chain of rows
//! through `previous_id`; only the newest [`MAX_KEPT_RESPONSES`] rows are kept, so a chain
//! whose start was dropped is reported as such, never continued from the middle.

use sirocco_types::ChatMessage;

use crate::{now_ms, Result, Store, StoreError};

/// How many answers are kept; each new one beyond it drops the oldest.
pub const MAX_KEPT_RESPONSES: i64 = 1000;

/// The longest chain followed (a conversation of this many requests).
const MAX_CHAIN: i64 = 10_000;

impl Store {
    /// Keeps response `id`: the `messages` its request added (input, then answer) after those of
    /// `previous` (already kept), and the `response` object as answered.
    pub async fn keep_api_response(
        &self,
        id: &str,
        previous: Option<&str>,
        messages: &[ChatMessage],
        response: &serde_json::Value,
    ) -> Result<()> {
        let messages = serde_json::to_string(messages).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO api_responses (id, previous_id, created_at, messages, response) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(previous)
        .bind(now_ms())
        .bind(messages)
        .bind(response.to_string())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM api_responses WHERE id IN \
             (SELECT id FROM api_responses ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?)",
        )
        .bind(MAX_KEPT_RESPONSES)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The whole conversation up to and including response `id`, oldest message first; `None`
    /// when `id` (or an earlier response of its chain) is not kept.
    pub async fn api_conversation(&self, id: &str) -> Result<Option<Vec<ChatMessage>>> {
        let rows: Vec<(Option<String>, String)> = sqlx::query_as(
            "WITH RECURSIVE chain(id, previous_id, messages, depth) AS ( \
                 SELECT id, previous_id, messages, 0 FROM api_responses WHERE id = ? \
                 UNION ALL \
                 SELECT r.id, r.previous_id, r.messages, chain.depth + 1 \
                 FROM api_responses r JOIN chain ON r.id = chain.previous_id WHERE chain.depth < ? \
             ) SELECT previous_id, messages FROM chain ORDER BY depth DESC",
        )
        .bind(id)
        .bind(MAX_CHAIN)
        .fetch_all(&self.pool)
        .await?;
        // The oldest row found must start the chain: one that names a dropped predecessor
        // would continue a conversation from its middle.
        match rows.first() {
            None => return Ok(None),
            Some((Some(_), _)) => return Ok(None),
            Some((None, _)) => {}
        }
        let mut all = Vec::new();
        for (_, messages) in rows {
            let part: Vec<ChatMessage> =
                serde_json::from_str(&messages).map_err(|e| StoreError::Invalid(e.to_string()))?;
            all.extend(part);
        }
        Ok(Some(all))
    }

    /// Response `id` as it was answered.
    pub async fn api_response(&self, id: &str) -> Result<Option<serde_json::Value>> {
        let row: Option<String> = sqlx::query_scalar("SELECT response FROM api_responses WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| serde_json::from_str(&r).map_err(|e| StoreError::Invalid(e.to_string()))).transpose()
    }

    /// Forgets response `id`; true when it was kept. Later responses chained to it can no longer
    /// be continued.
    pub async fn delete_api_response(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM api_responses WHERE id = ?").bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use sirocco_types::Role;

    use super::*;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        (dir, store)
    }

    fn said(role: Role, text: &str) -> ChatMessage {
        ChatMessage::new(role, text)
    }

    #[tokio::test]
    async fn a_chain_reads_back_oldest_first_and_a_broken_one_is_not_continued() {
        let (_dir, store) = store().await;
        let json = serde_json::json!({ "id": "resp_1" });
        store
            .keep_api_response("resp_1", None, &[said(Role::User, "Hi"), said(Role::Assistant, "Hello")], &json)
            .await
            .unwrap();
        store
            .keep_api_response(
                "resp_2",
                Some("resp_1"),
                &[said(Role::User, "And?"), said(Role::Assistant, "Yes")],
                &json,
            )
            .await
            .unwrap();
        let all = store.api_conversation("resp_2").await.unwrap().unwrap();
        let texts: Vec<&str> = all.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(texts, ["Hi", "Hello", "And?", "Yes"]);
        assert_eq!(store.api_response("resp_1").await.unwrap(), Some(json));
        assert_eq!(store.api_conversation("resp_9").await.unwrap(), None);
        // Its start forgotten, the rest of the chain is not continued from the middle.
        assert!(store.delete_api_response("resp_1").await.unwrap());
        assert_eq!(store.api_conversation("resp_2").await.unwrap(), None);
        assert!(!store.delete_api_response("resp_1").await.unwrap());
    }

    #[tokio::test]
    async fn only_the_newest_responses_are_kept() {
        let (_dir, store) = store().await;
        let json = serde_json::json!({});
        for i in 0..MAX_KEPT_RESPONSES + 2 {
            store.keep_api_response(&format!("r{i}"), None, &[said(Role::User, "x")], &json).await.unwrap();
        }
        assert_eq!(store.api_response("r0").await.unwrap(), None);
        assert_eq!(store.api_response("r1").await.unwrap(), None);
        assert!(store.api_response("r2").await.unwrap().is_some());
        let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_responses").fetch_one(&store.pool).await.unwrap();
        assert_eq!(kept, MAX_KEPT_RESPONSES);
    }
}
