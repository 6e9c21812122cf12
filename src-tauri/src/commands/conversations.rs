//! The conversation list, a conversation's branch on screen, search, export and import.

use std::path::PathBuf;

use serde::Serialize;
use sirocco_store::{BranchPage, Conversation, SearchHit};
use tauri::{Manager, State};

use crate::error::{blocking, IpcError, IpcResult};
use crate::AppState;

/// Messages sent per page: the newest of a branch first, older ones as the user scrolls up.
const PAGE: i64 = 80;

#[derive(Serialize, ts_rs::TS)]
pub struct ConversationView {
    conversation: Conversation,
    #[serde(flatten)]
    page: BranchPage,
}

/// An attached file (an image, a document) as a data URL for the page to show.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn attachment_data(state: State<'_, AppState>, hash: String) -> IpcResult<String> {
    use base64::Engine as _;
    let (mime, bytes) = state.store.attachment(&hash).await?;
    Ok(format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes)))
}

/// What a message may carry, for the page: written into `bindings.ts` as `ATTACHMENT_RULES`
/// (the page copies none of it), and what [`dropped_file`] holds a file to.
#[derive(Serialize, ts_rs::TS)]
pub struct AttachmentRules {
    /// The largest file, in bytes (the store's limit).
    #[ts(type = "number")]
    pub max_bytes: u64,
    /// Images first, then documents.
    pub kinds: Vec<AttachableKind>,
}

/// One kind of file a message may carry.
#[derive(Serialize, ts_rs::TS)]
pub struct AttachableKind {
    /// What a person calls it (`PNG`, `Word`…).
    pub label: &'static str,
    /// An image (for vision models); else a document whose text the model reads.
    pub image: bool,
    /// The media types it comes with, the one kept first.
    pub mimes: Vec<&'static str>,
    /// File name extensions, lower case, without the dot.
    pub extensions: Vec<&'static str>,
}

impl AttachmentRules {
    pub fn get() -> Self {
        let images = sirocco_store::IMAGE_FORMATS.iter().map(|f| AttachableKind {
            label: f.label,
            image: true,
            mimes: vec![f.mime],
            extensions: f.extensions.to_vec(),
        });
        let documents = sirocco_documents::Kind::ALL.into_iter().map(|k| AttachableKind {
            label: k.label(),
            image: false,
            mimes: k.mimes().to_vec(),
            extensions: k.extensions().to_vec(),
        });
        Self { max_bytes: sirocco_store::MAX_ATTACHMENT_BYTES as u64, kinds: images.chain(documents).collect() }
    }

    /// The kind of the file `name`, by its extension.
    fn kind_of(&self, name: &str) -> Option<&AttachableKind> {
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        self.kinds.iter().find(|k| k.extensions.contains(&ext.as_str()))
    }

    /// Why a file of another kind is refused, naming those that are taken.
    fn refusal(&self, name: &str) -> String {
        let labels = |image: bool| {
            self.kinds.iter().filter(|k| k.image == image).map(|k| k.label).collect::<Vec<_>>().join(", ")
        };
        format!("{name}: only images ({}) and documents ({}) can be attached", labels(true), labels(false))
    }
}

/// A file dropped on the window (Tauri hands the page its path, not its bytes), read to be
/// attached: a kind of [`AttachmentRules`], of at most its size.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn dropped_file(path: PathBuf) -> IpcResult<sirocco_chat::NewAttachment> {
    use base64::Engine as _;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let rules = AttachmentRules::get();
    let mime = match rules.kind_of(&name) {
        Some(kind) => kind.mimes[0],
        None => return Err(IpcError::invalid(rules.refusal(&name))),
    };
    let size = tokio::fs::metadata(&path).await.map_err(|e| IpcError::invalid(format!("{name}: {e}")))?.len();
    if !path.is_file() || size == 0 || size > sirocco_store::MAX_ATTACHMENT_BYTES as u64 {
        return Err(IpcError::invalid(format!(
            "{name}: an attachment must be a file of 1 byte to {} MB",
            sirocco_store::MAX_ATTACHMENT_BYTES / 1024 / 1024
        )));
    }
    let bytes = tokio::fs::read(&path).await.map_err(|e| IpcError::invalid(format!("{name}: {e}")))?;
    Ok(sirocco_chat::NewAttachment {
        name,
        mime: mime.to_string(),
        data: base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn conversations_list(state: State<'_, AppState>) -> IpcResult<Vec<Conversation>> {
    Ok(state.store.conversations().await?)
}

/// Opens a conversation on the branch left on screen, or, with `through` (a search hit), on the
/// branch that holds that message.
#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id), err(level = "warn", Display))]
pub async fn conversation_open(
    state: State<'_, AppState>,
    id: i64,
    through: Option<i64>,
) -> IpcResult<ConversationView> {
    if let Some(message) = through {
        if state.store.message(message).await?.conversation_id != id {
            return Err("that message belongs to another conversation".into());
        }
        state.store.show_branch_through(message).await?;
    }
    Ok(ConversationView {
        conversation: state.store.conversation(id).await?,
        page: state.store.branch_page(id, None, PAGE).await?,
    })
}

/// The user left conversation `id` (opened another, started a new one): its cache is saved so
/// coming back skips reading the history again. Nothing to save is not an error.
#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id), err(level = "warn", Display))]
pub async fn conversation_leave(state: State<'_, AppState>, id: i64) -> IpcResult<bool> {
    Ok(state.host.persist_state(&sirocco_chat::cache_key(id)).await)
}

/// The messages of the branch on screen above `before`.
#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id, before = ?before), err(level = "warn", Display))]
pub async fn conversation_older(state: State<'_, AppState>, id: i64, before: i64) -> IpcResult<BranchPage> {
    Ok(state.store.branch_page(id, Some(before), PAGE).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id), err(level = "warn", Display))]
pub async fn conversation_rename(state: State<'_, AppState>, id: i64, title: String) -> IpcResult<()> {
    let title = title.trim();
    if title.is_empty() {
        return Err("a conversation needs a title".into());
    }
    Ok(state.store.rename(id, &sirocco_store::title_from(title)).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id, pinned = ?pinned), err(level = "warn", Display))]
pub async fn conversation_pin(state: State<'_, AppState>, id: i64, pinned: bool) -> IpcResult<()> {
    Ok(state.store.set_pinned(id, pinned).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id), err(level = "warn", Display))]
pub async fn conversation_delete(state: State<'_, AppState>, id: i64) -> IpcResult<()> {
    Ok(state.store.delete_conversation(id).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn conversations_search(state: State<'_, AppState>, text: String) -> IpcResult<Vec<SearchHit>> {
    Ok(state.store.search(&text, 50).await?)
}

/// Writes the conversation (or all, when `id` is none) to the Downloads folder as Markdown or
/// JSON, as a new file (an earlier export is never overwritten); returns the file's path.
#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id), err(level = "warn", Display))]
pub async fn conversation_export(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    id: Option<i64>,
    markdown: bool,
) -> IpcResult<String> {
    let (name, body) = match (id, markdown) {
        (Some(id), true) => (state.store.conversation(id).await?.title, state.store.export_markdown(id).await?),
        (id, false) => {
            let export = state.store.export(&id.into_iter().collect::<Vec<_>>()).await?;
            let name = match id {
                Some(id) => state.store.conversation(id).await?.title,
                None => "Sirocco conversations".into(),
            };
            (name, serde_json::to_string_pretty(&export).map_err(|e| e.to_string())?)
        }
        (None, true) => return Err("Markdown export is per conversation".into()),
    };
    let dir = app.path().download_dir().map_err(|e| e.to_string())?;
    let extension = if markdown { "md" } else { "json" };
    let folder = dir.clone();
    let path = blocking(move || sirocco_store::write_export_file(&folder, &name, extension, &body))
        .await
        .map_err(|e| IpcError::new(e.kind, format!("could not save the export in {}: {}", dir.display(), e.message)))?;
    Ok(path.display().to_string())
}

/// Shows an exported file in the file manager: only an export in the Downloads folder (the page
/// names no other file).
#[tauri::command]
#[tracing::instrument(skip_all, fields(path = ?path), err(level = "warn", Display))]
pub async fn conversation_export_reveal(app: tauri::AppHandle, path: PathBuf) -> IpcResult<()> {
    let dir = app.path().download_dir().map_err(|e| e.to_string())?;
    let is_export = path.parent() == Some(dir.as_path())
        && path.extension().is_some_and(|e| e == "md" || e == "json")
        && path.is_file();
    if !is_export {
        return Err("that is not an exported conversation".into());
    }
    super::reveal_in_file_manager(path).await
}

/// Imports a JSON export; returns the new conversations' ids.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn conversations_import(state: State<'_, AppState>, json: String) -> IpcResult<Vec<i64>> {
    Ok(state.store.import(json.as_bytes()).await?)
}

/// ‹ › between siblings: shows the branch through the sibling `step` places from `id`; returns
/// the new view.
#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id, step = ?step), err(level = "warn", Display))]
pub async fn message_show_sibling(state: State<'_, AppState>, id: i64, step: i64) -> IpcResult<BranchPage> {
    let target = state.store.sibling(id, step).await?.ok_or("there is no other version that way")?;
    state.store.show_branch_through(target).await?;
    let m = state.store.message(id).await?;
    Ok(state.store.branch_page(m.conversation_id, None, PAGE).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id), err(level = "warn", Display))]
pub async fn message_delete(state: State<'_, AppState>, id: i64) -> IpcResult<BranchPage> {
    let m = state.store.message(id).await?;
    state.store.delete_message(id).await?;
    Ok(state.store.branch_page(m.conversation_id, None, PAGE).await?)
}

/// An answer edited by the user: a sibling answer with `text` (the original stays a branch).
#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id), err(level = "warn", Display))]
pub async fn message_edit_answer(state: State<'_, AppState>, id: i64, text: String) -> IpcResult<BranchPage> {
    let edited = state.store.edit_answer(id, &text).await?;
    let conversation = state.store.message(edited).await?.conversation_id;
    Ok(state.store.branch_page(conversation, None, PAGE).await?)
}

#[cfg(test)]
mod tests {
    use super::AttachmentRules;

    #[test]
    fn every_kind_the_page_offers_is_one_the_store_keeps_and_a_drop_reads() {
        let rules = AttachmentRules::get();
        assert!(rules.kinds.iter().any(|k| k.image) && rules.kinds.iter().any(|k| !k.image));
        for kind in &rules.kinds {
            // The chat keeps a document under its kind's first media type (`Kind::mime`).
            assert!(sirocco_store::attachable(kind.mimes[0]), "{} is offered but not kept", kind.label);
            for ext in &kind.extensions {
                let dropped = rules.kind_of(&format!("file.{}", ext.to_uppercase())).map(|k| k.label);
                assert_eq!(dropped, Some(kind.label), "a dropped .{ext} file");
            }
        }
        assert!(rules.kind_of("model.gguf").is_none());
        assert!(rules.refusal("model.gguf").contains("(PNG, JPEG, WebP, GIF, BMP)"));
    }
}
