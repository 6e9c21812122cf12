//! `sirocco-runtime`: what a running Sirocco is, for the app and the CLI alike, so neither
//! assembles it on its own:
//! - [`settings`]: the one typed settings file both read;
//! - [`Runtime`]: the folders, store, model host, Hub client, library, other machines, MCP pool
//!   and the local server's start and stop, opened by [`Runtime::open`]; conversation turns and
//!   one-off answers on its models, each with a stop flag (`answers.rs`);
//! - [`secrets`]: the keyring's entries (Hub token, server key, MCP servers' secrets);
//! - [`instance`]: one Sirocco per data folder (a second launch is forwarded to the first);
//! - [`autostart`]: starting Sirocco when the user logs in (an XDG autostart entry).
//!
//! Nothing here knows Tauri: the app hands its settings store's entries in, the CLI reads the
//! file.

mod answers;
pub mod autostart;
pub mod instance;
pub mod runtime;
pub mod secrets;
pub mod settings;

pub use answers::AnswerError;
pub use runtime::{hub_of, sirocco_serves, Activity, OpenError, Runtime, Serving, OLLAMA_PORT};
pub use secrets::KEYRING_SERVICE;
pub use settings::{BackgroundSettings, ModelMemory, ServerSettings, Settings, WorkerEntry};
