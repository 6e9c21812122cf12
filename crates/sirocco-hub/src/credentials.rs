//! The Hub access token (and the app's other secrets: MCP servers' headers and keys) in the
//! operating system's keyring (Secret Service on Linux — GNOME
//! Keyring, KWallet —, Keychain on macOS, Credential Manager on Windows): never in a settings
//! file, never in a log.
//!
//! The calls block (D-Bus round trips on Linux): call them off the async runtime.

use std::fmt;

/// The keyring entry that holds one app's Hub token.
pub struct TokenStore {
    service: String,
}

/// An app's other secrets in the keyring, each under an account name of its own (e.g. an MCP
/// server's header: `mcp/<server>/header/<name>`).
pub struct SecretStore {
    service: String,
}

impl SecretStore {
    /// `service` names the app in the keyring (its identifier, e.g. `dev.sirocco.app`).
    pub fn new(service: impl Into<String>) -> Self {
        Self { service: service.into() }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, CredentialError> {
        keyring::Entry::new(&self.service, account).map_err(map_error)
    }

    /// The secret saved under `account`, if there is one.
    pub fn get(&self, account: &str) -> Result<Option<String>, CredentialError> {
        match self.entry(account)?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e)),
        }
    }

    /// Saves `secret` under `account` (replacing any saved one).
    pub fn set(&self, account: &str, secret: &str) -> Result<(), CredentialError> {
        self.entry(account)?.set_password(secret).map_err(map_error)
    }

    /// Forgets the secret under `account` (nothing saved is not an error).
    pub fn clear(&self, account: &str) -> Result<(), CredentialError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error(e)),
        }
    }
}

impl fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretStore").field("service", &self.service).finish()
    }
}

/// Why the keyring could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error(
        "no system keyring is available ({0}); the secret was not saved — \
         on Linux, a Secret Service such as GNOME Keyring or KWallet keeps it"
    )]
    Unavailable(String),
    #[error("the system keyring refused: {0}")]
    Refused(String),
}

const ACCOUNT: &str = "huggingface-token";

impl TokenStore {
    /// `service` names the app in the keyring (its identifier, e.g. `dev.sirocco.app`).
    pub fn new(service: impl Into<String>) -> Self {
        Self { service: service.into() }
    }

    fn entry(&self) -> Result<keyring::Entry, CredentialError> {
        keyring::Entry::new(&self.service, ACCOUNT).map_err(map_error)
    }

    /// The saved token, if there is one.
    pub fn get(&self) -> Result<Option<String>, CredentialError> {
        match self.entry()?.get_password() {
            Ok(token) => Ok(Some(token).filter(|t| !t.is_empty())),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e)),
        }
    }

    /// Saves `token` (replacing any saved one).
    pub fn set(&self, token: &str) -> Result<(), CredentialError> {
        self.entry()?.set_password(token).map_err(map_error)
    }

    /// Forgets the saved token (nothing saved is not an error).
    pub fn clear(&self) -> Result<(), CredentialError> {
        match self.entry()?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error(e)),
        }
    }
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStore").field("service", &self.service).finish()
    }
}

fn map_error(e: keyring::Error) -> CredentialError {
    match e {
        keyring::Error::PlatformFailure(inner) | keyring::Error::NoStorageAccess(inner) => {
            CredentialError::Unavailable(inner.to_string())
        }
        other => CredentialError::Refused(other.to_string()),
    }
}

/// A token as logs and the UI may show it: its first characters only.
pub fn redacted(token: &str) -> String {
    let head: String = token.chars().take(5).collect();
    if token.chars().count() > 8 {
        format!("{head}…")
    } else {
        "…".to_owned()
    }
}
