//! The guarded fetcher against real HTTP servers: one on loopback that records whether anything
//! reached it (it must not be reached, by any road), and an image host on another host (a
//! network namespace at a public TEST-NET address) that may be.

use std::path::Path;
use std::time::Duration;

use sirocco_fetch::{FetchError, Fetcher, Limits};
use sirocco_test_hosts::{ImageHost, Netns, Recorder};

fn limits(max_bytes: usize) -> Limits {
    Limits { max_bytes, timeout: Duration::from_secs(10), max_redirects: 3, type_prefix: Some("image/") }
}

#[tokio::test]
async fn loopback_and_internal_addresses_are_never_reached() {
    let recorder = Recorder::start();
    let port = recorder.port;
    let fetcher = Fetcher::new(limits(1 << 20), 4, 8 << 20);
    for url in [
        format!("http://127.0.0.1:{port}/a.png"),
        format!("http://localhost:{port}/a.png"),
        format!("http://[::ffff:127.0.0.1]:{port}/a.png"),
        format!("http://2130706433:{port}/a.png"),
        format!("http://0x7f.0.0.1:{port}/a.png"),
        format!("http://127.1:{port}/a.png"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://[::1]:9/a.png".to_string(),
    ] {
        assert_eq!(fetcher.fetch(&url).await.unwrap_err(), FetchError::NotFetched, "{url}");
    }
    for url in ["file:///etc/passwd", "ftp://127.0.0.1/a.png", "gopher://127.0.0.1/"] {
        assert_eq!(fetcher.fetch(url).await.unwrap_err(), FetchError::NotWeb, "{url}");
    }
    assert_eq!(recorder.reached(), 0, "a refused fetch reached the loopback server");
}

#[tokio::test]
async fn a_public_host_is_fetched_but_its_redirects_to_loopback_are_not_followed() {
    let recorder = Recorder::start();
    let port = recorder.port;
    let ns = Netns::new(11);
    let host = ImageHost::start(&ns, Path::new("python3"));
    let fetcher = Fetcher::new(limits(1 << 20), 4, 8 << 20);

    let image = fetcher.fetch(&format!("{}/png/64", host.base)).await.expect("a public image is fetched");
    assert_eq!((image.media_type.as_str(), image.bytes.len()), ("image/png", 64 * 1024));
    assert!(image.bytes.starts_with(b"\x89PNG"));

    // This machine's own address on that network is public-looking, and still this machine.
    let own = format!("http://{}:{port}/a.png", ns.here);
    assert_eq!(fetcher.fetch(&own).await.unwrap_err(), FetchError::NotFetched, "{own}");
    for to in [
        own.clone(),
        format!("http://127.0.0.1:{port}/a.png"),
        format!("http://localhost:{port}/a.png"),
        format!("http://[::ffff:7f00:1]:{port}/a.png"),
        format!("{}/redirect?to=http://127.0.0.1:{port}/a.png", host.base),
    ] {
        let url = format!("{}/redirect?to={to}", host.base);
        assert_eq!(fetcher.fetch(&url).await.unwrap_err(), FetchError::NotFetched, "{url}");
    }
    assert_eq!(recorder.reached(), 0, "a redirect led the fetch to loopback");

    // A redirect to another public address is followed; what is not an image, too large or
    // missing is said without the remote's words.
    let moved = fetcher.fetch(&format!("{}/redirect?to={}/png/1", host.base, host.base)).await.unwrap();
    assert_eq!(moved.bytes.len(), 1024);
    assert_eq!(
        fetcher.fetch(&format!("{}/text", host.base)).await.unwrap_err(),
        FetchError::WrongType { expected: "image/" }
    );
    assert_eq!(fetcher.fetch(&format!("{}/png/2048", host.base)).await.unwrap_err(), FetchError::TooLarge(1 << 20));
    assert_eq!(fetcher.fetch(&format!("{}/missing", host.base)).await.unwrap_err(), FetchError::NotFetched);
    assert_eq!(FetchError::NotFetched.to_string(), "it could not be fetched");
}

#[tokio::test]
async fn bytes_held_across_fetches_stay_within_the_budget() {
    let ns = Netns::new(12);
    let host = ImageHost::start(&ns, Path::new("python3"));
    // Room for one 600 KiB image at a time.
    let fetcher = Fetcher::new(limits(1 << 20), 4, 1 << 20);
    let first = fetcher.fetch(&format!("{}/png/600", host.base)).await.unwrap();
    assert_eq!(fetcher.fetch(&format!("{}/png/600", host.base)).await.unwrap_err(), FetchError::Busy);
    // The first one's share returns when it is dropped (or when only its hold is kept, later).
    let hold = first.into_hold();
    assert_eq!(fetcher.fetch(&format!("{}/png/600", host.base)).await.unwrap_err(), FetchError::Busy);
    drop(hold);
    let again = fetcher.fetch(&format!("{}/png/600", host.base)).await.unwrap();
    assert_eq!(again.bytes.len(), 600 * 1024);
}

#[tokio::test]
async fn at_most_the_set_number_of_fetches_run_at_once() {
    let ns = Netns::new(13);
    let host = ImageHost::start(&ns, Path::new("python3"));
    let fetcher = Fetcher::new(limits(1 << 20), 2, 64 << 20);
    let fetches: Vec<_> = (0..8)
        .map(|_| {
            let (fetcher, url) = (fetcher.clone(), format!("{}/slow/256", host.base));
            tokio::spawn(async move { fetcher.fetch(&url).await.map(|f| f.bytes.len()) })
        })
        .collect();
    for fetch in fetches {
        assert_eq!(fetch.await.unwrap(), Ok(256 * 1024));
    }
    let stats: String = reqwest::get(format!("{}/stats", host.base)).await.unwrap().text().await.unwrap();
    assert!(stats.contains("\"max_concurrent\": 2") || stats.contains("\"max_concurrent\": 1"), "{stats}");
    assert!(stats.contains("\"started\": 8"), "{stats}");
}
