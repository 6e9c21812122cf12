//! Names clients may use for a model besides its own: Ollama's `copy` makes one (`gpt-4o` for
//! a local Mistral, so a tool with a fixed model name just works). An alias names a library id;
//! names compare without case.

use crate::{now_ms, Result, Store, StoreError};

/// The longest alias.
const MOST_CHARS: usize = 200;

impl Store {
    /// Makes `alias` name the model `model` (replacing what it named before).
    pub async fn set_model_alias(&self, alias: &str, model: &str) -> Result<()> {
        let alias = alias.trim();
        if alias.is_empty() || alias.chars().count() > MOST_CHARS || alias.chars().any(char::is_control) {
            return Err(StoreError::Invalid(format!("a model's other name is 1 to {MOST_CHARS} printable characters")));
        }
        sqlx::query("INSERT OR REPLACE INTO model_aliases (alias, model, created_at) VALUES (?, ?, ?)")
            .bind(alias)
            .bind(model)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The model `alias` names, if it is one.
    pub async fn model_alias(&self, alias: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT model FROM model_aliases WHERE alias = ?")
            .bind(alias.trim())
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Removes `alias`; whether it was one.
    pub async fn remove_model_alias(&self, alias: &str) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM model_aliases WHERE alias = ?").bind(alias.trim()).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every alias and the model it names, oldest first.
    pub async fn model_aliases(&self) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as("SELECT alias, model FROM model_aliases ORDER BY created_at, alias")
            .fetch_all(&self.pool)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;

    #[tokio::test]
    async fn an_alias_names_its_model_whatever_its_case_until_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        store.set_model_alias("gpt-4o", "Mistral-7B-Instruct-v0.3-Q4_K_M").await.unwrap();
        assert_eq!(store.model_alias("GPT-4o").await.unwrap().as_deref(), Some("Mistral-7B-Instruct-v0.3-Q4_K_M"));
        store.set_model_alias("GPT-4O", "Codestral-22B-Q4_K_M").await.unwrap();
        assert_eq!(store.model_aliases().await.unwrap(), [("GPT-4O".to_owned(), "Codestral-22B-Q4_K_M".to_owned())]);
        assert!(store.set_model_alias(" ", "x").await.is_err());
        assert!(store.set_model_alias("a\nb", "x").await.is_err());
        assert!(store.remove_model_alias("gpt-4o").await.unwrap());
        assert!(!store.remove_model_alias("gpt-4o").await.unwrap());
        assert_eq!(store.model_alias("gpt-4o").await.unwrap(), None);
    }
}
