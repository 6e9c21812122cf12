//! Personas: who the assistant is — name, avatar, description, system prompt, greeting and
//! example dialogue. `{{char}}` and `{{user}}` in any text are expanded when it is used.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::lorebook::{self, LoreEntry};
use crate::presets::valid_name;
use crate::{now_ms, Result, Store, StoreError};

/// Longest text field a persona keeps (SillyTavern cards run to a few KB; 100 KB is generous).
pub const MAX_FIELD_BYTES: usize = 100 * 1024;
/// Most alternate greetings a persona keeps.
pub const MAX_ALTERNATE_GREETINGS: usize = 32;
/// Largest avatar (a `data:` URL of a PNG, JPEG or WebP).
pub const MAX_AVATAR_BYTES: usize = 1024 * 1024;

/// A persona as the user edits it (and as a character card is read into).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct PersonaDraft {
    pub name: String,
    /// An emoji or short text, or a `data:image/(png|jpeg|webp);base64,…` URL; never a remote
    /// address (nothing is fetched) and never SVG (it can carry script).
    pub avatar: String,
    pub description: String,
    pub system_prompt: String,
    pub greeting: String,
    /// Other openings the user can pick instead of `greeting` (‹ › on the greeting).
    pub alternate_greetings: Vec<String>,
    pub example_dialogue: String,
    /// Facts told to the model when the conversation mentions their keywords.
    pub lorebook: Vec<LoreEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Persona {
    pub id: i64,
    #[serde(flatten)]
    pub draft: PersonaDraft,
}

/// Replaces `{{char}}` and `{{user}}` (any case; also the old `<BOT>`/`<USER>`).
pub fn expand_macros(text: &str, char_name: &str, user_name: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for (pattern, value) in
            [("{{char}}", char_name), ("{{user}}", user_name), ("<bot>", char_name), ("<user>", user_name)]
        {
            if rest.len() >= pattern.len()
                && rest.is_char_boundary(pattern.len())
                && rest[..pattern.len()].eq_ignore_ascii_case(pattern)
            {
                out.push_str(value);
                rest = &rest[pattern.len()..];
                continue 'outer;
            }
        }
        let c = rest.chars().next().expect("rest is not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

impl PersonaDraft {
    /// Checks sizes and the avatar; a clear message for each problem.
    pub fn validate(&self) -> Result<()> {
        valid_name(&self.name)?;
        for (label, text) in [
            ("description", &self.description),
            ("system prompt", &self.system_prompt),
            ("greeting", &self.greeting),
            ("example dialogue", &self.example_dialogue),
        ] {
            if text.len() > MAX_FIELD_BYTES {
                return Err(StoreError::Invalid(format!(
                    "the {label} is {} KB; at most {} KB is kept",
                    text.len() / 1024,
                    MAX_FIELD_BYTES / 1024
                )));
            }
        }
        if self.alternate_greetings.len() > MAX_ALTERNATE_GREETINGS {
            return Err(StoreError::Invalid(format!(
                "{} alternate greetings; at most {MAX_ALTERNATE_GREETINGS} are kept",
                self.alternate_greetings.len()
            )));
        }
        if let Some(long) = self.alternate_greetings.iter().find(|g| g.len() > MAX_FIELD_BYTES) {
            return Err(StoreError::Invalid(format!(
                "an alternate greeting is {} KB; at most {} KB is kept",
                long.len() / 1024,
                MAX_FIELD_BYTES / 1024
            )));
        }
        lorebook::validate(&self.lorebook).map_err(StoreError::Invalid)?;
        validate_avatar(&self.avatar)
    }

    /// The draft with its picture avatar scaled down to what the app keeps (see [`crate::avatar`]).
    pub fn with_small_avatar(&self) -> PersonaDraft {
        PersonaDraft { avatar: crate::avatar::normalise(&self.avatar), ..self.clone() }
    }

    /// Every opening, the greeting first then the alternates (empty ones left out).
    pub fn greetings(&self) -> Vec<&str> {
        std::iter::once(self.greeting.as_str())
            .chain(self.alternate_greetings.iter().map(String::as_str))
            .filter(|g| !g.trim().is_empty())
            .collect()
    }

    /// The system message this persona sends: its system prompt, description and example
    /// dialogue, macros expanded.
    pub fn system_message(&self, user_name: &str) -> String {
        let mut parts = Vec::new();
        if !self.system_prompt.trim().is_empty() {
            parts.push(self.system_prompt.trim().to_string());
        } else {
            parts.push(format!("You are {}.", self.name.trim()));
        }
        if !self.description.trim().is_empty() {
            parts.push(self.description.trim().to_string());
        }
        if !self.example_dialogue.trim().is_empty() {
            parts.push(format!("Examples of how {{{{char}}}} speaks:\n{}", self.example_dialogue.trim()));
        }
        expand_macros(&parts.join("\n\n"), self.name.trim(), user_name)
    }

    /// The lorebook entries `recent` (the latest messages) brings in, as one block (a turn
    /// puts it before the question it answers); `None` when none comes in.
    pub fn lore(&self, recent: &[&str], user_name: &str) -> Option<String> {
        let active = lorebook::active(&self.lorebook, recent);
        (!active.is_empty())
            .then(|| expand_macros(&format!("What you know:\n{}", active.join("\n\n")), self.name.trim(), user_name))
    }
}

fn validate_avatar(avatar: &str) -> Result<()> {
    if avatar.is_empty() || (avatar.chars().count() <= 8 && !avatar.contains(['<', '>', ':', '/'])) {
        return Ok(());
    }
    if avatar.len() > MAX_AVATAR_BYTES {
        return Err(StoreError::Invalid(format!("the avatar is larger than {} KB", MAX_AVATAR_BYTES / 1024)));
    }
    let ok_prefix = ["data:image/png;base64,", "data:image/jpeg;base64,", "data:image/webp;base64,"]
        .iter()
        .find(|p| avatar.starts_with(**p));
    match ok_prefix {
        Some(prefix) if avatar[prefix.len()..].bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)) => {
            Ok(())
        }
        _ => Err(StoreError::Invalid("an avatar is an emoji or a PNG, JPEG or WebP image".into())),
    }
}

fn alternates_json(draft: &PersonaDraft) -> String {
    serde_json::to_string(&draft.alternate_greetings).unwrap_or_else(|_| "[]".into())
}

fn lorebook_json(draft: &PersonaDraft) -> String {
    serde_json::to_string(&draft.lorebook).unwrap_or_else(|_| "[]".into())
}

fn persona_of(r: &sqlx::sqlite::SqliteRow) -> Persona {
    Persona {
        id: r.get("id"),
        draft: PersonaDraft {
            name: r.get("name"),
            avatar: r.get("avatar"),
            description: r.get("description"),
            system_prompt: r.get("system_prompt"),
            greeting: r.get("greeting"),
            alternate_greetings: serde_json::from_str(r.get::<&str, _>("alternate_greetings")).unwrap_or_default(),
            example_dialogue: r.get("example_dialogue"),
            lorebook: serde_json::from_str(r.get::<&str, _>("lorebook")).unwrap_or_default(),
        },
    }
}

impl Store {
    pub async fn personas(&self) -> Result<Vec<Persona>> {
        let rows = sqlx::query("SELECT * FROM personas ORDER BY name COLLATE NOCASE, id").fetch_all(&self.pool).await?;
        Ok(rows.iter().map(persona_of).collect())
    }

    pub async fn persona(&self, id: i64) -> Result<Persona> {
        let row = sqlx::query("SELECT * FROM personas WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("persona {id}")))?;
        Ok(persona_of(&row))
    }

    pub async fn create_persona(&self, draft: &PersonaDraft) -> Result<i64> {
        let draft = &draft.with_small_avatar();
        draft.validate()?;
        let now = now_ms();
        Ok(sqlx::query(
            "INSERT INTO personas (name, avatar, description, system_prompt, greeting, alternate_greetings, \
             example_dialogue, lorebook, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(draft.name.trim())
        .bind(&draft.avatar)
        .bind(&draft.description)
        .bind(&draft.system_prompt)
        .bind(&draft.greeting)
        .bind(alternates_json(draft))
        .bind(&draft.example_dialogue)
        .bind(lorebook_json(draft))
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?
        .last_insert_rowid())
    }

    pub async fn update_persona(&self, id: i64, draft: &PersonaDraft) -> Result<()> {
        let draft = &draft.with_small_avatar();
        draft.validate()?;
        let done = sqlx::query(
            "UPDATE personas SET name = ?, avatar = ?, description = ?, system_prompt = ?, greeting = ?, \
             alternate_greetings = ?, example_dialogue = ?, lorebook = ?, updated_at = ? WHERE id = ?",
        )
        .bind(draft.name.trim())
        .bind(&draft.avatar)
        .bind(&draft.description)
        .bind(&draft.system_prompt)
        .bind(&draft.greeting)
        .bind(alternates_json(draft))
        .bind(&draft.example_dialogue)
        .bind(lorebook_json(draft))
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("persona {id}")));
        }
        Ok(())
    }

    pub async fn delete_persona(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM personas WHERE id = ?").bind(id).execute(&self.pool).await?;
        Ok(())
    }
}
