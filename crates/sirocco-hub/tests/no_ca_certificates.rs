//! A system without CA certificates (Debian without `ca-certificates`: the clean root the
//! package test installs into had none) must not stop the Hub client from being made — the app
//! builds one at start, and failing there ended the app. Its own test binary: the certificate
//! variables it sets are process-wide.

#[test]
fn a_hub_client_is_made_where_the_system_has_no_ca_certificates() {
    let empty = tempfile::tempdir().unwrap();
    // rustls-native-certs reads only these when they are set: no roots at all.
    std::env::set_var("SSL_CERT_FILE", empty.path().join("none.pem"));
    std::env::set_var("SSL_CERT_DIR", empty.path());
    assert!(
        reqwest::Client::builder().build().is_err(),
        "the precondition: without roots a default client cannot be built"
    );
    let hub = sirocco_hub::Hub::new(sirocco_hub::HubConfig {
        cache_dir: Some(empty.path().join("cache")),
        ..Default::default()
    });
    let hub = hub.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(hub.cache_dir(), empty.path().join("cache"));
    // A request says what is missing (before touching the network).
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let err = runtime.block_on(hub.search(&Default::default())).unwrap_err().to_string();
    assert!(err.contains("ca-certificates"), "{err}");
}
