//! Servers kept running between uses: the first use starts one, later uses share it while its
//! entry is unchanged and its session lives; a changed entry or a server that went away is
//! started again.

use std::collections::HashMap;
use std::sync::Arc;

use crate::{McpError, McpLimits, McpServer, ServerEntry};

/// The running servers, by name.
#[derive(Default)]
pub struct McpPool {
    limits: McpLimits,
    running: tokio::sync::Mutex<HashMap<String, (ServerEntry, Arc<McpServer>)>>,
}

impl McpPool {
    pub fn new(limits: McpLimits) -> Self {
        Self { limits, running: Default::default() }
    }

    /// The server `name` as `entry` says, started if it is not running (one start at a time:
    /// two answers asking together share one server).
    pub async fn get(&self, name: &str, entry: &ServerEntry) -> Result<Arc<McpServer>, McpError> {
        let mut running = self.running.lock().await;
        if let Some((was, server)) = running.get(name) {
            if was == entry && !server.is_closed() {
                return Ok(server.clone());
            }
        }
        if let Some((_, old)) = running.remove(name) {
            close(old).await;
        }
        let server = Arc::new(McpServer::connect(name, entry, self.limits).await?);
        running.insert(name.to_owned(), (entry.clone(), server.clone()));
        Ok(server)
    }

    /// Stops the server `name` (once the calls that hold it are over).
    pub async fn stop(&self, name: &str) {
        let old = self.running.lock().await.remove(name);
        if let Some((_, old)) = old {
            close(old).await;
        }
    }

    /// The names of the servers running now.
    pub async fn running(&self) -> Vec<String> {
        let mut names: Vec<String> = self.running.lock().await.keys().cloned().collect();
        names.sort();
        names
    }

    /// Stops every server.
    pub async fn stop_all(&self) {
        let all: Vec<_> = self.running.lock().await.drain().collect();
        for (_, (_, server)) in all {
            close(server).await;
        }
    }
}

/// Closes `server` now if nothing else holds it; else the last holder's drop ends it (a stdio
/// server's process is killed when its session is dropped).
async fn close(server: Arc<McpServer>) {
    if let Ok(server) = Arc::try_unwrap(server) {
        server.close().await;
    }
}
