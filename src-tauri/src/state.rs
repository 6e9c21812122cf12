//! What the commands share: the [`Runtime`] (the same value `sirocco serve` and `sirocco chat`
//! open: store, model host, Hub client, library, MCP pool, server) and what only the window
//! needs on top — the flag that cancels its load, the tool calls waiting for its answer, the
//! crash report it shows once.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use sirocco_runtime::Runtime;

pub struct AppState {
    pub runtime: Arc<Runtime>,
    /// What a panic last time left, until the page asks for it.
    pub crash: Mutex<Option<sirocco_logs::CrashReport>>,
    pub load_cancel: Mutex<Arc<AtomicBool>>,
    /// The window asked to close and its conversations' caches are being saved.
    pub closing: AtomicBool,
    /// Tool calls waiting for the user's answer on the page.
    pub approvals: Arc<sirocco_chat::PendingApprovals>,
    /// The page asks whether closing keeps Sirocco running (the first time it would).
    pub asking_to_keep_running: AtomicBool,
}

impl AppState {
    pub fn new(runtime: Arc<Runtime>) -> Self {
        Self {
            crash: Mutex::new(sirocco_logs::take_crash_report(&runtime.folders.logs(), sirocco_logs::Program::App)),
            runtime,
            load_cancel: Mutex::new(Arc::new(AtomicBool::new(false))),
            closing: AtomicBool::new(false),
            approvals: Arc::default(),
            asking_to_keep_running: AtomicBool::new(false),
        }
    }
}

/// The commands reach the runtime's parts through the state (`state.store`, `state.host`…).
impl std::ops::Deref for AppState {
    type Target = Runtime;

    fn deref(&self) -> &Runtime {
        &self.runtime
    }
}
