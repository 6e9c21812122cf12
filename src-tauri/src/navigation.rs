//! The window is the app's: no page takes it anywhere else. A link in a model card, an answer, a
//! tool's result or the Arena is text from someone else, and the window has no address bar, so
//! another site shown in it (a fake "Sign in" page) could not be told from the app. Every
//! webview's navigations go through [`guard`]: the app's own page may load, another site's web
//! address (http, https) opens in the system browser instead, and anything else (`javascript:`,
//! `file:`, `data:`, a custom scheme) is refused and opened nowhere.
//!
//! The page catches clicks on links before they navigate and asks for [`open_in_browser`]
//! itself (ui/src/lib/links.ts); this guard is the layer under it, for whatever the page did not
//! catch.
//!
//! New windows (`target="_blank"`, `window.open`) need no handler of ours: with none set, wry
//! refuses them on every platform (WebKitGTK's `create` signal is left unconnected, so no view is
//! made; WebView2's request is marked handled; WKWebView's delegate returns no view). They open
//! nothing, in the app or out of it.

use tauri::plugin::TauriPlugin;
use tauri::{Manager, Runtime, Url};

/// Where a navigation goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Destination {
    /// The app's own page: the window goes there.
    App,
    /// Another site: the system browser shows it; the window stays where it is.
    Browser,
    /// Not a web page: shown nowhere.
    Nowhere,
}

/// Where `url` goes, the app's own page being any address of `app_origins`.
pub(crate) fn destination(url: &Url, app_origins: &[Url]) -> Destination {
    if app_origins.iter().any(|app| same_origin(url, app)) {
        Destination::App
    } else if matches!(url.scheme(), "http" | "https") {
        Destination::Browser
    } else {
        Destination::Nowhere
    }
}

/// Where the app's page is served from on this platform: `tauri://localhost` on Linux and macOS,
/// `http(s)://tauri.localhost` on Windows and Android (intercepted by the webview there; on
/// Linux the same name would reach whatever listens on this machine's port 80, so it is not
/// the app's here), and the development server in a development build (`dev_url`, ignored in a
/// release: there, that address is nobody's).
pub(crate) fn app_origins(dev_url: Option<&Url>) -> Vec<Url> {
    let bundled: &[&str] = if cfg!(any(windows, target_os = "android")) {
        &["http://tauri.localhost", "https://tauri.localhost"]
    } else {
        &["tauri://localhost"]
    };
    let mut origins: Vec<Url> = bundled.iter().map(|u| Url::parse(u).expect("a valid URL")).collect();
    if tauri::is_dev() {
        origins.extend(dev_url.cloned());
    }
    origins
}

/// The app's origins as this app is configured (its `devUrl` for a development build).
pub(crate) fn app_origins_of<R: Runtime>(app: &impl Manager<R>) -> Vec<Url> {
    app_origins(app.config().build.dev_url.as_ref())
}

/// Scheme, host and port alike. `Url::origin` cannot say it: a custom scheme's origin (`tauri:`)
/// is opaque and equal to nothing, not even itself.
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}

/// Opens a web address in the system browser (the desktop's default handler); blocks while the
/// launcher starts. Call it off the UI thread. The error names the link's host only, as the log
/// does everywhere: a link's path and query may carry what is nobody's business.
pub(crate) fn open_in_browser(url: &Url) -> Result<(), String> {
    tauri_plugin_opener::open_url(url.as_str(), None::<&str>).map_err(|e| {
        let link = format!("<a link to {}>", url.host_str().unwrap_or("?"));
        format!("no browser could open the link: {}", e.to_string().replace(url.as_str(), &link))
    })
}

/// The plugin that holds every webview of the app to its own page.
pub fn guard<R: Runtime>() -> TauriPlugin<R> {
    tauri::plugin::Builder::new("navigation-guard")
        .on_navigation(|webview, url| {
            // Only the host is logged (see open_in_browser).
            match destination(url, &app_origins_of(webview)) {
                Destination::App => true,
                Destination::Browser => {
                    tracing::info!(
                        host = url.host_str().unwrap_or(""),
                        "a link to another site opens in the system browser"
                    );
                    // Launching the browser may wait on it; this runs on the UI thread.
                    let url = url.clone();
                    std::thread::spawn(move || {
                        if let Err(e) = open_in_browser(&url) {
                            tracing::warn!(host = url.host_str().unwrap_or(""), "{e}");
                        }
                    });
                    false
                }
                Destination::Nowhere => {
                    tracing::warn!(scheme = url.scheme(), "refused a navigation to something other than a web page");
                    false
                }
            }
        })
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn to(s: &str) -> Destination {
        destination(&url(s), &[url("tauri://localhost"), url("http://localhost:5173")])
    }

    #[test]
    fn the_apps_own_pages_stay_in_the_window() {
        assert_eq!(to("tauri://localhost"), Destination::App);
        assert_eq!(to("tauri://localhost/index.html#usage"), Destination::App);
        assert_eq!(to("http://localhost:5173/src/main.ts?t=1"), Destination::App);
    }

    #[test]
    fn other_sites_open_in_the_browser() {
        assert_eq!(to("https://huggingface.co/login"), Destination::Browser);
        assert_eq!(to("http://127.0.0.1:8080/phish"), Destination::Browser);
        // Near misses of the app's addresses are other sites.
        assert_eq!(to("http://localhost:5174/"), Destination::Browser);
        assert_eq!(to("http://localhost/"), Destination::Browser);
        assert_eq!(to("https://localhost:5173/"), Destination::Browser);
        assert_eq!(to("http://tauri.localhost.evil.example/"), Destination::Browser);
        assert_eq!(to("http://localhost.evil.example:5173/"), Destination::Browser);
    }

    #[test]
    fn what_is_not_a_web_page_goes_nowhere() {
        for s in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,<h1>Sign in</h1>",
            "about:blank",
            "ftp://127.0.0.1/x",
            "tauri://evil.example/",
            "asset://localhost/%2Fetc%2Fpasswd",
            "mailto:someone@example.com",
        ] {
            assert_eq!(to(s), Destination::Nowhere, "{s}");
        }
    }

    #[test]
    fn the_app_is_its_bundle_here_and_the_dev_server_only_in_a_dev_build() {
        let dev = url("http://localhost:5173");
        let origins = app_origins(Some(&dev));
        let bundle = if cfg!(windows) { url("http://tauri.localhost/") } else { url("tauri://localhost/") };
        assert_eq!(destination(&bundle, &origins), Destination::App);
        let dev_page = destination(&url("http://localhost:5173/"), &origins);
        assert_eq!(dev_page, if tauri::is_dev() { Destination::App } else { Destination::Browser });
        if !cfg!(any(windows, target_os = "android")) {
            // Off Windows that name is a real address (this machine's port 80), not the app.
            assert_eq!(destination(&url("http://tauri.localhost/"), &origins), Destination::Browser);
        }
    }
}
