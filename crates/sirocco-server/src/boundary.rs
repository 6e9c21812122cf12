//! Who may talk to the server: the checks every request passes before any route sees it.
//!
//! - **Host.** A request must name the server by a host it serves: 127.0.0.1, localhost or
//!   [::1] (any port); serving on the network, also the address the connection reached and this
//!   machine's names; and any of the user's trusted host names. A web page at a name its owner
//!   re-points to 127.0.0.1 (DNS rebinding) names its own host, and is refused: without this
//!   check it would be same-origin with the API, and CORS would never come into it.
//! - **Origin.** A browser page's `Origin` must be loopback or one the user listed (CORS);
//!   `null` (sandboxed frames, files) is refused. Tools that are not browsers send none.
//! - **Key.** When set, compared in constant time; a peer that offers a wrong key
//!   [`MAX_FAILURES`] times in [`FAILURE_WINDOW`] gets 429 for wrong keys until the window
//!   passes. Only offered keys count (a web page's `<img src>` sends none, so it cannot lock the
//!   user's own tools out), and the right key always gets through.
//!
//! Refusals are 403s naming the setting that would allow the request.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed key checks a peer may make within [`FAILURE_WINDOW`] before it is slowed down.
pub const MAX_FAILURES: usize = 10;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// The shortest key accepted for serving on the network, and how many different characters it
/// needs (a generated key has 43 of 64 possible).
pub const MIN_KEY_CHARS: usize = 24;
const MIN_DISTINCT_CHARS: usize = 12;

/// Where a connection came from and what it reached (put in each request's extensions by the
/// accept loop).
#[derive(Debug, Clone, Copy)]
pub struct Connection {
    pub peer: SocketAddr,
    pub local: SocketAddr,
}

/// The server's rules for hosts, origins and its key.
pub struct Boundary {
    /// Serving beyond loopback: the connection's own address and this machine's names count.
    lan: bool,
    /// This machine's names (lower case), when serving on the network.
    machine_names: Vec<String>,
    /// The user's trusted host names (lower case; `*.example.com` matches its subdomains).
    trusted_hosts: Vec<String>,
    /// Origins allowed beyond loopback (lower case, no trailing slash).
    cors_origins: Vec<String>,
    key: Option<String>,
    failures: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}

/// What the boundary says of a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Host(String),
    Origin(String),
}

impl Boundary {
    pub fn new(lan: bool, trusted_hosts: &[String], cors_origins: &[String], key: Option<String>) -> Self {
        let machine_names = if lan { machine_names() } else { Vec::new() };
        Self {
            lan,
            machine_names,
            trusted_hosts: trusted_hosts.iter().map(|h| normal_host(h)).filter(|h| !h.is_empty()).collect(),
            cors_origins: cors_origins.iter().map(|o| normal_origin(o)).filter(|o| !o.is_empty()).collect(),
            key,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Checks a request's `Host` (or HTTP/2 authority) and `Origin`.
    pub fn check(&self, host: Option<&str>, origin: Option<&str>, conn: Option<Connection>) -> Result<(), Refusal> {
        if let Some(host) = host {
            if !self.host_allowed(host, conn) {
                return Err(Refusal::Host(shown(host)));
            }
        }
        if let Some(origin) = origin {
            if !self.origin_allowed(origin) {
                return Err(Refusal::Origin(shown(origin)));
            }
        }
        Ok(())
    }

    fn host_allowed(&self, authority: &str, conn: Option<Connection>) -> bool {
        let host = normal_host(authority);
        if host == "localhost" {
            return true;
        }
        if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            // 0.0.0.0 and [::] reach this machine too (the address a server on every interface
            // shows); no name can be re-pointed to be one.
            if ip.is_loopback() || ip.to_canonical().is_loopback() || ip.is_unspecified() {
                return true;
            }
            // On the network, the address the client reached this server by.
            if self.lan && conn.is_some_and(|c| c.local.ip().to_canonical() == ip.to_canonical()) {
                return true;
            }
        }
        if self.lan && self.machine_names.contains(&host) {
            return true;
        }
        self.trusted_hosts.iter().any(|t| match t.strip_prefix("*.") {
            Some(suffix) => host.strip_suffix(suffix).is_some_and(|rest| rest.ends_with('.')),
            None => *t == host,
        })
    }

    /// Whether a browser page at `origin` may call the server (and read its answers: the CORS
    /// layer asks this too).
    pub fn origin_allowed(&self, origin: &str) -> bool {
        let origin = normal_origin(origin);
        if self.cors_origins.contains(&origin) {
            return true;
        }
        // A page served from this machine itself (a developer's localhost app, the app's own
        // tauri://localhost) is the user's.
        let Ok(url) = url::Url::parse(&origin) else { return false };
        match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(a)) => a.is_loopback(),
            Some(url::Host::Ipv6(a)) => a.is_loopback(),
            None => false,
        }
    }

    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// Whether `offered` (a request's keys) holds the server's key; `Err(retry_after)` for a
    /// wrong key from a peer that has offered too many lately.
    pub fn check_key(&self, offered: &[&str], peer: Option<IpAddr>) -> Result<bool, Duration> {
        let Some(key) = &self.key else { return Ok(true) };
        // Every offered value is compared (no early exit on the first), each in constant time.
        let matched = offered.iter().fold(false, |any, o| any | constant_time_eq(o.as_bytes(), key.as_bytes()));
        if matched || offered.is_empty() {
            return Ok(matched);
        }
        let Some(peer) = peer.map(peer_group) else { return Ok(false) };
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let times = failures.entry(peer).or_default();
        times.retain(|t| now.duration_since(*t) < FAILURE_WINDOW);
        if times.len() >= MAX_FAILURES {
            return Err(FAILURE_WINDOW.saturating_sub(now.duration_since(times[0])).max(Duration::from_secs(1)));
        }
        times.push(now);
        // A flood from many peers must not grow the map without bound.
        if failures.len() > 10_000 {
            failures.retain(|_, times| times.last().is_some_and(|t| now.duration_since(*t) < FAILURE_WINDOW));
        }
        Ok(false)
    }
}

/// Compares in time that depends only on the lengths (which a key's owner chose, not its content).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8 | u8::from(a.len() != b.len());
    for (i, byte) in b.iter().enumerate() {
        diff |= a.get(i).copied().unwrap_or(0) ^ byte;
    }
    diff == 0
}

/// A strong key for serving on the network: 32 random bytes, URL-safe base64.
pub fn generate_api_key() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the system's random source works");
    format!("sk-sirocco-{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Why `key` is too weak to guard the server on the network, if it is.
pub fn weak_key(key: &str) -> Option<String> {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() < MIN_KEY_CHARS {
        return Some(format!(
            "the API key is too short to serve on the network: use at least {MIN_KEY_CHARS} characters (Sirocco can generate one)"
        ));
    }
    let mut distinct = chars.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_DISTINCT_CHARS {
        return Some("the API key is too easy to guess to serve on the network: use a generated one".into());
    }
    None
}

/// Failures are counted per address, and per /64 for IPv6 (one host holds a whole /64).
fn peer_group(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// A host for comparing: lower case, without a port or a trailing dot; IPv6 keeps its brackets.
fn normal_host(authority: &str) -> String {
    let a = authority.trim().to_ascii_lowercase();
    let host = if a.starts_with('[') {
        a.split_once(']').map_or(a.as_str(), |(h, _)| h).to_string() + "]"
    } else {
        match a.rsplit_once(':') {
            Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h.to_string(),
            _ => a,
        }
    };
    host.trim_end_matches('.').to_string()
}

fn normal_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// A header value for an error message: short, printable.
fn shown(value: &str) -> String {
    value.chars().filter(|c| !c.is_control()).take(100).collect()
}

/// This machine's names: its host name, and that name under `.local` (mDNS).
fn machine_names() -> Vec<String> {
    let Ok(name) = std::fs::read_to_string("/proc/sys/kernel/hostname") else { return Vec::new() };
    let name = name.trim().to_ascii_lowercase();
    if name.is_empty() {
        return Vec::new();
    }
    vec![format!("{name}.local"), name]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(local: &str) -> Option<Connection> {
        Some(Connection { peer: "192.168.1.20:5555".parse().unwrap(), local: local.parse().unwrap() })
    }

    #[test]
    fn on_loopback_only_loopback_names_and_trusted_hosts_are_served() {
        let b = Boundary::new(false, &["my-proxy.home.arpa".into(), "*.example.org".into()], &[], None);
        for host in
            ["127.0.0.1:1234", "127.0.0.1", "localhost:1234", "LOCALHOST.", "[::1]:1234", "[::1]", "127.8.9.1:80"]
        {
            assert_eq!(b.check(Some(host), None, conn("127.0.0.1:1234")), Ok(()), "{host}");
        }
        for host in ["my-proxy.home.arpa:1234", "a.example.org", "b.a.example.org:9"] {
            assert_eq!(b.check(Some(host), None, None), Ok(()), "{host}");
        }
        for host in [
            "rebind.attacker.test:1234",
            "localhost.attacker.test",
            "example.org",
            "evilexample.org",
            "192.168.1.5:1234",
            "[::ffff:192.168.1.5]:1",
            "",
        ] {
            assert!(matches!(b.check(Some(host), None, conn("127.0.0.1:1234")), Err(Refusal::Host(_))), "{host}");
        }
    }

    #[test]
    fn on_the_network_the_address_reached_and_the_machine_names_are_served() {
        let b = Boundary::new(true, &[], &[], Some("k".repeat(30)));
        assert_eq!(b.check(Some("192.168.1.5:1234"), None, conn("192.168.1.5:1234")), Ok(()));
        assert_eq!(b.check(Some("192.168.1.5"), None, conn("[::ffff:192.168.1.5]:1234")), Ok(()));
        assert!(b.check(Some("192.168.1.6:1234"), None, conn("192.168.1.5:1234")).is_err());
        assert!(b.check(Some("rebind.attacker.test"), None, conn("192.168.1.5:1234")).is_err());
        if let Some(name) = machine_names().first() {
            assert_eq!(b.check(Some(&format!("{name}:1234")), None, None), Ok(()));
        }
    }

    #[test]
    fn only_loopback_and_listed_origins_may_call_from_a_browser() {
        let b = Boundary::new(false, &[], &["https://app.example.com/".into()], None);
        for origin in [
            "http://localhost:3000",
            "http://127.0.0.1:5173",
            "http://[::1]:8080",
            "tauri://localhost",
            "HTTPS://APP.EXAMPLE.COM",
        ] {
            assert_eq!(b.check(Some("127.0.0.1:1234"), Some(origin), None), Ok(()), "{origin}");
        }
        for origin in [
            "null",
            "http://rebind.attacker.test:1234",
            "http://localhost.attacker.test",
            "https://app.example.com.evil",
        ] {
            assert!(matches!(b.check(Some("127.0.0.1"), Some(origin), None), Err(Refusal::Origin(_))), "{origin}");
        }
    }

    #[test]
    fn repeated_key_failures_are_slowed_down_per_peer() {
        let key = generate_api_key();
        let b = Boundary::new(true, &[], &[], Some(key.clone()));
        let (attacker, user): (IpAddr, IpAddr) = ("192.168.1.66".parse().unwrap(), "192.168.1.20".parse().unwrap());
        for _ in 0..MAX_FAILURES {
            assert_eq!(b.check_key(&["wrong"], Some(attacker)), Ok(false));
        }
        assert!(b.check_key(&["wrong again"], Some(attacker)).is_err(), "slowed down");
        assert_eq!(b.check_key(&[key.as_str()], Some(attacker)), Ok(true), "the right key always gets through");
        assert_eq!(b.check_key(&["wrong"], Some(user)), Ok(false), "other peers are not affected");
        assert_eq!(b.check_key(&["", key.as_str()], Some(user)), Ok(true));
        // Requests without a key (a web page's <img src>) never count.
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..3 * MAX_FAILURES {
            assert_eq!(b.check_key(&[], Some(local)), Ok(false));
        }
        assert_eq!(b.check_key(&["wrong"], Some(local)), Ok(false));
    }

    #[test]
    fn keys_are_compared_whole_and_weak_ones_named() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"abcd", b"abc"));
        assert!(!constant_time_eq(b"", b"abc"));
        let generated = generate_api_key();
        assert_eq!(weak_key(&generated), None);
        assert_ne!(generated, generate_api_key());
        assert!(weak_key("sk-kept-in-keyring").is_some());
        assert!(weak_key(&"ab".repeat(20)).is_some());
    }
}
