//! Presets: saved parameter bundles. A preset is what a user picks for a job ("precise",
//! "creative", "code"): how the model is loaded, how replies are sampled, the system prompt and
//! what happens when a conversation outgrows the context.

use serde::{Deserialize, Serialize};
use sirocco_types::{FlashAttention, KvCacheType, LoadParams, OverflowPolicy, ReasoningEffort, SamplingParams};
use sqlx::Row;

use crate::{now_ms, Result, Store, StoreError};

/// The bundle. Load fields left `None` keep what the planner picked for the machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct PresetParams {
    pub system_prompt: String,
    pub sampling: SamplingParams,
    pub overflow: OverflowPolicy,
    pub context_length: Option<u32>,
    pub gpu_layers: Option<u32>,
    pub kv_cache_type: Option<KvCacheType>,
    pub flash_attention: Option<FlashAttention>,
    /// How hard a reasoning model thinks (`None`: the model's default).
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Most tokens a reasoning model thinks for before its thought is closed.
    pub thinking_budget: Option<u32>,
    /// The MCP servers whose tools the chat offers (by name in `mcp.json`).
    pub tools: Vec<String>,
    /// The model must call one of the tools first (for models that do not on their own).
    pub require_tool: bool,
    /// Drafted tokens (`None`: the load's own choice).
    pub drafting: Option<sirocco_types::Drafting>,
}

impl Default for PresetParams {
    fn default() -> Self {
        Self {
            system_prompt: String::new(),
            sampling: SamplingParams { max_tokens: 1024, ..SamplingParams::default() },
            overflow: OverflowPolicy::Stop,
            context_length: None,
            gpu_layers: None,
            kv_cache_type: None,
            flash_attention: None,
            reasoning_effort: None,
            thinking_budget: None,
            tools: Vec::new(),
            require_tool: false,
            drafting: None,
        }
    }
}

impl PresetParams {
    /// The load fields over `base`: what the preset leaves unset keeps `base`'s value.
    pub fn apply_to(&self, base: LoadParams) -> LoadParams {
        LoadParams {
            context_length: self.context_length.or(base.context_length),
            gpu_layers: self.gpu_layers.unwrap_or(base.gpu_layers),
            kv_cache_type: self.kv_cache_type.unwrap_or(base.kv_cache_type),
            flash_attention: self.flash_attention.unwrap_or(base.flash_attention),
            drafting: self.drafting.clone().unwrap_or(base.drafting.clone()),
            ..base
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Preset {
    pub id: i64,
    pub name: String,
    /// Built-ins are read-only (duplicate one to change it).
    pub builtin: bool,
    pub params: PresetParams,
}

/// Mistral's documented safe-mode system prompt (`safe_prompt=True` in their API).
const MISTRAL_SAFE_PROMPT: &str = "Always assist with care, respect, and truth. Respond with utmost utility yet \
securely. Avoid harmful, unethical, prejudiced, or negative content. Ensure replies promote fairness and positivity.";

/// The presets every install starts with: (stable key, name, params).
pub fn builtin_presets() -> Vec<(&'static str, &'static str, PresetParams)> {
    let base = PresetParams::default();
    let with = |f: fn(&mut PresetParams)| {
        let mut p = base.clone();
        f(&mut p);
        p
    };
    vec![
        ("balanced", "Balanced", base.clone()),
        (
            "precise",
            "Precise",
            with(|p| {
                p.sampling.temperature = 0.2;
                p.sampling.top_p = 0.9;
                p.sampling.min_p = 0.05;
            }),
        ),
        (
            "creative",
            "Creative",
            with(|p| {
                p.sampling.temperature = 1.0;
                p.sampling.top_p = 0.98;
                p.sampling.min_p = 0.02;
                p.sampling.repeat_penalty = 1.05;
                p.sampling.presence_penalty = 0.3;
                p.overflow = OverflowPolicy::RollingWindow;
            }),
        ),
        (
            "code",
            "Code",
            with(|p| {
                p.sampling.temperature = 0.15;
                p.sampling.top_p = 0.9;
                p.sampling.repeat_penalty = 1.0;
                p.sampling.max_tokens = 2048;
                p.system_prompt = "You are an expert programmer. Answer with correct, idiomatic code in fenced \
Markdown blocks that name the language, and keep explanations short."
                    .into();
            }),
        ),
        (
            "guardrail",
            "Guardrail (Mistral safe mode)",
            with(|p| {
                p.system_prompt = MISTRAL_SAFE_PROMPT.into();
            }),
        ),
    ]
}

fn preset_of(r: &sqlx::sqlite::SqliteRow) -> Result<Preset> {
    let json: String = r.get("params_json");
    Ok(Preset {
        id: r.get("id"),
        name: r.get("name"),
        builtin: r.get::<Option<String>, _>("builtin_key").is_some(),
        // A preset saved by an older version keeps its known fields; unknown ones are ignored.
        params: serde_json::from_str(&json).map_err(|e| StoreError::Invalid(format!("preset is unreadable: {e}")))?,
    })
}

impl Store {
    /// Writes the built-ins, refreshing their parameters (they are read-only, so nothing of
    /// the user's is overwritten).
    pub(crate) async fn install_builtin_presets(&self) -> Result<()> {
        let now = now_ms();
        for (key, name, params) in builtin_presets() {
            sqlx::query(
                "INSERT INTO presets (name, builtin_key, params_json, created_at, updated_at) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT(builtin_key) DO UPDATE SET name = excluded.name, params_json = excluded.params_json",
            )
            .bind(name)
            .bind(key)
            .bind(serde_json::to_string(&params).expect("preset params serialise"))
            .bind(now)
            .bind(now)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    /// Built-ins first (in their order), then the user's by name.
    pub async fn presets(&self) -> Result<Vec<Preset>> {
        let rows = sqlx::query("SELECT * FROM presets ORDER BY builtin_key IS NULL, id").fetch_all(&self.pool).await?;
        rows.iter().map(preset_of).collect()
    }

    pub async fn preset(&self, id: i64) -> Result<Preset> {
        let row = sqlx::query("SELECT * FROM presets WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("preset {id}")))?;
        preset_of(&row)
    }

    pub async fn create_preset(&self, name: &str, params: &PresetParams) -> Result<i64> {
        let name = valid_name(name)?;
        let now = now_ms();
        Ok(sqlx::query("INSERT INTO presets (name, params_json, created_at, updated_at) VALUES (?, ?, ?, ?)")
            .bind(name)
            .bind(serde_json::to_string(params).expect("preset params serialise"))
            .bind(now)
            .bind(now)
            .execute(&self.pool)
            .await?
            .last_insert_rowid())
    }

    /// A copy named "<name> copy" that the user can edit.
    pub async fn duplicate_preset(&self, id: i64) -> Result<i64> {
        let p = self.preset(id).await?;
        self.create_preset(&format!("{} copy", p.name), &p.params).await
    }

    pub async fn update_preset(&self, id: i64, name: &str, params: &PresetParams) -> Result<()> {
        self.user_preset(id).await?;
        sqlx::query("UPDATE presets SET name = ?, params_json = ?, updated_at = ? WHERE id = ?")
            .bind(valid_name(name)?)
            .bind(serde_json::to_string(params).expect("preset params serialise"))
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_preset(&self, id: i64) -> Result<()> {
        self.user_preset(id).await?;
        sqlx::query("DELETE FROM presets WHERE id = ?").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    async fn user_preset(&self, id: i64) -> Result<Preset> {
        let p = self.preset(id).await?;
        if p.builtin {
            return Err(StoreError::Invalid(format!("“{}” is built in; duplicate it to change it", p.name)));
        }
        Ok(p)
    }

    /// The preset a model starts with, if the user chose one.
    pub async fn model_preset(&self, model_path: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT preset_id FROM model_presets WHERE model_path = ?")
            .bind(model_path)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// How `model_path` loads with its own saved settings: its default preset's load fields
    /// over `base` (`base` alone when it has none).
    pub async fn model_load_params(&self, model_path: &str, base: LoadParams) -> Result<LoadParams> {
        let params = match self.model_preset(model_path).await? {
            Some(id) => self.preset(id).await?.params.apply_to(base),
            None => base,
        };
        // The user's template for the model, where they set one.
        let key = crate::templates::template_key(std::path::Path::new(model_path));
        let chat_template_override = self.model_template(&key).await?.or(params.chat_template_override);
        Ok(LoadParams { chat_template_override, ..params })
    }

    pub async fn set_model_preset(&self, model_path: &str, preset_id: i64) -> Result<()> {
        self.preset(preset_id).await?;
        sqlx::query(
            "INSERT INTO model_presets (model_path, preset_id) VALUES (?, ?) \
             ON CONFLICT(model_path) DO UPDATE SET preset_id = excluded.preset_id",
        )
        .bind(model_path)
        .bind(preset_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

pub(crate) fn valid_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(StoreError::Invalid("a name is needed".into()));
    }
    if name.chars().count() > 120 {
        return Err(StoreError::Invalid("names are at most 120 characters".into()));
    }
    Ok(name)
}
