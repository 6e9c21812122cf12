//! `sirocco-fetch`: the one way Sirocco fetches a web address on someone else's behalf (a
//! request to its server naming an image by URL today; web pages and remote providers later).
//!
//! A request's URL is not the user's choice, so the fetch must not become the requester's way
//! into the user's own network (SSRF). [`Fetcher`] holds that line:
//! - only `http` and `https`, and no proxy from the environment (a proxy would connect for us);
//! - every host is checked against [`address::is_public`] and [`address::is_this_machine`]: an address written in the URL before
//!   anything is sent; a name by resolving it first and connecting only to the public addresses
//!   it gives (its own resolver, so a second lookup cannot rebind it); each redirect's target the
//!   same way, at most [`Limits::max_redirects`]; and the address the connection actually
//!   reached, once more, before a byte of the body is read;
//! - bounded: [`Limits::timeout`] for the whole fetch, [`Limits::max_bytes`] for its body, at most
//!   [`Fetcher::new`]'s `concurrent` fetches at once (more wait their turn within the timeout),
//!   and a budget of bytes held across every fetch: a [`Fetched`] holds its share until dropped,
//!   and a fetch that would go beyond the budget fails as [`FetchError::Busy`];
//! - its errors say what a requester may know — not fetched, too large, not the type asked
//!   for, busy — never the remote's status, its error text or whether an internal address
//!   answered (that would be an oracle); the detail goes to the log.

pub mod address;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use address::{is_public, is_this_machine};

/// Whether a fetch may connect to `ip`: a public address that is not this machine's.
fn may_reach(ip: IpAddr) -> bool {
    is_public(ip) && !is_this_machine(ip)
}

/// The bounds of one fetch.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest body taken.
    pub max_bytes: usize,
    /// The whole fetch: waiting for a turn, connecting, redirects and the body.
    pub timeout: Duration,
    pub max_redirects: usize,
    /// The media type must start with this (e.g. `image/`); `None`: any.
    pub type_prefix: Option<&'static str>,
}

/// What a fetch gave: the body and its media type (lower case, without parameters). Holds its
/// share of the fetcher's byte budget until dropped.
#[derive(Debug)]
pub struct Fetched {
    pub media_type: String,
    pub bytes: Vec<u8>,
    hold: BudgetHold,
}

impl Fetched {
    /// The body's share of the byte budget, to keep while a copy of the body is kept (the
    /// bytes themselves dropped).
    pub fn into_hold(self) -> BudgetHold {
        self.hold
    }
}

/// A share of a [`Fetcher`]'s byte budget, given back when dropped.
#[derive(Debug)]
pub struct BudgetHold(#[allow(dead_code)] Option<OwnedSemaphorePermit>);

/// Why a fetch gave nothing. The messages are safe to show whoever asked for the fetch.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FetchError {
    #[error("only http and https addresses can be fetched")]
    NotWeb,
    /// Refused, unreachable, an error status, a timeout: one answer for all, on purpose.
    #[error("it could not be fetched")]
    NotFetched,
    #[error("it is larger than {} MB", .0 / 1024 / 1024)]
    TooLarge(usize),
    #[error("its type is not {expected}")]
    WrongType { expected: &'static str },
    #[error("too many fetches are in progress; try again shortly")]
    Busy,
}

/// The one guarded fetcher; cheap to clone (the client and the bounds are shared).
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    turns: Arc<Semaphore>,
    /// The byte budget, in KiB permits.
    budget: Arc<Semaphore>,
    limits: Limits,
}

/// The budget is counted in KiB (a semaphore holds at most `usize::MAX >> 3` permits, and
/// bytes would be needlessly fine-grained).
const KIB: usize = 1024;

impl Fetcher {
    /// A fetcher taking at most `concurrent` fetches at once and holding at most `budget_bytes`
    /// of fetched bodies across all of them.
    pub fn new(limits: Limits, concurrent: usize, budget_bytes: usize) -> Self {
        let redirects = limits.max_redirects;
        let client = reqwest::Client::builder()
            .no_proxy()
            .dns_resolver(Arc::new(PublicOnly))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > redirects {
                    return attempt.error(Refused("too many redirects"));
                }
                match check_url(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(e) => attempt.error(e),
                }
            }))
            .user_agent(concat!("Sirocco/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(limits.timeout.min(Duration::from_secs(10)))
            .build()
            // Failing open (reqwest's default client: proxies, its own resolver, any redirect)
            // is not an option; nothing in these settings can fail to build.
            .expect("the fetcher's client builds");
        Self {
            client,
            turns: Arc::new(Semaphore::new(concurrent.max(1))),
            budget: Arc::new(Semaphore::new((budget_bytes / KIB).max(1))),
            limits,
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Fetches `url` within the limits (see the module's doc for every check).
    pub async fn fetch(&self, url: &str) -> Result<Fetched, FetchError> {
        let parsed = url::Url::parse(url.trim()).map_err(|_| FetchError::NotWeb)?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(FetchError::NotWeb);
        }
        let shown = shown(&parsed);
        match tokio::time::timeout(self.limits.timeout, self.fetch_checked(parsed)).await {
            Ok(Ok(fetched)) => Ok(fetched),
            Ok(Err((error, why))) => {
                tracing::info!(url = %shown, "not fetched: {why}");
                Err(error)
            }
            Err(_) => {
                tracing::info!(url = %shown, "not fetched: it took longer than {:?}", self.limits.timeout);
                Err(FetchError::NotFetched)
            }
        }
    }

    async fn fetch_checked(&self, url: url::Url) -> Result<Fetched, (FetchError, String)> {
        let not_fetched = |why: String| (FetchError::NotFetched, why);
        check_url(&url).map_err(|e| not_fetched(e.0.to_string()))?;
        let _turn = self.turns.acquire().await.map_err(|_| not_fetched("the fetcher is closed".into()))?;
        let mut response = self.client.get(url).send().await.map_err(|e| not_fetched(describe(&e)))?;
        // The address connected to, once more: whatever path led there, it must be public.
        match response.remote_addr() {
            Some(addr) if may_reach(addr.ip()) => {}
            Some(addr) => return Err(not_fetched(format!("connected to {} (not a public address)", addr.ip()))),
            None => return Err(not_fetched("the connection's address is unknown".into())),
        }
        if !response.status().is_success() {
            return Err(not_fetched(format!("the server answered {}", response.status())));
        }
        let media_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .unwrap_or_default();
        if let Some(expected) = self.limits.type_prefix {
            if !media_type.starts_with(expected) {
                return Err((FetchError::WrongType { expected }, format!("its type is `{media_type}`")));
            }
        }
        let max = self.limits.max_bytes;
        let too_large = || (FetchError::TooLarge(max), format!("larger than {max} bytes"));
        if response.content_length().is_some_and(|n| n > max as u64) {
            return Err(too_large());
        }
        // The budget grows with the body, a permit per KiB, never waited for: a fetch that
        // would go beyond it fails at once, and what it held returns to the budget.
        let mut held: Option<OwnedSemaphorePermit> = None;
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| not_fetched(describe(&e)))? {
            if bytes.len() + chunk.len() > max {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
            let want = bytes.len().div_ceil(KIB);
            let have = held.as_ref().map_or(0, |p| p.num_permits());
            if want > have {
                let more = self
                    .budget
                    .clone()
                    .try_acquire_many_owned((want - have) as u32)
                    .map_err(|_| (FetchError::Busy, "the byte budget is spent".to_string()))?;
                match &mut held {
                    Some(permit) => permit.merge(more),
                    None => held = Some(more),
                }
            }
        }
        Ok(Fetched { media_type, bytes, hold: BudgetHold(held) })
    }
}

/// Why a URL or an address was refused (travels through reqwest's errors as their source).
#[derive(Debug)]
struct Refused(&'static str);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Refused {}

/// A URL may be fetched (or followed): http(s), and an address written in it is public. A
/// name is checked when it is resolved ([`PublicOnly`]).
fn check_url(url: &url::Url) -> Result<(), Refused> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refused("only http and https addresses are followed"));
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(a)) => IpAddr::V4(a),
        Some(url::Host::Ipv6(a)) => IpAddr::V6(a),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err(Refused("the address names no host")),
    };
    if may_reach(ip) {
        Ok(())
    } else {
        Err(Refused("the address is not a public one, or it is this machine's"))
    }
}

/// Resolves names for the fetcher's connections, keeping only public addresses: the connection
/// is made to what this lookup gave, so a name cannot point elsewhere between check and use.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| may_reach(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(Refused("the name resolves to no public address")) as _);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// A reqwest error for the log: our refusal when it was one, else its kind, without the URL.
fn describe(e: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<Refused>() {
            return refused.0.to_string();
        }
        source = s.source();
    }
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "a redirect failed"
    } else if e.is_body() || e.is_decode() {
        "the body could not be read"
    } else {
        "the request failed"
    };
    kind.to_string()
}

/// The URL for the log: scheme, host and path, without credentials or query.
fn shown(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or("");
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path: String = url.path().chars().take(80).collect();
    format!("{}://{host}{port}{path}", url.scheme())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_before_anything_is_sent() {
        let ok = |s: &str| check_url(&url::Url::parse(s).unwrap()).is_ok();
        assert!(ok("https://example.com/a.png"));
        assert!(ok("http://203.0.113.9:8080/a.png"));
        for refused in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.1.2.3/",
            "file:///etc/passwd",
            "ftp://example.com/",
        ] {
            assert!(!ok(refused), "{refused} must be refused");
        }
    }
}
