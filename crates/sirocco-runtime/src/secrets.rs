//! The system keyring's entries, under the app's identifier ([`KEYRING_SERVICE`]): the Hub
//! token, the local server's API key and MCP servers' secrets (their config files keep a
//! placeholder). The app and the CLI read them here alike.
//!
//! Every keyring call blocks (a D-Bus round trip, or longer while a locked keyring asks the
//! user), so these functions run it on tokio's blocking pool.

use sirocco_hub::credentials::{CredentialError, SecretStore, TokenStore};
use sirocco_mcp::{McpConfig, McpError, ServerEntry};

/// The app's name in the system keyring (its identifier).
pub const KEYRING_SERVICE: &str = sirocco_folders::APP_IDENTIFIER;

/// The keyring account of the local server's API key.
const SERVER_API_KEY: &str = "server-api-key";

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, CredentialError> + Send + 'static,
) -> Result<T, CredentialError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(CredentialError::Unavailable(format!("the keyring call stopped: {e}"))))
}

/// The Hub token saved in the keyring (none when none was saved).
pub async fn hub_token() -> Result<Option<String>, CredentialError> {
    blocking(|| TokenStore::new(KEYRING_SERVICE).get()).await
}

/// Keeps the Hub token (none: forgets it).
pub async fn keep_hub_token(token: Option<String>) -> Result<(), CredentialError> {
    blocking(move || {
        let store = TokenStore::new(KEYRING_SERVICE);
        match token {
            Some(token) => store.set(&token),
            None => store.clear(),
        }
    })
    .await
}

/// The local server's API key (none when none is kept, or the keyring cannot say: logged).
pub async fn server_api_key() -> Option<String> {
    blocking(|| SecretStore::new(KEYRING_SERVICE).get(SERVER_API_KEY)).await.unwrap_or_else(|e| {
        tracing::warn!("the server's API key could not be read: {e}");
        None
    })
}

/// Keeps the server's API key (none or blank: forgets it).
pub async fn keep_server_api_key(key: Option<String>) -> Result<(), CredentialError> {
    let key = key.filter(|k| !k.trim().is_empty());
    blocking(move || {
        let store = SecretStore::new(KEYRING_SERVICE);
        match key {
            Some(key) => store.set(SERVER_API_KEY, &key),
            None => store.clear(SERVER_API_KEY),
        }
    })
    .await
}

/// Moves the secrets of the MCP servers `names` into the keyring (the entries keep
/// placeholders).
pub async fn keep_mcp_secrets(config: &mut McpConfig, names: &[String]) -> Result<(), CredentialError> {
    let taken: Vec<(String, String)> = names
        .iter()
        .filter_map(|name| config.servers.get_mut(name).map(|entry| entry.take_secrets(name)))
        .flatten()
        .collect();
    if taken.is_empty() {
        return Ok(());
    }
    blocking(move || {
        let store = SecretStore::new(KEYRING_SERVICE);
        taken.iter().try_for_each(|(account, secret)| store.set(account, secret))
    })
    .await
}

/// Forgets the keyring's secrets of `entry` (the MCP server `name`'s). Best effort: a keyring
/// that cannot be reached keeps them, and says so in the log.
pub async fn forget_mcp_secrets(name: &str, entry: &ServerEntry) {
    forget_accounts(name, entry.secret_accounts(name)).await;
}

/// Forgets the secrets of `old` (the MCP server `name`'s entry before it was replaced) that
/// `new` does not use.
pub async fn forget_replaced_mcp_secrets(name: &str, old: &ServerEntry, new: &ServerEntry) {
    let kept = new.secret_accounts(name);
    let unused = old.secret_accounts(name).into_iter().filter(|a| !kept.contains(a)).collect();
    forget_accounts(name, unused).await;
}

async fn forget_accounts(name: &str, accounts: Vec<String>) {
    if accounts.is_empty() {
        return;
    }
    let forgot = blocking(move || {
        let store = SecretStore::new(KEYRING_SERVICE);
        accounts.iter().try_for_each(|account| store.clear(account))
    })
    .await;
    if let Err(e) = forgot {
        tracing::warn!("could not forget {name}'s secrets: {e}");
    }
}

/// The MCP server `name`'s `entry` as it starts: its placeholders replaced by the keyring's
/// secrets (a missing one is an error naming it).
pub async fn mcp_entry_with_secrets(name: &str, entry: &ServerEntry) -> Result<ServerEntry, McpError> {
    if entry.secret_accounts(name).is_empty() {
        return Ok(entry.clone());
    }
    let (name, entry) = (name.to_owned(), entry.clone());
    tokio::task::spawn_blocking(move || {
        let store = SecretStore::new(KEYRING_SERVICE);
        entry.with_secrets(&name, |account| store.get(account).map_err(|e| e.to_string()))
    })
    .await
    .unwrap_or_else(|e| Err(McpError::Config(format!("the keyring call stopped: {e}"))))
}
