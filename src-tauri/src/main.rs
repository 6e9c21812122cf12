// No console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // What Sirocco writes is its user's alone (0600/0700), from the first file on.
    sirocco_folders::make_private_by_default();
    // A model on other machines runs in a child process: this executable again, without a window.
    sirocco_engine::process::run_if_child();
    // Attached documents are parsed in a child process too: this executable, without a window.
    sirocco_documents::run_if_reader();
    #[cfg(target_os = "linux")]
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        eprintln!(
            "Sirocco needs a graphical display, and neither DISPLAY nor WAYLAND_DISPLAY is set.\n\
             On a machine without a screen, start it under Xvfb (the README's run command does this),\n\
             or use the headless `sirocco` command line instead."
        );
        std::process::exit(2);
    }
    sirocco_app::run();
}
