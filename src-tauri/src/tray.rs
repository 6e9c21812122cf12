//! The tray icon and what keeps Sirocco running without its window.
//!
//! The icon's menu: open Sirocco, the server's state with its address and a switch, the loaded
//! models each with eject, quit. It is rebuilt from [`TrayView`] whenever models load or unload
//! and the server starts or stops. Every entry is an [`Action`], and [`perform`] is the one
//! place each is done: the menu calls it, and so do the page's own "Quit" and "Keep running"
//! (the end-to-end tests drive those).
//!
//! Closing the window ([`close_requested`]) keeps Sirocco running, the window hidden, while
//! the server is on, an answer streams or a download runs — unless the user chose "quit" (the
//! `background` setting). The first time, the page asks (`close-to-tray`), and the answer is
//! kept. Otherwise closing quits: the conversations' caches are saved (their models unloaded)
//! first.
//!
//! Linux shows the icon through libayatana-appindicator (loaded at run time): without it there
//! is no icon ([`install`] says so in the log), and a hidden window comes back by launching
//! Sirocco again (see `sirocco_runtime::instance`).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::{AppHandle, Emitter, Manager};

use crate::AppState;

const TRAY_ID: &str = "sirocco";

/// What an entry of the tray's menu does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Shows the window, on top.
    Open,
    /// Starts the server with its saved settings, or stops it.
    ToggleServer,
    /// Unloads the model with this id.
    Eject(String),
    /// Ends Sirocco (its caches saved first).
    Quit,
}

impl Action {
    fn id(&self) -> String {
        match self {
            Action::Open => "open".into(),
            Action::ToggleServer => "server".into(),
            Action::Eject(model) => format!("eject:{model}"),
            Action::Quit => "quit".into(),
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        match id {
            "open" => Some(Action::Open),
            "server" => Some(Action::ToggleServer),
            "quit" => Some(Action::Quit),
            _ => id.strip_prefix("eject:").map(|m| Action::Eject(m.to_owned())),
        }
    }
}

/// What the menu shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrayView {
    pub serving: Option<SocketAddr>,
    /// Another Sirocco (the service) serves the saved port; this one uses it.
    pub elsewhere: bool,
    pub models: Vec<String>,
}

/// One line of the menu.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Item { action: Option<Action>, text: String },
    Separator,
}

impl TrayView {
    /// The menu, top to bottom (lines without an action are shown greyed).
    pub fn entries(&self) -> Vec<Entry> {
        let item = |action: Option<Action>, text: String| Entry::Item { action, text };
        let mut entries = vec![item(Some(Action::Open), "Open Sirocco".into()), Entry::Separator];
        match (self.serving, self.elsewhere) {
            (Some(addr), _) => {
                entries.push(item(None, format!("Server on at http://{addr}/v1")));
                entries.push(item(Some(Action::ToggleServer), "Stop the server".into()));
            }
            (None, true) => entries.push(item(None, "Served by another Sirocco (the service)".into())),
            (None, false) => {
                entries.push(item(None, "Server off".into()));
                entries.push(item(Some(Action::ToggleServer), "Start the server".into()));
            }
        }
        entries.push(Entry::Separator);
        if self.models.is_empty() {
            entries.push(item(None, "No model loaded".into()));
        }
        for model in &self.models {
            entries.push(item(Some(Action::Eject(model.clone())), format!("Eject {model}")));
        }
        entries.push(Entry::Separator);
        entries.push(item(Some(Action::Quit), "Quit Sirocco".into()));
        entries
    }
}

/// Whether a tray icon can be shown here: the indicator library loads.
fn indicator_available() -> bool {
    ["libayatana-appindicator3.so.1", "libappindicator3.so.1"]
        .iter()
        // SAFETY: loading a system library whose initialisers are GTK's own (dropped at once;
        // the tray loads it again by the same name).
        .any(|name| unsafe { libloading::Library::new(name) }.is_ok())
}

/// Adds the icon (false, logged, where no tray can be shown) and keeps its menu current.
pub fn install(app: &AppHandle) -> bool {
    if !indicator_available() {
        tracing::info!("no tray icon: libayatana-appindicator3 is not installed");
        return false;
    }
    let menu = match build_menu(app, &TrayView::default()) {
        Ok(menu) => menu,
        Err(e) => {
            tracing::warn!("no tray icon: {e}");
            return false;
        }
    };
    let mut builder = tauri::tray::TrayIconBuilder::with_id(TRAY_ID)
        .tooltip("Sirocco")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| match Action::from_id(event.id().as_ref()) {
            Some(action) => perform(app, action),
            None => tracing::warn!(id = event.id().as_ref(), "a tray menu entry with no action"),
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    match builder.build(app) {
        Ok(_) => {
            use tauri::Listener;
            let handle = app.clone();
            app.listen_any("server-changed", move |_| refresh(&handle));
            refresh(app);
            true
        }
        Err(e) => {
            tracing::warn!("no tray icon: {e}");
            false
        }
    }
}

fn build_menu(app: &AppHandle, view: &TrayView) -> tauri::Result<Menu<tauri::Wry>> {
    let menu = Menu::new(app)?;
    for entry in view.entries() {
        match entry {
            Entry::Separator => menu.append(&PredefinedMenuItem::separator(app)?)?,
            Entry::Item { action: Some(action), text } => {
                menu.append(&MenuItem::with_id(app, action.id(), text, true, None::<&str>)?)?
            }
            Entry::Item { action: None, text } => menu.append(&MenuItem::new(app, text, false, None::<&str>)?)?,
        }
    }
    Ok(menu)
}

/// Rebuilds the menu from what runs now (nothing where there is no icon).
pub fn refresh(app: &AppHandle) {
    if app.tray_by_id(TRAY_ID).is_none() {
        return;
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let status = crate::commands::server::status_of(&app).await;
        let state = app.state::<AppState>();
        let view = TrayView {
            serving: state.server_addr().await,
            elsewhere: status.elsewhere.is_some(),
            models: state.host.loaded_ids(),
        };
        let handle = app.clone();
        // Menus are made on the main thread; one like the menu shown is
        // not made again (models are leased and released on every request).
        let _ = app.run_on_main_thread(move || {
            static SHOWN: std::sync::Mutex<Option<TrayView>> = std::sync::Mutex::new(None);
            let mut shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner());
            if shown.as_ref() == Some(&view) {
                return;
            }
            let Some(tray) = handle.tray_by_id(TRAY_ID) else { return };
            match build_menu(&handle, &view) {
                Ok(menu) => {
                    let _ = tray.set_menu(Some(menu));
                    *shown = Some(view.clone());
                    let tip = match view.serving {
                        Some(addr) => format!("Sirocco — serving at http://{addr}/v1"),
                        None => "Sirocco".to_owned(),
                    };
                    let _ = tray.set_tooltip(Some(tip));
                }
                Err(e) => tracing::warn!("the tray's menu: {e}"),
            }
        });
    });
}

/// Does what a tray entry (or the page's own button for it) asks.
pub fn perform(app: &AppHandle, action: Action) {
    tracing::info!(?action, "tray");
    match action {
        Action::Open => {
            show_window(app);
        }
        Action::ToggleServer => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let state = app.state::<AppState>();
                if state.server_addr().await.is_some() {
                    state.stop_server().await;
                    crate::commands::server::changed(&app);
                } else if let Err(e) = crate::commands::server::start_saved(&app).await {
                    tracing::warn!("the server did not start from the tray: {e}");
                    let _ = app.emit("server-error", e);
                }
            });
        }
        Action::Eject(model) => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let state = app.state::<AppState>();
                if let Err(e) = state.host.unload(&model).await {
                    tracing::warn!(model, "not ejected from the tray: {e}");
                }
            });
        }
        Action::Quit => quit(app),
    }
}

/// Shows the main window on top; false while Sirocco is quitting (or has no window).
pub fn show_window(app: &AppHandle) -> bool {
    let Some(state) = app.try_state::<AppState>() else { return false };
    if state.closing.load(Ordering::SeqCst) {
        return false;
    }
    let Some(window) = app.get_webview_window("main") else { return false };
    let _ = window.unminimize();
    let _ = window.show();
    let _ = window.set_focus();
    true
}

/// Hides the window; Sirocco keeps running (the tray, or a second launch, shows it again).
pub fn hide_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.hide();
        tracing::info!("the window is hidden: Sirocco keeps running in the background");
    }
}

/// Ends Sirocco: the server stops (five seconds at most for its open requests), the loaded
/// models are unloaded (which saves their conversations' caches; ten seconds at most), then the
/// process exits. A second call while
/// it does exits at once.
pub fn quit(app: &AppHandle) {
    let state = app.state::<AppState>();
    if state.closing.swap(true, Ordering::SeqCst) {
        app.exit(0);
        return;
    }
    tracing::info!("quitting: saving the conversations' caches first");
    let (app, runtime) = (app.clone(), state.runtime.clone());
    tauri::async_runtime::spawn(async move {
        // A client that keeps a stream open (or reads it slowly) does not hold the quit up.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), runtime.stop_server()).await;
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), runtime.host.unload_all()).await;
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.destroy();
        }
        app.exit(0);
    });
}

/// What the page is told when a first close would keep Sirocco running: why, so it can say so.
#[derive(Clone, serde::Serialize, ts_rs::TS)]
pub struct KeepRunning {
    /// The server's address, while it runs.
    pub serving: Option<String>,
    pub answers: usize,
    pub downloads: usize,
    /// A tray icon is shown (else the window comes back by launching Sirocco again).
    pub tray: bool,
}

/// The window's close button: hide (busy, and the user keeps Sirocco running), ask the page
/// first (the first time), or quit. A close asked again while the page asks quits.
pub fn close_requested(window: &tauri::Window, api: &tauri::CloseRequestApi) {
    let app = window.app_handle().clone();
    let state = app.state::<AppState>();
    if state.closing.load(Ordering::SeqCst) {
        return;
    }
    api.prevent_close();
    if state.asking_to_keep_running.swap(false, Ordering::SeqCst) {
        quit(&app);
        return;
    }
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let activity = state.activity().await;
        let background = crate::settings::read(&app).background;
        if activity.is_idle() || !background.keep_running {
            quit(&app);
        } else if background.told {
            hide_window(&app);
        } else {
            state.asking_to_keep_running.store(true, Ordering::SeqCst);
            let tray = app.tray_by_id(TRAY_ID).is_some();
            let why = KeepRunning {
                serving: activity.serving.map(|addr| format!("http://{addr}/v1")),
                answers: activity.answers,
                downloads: activity.downloads,
                tray,
            };
            if app.emit_to("main", "close-to-tray", why).is_err() {
                quit(&app);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_goes_through_its_menu_id_and_back() {
        for action in [Action::Open, Action::ToggleServer, Action::Eject("org/repo:Q4_K_M".into()), Action::Quit] {
            assert_eq!(Action::from_id(&action.id()), Some(action));
        }
        assert_eq!(Action::from_id("something else"), None);
    }

    fn texts(view: &TrayView) -> Vec<String> {
        view.entries()
            .into_iter()
            .map(|e| match e {
                Entry::Item { action: Some(_), text } => text,
                Entry::Item { action: None, text } => format!("({text})"),
                Entry::Separator => "—".into(),
            })
            .collect()
    }

    #[test]
    fn the_menu_shows_the_server_and_each_loaded_model() {
        let serving = TrayView {
            serving: Some("127.0.0.1:1234".parse().unwrap()),
            elsewhere: false,
            models: vec!["smollm2".into(), "gemma".into()],
        };
        assert_eq!(
            texts(&serving),
            [
                "Open Sirocco",
                "—",
                "(Server on at http://127.0.0.1:1234/v1)",
                "Stop the server",
                "—",
                "Eject smollm2",
                "Eject gemma",
                "—",
                "Quit Sirocco"
            ]
        );
        let idle = TrayView::default();
        assert_eq!(
            texts(&idle),
            ["Open Sirocco", "—", "(Server off)", "Start the server", "—", "(No model loaded)", "—", "Quit Sirocco"]
        );
        let service = TrayView { elsewhere: true, ..TrayView::default() };
        assert!(texts(&service).contains(&"(Served by another Sirocco (the service))".to_owned()));
        assert!(!texts(&service).contains(&"Start the server".to_owned()), "no second server beside the service");
    }
}
