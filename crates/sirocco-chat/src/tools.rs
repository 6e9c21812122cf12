//! Tools in a turn: what the turn needs of whoever offers them ([`ToolHost`]: the tools, the
//! user's approval of each call, running it), [`McpTools`], the host for MCP servers' tools
//! that the app and `sirocco chat` use (their approval asked in their own way), and
//! [`PendingApprovals`], the calls waiting for an answer from a page.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use sirocco_mcp::McpServer;
use sirocco_store::{ToolCallRecord, ToolCallResult, ToolCallStatus};

/// The user's answer to "may the model call this?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    /// This call only.
    Once,
    /// This call, and every later call of the same tool without asking.
    Always,
    Deny,
}

/// Whoever offers tools to a turn.
pub trait ToolHost: Send + Sync {
    /// The tools the model is offered.
    fn tools(&self) -> Vec<sirocco_engine::Tool>;
    /// The server that has `tool`, for the record.
    fn server_of(&self, tool: &str) -> Option<String>;
    /// Asks the user (or answers from what they said before).
    fn approve<'a>(&'a self, call: &'a ToolCallRecord) -> BoxFuture<'a, Approval>;
    /// Runs the call; its text at most `max_chars`; `stop` ends it early.
    fn run<'a>(
        &'a self,
        call: &'a ToolCallRecord,
        max_chars: usize,
        stop: Arc<AtomicBool>,
    ) -> BoxFuture<'a, ToolCallResult>;
}

/// Asks the user about one call.
pub type Approver = Box<dyn Fn(&ToolCallRecord) -> BoxFuture<'static, Approval> + Send + Sync>;

/// MCP servers' tools: the servers' tools (the first server's where two share a name), calls
/// approved through `approver` unless the tool was allowed always.
pub struct McpTools {
    servers: Vec<Arc<McpServer>>,
    approver: Approver,
    always: Mutex<HashSet<String>>,
}

impl McpTools {
    /// The tools of `servers` (running ones, which may be shared with other turns).
    pub fn new(servers: Vec<Arc<McpServer>>, approver: Approver) -> Self {
        Self { servers, approver, always: Mutex::new(HashSet::new()) }
    }

    /// Tools the user allowed always (kept by the caller between sessions if it wants).
    pub fn allow_always(&self, tool: &str) {
        self.always.lock().expect("never poisoned").insert(tool.to_owned());
    }

    fn server_with(&self, tool: &str) -> Option<&McpServer> {
        self.servers.iter().find(|s| s.tools().iter().any(|t| t.name == tool)).map(|s| &**s)
    }

    /// Ends every server's session that no one else holds.
    pub async fn close(self) {
        for server in self.servers {
            if let Ok(server) = Arc::try_unwrap(server) {
                server.close().await;
            }
        }
    }
}

impl ToolHost for McpTools {
    fn tools(&self) -> Vec<sirocco_engine::Tool> {
        let mut seen = HashSet::new();
        self.servers
            .iter()
            .flat_map(|s| s.tools())
            .filter(|t| seen.insert(t.name.clone()))
            .map(|t| sirocco_engine::Tool {
                name: t.name.clone(),
                description: t.description.clone(),
                parameters: t.input_schema.clone(),
            })
            .collect()
    }

    fn server_of(&self, tool: &str) -> Option<String> {
        self.server_with(tool).map(|s| s.name().to_owned())
    }

    fn approve<'a>(&'a self, call: &'a ToolCallRecord) -> BoxFuture<'a, Approval> {
        Box::pin(async move {
            if self.always.lock().expect("never poisoned").contains(&call.name) {
                return Approval::Always;
            }
            let answer = (self.approver)(call).await;
            if answer == Approval::Always {
                self.allow_always(&call.name);
            }
            answer
        })
    }

    fn run<'a>(
        &'a self,
        call: &'a ToolCallRecord,
        max_chars: usize,
        stop: Arc<AtomicBool>,
    ) -> BoxFuture<'a, ToolCallResult> {
        Box::pin(async move {
            let failed = |text: String| ToolCallResult { status: ToolCallStatus::Failed, text, cut_from: None };
            let Some(server) = self.server_with(&call.name) else {
                return failed(format!("There is no tool named {}.", call.name));
            };
            let arguments =
                match serde_json::from_str(if call.arguments.trim().is_empty() { "{}" } else { &call.arguments }) {
                    Ok(v) => v,
                    Err(e) => return failed(format!("The arguments are not valid JSON: {e}.")),
                };
            tokio::select! {
                out = server.call(&call.name, arguments) => match out {
                    Ok(out) => {
                        let out = out.cut_to(max_chars);
                        let status = if out.is_error { ToolCallStatus::ToolError } else { ToolCallStatus::Done };
                        ToolCallResult { status, text: out.text, cut_from: out.cut_from }
                    }
                    Err(e) => failed(format!("The call failed: {e}.")),
                },
                _ = stopped(&stop) => ToolCallResult {
                    status: ToolCallStatus::Stopped,
                    text: "The user stopped the call.".into(),
                    cut_from: None,
                },
            }
        })
    }
}

/// Resolves once `stop` is set. The flag is a plain flag (the app's Stop sets it, as it does
/// for a generation): looked at every 100 ms.
pub(crate) async fn stopped(stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Calls waiting for the user's answer from somewhere else (the app's page): [`Self::ask`]
/// waits for [`Self::answer`] with the same call id.
#[derive(Default)]
pub struct PendingApprovals {
    waiting: Mutex<HashMap<String, tokio::sync::oneshot::Sender<Approval>>>,
}

impl PendingApprovals {
    /// Waits for the answer about the call `call_id`; a call nobody answers any more (the
    /// page went away) is denied. A wait given up (the turn stopped) is forgotten.
    pub fn ask(self: Arc<Self>, call_id: String) -> BoxFuture<'static, Approval> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.waiting.lock().expect("never poisoned").insert(call_id.clone(), tx);
        let forget = Forget(self, call_id);
        Box::pin(async move {
            let _forget = forget;
            rx.await.unwrap_or(Approval::Deny)
        })
    }

    /// Gives the user's answer about `call_id`; false when no call of that id is waiting.
    pub fn answer(&self, call_id: &str, approval: Approval) -> bool {
        let waiting = self.waiting.lock().expect("never poisoned").remove(call_id);
        waiting.is_some_and(|tx| tx.send(approval).is_ok())
    }

    /// The calls waiting now.
    pub fn waiting(&self) -> Vec<String> {
        self.waiting.lock().expect("never poisoned").keys().cloned().collect()
    }
}

/// Removes a wait when it ends, answered or given up.
struct Forget(Arc<PendingApprovals>, String);

impl Drop for Forget {
    fn drop(&mut self) {
        self.0.waiting.lock().expect("never poisoned").remove(&self.1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answer_reaches_the_call_that_waits_for_it() {
        let pending = Arc::new(PendingApprovals::default());
        let first = pending.clone().ask("call-1".into());
        let second = pending.clone().ask("call-2".into());
        assert_eq!(pending.waiting().len(), 2);
        assert!(pending.answer("call-2", Approval::Always));
        assert!(!pending.answer("call-3", Approval::Once), "no such call");
        assert_eq!(second.await, Approval::Always);
        assert!(pending.answer("call-1", Approval::Deny));
        assert_eq!(first.await, Approval::Deny);
        assert!(pending.waiting().is_empty());
    }

    #[tokio::test]
    async fn a_wait_given_up_is_forgotten_and_cannot_be_answered() {
        let pending = Arc::new(PendingApprovals::default());
        let wait = pending.clone().ask("call-1".into());
        drop(wait);
        assert!(pending.waiting().is_empty());
        assert!(!pending.answer("call-1", Approval::Once));
    }
}
