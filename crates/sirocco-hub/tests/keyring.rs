//! The access token in a real Secret Service: a private D-Bus session bus with GNOME Keyring
//! on it (unlocked with a throwaway password, in a temporary home), so nothing touches the
//! keyring of whoever runs the tests. Then the token from the keyring opens a gated repository
//! on the fake hub, and `whoami` tells a good token from a bad one.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use common::*;
use sirocco_hub::credentials::{CredentialError, TokenStore};
use sirocco_hub::{Hub, HubConfig, HubError};

/// A session bus and a keyring daemon, killed on drop.
struct PrivateKeyring {
    bus: Child,
    daemon: Child,
    _home: tempfile::TempDir,
}

impl PrivateKeyring {
    /// Starts both and points this process's D-Bus clients at the bus.
    fn start() -> Self {
        let home = tempfile::tempdir().unwrap();
        let runtime = home.path().join("run");
        std::fs::create_dir_all(&runtime).unwrap();
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (apt: dbus-daemon) runs");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().unwrap()).read_line(&mut address).unwrap();
        let address = address.trim().to_owned();
        assert!(address.starts_with("unix:"), "bus address {address:?}");
        let mut daemon = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--components=secrets", "--unlock"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (apt: gnome-keyring) runs");
        // The login keyring's password, then end of input: the daemon creates it unlocked.
        daemon.stdin.take().unwrap().write_all(b"throwaway").unwrap();
        // Until the daemon owns the Secret Service name on the bus.
        let waited = Command::new("gdbus")
            .args(["wait", "--session", "--timeout", "20", "org.freedesktop.secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .status()
            .unwrap();
        assert!(waited.success(), "the keyring daemon never registered on the bus");
        // The one test in this binary: no other thread reads the environment.
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &address);
        Self { bus, daemon, _home: home }
    }
}

impl Drop for PrivateKeyring {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.bus.kill();
        let _ = self.daemon.wait();
        let _ = self.bus.wait();
    }
}

#[tokio::test]
async fn the_token_lives_in_the_system_keyring_and_opens_gated_repositories() {
    let keyring = PrivateKeyring::start();
    let store = TokenStore::new("dev.sirocco.test");
    assert_eq!(store.get().unwrap(), None);
    store.set("hf_wrong").unwrap();
    store.set("hf_test").unwrap(); // replaces
                                   // Another handle (as after a restart) reads what was saved.
    let token = TokenStore::new("dev.sirocco.test").get().unwrap();
    assert_eq!(token.as_deref(), Some("hf_test"));
    assert_eq!(TokenStore::new("another.app").get().unwrap(), None);

    let fake = FakeHub::start();
    let cache = tempfile::tempdir().unwrap();
    let hub_with = |token: Option<String>| {
        Hub::new(HubConfig {
            endpoint: Some(fake.api.clone()),
            token,
            cache_dir: Some(cache.path().into()),
            retry_base_delay: None,
        })
        .unwrap()
    };
    let hub = hub_with(token);
    assert_eq!(hub.whoami().await.unwrap().name, "sirocco-tester");
    let commit = hub.head_commit(GATED_REPO).await.unwrap();
    let entries = hub.gguf_entries(GATED_REPO, &commit).await.unwrap();
    sirocco_hub::remote_header::read(&hub, GATED_REPO, &commit, &entries[0].parts[0]).await.unwrap();

    let wrong = hub_with(Some("hf_wrong".into()));
    let err = wrong.whoami().await.unwrap_err();
    assert!(matches!(err, HubError::Unauthorized(_)), "{err}");
    assert!(err.to_string().contains("does not accept this access token"), "{err}");
    let err = sirocco_hub::remote_header::read(&wrong, GATED_REPO, &commit, &entries[0].parts[0]).await.unwrap_err();
    assert!(matches!(err, HubError::Unauthorized(_)), "{err}");

    // A config prints without its token.
    let config = HubConfig { token: Some("hf_secret_value".into()), ..HubConfig::default() };
    assert!(!format!("{config:?}").contains("hf_secret_value"));

    store.clear().unwrap();
    assert_eq!(store.get().unwrap(), None);
    store.clear().unwrap(); // nothing saved is not an error

    // Without a Secret Service, saving says so plainly (and nothing is written anywhere).
    drop(keyring);
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    let err = store.set("hf_test").unwrap_err();
    assert!(matches!(err, CredentialError::Unavailable(_)), "{err:?}");
    assert!(err.to_string().contains("no system keyring"), "{err}");
}
