//! The contract between the page and Rust: every type a command takes or returns, written as
//! TypeScript into `ui/src/lib/bindings.ts` (one file, so the types name each other without
//! imports), and the rules the page applies as Rust does (`ATTACHMENT_RULES`), as values. The test below fails when that file is stale; `SIROCCO_WRITE_BINDINGS=1 cargo test
//! -p sirocco bindings` rewrites it.
//!
//! ts-rs rather than tauri-specta: ts-rs 12 is a stable release that only derives types, so the
//! domain crates can derive them without knowing Tauri, and the commands stay plain
//! `#[tauri::command]`s; tauri-specta's Tauri 2 line is still a release candidate and would
//! generate the invoke layer too.

use ts_rs::{Config, TS};

/// Appends `export type …` for each type, in order.
macro_rules! declare {
    ($out:ident, $cfg:ident; $($ty:ty),* $(,)?) => {
        $( $out.push_str("export "); $out.push_str(&<$ty as TS>::decl($cfg)); $out.push_str("\n\n"); )*
    };
}

/// The whole generated file.
pub fn typescript() -> String {
    // u64 and i64 cross as JSON numbers (serde_json writes them so); sizes stay below 2^53.
    let cfg = &Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.\n\
         // SIROCCO_WRITE_BINDINGS=1 cargo test -p sirocco bindings rewrites it.\n\n",
    );
    declare!(out, cfg;
        serde_json::Value,
        crate::error::ErrorKind,
        crate::error::IpcError,
        sirocco_hub::download::Phase,
        sirocco_hub::DownloadProgress,
        sirocco_hub::RemoteFile,
        sirocco_hub::GgufEntry,
        sirocco_hub::queue::State,
        sirocco_hub::QueuedDownload,
        // Models: files, their headers, loads and the planner (commands/models.rs).
        crate::commands::models::ModelFile,
        crate::commands::models::ModelsFolder,
        sirocco_engine::GgufSummary,
        sirocco_engine::ProjectorSummary,
        sirocco_engine::mistral_format::MistralVersion,
        sirocco_engine::prompt::PromptFormatKind,
        sirocco_engine::FlashAttention,
        sirocco_engine::KvCacheType,
        sirocco_engine::LoadParams,
        sirocco_engine::speculative::Drafting,
        sirocco_engine::speculative::DraftKind,
        sirocco_engine::LoadedModel,
        sirocco_engine::hardware::Gpu,
        sirocco_engine::hardware::Hardware,
        sirocco_engine::planner::PlanRequest,
        sirocco_engine::planner::MemoryEstimate,
        sirocco_engine::planner::DeviceShare,
        sirocco_engine::planner::FitVerdict,
        sirocco_engine::planner::FitPlan,
        crate::commands::models::ModelPlan,
        crate::commands::models::MemoryEstimateView,
        sirocco_host::LoadedBy,
        sirocco_host::ModelStatus,
        sirocco_host::Memory,
        sirocco_host::ResidentModel,
        crate::settings::ModelMemory,
        crate::commands::models::ModelMemoryView,
        // A model's chat template (commands/templates.rs).
        crate::commands::templates::ModelTemplate,
        // Other machines (commands/workers.rs).
        sirocco_engine::workers::DeviceMemory,
        crate::commands::workers::Reach,
        crate::commands::workers::WorkerView,
        // Generation (commands/chat.rs).
        sirocco_engine::Role,
        sirocco_engine::ToolCall,
        sirocco_engine::ChatMessage,
        sirocco_engine::SamplingParams,
        sirocco_engine::ReasoningEffort,
        sirocco_engine::OverflowPolicy,
        sirocco_engine::FinishReason,
        sirocco_engine::GenerationStats,
        sirocco_engine::logprobs::TokenAlternative,
        sirocco_engine::logprobs::TokenLogprob,
        sirocco_engine::GenerationEvent,
        sirocco_store::ToolCallStatus,
        sirocco_store::ToolCallResult,
        sirocco_store::ToolCallRecord,
        sirocco_store::Attachment,
        sirocco_store::DocumentSource,
        sirocco_store::SourcePassage,
        sirocco_chat::Approval,
        sirocco_chat::Turn,
        sirocco_chat::TurnRequest,
        sirocco_chat::NewAttachment,
        sirocco_chat::TurnEvent,
        // The Hub and the library (commands/hub.rs, hub_settings.rs, library.rs).
        sirocco_hub::SortBy,
        sirocco_hub::SearchQuery,
        sirocco_hub::RepoSummary,
        crate::commands::hub::RepoPage,
        crate::commands::hub::RemoteFit,
        crate::commands::hub_settings::TokenSource,
        crate::commands::hub_settings::HubSettings,
        sirocco_hub::library::ModelSource,
        sirocco_hub::library::LibraryModel,
        // Conversations, presets and personas (commands/conversations.rs, presets.rs, personas.rs).
        sirocco_store::MessageStatus,
        sirocco_store::Conversation,
        sirocco_store::Message,
        sirocco_store::BranchMessage,
        sirocco_store::BranchPage,
        crate::commands::conversations::ConversationView,
        sirocco_store::SearchHit,
        sirocco_store::PresetParams,
        sirocco_store::Preset,
        sirocco_store::LoreEntry,
        sirocco_store::PersonaDraft,
        sirocco_store::Persona,
        // MCP servers (commands/tools.rs).
        sirocco_mcp::ServerEntry,
        sirocco_mcp::McpTool,
        crate::commands::tools::McpServerView,
        crate::settings::AllowedTool,
        // The app itself (commands/app.rs).
        crate::commands::app::AppInfo,
        sirocco_logs::CrashReport,
        crate::settings::BackgroundSettings,
        sirocco_runtime::autostart::Autostart,
        crate::tray::KeepRunning,
        // The local server (commands/server.rs).
        crate::settings::ServerSettings,
        crate::commands::server::ServerStatus,
        sirocco_server::RequestLogEntry,
        // What a message may carry (commands/conversations.rs), and its value below.
        crate::commands::conversations::AttachableKind,
        crate::commands::conversations::AttachmentRules,
    );
    // Rules the page follows as Rust does, as values rather than copies.
    let rules = serde_json::to_string(&crate::commands::conversations::AttachmentRules::get()).expect("plain data");
    out.push_str(&format!("export const ATTACHMENT_RULES: AttachmentRules = {rules};\n"));
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn bindings_ts_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/bindings.ts");
        let want = super::typescript();
        if std::env::var_os("SIROCCO_WRITE_BINDINGS").is_some() {
            std::fs::write(&path, &want).unwrap();
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{} is stale: run `SIROCCO_WRITE_BINDINGS=1 cargo test -p sirocco bindings` and commit it",
            path.display()
        );
    }
}
