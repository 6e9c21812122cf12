pub mod chat;
pub mod conversations;
pub mod hub;
pub mod hub_settings;
pub mod library;
pub mod models;
pub mod personas;
pub mod presets;
pub mod server;
pub mod workers;

/// Shows `path` selected in the desktop's file manager (off the async runtime: it talks D-Bus).
pub(crate) async fn reveal_in_file_manager(path: std::path::PathBuf) -> crate::error::IpcResult<()> {
    crate::error::blocking(move || {
        tauri_plugin_opener::reveal_item_in_dir(&path).map_err(|e| format!("no file manager could show it: {e}"))
    })
    .await
}
