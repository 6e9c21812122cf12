//! The Hub client and repository search.
//!
//! A [`Hub`] is made even where the system has no CA certificates (hf-hub cannot build its HTTPS
//! clients there): each request then fails, naming `ca-certificates`, instead of the app or the
//! CLI failing at start (`tests/no_ca_certificates.rs`).

use std::path::{Path, PathBuf};

use futures::StreamExt;
use hf_hub::{HFClient, HFClientBuilder};
use serde::{Deserialize, Serialize};

use crate::gguf_files::{self, GgufEntry, RemoteFile};
use crate::{HubError, Result};

/// Where the Hub is and who the user is. `None` fields follow the Hugging Face conventions
/// (`HF_ENDPOINT`, `HF_TOKEN`, `HF_HOME`/`HF_HUB_CACHE`), like every other HF tool.
#[derive(Clone, Default)]
pub struct HubConfig {
    pub endpoint: Option<String>,
    pub token: Option<String>,
    pub cache_dir: Option<PathBuf>,
    /// First delay of `hf-hub`'s own retries of a failed request (5xx, 429, connection
    /// errors); `None` keeps its default (100 ms, doubling).
    pub retry_base_delay: Option<std::time::Duration>,
}

/// Written without the token, so a config can be logged.
impl std::fmt::Debug for HubConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubConfig")
            .field("endpoint", &self.endpoint)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("cache_dir", &self.cache_dir)
            .field("retry_base_delay", &self.retry_base_delay)
            .finish()
    }
}

/// The account an access token belongs to.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub name: String,
    pub fullname: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    #[default]
    Downloads,
    Likes,
    RecentlyUpdated,
}

impl SortBy {
    fn api_field(self) -> &'static str {
        match self {
            Self::Downloads => "downloads",
            Self::Likes => "likes",
            Self::RecentlyUpdated => "lastModified",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct SearchQuery {
    pub text: String,
    pub sort: SortBy,
    /// Zero-based page of `page_size` results (pages load as the user scrolls).
    pub page: usize,
    pub page_size: usize,
}

/// One search result as the browser lists it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct RepoSummary {
    pub id: String,
    pub author: String,
    pub name: String,
    pub downloads: u64,
    pub likes: u64,
    pub last_modified: Option<String>,
    pub tags: Vec<String>,
    /// Access must be requested on the Hub (and a token set) before downloading.
    pub gated: bool,
}

/// A client for one Hub endpoint, with the HF cache folder its downloads go to.
#[derive(Clone)]
pub struct Hub {
    /// hf-hub's client; an error where none could be made (no CA certificates on the system:
    /// hf-hub builds HTTPS clients of its own), given back by every request.
    client: std::result::Result<HFClient, String>,
    /// The same HTTP client `hf-hub` uses, for the one API shape it does not model
    /// (`lfs.oid` in the tree listing).
    http: reqwest::Client,
    pub(crate) endpoint: String,
    token: Option<String>,
    /// The endpoint is plain http beyond this machine: no token is sent to it.
    token_withheld: bool,
    cache_dir: PathBuf,
    /// The first retry's delay (doubling after) of the requests hf-hub does not retry itself
    /// (a header read whose body is cut off); the configured one is hf-hub's too.
    pub(crate) retry_delay: std::time::Duration,
}

const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// Whether an endpoint may be sent secrets (the access token): HTTPS, or plain http that never
/// leaves this machine (loopback; a local mirror, the tests' fake hub).
pub fn carries_secrets(endpoint: &str) -> bool {
    let Ok(url) = url::Url::parse(endpoint) else { return false };
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(a)) => a.is_loopback(),
            Some(url::Host::Ipv6(a)) => a.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

/// The first retry's delay when the configuration names none.
const RETRY_DELAY: std::time::Duration = std::time::Duration::from_millis(250);

impl Hub {
    pub fn new(config: HubConfig) -> Result<Self> {
        let builder = || reqwest::Client::builder().user_agent(concat!("sirocco/", env!("CARGO_PKG_VERSION")));
        // A system without CA certificates (a minimal install without `ca-certificates`) has no
        // roots for the platform verifier: building an HTTPS client fails, ours and hf-hub's.
        // The Hub must still be made — the app and the CLI make one at start, and local models,
        // the library and the HF cache need no network: then every request fails, saying why.
        let (http, no_roots) = match builder().build() {
            Ok(http) => (http, None),
            Err(e) => {
                let why =
                    format!("this system has no CA certificates for HTTPS (Debian: install ca-certificates): {e:#}");
                tracing::warn!("{why}");
                (builder().tls_certs_only([]).build().map_err(|e| HubError::Network(e.to_string()))?, Some(why))
            }
        };
        let mut builder = HFClientBuilder::new().client(http.clone());
        if let Some(endpoint) = &config.endpoint {
            builder = builder.endpoint(endpoint.clone());
        }
        let wanted_endpoint = config
            .endpoint
            .clone()
            .or_else(|| std::env::var("HF_ENDPOINT").ok())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.into());
        // The token is a password: never sent where the network could read it.
        let token_withheld = !carries_secrets(&wanted_endpoint);
        let token = config.token.or_else(|| std::env::var("HF_TOKEN").ok()).filter(|t| !t.is_empty());
        if token_withheld {
            if token.is_some() {
                tracing::warn!(endpoint = wanted_endpoint, "the Hub access token is not sent to a plain-http endpoint");
            }
            // hf-hub falls back to HF_TOKEN and the token file when given none: a value that
            // cannot be a header keeps it from sending any (its header is skipped).
            builder = builder.token("\n");
        } else if let Some(token) = &token {
            builder = builder.token(token.clone());
        }
        if let Some(dir) = &config.cache_dir {
            builder = builder.cache_dir(dir.clone());
        }
        if let Some(delay) = config.retry_base_delay {
            builder = builder.retry_base_delay(delay);
        }
        let retry_delay = config.retry_base_delay.unwrap_or(RETRY_DELAY);
        let client = match (builder.build(), no_roots) {
            (Ok(client), _) => Ok(client),
            (Err(_), Some(why)) => Err(why),
            (Err(e), None) => return Err(HubError::Protocol(e.to_string())),
        };
        let (endpoint, cache_dir) = match &client {
            Ok(client) => (client.endpoint().to_owned(), client.cache_dir().to_path_buf()),
            Err(_) => (
                config
                    .endpoint
                    .clone()
                    .or_else(|| std::env::var("HF_ENDPOINT").ok())
                    .unwrap_or_else(|| DEFAULT_ENDPOINT.into()),
                config.cache_dir.clone().unwrap_or_else(hf_hub::resolve_cache_dir),
            ),
        };
        Ok(Self {
            endpoint,
            cache_dir,
            token: token.filter(|_| !token_withheld),
            token_withheld,
            http,
            client,
            retry_delay,
        })
    }

    /// hf-hub's client, or why there is none.
    fn hf(&self) -> Result<&HFClient> {
        self.client.as_ref().map_err(|e| HubError::Network(e.clone()))
    }

    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whether requests carry an access token (given, or `HF_TOKEN`).
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// The account the access token belongs to: checks the token against the Hub.
    pub async fn whoami(&self) -> Result<Account> {
        if self.token_withheld {
            return Err(HubError::Unauthorized(format!(
                "the access token is not sent to {}: it is not HTTPS, and anyone on the network could read it",
                self.endpoint
            )));
        }
        if self.token.is_none() {
            return Err(HubError::Unauthorized("no access token is set".into()));
        }
        match self.hf()?.whoami().send().await {
            Ok(user) => Ok(Account { name: user.username, fullname: user.fullname }),
            Err(hf_hub::HFError::AuthRequired { .. } | hf_hub::HFError::Forbidden { .. }) => {
                Err(HubError::Unauthorized("the Hub does not accept this access token".into()))
            }
            Err(e) => Err(HubError::Network(e.to_string())),
        }
    }

    /// GGUF repositories matching `query.text`, one page of them.
    pub async fn search(&self, query: &SearchQuery) -> Result<Vec<RepoSummary>> {
        let page_size = query.page_size.clamp(1, 100);
        let wanted = (query.page + 1) * page_size;
        let text = query.text.trim();
        let stream = self
            .hf()?
            .list_models()
            .maybe_search((!text.is_empty()).then(|| text.to_owned()))
            .filter("gguf")
            .sort(query.sort.api_field())
            .full(true)
            .limit(wanted)
            .send()
            .map_err(|e| HubError::Network(e.to_string()))?;
        let models: Vec<_> = stream.skip(query.page * page_size).take(page_size).collect().await;
        models
            .into_iter()
            .map(|m| {
                let m = m.map_err(|e| HubError::Network(e.to_string()))?;
                let (author, name) = m.id.split_once('/').unwrap_or(("", &m.id));
                Ok(RepoSummary {
                    author: m.author.clone().unwrap_or_else(|| author.to_owned()),
                    name: name.to_owned(),
                    downloads: m.downloads.unwrap_or(0),
                    likes: m.likes.unwrap_or(0),
                    last_modified: m.last_modified.clone(),
                    tags: m.tags.clone().unwrap_or_default(),
                    gated: m.gated.as_ref().is_some_and(|g| g.as_bool() != Some(false) && !g.is_null()),
                    id: m.id,
                })
            })
            .collect()
    }

    pub(crate) fn repo(&self, id: &str) -> Result<hf_hub::repository::HFRepository<hf_hub::repository::RepoTypeModel>> {
        let (owner, name) = id.split_once('/').ok_or_else(|| HubError::RepoNotFound(id.to_owned()))?;
        Ok(self.hf()?.model(owner, name))
    }

    /// The commit `main` points at now: downloads pin it so every file comes from one revision.
    pub async fn head_commit(&self, id: &str) -> Result<String> {
        let info = self.repo(id)?.info().send().await.map_err(|e| HubError::from_hf(e, id, None))?;
        info.sha.ok_or_else(|| HubError::Protocol(format!("no commit for {id}")))
    }

    /// Every file of the repository at `revision`, with sizes and (for LFS files) sha256.
    pub async fn files(&self, id: &str, revision: &str) -> Result<Vec<RemoteFile>> {
        self.repo(id)?; // validates the id
        let url = format!("{}/api/models/{id}/tree/{revision}?recursive=true", self.endpoint);
        let mut request = self.http.get(&url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| HubError::Network(e.to_string()))?;
        match response.status().as_u16() {
            200 => {}
            404 => return Err(HubError::RepoNotFound(id.to_owned())),
            401 | 403 => return Err(HubError::Unauthorized(format!("listing {id}"))),
            s => return Err(HubError::Network(format!("listing {id}: HTTP {s}"))),
        }
        let entries: Vec<TreeEntry> = response.json().await.map_err(|e| HubError::Protocol(e.to_string()))?;
        Ok(entries
            .into_iter()
            .filter(|e| e.kind == "file")
            .map(|e| RemoteFile {
                sha256: e.lfs.as_ref().and_then(|l| l.oid.clone().or_else(|| l.sha256.clone())),
                size: e.lfs.as_ref().and_then(|l| l.size).unwrap_or(e.size),
                path: e.path,
            })
            .collect())
    }

    /// The repository's GGUF models (split parts grouped), largest quant last.
    pub async fn gguf_entries(&self, id: &str, revision: &str) -> Result<Vec<GgufEntry>> {
        Ok(gguf_files::group(&self.files(id, revision).await?))
    }

    /// The model card (README.md) as text; empty when the repository has none.
    pub async fn readme(&self, id: &str, revision: &str) -> Result<String> {
        let repo = self.repo(id)?;
        match repo.download_file_to_bytes().filename("README.md").revision(revision.to_owned()).send().await {
            Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Err(hf_hub::HFError::EntryNotFound { .. }) => Ok(String::new()),
            Err(e) => Err(HubError::from_hf(e, id, Some("README.md"))),
        }
    }
}

/// A tree entry as the Hub's API answers it (`lfs.oid` is the sha256).
#[derive(Deserialize)]
struct TreeEntry {
    #[serde(rename = "type")]
    kind: String,
    path: String,
    #[serde(default)]
    size: u64,
    lfs: Option<TreeLfs>,
}

#[derive(Deserialize)]
struct TreeLfs {
    oid: Option<String>,
    sha256: Option<String>,
    size: Option<u64>,
}
