//! The Tauri shell: a thin adapter between the web UI and the domain crates.
//! Each file in `commands/` maps one domain to IPC commands; no domain logic lives here.

#[cfg(test)]
mod bindings;
mod commands;
mod error;
#[cfg(test)]
mod file_graph;
mod navigation;
mod settings;
mod state;
mod tray;

pub use state::AppState;

/// The app, minus the runtime: plugins, `AppState`, the command list (`run()` builds it).
pub fn builder() -> tauri::Builder<tauri::Wry> {
    tauri::Builder::default()
        .plugin(tauri_plugin_store::Builder::default().build())
        .plugin(tauri_plugin_dialog::init())
        // The window shows the app and nothing else: links to other sites go to the browser.
        .plugin(navigation::guard())
        .setup(|app| {
            use tauri::Manager;
            // The window is made hidden (tauri.conf.json) and shown now, unless started at login
            // without it ("hidden"): then it never flashes on screen.
            let hidden = std::env::args().any(|a| a == sirocco_runtime::autostart::HIDDEN);
            if !hidden {
                if let Some(window) = app.get_webview_window("main") {
                    window.show()?;
                }
            }
            let folders = sirocco_folders::AppFolders::resolve();
            let saved = settings::read(app.handle());
            tracing::info!(models = %folders.models.display(), data = %folders.data.display(), "folders");
            let runtime = tauri::async_runtime::block_on(sirocco_runtime::Runtime::open(folders, &saved))?;
            let state = AppState::new(runtime);
            let mut resident = state.host.subscribe();
            app.manage(state);
            // What this launch was asked to open, until the page takes it.
            app.manage(commands::app::LaunchFiles(std::sync::Mutex::new(files_to_open())));
            // The page and the tray show every loaded model: told on each change (loads,
            // ejects, leases).
            let tell = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                use tauri::Emitter;
                while resident.changed().await.is_ok() {
                    let models = resident.borrow_and_update().clone();
                    let _ = tell.emit("models-changed", models);
                    tray::refresh(&tell);
                }
            });
            tray::install(app.handle());
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                handle.state::<AppState>().use_saved_token(saved.hub_endpoint).await;
            });
            commands::server::start_at_launch(app.handle(), hidden);
            Ok(())
        })
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                tray::close_requested(window, api);
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::models::list_models,
            commands::models::load_model,
            commands::models::cancel_load,
            commands::models::unload_model,
            commands::models::loaded_models,
            commands::models::model_memory,
            commands::models::set_model_memory,
            commands::models::plan_model,
            commands::models::estimate_memory,
            commands::models::hardware,
            commands::workers::workers_list,
            commands::workers::worker_add,
            commands::workers::worker_remove,
            commands::workers::worker_set_enabled,
            commands::hub::hub_search,
            commands::hub::hub_repo,
            commands::hub::hub_fit,
            commands::hub::download_list,
            commands::hub::download_start,
            commands::hub::download_resume,
            commands::hub::download_pause,
            commands::hub::download_cancel,
            commands::library::library_list,
            commands::library::library_delete,
            commands::library::library_locations,
            commands::library::library_add,
            commands::library::library_remove_location,
            commands::library::library_reveal,
            commands::hub_settings::hub_settings,
            commands::hub_settings::hub_set_endpoint,
            commands::hub_settings::hub_set_token,
            commands::hub_settings::hub_clear_token,
            commands::chat::chat_turn,
            commands::chat::stop_generation,
            commands::chat::arena_generate,
            commands::server::server_start,
            commands::server::server_stop,
            commands::server::server_status,
            commands::conversations::conversations_list,
            commands::conversations::attachment_data,
            commands::conversations::dropped_file,
            commands::conversations::conversation_open,
            commands::conversations::conversation_leave,
            commands::conversations::conversation_older,
            commands::conversations::conversation_rename,
            commands::conversations::conversation_pin,
            commands::conversations::conversation_delete,
            commands::conversations::conversations_search,
            commands::conversations::conversation_export,
            commands::conversations::conversation_export_reveal,
            commands::conversations::conversations_import,
            commands::conversations::message_show_sibling,
            commands::conversations::message_delete,
            commands::conversations::message_edit_answer,
            commands::presets::presets_list,
            commands::presets::preset_save,
            commands::presets::preset_duplicate,
            commands::presets::preset_delete,
            commands::presets::model_preset_get,
            commands::presets::model_preset_set,
            commands::templates::model_template,
            commands::templates::template_preview,
            commands::templates::template_save,
            commands::templates::template_reset,
            commands::tools::mcp_servers,
            commands::tools::mcp_check,
            commands::tools::mcp_add,
            commands::tools::mcp_remove,
            commands::tools::mcp_import,
            commands::tools::mcp_set_enabled,
            commands::tools::tool_approve,
            commands::tools::tools_allowed,
            commands::tools::tool_disallow,
            commands::app::app_info,
            commands::server::server_settings,
            commands::server::server_api_key,
            commands::server::server_generate_key,
            commands::server::server_set_start_at_launch,
            commands::app::logs_reveal,
            commands::app::crash_report,
            commands::app::open_in_browser,
            commands::app::app_quit,
            commands::app::launch_files,
            commands::app::app_keep_running,
            commands::app::background_settings,
            commands::app::background_set_keep_running,
            commands::app::autostart_get,
            commands::app::autostart_set,
            commands::personas::personas_list,
            commands::personas::persona_save,
            commands::personas::persona_delete,
            commands::personas::persona_import_card,
        ])
}

pub fn run() {
    // The data folder is its owner's alone (an older install's files made so too).
    let folders = sirocco_folders::AppFolders::resolve();
    let secured = folders.secure();
    // One Sirocco per data folder: a second launch brings this one's window forward and ends
    // (before it writes anything: the log and the database are the first one's).
    let hidden = std::env::args().any(|a| a == sirocco_runtime::autostart::HIDDEN);
    let instance = match sirocco_runtime::instance::claim(&folders.data, &files_to_open(), hidden) {
        Ok(sirocco_runtime::instance::Claim::First(instance)) => Some(instance),
        Ok(sirocco_runtime::instance::Claim::Forwarded) => {
            if !hidden {
                println!("Sirocco is already running: its window was brought forward.");
            }
            return;
        }
        Err(e) => {
            eprintln!("Sirocco is already running but does not answer: {e}");
            std::process::exit(1);
        }
    };
    // The log goes to the data folder from the first line on (and to stderr), a panic with it.
    let logs = folders.logs();
    if let Err(e) = sirocco_logs::init(&logs, "info,llama_cpp_2=warn", sirocco_logs::Echo::Stderr) {
        eprintln!("sirocco: {e}; logging to stderr only");
    }
    sirocco_logs::install_panic_hook(logs, sirocco_logs::Program::App);
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "Sirocco starts");
    match secured {
        Ok(0) => {}
        Ok(n) => tracing::info!("the data folder is private now: {n} files and folders others could read were fixed"),
        Err(e) => tracing::warn!("the data folder could not be made private: {e}"),
    }
    // llama.cpp's backends load now, beside the window's start (a package picks its CPU variant
    // here); the engine logs which.
    std::thread::spawn(sirocco_engine::build_info);
    // Test builds only: a panic on request, to test what a crash leaves behind.
    if cfg!(debug_assertions) && std::env::var_os("SIROCCO_PANIC_AT_START").is_some() {
        panic!("SIROCCO_PANIC_AT_START asked for a panic");
    }
    let app = builder().build(tauri::generate_context!()).expect("error while building the Sirocco app");
    if let Some(instance) = instance {
        let handle = app.handle().clone();
        instance.serve(move |show, files| bring_forward(&handle, show, files));
    }
    app.run(|_, _| {});
}

/// Shows the main window on top (unless the launch was hidden: one at login) and opens `files`
/// (a second launch asked); false while it is closing.
fn bring_forward(app: &tauri::AppHandle, show: bool, files: Vec<std::path::PathBuf>) -> bool {
    use std::sync::atomic::Ordering;
    use tauri::Manager;
    let closing = app.try_state::<AppState>().is_none_or(|s| s.closing.load(Ordering::SeqCst));
    if !show {
        return !closing;
    }
    let shown = tray::show_window(app);
    if shown {
        tracing::info!(files = files.len(), "a second launch brought the window forward");
        if !files.is_empty() {
            use tauri::Emitter;
            let _ = app.emit_to("main", "open-files", files);
        }
    }
    shown
}

/// The files this launch was asked to open (`sirocco-app model.gguf`, a file manager's "Open
/// with"): its arguments that name a `.gguf` file, as full paths (folders and the rest are not
/// for opening).
fn files_to_open() -> Vec<std::path::PathBuf> {
    let here = std::env::current_dir().unwrap_or_default();
    std::env::args_os()
        .skip(1)
        .filter(|a| !a.to_string_lossy().starts_with('-'))
        .map(|a| here.join(a))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf")))
        .collect()
}
