use serde::Serialize;

/// The one error type the UI sees: a message meant for a person.
#[derive(Debug, Serialize)]
pub struct IpcError {
    pub message: String,
}

impl From<sirocco_engine::EngineError> for IpcError {
    fn from(e: sirocco_engine::EngineError) -> Self {
        Self { message: e.to_string() }
    }
}

impl From<sirocco_hub::HubError> for IpcError {
    fn from(e: sirocco_hub::HubError) -> Self {
        Self { message: e.to_string() }
    }
}

impl From<sirocco_store::StoreError> for IpcError {
    fn from(e: sirocco_store::StoreError) -> Self {
        Self { message: e.to_string() }
    }
}

impl From<sirocco_store::CardError> for IpcError {
    fn from(e: sirocco_store::CardError) -> Self {
        Self { message: e.to_string() }
    }
}

impl From<sirocco_chat::ChatError> for IpcError {
    fn from(e: sirocco_chat::ChatError) -> Self {
        Self { message: e.to_string() }
    }
}

impl From<sirocco_host::HostError> for IpcError {
    fn from(e: sirocco_host::HostError) -> Self {
        Self { message: e.to_string() }
    }
}

impl From<&str> for IpcError {
    fn from(message: &str) -> Self {
        Self { message: message.to_owned() }
    }
}

impl From<String> for IpcError {
    fn from(message: String) -> Self {
        Self { message }
    }
}

pub type IpcResult<T> = Result<T, IpcError>;
