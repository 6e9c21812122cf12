//! Export conversations to Markdown (the branch on screen, for reading) and JSON (every branch,
//! for import back); import JSON as new conversations.
//!
//! An import is checked whole before anything is written, then written in one transaction. An
//! export file never replaces another ([`write_export_file`]: "Title (2).md" beside "Title.md").
//! A thought is exported folded in `<details>`, its text escaped.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::{now_ms, MessageStatus, Result, Role, Store, StoreError};

/// The JSON export: a version and the conversations, each with its whole message tree.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Export {
    pub format: String,
    pub version: u32,
    pub conversations: Vec<ExportedConversation>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExportedConversation {
    pub title: String,
    pub created_at: i64,
    #[serde(default)]
    pub pinned: bool,
    pub current_leaf: Option<i64>,
    /// Parents before children; `id`s are local to the file.
    pub messages: Vec<ExportedMessage>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExportedMessage {
    pub id: i64,
    pub parent: Option<i64>,
    pub role: Role,
    pub content: String,
    #[serde(default = "complete")]
    pub status: MessageStatus,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub stats: Option<serde_json::Value>,
    /// A reasoning model's thought before the answer, and how long it took (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_ms: Option<i64>,
    /// The tools the answer called, with their results.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<crate::ToolCallRecord>,
    /// The files the user attached (images, documents), with their bytes: the export stands alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<ExportedAttachment>,
    /// What of its documents a question gave the model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<crate::DocumentSource>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExportedAttachment {
    pub name: String,
    pub mime: String,
    /// The bytes, base64.
    pub data: String,
}

fn complete() -> MessageStatus {
    MessageStatus::Complete
}

const FORMAT: &str = "sirocco-conversations";
/// Imports larger than this many messages are refused (a hostile file cannot fill the disk).
const MAX_IMPORT_MESSAGES: usize = 1_000_000;

impl Store {
    /// The JSON export of the given conversations (all of them when `ids` is empty).
    pub async fn export(&self, ids: &[i64]) -> Result<Export> {
        let mut conversations = Vec::new();
        for c in self.conversations().await? {
            if !ids.is_empty() && !ids.contains(&c.id) {
                continue;
            }
            let rows = sqlx::query("SELECT * FROM messages WHERE conversation_id = ? ORDER BY id")
                .bind(c.id)
                .fetch_all(&self.pool)
                .await?;
            let mut messages = Vec::with_capacity(rows.len());
            for m in rows.iter().map(crate::messages::message_of) {
                let mut attachments = Vec::new();
                for a in &m.attachments {
                    use base64::Engine as _;
                    let bytes = self.attachment_bytes(&a.hash).await?;
                    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
                    attachments.push(ExportedAttachment { name: a.name.clone(), mime: a.mime.clone(), data });
                }
                messages.push(ExportedMessage {
                    id: m.id,
                    parent: m.parent_id,
                    role: m.role,
                    content: m.content,
                    status: m.status,
                    created_at: m.created_at,
                    stats: m.stats,
                    reasoning: m.reasoning,
                    reasoning_ms: m.reasoning_ms,
                    tool_calls: m.tool_calls,
                    attachments,
                    sources: m.sources,
                });
            }
            conversations.push(ExportedConversation {
                title: c.title,
                created_at: c.created_at,
                pinned: c.pinned,
                current_leaf: c.current_leaf_id,
                messages,
            });
        }
        if conversations.is_empty() && !ids.is_empty() {
            return Err(StoreError::NotFound("conversation".into()));
        }
        Ok(Export { format: FORMAT.into(), version: 1, conversations })
    }

    /// The branch on screen as Markdown, for reading or sharing.
    pub async fn export_markdown(&self, id: i64) -> Result<String> {
        let c = self.conversation(id).await?;
        let mut out = format!("# {}\n", c.title.replace('\n', " "));
        for m in self.current_branch(id).await? {
            let who = match m.role {
                Role::System => "System",
                Role::User => "User",
                Role::Assistant => "Assistant",
                Role::Tool => "Tool",
            };
            out.push_str(&format!("\n## {who}\n\n"));
            // The thought folded away, as the app shows it (GitHub and most viewers fold
            // `<details>`); its text escaped so it cannot close the block early.
            if let Some(thought) = m.reasoning.as_deref().filter(|t| !t.trim().is_empty()) {
                let summary = match m.reasoning_ms {
                    Some(ms) => format!("Thought for {}", crate::transfer::duration_words(ms)),
                    None => "Thought".to_string(),
                };
                let body = thought.trim().replace('&', "&amp;").replace('<', "&lt;");
                out.push_str(&format!("<details><summary>{summary}</summary>\n\n{body}\n\n</details>\n\n"));
            }
            for a in &m.attachments {
                out.push_str(&format!(
                    "_[{}: {}]_\n\n",
                    if a.is_image() { "image" } else { "file" },
                    a.name.replace(['[', ']', '_'], " ")
                ));
            }
            if !m.content.trim().is_empty() {
                out.push_str(&format!("{}\n", m.content.trim_end()));
            }
            // Each call folded with its arguments and result, escaped like the thought.
            for call in &m.tool_calls {
                let escape = |t: &str| t.trim().replace('&', "&amp;").replace('<', "&lt;");
                let outcome = match &call.result {
                    None => "did not run".to_string(),
                    Some(r) => match r.status {
                        crate::ToolCallStatus::Done => "result".to_string(),
                        crate::ToolCallStatus::ToolError => "the tool failed".to_string(),
                        crate::ToolCallStatus::Failed => "the call failed".to_string(),
                        crate::ToolCallStatus::Denied => "denied".to_string(),
                        crate::ToolCallStatus::Stopped => "stopped".to_string(),
                    },
                };
                let server = call.server.as_deref().map(|s| format!(" ({})", escape(s))).unwrap_or_default();
                let result = call.result.as_ref().map(|r| escape(&r.text)).unwrap_or_default();
                out.push_str(&format!(
                    "\n<details><summary>Tool: {}{server} — {outcome}</summary>\n\nArguments: `{}`\n\n{result}\n\n</details>\n",
                    escape(&call.name),
                    escape(&call.arguments).replace('`', "'"),
                ));
            }
        }
        Ok(out)
    }

    /// Imports an export as new conversations (nothing existing is touched); returns their ids.
    /// The whole file is checked before anything is written, and written in one transaction.
    pub async fn import(&self, json: &[u8]) -> Result<Vec<i64>> {
        let export: Export = serde_json::from_slice(json)
            .map_err(|e| StoreError::Invalid(format!("this is not a Sirocco conversations file ({e})")))?;
        if export.format != FORMAT || export.version != 1 {
            return Err(StoreError::Invalid("this is not a Sirocco conversations file (version 1)".into()));
        }
        let total: usize = export.conversations.iter().map(|c| c.messages.len()).sum();
        if total > MAX_IMPORT_MESSAGES {
            return Err(StoreError::Invalid(format!(
                "the file holds {total} messages; at most {MAX_IMPORT_MESSAGES} are imported"
            )));
        }
        for c in &export.conversations {
            let mut seen = std::collections::HashSet::new();
            for m in &c.messages {
                if let Some(p) = m.parent {
                    if !seen.contains(&p) {
                        return Err(StoreError::Invalid(format!(
                            "in “{}”, a message's parent comes after it or is missing",
                            c.title
                        )));
                    }
                }
                if !seen.insert(m.id) {
                    return Err(StoreError::Invalid(format!("in “{}”, two messages have the id {}", c.title, m.id)));
                }
            }
        }
        // Every attachment read and checked before anything is written; its hash is computed
        // here, never taken from the file.
        let mut files: HashMap<(usize, usize, usize), (crate::Attachment, Vec<u8>)> = HashMap::new();
        for (ci, c) in export.conversations.iter().enumerate() {
            for (mi, m) in c.messages.iter().enumerate() {
                for (ai, a) in m.attachments.iter().enumerate() {
                    use base64::Engine as _;
                    use sha2::Digest as _;
                    let bytes = base64::engine::general_purpose::STANDARD.decode(a.data.as_bytes()).map_err(|_| {
                        StoreError::Invalid(format!("in “{}”, the attachment {} is not valid base64", c.title, a.name))
                    })?;
                    if !crate::attachable(&a.mime) || bytes.is_empty() || bytes.len() > crate::MAX_ATTACHMENT_BYTES {
                        return Err(StoreError::Invalid(format!(
                            "in “{}”, the attachment {} is not an image or document of at most {} MB",
                            c.title,
                            a.name,
                            crate::MAX_ATTACHMENT_BYTES / 1024 / 1024
                        )));
                    }
                    let hash = crate::attachments::hex(&sha2::Sha256::digest(&bytes));
                    let reference = crate::Attachment {
                        hash,
                        name: a.name.clone(),
                        mime: a.mime.clone(),
                        size: bytes.len() as u64,
                    };
                    files.insert((ci, mi, ai), (reference, bytes));
                }
            }
        }
        let mut tx = self.pool.begin().await?;
        let mut created = Vec::new();
        let now = now_ms();
        for (ci, c) in export.conversations.iter().enumerate() {
            let title = crate::title_from(&c.title);
            let cid =
                sqlx::query("INSERT INTO conversations (title, created_at, updated_at, pinned) VALUES (?, ?, ?, ?)")
                    .bind(&title)
                    .bind(c.created_at)
                    .bind(now)
                    .bind(c.pinned as i64)
                    .execute(&mut *tx)
                    .await?
                    .last_insert_rowid();
            let mut ids = HashMap::new();
            for (mi, m) in c.messages.iter().enumerate() {
                let mut attachments = Vec::new();
                for ai in 0..m.attachments.len() {
                    let (reference, bytes) = &files[&(ci, mi, ai)];
                    sqlx::query(
                        "INSERT OR IGNORE INTO attachments (hash, mime, bytes, created_at) VALUES (?, ?, ?, ?)",
                    )
                    .bind(&reference.hash)
                    .bind(&reference.mime)
                    .bind(bytes)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    attachments.push(reference.clone());
                }
                // A message that was streaming when exported is what was saved of it.
                let status = if m.status == MessageStatus::Streaming { MessageStatus::Stopped } else { m.status };
                let id = sqlx::query(
                    "INSERT INTO messages (conversation_id, parent_id, role, content, status, created_at, stats_json, \
                     reasoning, reasoning_ms, tool_calls, attachments, sources) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(cid)
                .bind(m.parent.map(|p| ids[&p]))
                .bind(crate::role_str(m.role))
                .bind(&m.content)
                .bind(status.as_str())
                .bind(m.created_at)
                .bind(m.stats.as_ref().map(|s| s.to_string()))
                .bind(m.reasoning.as_deref())
                .bind(m.reasoning_ms)
                .bind(
                    (!m.tool_calls.is_empty()).then(|| serde_json::to_string(&m.tool_calls).expect("calls serialise")),
                )
                .bind(
                    (!attachments.is_empty())
                        .then(|| serde_json::to_string(&attachments).expect("references serialise")),
                )
                .bind((!m.sources.is_empty()).then(|| serde_json::to_string(&m.sources).expect("sources serialise")))
                .execute(&mut *tx)
                .await?
                .last_insert_rowid();
                ids.insert(m.id, id);
            }
            let leaf = c.current_leaf.and_then(|l| ids.get(&l).copied()).or_else(|| ids.values().max().copied());
            sqlx::query("UPDATE conversations SET current_leaf_id = ? WHERE id = ?")
                .bind(leaf)
                .bind(cid)
                .execute(&mut *tx)
                .await?;
            created.push(cid);
        }
        tx.commit().await?;
        Ok(created)
    }
}

/// "3 s", "1 min 4 s": how long a thought took, as the export writes it.
pub(crate) fn duration_words(ms: i64) -> String {
    let secs = (ms.max(0) + 500) / 1000;
    match secs {
        0 => "less than a second".to_string(),
        s if s < 60 => format!("{s} s"),
        s => format!("{} min {} s", s / 60, s % 60),
    }
}

/// Writes an export into `dir` as a new file named after `title` (characters a file name cannot
/// hold replaced), never over an existing one: "Title.md", then "Title (2).md", … Returns the
/// path written.
pub fn write_export_file(
    dir: &std::path::Path,
    title: &str,
    extension: &str,
    body: &str,
) -> std::io::Result<std::path::PathBuf> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let safe: String = title.chars().map(|c| if c.is_alphanumeric() || " -_".contains(c) { c } else { '_' }).collect();
    let stem = match safe.trim() {
        "" => "Conversation",
        s => s,
    };
    // Long titles make long names: keep them well under file systems' 255 bytes.
    let stem: String = stem.chars().take(80).collect();
    for n in 1..10_000 {
        let name = if n == 1 { format!("{stem}.{extension}") } else { format!("{stem} ({n}).{extension}") };
        let path = dir.join(name);
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                let written = file.write_all(body.as_bytes()).and_then(|()| file.sync_all());
                if let Err(e) = written {
                    // A full disk: no half-written export is left behind.
                    let _ = std::fs::remove_file(&path);
                    return Err(e);
                }
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("too many files named {stem} in {}", dir.display()),
    ))
}
