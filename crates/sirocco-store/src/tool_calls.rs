//! The tools an answer called, and what each returned, kept with the answer (`messages.tool_calls`).

use serde::{Deserialize, Serialize};

use crate::{Result, Store, StoreError};

/// One call the model made in an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ToolCallRecord {
    /// The call's id (the model's format's), which its result answers.
    pub id: String,
    pub name: String,
    /// The MCP server that has the tool.
    #[serde(default)]
    pub server: Option<String>,
    /// The arguments as the model wrote them (JSON text).
    pub arguments: String,
    /// `None` while it waits for the user or runs.
    #[serde(default)]
    pub result: Option<ToolCallResult>,
}

/// What a call came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ToolCallResult {
    pub status: ToolCallStatus,
    /// What the model is given back: the tool's text (cut with a note when it was too long),
    /// or why there is none.
    pub text: String,
    /// The result's full length in characters, when it was cut.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub cut_from: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ToolCallStatus {
    /// The tool ran and answered.
    Done,
    /// The tool ran and said it failed (its text says why).
    ToolError,
    /// The server failed, went away or did not answer in time.
    Failed,
    /// The user did not allow it.
    Denied,
    /// The turn was stopped before it ran.
    Stopped,
}

impl Store {
    /// Keeps the calls answer `id` made, with their results so far.
    pub async fn set_tool_calls(&self, id: i64, calls: &[ToolCallRecord]) -> Result<()> {
        let json = serde_json::to_string(calls).map_err(|e| StoreError::Invalid(e.to_string()))?;
        sqlx::query("UPDATE messages SET tool_calls = ? WHERE id = ?").bind(json).bind(id).execute(&self.pool).await?;
        Ok(())
    }
}

/// The calls kept in a `tool_calls` column (none for NULL or what cannot be read).
pub(crate) fn parse(json: Option<String>) -> Vec<ToolCallRecord> {
    json.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default()
}
