//! The user's chat templates: one per model file, used instead of the file's own when the model
//! is loaded. Checking that a template renders is the engine's job; this only keeps it.

use crate::{now_ms, Result, Store, StoreError};

/// Templates longer than this are refused (real ones are a few KiB; the largest, ~20 KiB).
pub const MAX_TEMPLATE_BYTES: usize = 256 * 1024;

/// The name a model's template is kept under: its file's name (the same file moved or found in
/// another library folder keeps its template).
pub fn template_key(model_path: &std::path::Path) -> String {
    model_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

impl Store {
    /// The user's template for `model` (a model file's name), if they set one.
    pub async fn model_template(&self, model: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT template FROM model_templates WHERE model = ?")
            .bind(model)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Keeps `template` for `model`, replacing an earlier one.
    pub async fn set_model_template(&self, model: &str, template: &str) -> Result<()> {
        if template.trim().is_empty() {
            return Err(StoreError::Invalid("the template is empty (reset it to use the model's own)".into()));
        }
        if template.len() > MAX_TEMPLATE_BYTES {
            return Err(StoreError::Invalid(format!(
                "the template is {} KiB; at most {} KiB is kept",
                template.len() / 1024,
                MAX_TEMPLATE_BYTES / 1024
            )));
        }
        sqlx::query(
            "INSERT INTO model_templates (model, template, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT(model) DO UPDATE SET template = excluded.template, updated_at = excluded.updated_at",
        )
        .bind(model)
        .bind(template)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets the user's template for `model`: its own is used again. True when one was kept.
    pub async fn reset_model_template(&self, model: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM model_templates WHERE model = ?").bind(model).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }
}
