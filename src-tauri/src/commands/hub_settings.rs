//! The Hub's endpoint (a mirror, a company proxy) and access token (gated repositories). The
//! token goes to the system keyring only; the page learns whose it is, never its value.

use sirocco_hub::{Hub, HubConfig, SearchQuery};
use sirocco_runtime::secrets;
use tauri::{AppHandle, State};

use crate::error::IpcResult;
use crate::{settings, AppState};

#[derive(serde::Serialize, ts_rs::TS)]
pub struct HubSettings {
    /// The endpoint in use.
    endpoint: String,
    /// The endpoint saved in the settings (empty: the default, or `HF_ENDPOINT`).
    saved_endpoint: String,
    /// Where the token in use comes from.
    token: TokenSource,
    /// Whose token it is, when the Hub says so (`None` without a token or when unreachable).
    account: Option<String>,
    /// Why the account is unknown (the Hub refused the token, or could not be reached).
    account_error: Option<String>,
}

/// Where the Hub token in use comes from (never the token itself).
#[derive(serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum TokenSource {
    /// The system keyring.
    Keyring,
    /// Kept for this session only: the keyring could not keep it.
    Session,
    /// `HF_TOKEN`.
    Environment,
    None,
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn hub_settings(app: AppHandle, state: State<'_, AppState>) -> IpcResult<HubSettings> {
    let in_keyring = secrets::hub_token().await.ok().flatten().is_some();
    Ok(describe(&app, &state, in_keyring).await)
}

/// Sets the endpoint (empty: back to the default) after checking the Hub answers there.
#[tauri::command]
#[tracing::instrument(skip_all, fields(endpoint = ?endpoint), err(level = "warn", Display))]
pub async fn hub_set_endpoint(app: AppHandle, state: State<'_, AppState>, endpoint: String) -> IpcResult<HubSettings> {
    let endpoint = normalise_endpoint(&endpoint)?;
    let token = secrets::hub_token().await.ok().flatten();
    let hub = Hub::new(HubConfig { endpoint: endpoint.clone(), token, ..HubConfig::default() })?;
    hub.search(&SearchQuery { page_size: 1, ..SearchQuery::default() })
        .await
        .map_err(|e| format!("{} did not answer as a Hugging Face Hub does: {e}", hub.endpoint()))?;
    settings::save_hub_endpoint(&app, endpoint.as_deref())?;
    state.set_hub(hub);
    hub_settings(app, state).await
}

/// Checks the token with the Hub, then keeps it in the system keyring. Without a keyring it
/// is used for this session only (and the settings say so).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn hub_set_token(app: AppHandle, state: State<'_, AppState>, token: String) -> IpcResult<HubSettings> {
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err("paste an access token (huggingface.co → Settings → Access Tokens)".into());
    }
    let endpoint = settings::read(&app).hub_endpoint;
    let hub = Hub::new(HubConfig { endpoint, token: Some(token.clone()), ..HubConfig::default() })?;
    hub.whoami().await?;
    let saved = secrets::keep_hub_token(Some(token.clone())).await.map_err(|e| e.to_string());
    state.set_hub(hub);
    if let Err(e) = &saved {
        tracing::warn!("Hub token kept for this session only: {e}");
    }
    Ok(describe(&app, &state, saved.is_ok()).await)
}

/// Forgets the token (keyring and session).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn hub_clear_token(app: AppHandle, state: State<'_, AppState>) -> IpcResult<HubSettings> {
    secrets::keep_hub_token(None).await.map_err(|e| e.to_string())?;
    let endpoint = settings::read(&app).hub_endpoint;
    state.set_hub(Hub::new(HubConfig { endpoint, token: None, ..HubConfig::default() })?);
    hub_settings(app, state).await
}

async fn describe(app: &AppHandle, state: &AppState, in_keyring: bool) -> HubSettings {
    let hub = state.hub();
    let token = match (in_keyring, hub.has_token(), std::env::var_os("HF_TOKEN").is_some()) {
        (true, _, _) => TokenSource::Keyring,
        (false, true, true) => TokenSource::Environment,
        (false, true, false) => TokenSource::Session,
        (false, false, _) => TokenSource::None,
    };
    let (account, account_error) = if hub.has_token() {
        match hub.whoami().await {
            Ok(a) => (Some(a.name), None),
            Err(e) => (None, Some(e.to_string())),
        }
    } else {
        (None, None)
    };
    HubSettings {
        endpoint: hub.endpoint().to_owned(),
        saved_endpoint: settings::read(app).hub_endpoint.unwrap_or_default(),
        token,
        account,
        account_error,
    }
}

/// `None` for the default; else an http(s) URL without a trailing slash.
fn normalise_endpoint(text: &str) -> Result<Option<String>, String> {
    let text = text.trim().trim_end_matches('/');
    if text.is_empty() {
        return Ok(None);
    }
    let url = tauri::Url::parse(text).map_err(|e| format!("{text} is not a web address: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("{text} is not an http(s) address"));
    }
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::normalise_endpoint;

    #[test]
    fn endpoints_are_web_addresses() {
        assert_eq!(normalise_endpoint("  ").unwrap(), None);
        assert_eq!(normalise_endpoint("https://hf-mirror.com/").unwrap().as_deref(), Some("https://hf-mirror.com"));
        assert_eq!(normalise_endpoint("http://127.0.0.1:8080").unwrap().as_deref(), Some("http://127.0.0.1:8080"));
        assert!(normalise_endpoint("hf-mirror.com").unwrap_err().contains("not a web address"));
        assert!(normalise_endpoint("file:///etc").unwrap_err().contains("not an http(s) address"));
    }
}
