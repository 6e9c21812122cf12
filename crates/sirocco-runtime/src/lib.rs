//! `sirocco-runtime`: what a running Sirocco is, for the app and the CLI alike, so neither
//! assembles it on its own. Its first part is [`settings`]: the one typed settings file both
//! read. (The store, the model host, the MCP pool and the server's start and stop move here
//! next; see ARCHITECTURE.md.)
//!
//! Nothing here knows Tauri: the app hands its settings store's entries in, the CLI reads the
//! file.

pub mod settings;

pub use settings::{ModelMemory, ServerSettings, Settings, WorkerEntry};
