//! The IPC commands, one file per domain (`ui/src/lib/api/` has one wrapper file for each).
//! A command is a few lines over a domain crate; its errors become `IpcError` (`crate::error`).
//! Every `#[tauri::command]` carries `#[tracing::instrument(skip_all, …)]` on the next line, so
//! the log names the command and never its arguments (failures at `warn`); the test below,
//! `every_command_has_a_tracing_span`, holds it.

pub mod app;
pub mod chat;
pub mod conversations;
pub mod hub;
pub mod hub_settings;
pub mod library;
pub mod models;
pub mod personas;
pub mod presets;
pub mod server;
pub mod templates;
pub mod tools;
pub mod workers;

/// Shows `path` selected in the desktop's file manager (off the async runtime: it talks D-Bus).
pub(crate) async fn reveal_in_file_manager(path: std::path::PathBuf) -> crate::error::IpcResult<()> {
    crate::error::blocking(move || {
        tauri_plugin_opener::reveal_item_in_dir(&path).map_err(|e| format!("no file manager could show it: {e}"))
    })
    .await
}

#[cfg(test)]
mod tests {
    /// Every command runs in a tracing span named after it (its failures logged with it), so a
    /// user's log says which command did what.
    #[test]
    fn every_command_has_a_tracing_span() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri/src/commands");
        let mut commands = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                if line.trim_start().starts_with("#[tauri::command") {
                    commands += 1;
                    let next = lines.get(i + 1).map_or("", |l| l.trim_start());
                    assert!(
                        next.starts_with("#[tracing::instrument("),
                        "{}:{}: a command without #[tracing::instrument] under #[tauri::command]",
                        path.display(),
                        i + 1
                    );
                }
            }
        }
        assert!(commands > 50, "only {commands} commands found in {}", dir.display());
    }
}
