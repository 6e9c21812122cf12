//! The Hub access token is a password: it is never sent to a plain-http endpoint beyond this
//! machine — not the one given, not `HF_TOKEN` (hf-hub's own fallback). The endpoint here is a
//! recording server on an address of this machine that is not loopback (a veth pair's end).
//! Its own test binary: it sets `HF_TOKEN` for the process.

use std::io::{BufRead, BufReader, Write};
use std::sync::{Arc, Mutex};

use sirocco_hub::{Hub, HubConfig, HubError, SearchQuery, SortBy};
use sirocco_test_hosts::Netns;

/// A server on `addr` that keeps each request's head and answers `[]`.
fn recorder(addr: &str) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind((addr, 0)).unwrap();
    let base = format!("http://{addr}:{}", listener.local_addr().unwrap().port());
    let heads = Arc::new(Mutex::new(Vec::new()));
    let kept = heads.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            while reader.read_line(&mut head).is_ok_and(|n| n > 2) {}
            kept.lock().unwrap().push(head);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]");
        }
    });
    (base, heads)
}

#[tokio::test]
async fn the_token_is_never_sent_over_plain_http_beyond_this_machine() {
    std::env::set_var("HF_TOKEN", "hf_from_the_environment");
    let ns = Netns::new(41);
    let (base, heads) = recorder(&ns.here);
    let cache = tempfile::tempdir().unwrap();
    let hub = Hub::new(HubConfig {
        endpoint: Some(base.clone()),
        token: Some("hf_secret_value".into()),
        cache_dir: Some(cache.path().into()),
        retry_base_delay: None,
    })
    .unwrap();
    assert!(!hub.has_token());
    let err = hub.whoami().await.unwrap_err();
    assert!(matches!(err, HubError::Unauthorized(_)) && err.to_string().contains("not HTTPS"), "{err}");
    let query = SearchQuery { text: "mistral".into(), sort: SortBy::Downloads, page: 0, page_size: 10 };
    let _ = hub.search(&query).await;
    let _ = hub.gguf_entries("someone/Some-GGUF", "main").await;
    let heads = heads.lock().unwrap().clone();
    assert!(heads.len() >= 2, "both kinds of request reached the endpoint: {heads:?}");
    for head in &heads {
        let lower = head.to_ascii_lowercase();
        assert!(!lower.contains("authorization") && !head.contains("hf_"), "a token was sent:\n{head}");
    }
    // The same endpoint over loopback (a local mirror) gets the token: the line is the network.
    assert!(sirocco_hub::carries_secrets("http://127.0.0.1:8080"));
    assert!(sirocco_hub::carries_secrets("https://huggingface.co"));
    assert!(!sirocco_hub::carries_secrets(&base));
}
