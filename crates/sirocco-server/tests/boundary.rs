//! The server's edges over real HTTP: forged `Host` and `Origin` headers (DNS rebinding, hostile
//! pages), the key on the network, `/health` beyond loopback, idle connections, and web images
//! that point into this machine. No model is needed: every refusal comes before one would run.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::header::{HOST, ORIGIN};
use sirocco_host::ModelHost;
use sirocco_server::{RunningServer, ServerConfig};
use sirocco_test_hosts::{ImageHost, Netns, Recorder};

async fn serve(config: ServerConfig) -> RunningServer {
    sirocco_server::start(ServerConfig { addr: "127.0.0.1:0".parse().unwrap(), ..config }, ModelHost::default())
        .await
        .unwrap()
}

/// Every route kind: reads, runs, changes, the router's endpoints and the other APIs.
const ROUTES: [(&str, &str); 11] = [
    ("GET", "/v1/models"),
    ("GET", "/health"),
    ("POST", "/v1/chat/completions"),
    ("POST", "/v1/messages"),
    ("POST", "/v1/responses"),
    ("GET", "/v1/responses/resp_1"),
    ("POST", "/models/load"),
    ("GET", "/models"),
    ("GET", "/api/tags"),
    ("POST", "/api/chat"),
    ("GET", "/"),
];

async fn status(server: &RunningServer, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let url = format!("http://{}{path}", server.addr);
    let mut request = match method {
        "GET" => reqwest::Client::new().get(url),
        _ => reqwest::Client::new().post(url).json(&serde_json::json!({"model": "x", "messages": []})),
    };
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_request_naming_another_host_is_refused_on_every_route() {
    let server = serve(ServerConfig { trusted_hosts: vec!["llm.home.arpa".into()], ..ServerConfig::default() }).await;
    let port = server.addr.port();
    for (method, path) in ROUTES {
        for host in
            ["rebind.attacker.test:1234".to_string(), format!("rebind.attacker.test:{port}"), "192.168.1.9".into()]
        {
            let (code, body) = status(&server, method, path, &[(HOST.as_str(), &host)]).await;
            assert_eq!(code, 403, "{method} {path} with Host {host}: {body}");
            assert!(
                body.contains("trusted host names")
                    && body.contains("rebind.attacker.test") == host.starts_with("rebind"),
                "{body}"
            );
        }
        for host in
            [format!("127.0.0.1:{port}"), format!("localhost:{port}"), "[::1]".into(), "llm.home.arpa:8443".into()]
        {
            let (code, body) = status(&server, method, path, &[(HOST.as_str(), &host)]).await;
            assert_ne!(code, 403, "{method} {path} with Host {host}: {body}");
        }
    }
    // Anthropic's API answers in its own shape.
    let (_, body) = status(&server, "POST", "/v1/messages", &[(HOST.as_str(), "evil.test")]).await;
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["type"], "permission_error", "{body}");
    // Ollama's in its own: `{"error": "…"}`.
    let (_, body) = status(&server, "POST", "/api/chat", &[(HOST.as_str(), "evil.test")]).await;
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(body["error"].as_str().is_some_and(|e| e.contains("trusted host names")), "{body}");
    server.stop().await;
}

#[tokio::test]
async fn only_pages_on_this_machine_and_listed_ones_may_call_from_a_browser() {
    let server =
        serve(ServerConfig { cors_origins: vec!["https://app.example.com".into()], ..ServerConfig::default() }).await;
    for (method, path) in ROUTES {
        for origin in ["http://rebind.attacker.test:1234", "null", "https://app.example.com.evil.test"] {
            let (code, body) = status(&server, method, path, &[(ORIGIN.as_str(), origin)]).await;
            assert_eq!(code, 403, "{method} {path} from {origin}: {body}");
            assert!(body.contains("CORS"), "{body}");
        }
        for origin in ["http://localhost:3000", "http://127.0.0.1:5173", "https://app.example.com"] {
            let (code, body) = status(&server, method, path, &[(ORIGIN.as_str(), origin)]).await;
            assert_ne!(code, 403, "{method} {path} from {origin}: {body}");
        }
    }
    // The listed page's browser gets the CORS headers it needs to read the answer.
    let response = reqwest::Client::new()
        .get(format!("http://{}/v1/models", server.addr))
        .header(ORIGIN, "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], "https://app.example.com");
    // A page on this machine may read the answers too; a foreign one gets no CORS header at all.
    let response = reqwest::Client::new()
        .get(format!("http://{}/v1/models", server.addr))
        .header(ORIGIN, "http://localhost:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], "http://localhost:3000");
    server.stop().await;
}

#[tokio::test]
async fn serving_on_the_network_takes_only_a_strong_key() {
    let weak = ServerConfig {
        addr: "0.0.0.0:0".parse().unwrap(),
        api_key: Some("sk-kept-in-keyring".into()),
        ..ServerConfig::default()
    };
    let err = sirocco_server::start(weak, ModelHost::default()).await.err().expect("a weak key is refused");
    assert!(err.to_string().contains("at least 24 characters"), "{err}");
    let strong = sirocco_server::generate_api_key();
    let config = ServerConfig { addr: "0.0.0.0:0".parse().unwrap(), api_key: Some(strong), ..ServerConfig::default() };
    sirocco_server::start(config, ModelHost::default()).await.expect("a generated key is strong").stop().await;
}

/// A peer that keeps sending wrong keys is slowed down: after ten it is answered 429 for wrong
/// keys until a minute has passed; the right key always gets through, and requests that offer
/// no key (a web page's `<img src>`) never count.
#[tokio::test]
async fn repeated_wrong_keys_are_answered_429() {
    let key = sirocco_server::generate_api_key();
    let server = serve(ServerConfig { api_key: Some(key.clone()), ..ServerConfig::default() }).await;
    let bearer = format!("Bearer {key}");
    let wrong = format!("Bearer {}", &key[..key.len() - 1]);
    for i in 0..30 {
        assert_eq!(status(&server, "GET", "/v1/models", &[]).await.0, 401, "keyless request {i}");
    }
    assert_eq!(status(&server, "GET", "/v1/models", &[("authorization", &bearer)]).await.0, 200);
    for i in 0..10 {
        assert_eq!(status(&server, "GET", "/v1/models", &[("authorization", &wrong)]).await.0, 401, "attempt {i}");
    }
    let (code, body) = status(&server, "GET", "/v1/models", &[("authorization", &wrong)]).await;
    assert_eq!(code, 429, "{body}");
    assert!(body.contains("try again in"), "{body}");
    assert_eq!(status(&server, "GET", "/v1/models", &[("authorization", &bearer)]).await.0, 200, "the right key");
    server.stop().await;
}

/// `/health` tells a peer on the network only that the server is up; this machine sees the
/// models. The peer is another host (a network namespace) reaching the server's address there.
/// (Multi-threaded: curl is waited for on the test's thread while the server answers.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_beyond_loopback_says_only_ok() {
    let ns = Netns::new(21);
    let key = sirocco_server::generate_api_key();
    let config = ServerConfig { addr: "0.0.0.0:0".parse().unwrap(), api_key: Some(key), ..ServerConfig::default() };
    let server = sirocco_server::start(config, ModelHost::default()).await.unwrap();
    let port = server.addr.port();
    let here: serde_json::Value =
        reqwest::get(format!("http://127.0.0.1:{port}/health")).await.unwrap().json().await.unwrap();
    assert!(here.get("models").is_some(), "{here}");
    let out = ns
        .command("curl")
        .args(["-s", "--max-time", "10", &format!("http://{}:{port}/health", ns.here)])
        .output()
        .unwrap();
    let there: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{out:?}"));
    assert_eq!(there, serde_json::json!({"status": "ok"}));
    // The address the peer reached is a host this server answers to; a name it does not know is not.
    let out = ns
        .command("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: rebind.attacker.test"])
        .arg(format!("http://{}:{port}/health", ns.here))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "403");
    server.stop().await;
}

/// Connections that send nothing, or half a request head, are closed after the header-read
/// timeout; this machine's clients are served however many such connections are open (the
/// connection limit is for peers beyond it). (Multi-threaded: the test reads its sockets
/// blocking while the server runs.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_and_do_not_hold_the_limit() {
    let config =
        ServerConfig { header_read_timeout: Duration::from_millis(500), max_connections: 2, ..ServerConfig::default() };
    let server = serve(config).await;
    let idle: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(server.addr).unwrap()).collect();
    let started = Instant::now();
    let (code, _) = status(&server, "GET", "/v1/models", &[]).await;
    assert_eq!(code, 200);
    for mut stream in idle {
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 256];
        // Closed by the server (EOF, perhaps after a 408), not by our read timeout.
        let mut total = 0;
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => total += n,
                Err(e) => panic!("the idle connection was not closed: {e}"),
            }
        }
        assert!(total < 256);
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    // A slow client that sends half a head is cut off the same way.
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.write_all(b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n").unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut rest = Vec::new();
    slow.read_to_end(&mut rest).expect("closed by the server");
    server.stop().await;
}

/// A peer beyond this machine cannot take every place: with a limit of 2, its third
/// connection is closed at once, while this machine's own clients are still served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_peer_cannot_hold_every_connection() {
    use std::io::BufRead;
    let ns = Netns::new(24);
    let key = sirocco_server::generate_api_key();
    let config = ServerConfig {
        addr: "0.0.0.0:0".parse().unwrap(),
        api_key: Some(key),
        max_connections: 2,
        ..ServerConfig::default()
    };
    let server = sirocco_server::start(config, ModelHost::default()).await.unwrap();
    let port = server.addr.port();
    // The peer holds two idle connections open (until it is killed).
    let hold = format!(
        "import socket, sys, time\ns = [socket.create_connection(('{}', {port})) for _ in range(2)]\nprint('open', flush=True)\ntime.sleep(60)",
        ns.here
    );
    let mut holder = ns.command("python3").args(["-c", &hold]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(holder.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "open");
    let third = ns
        .command("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5"])
        .arg(format!("http://{}:{port}/health", ns.here))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&third.stdout), "000", "the third connection is closed, not served");
    // Closed at once: an empty reply, or the send or receive failing — not a time-out (28).
    assert!(matches!(third.status.code(), Some(52 | 55 | 56)), "curl: {:?}", third.status);
    assert_eq!(reqwest::get(format!("http://127.0.0.1:{port}/health")).await.unwrap().status(), 200);
    let _ = holder.kill();
    let _ = holder.wait();
    server.stop().await;
}

fn chat_with_image(url: &str) -> serde_json::Value {
    serde_json::json!({"model": "any", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": url}},
    ]}]})
}

/// With "fetch images" on, a request cannot use the server to reach this machine or its
/// network: not directly, not through a name, not through a public host's redirect; the
/// error says only that the image could not be fetched. And a full server fetches nothing.
#[tokio::test]
async fn web_images_never_lead_the_server_into_this_machine() {
    let recorder = Recorder::start();
    let port = recorder.port;
    let ns = Netns::new(22);
    let host = ImageHost::start(&ns, Path::new("python3"));
    let server = serve(ServerConfig { fetch_images: true, ..ServerConfig::default() }).await;
    let http = reqwest::Client::new();
    let chat = format!("http://{}/v1/chat/completions", server.addr);
    for url in [
        format!("http://127.0.0.1:{port}/a.png"),
        format!("http://localhost:{port}/a.png"),
        format!("http://[::ffff:127.0.0.1]:{port}/a.png"),
        "http://169.254.169.254/latest/meta-data/iam/".into(),
        format!("{}/redirect?to=http://127.0.0.1:{port}/a.png", host.base),
        format!("http://{}:{port}/a.png", ns.here),
    ] {
        let response = http.post(&chat).json(&chat_with_image(&url)).send().await.unwrap();
        let (code, body) = (response.status().as_u16(), response.text().await.unwrap());
        assert_eq!(code, 400, "{url}: {body}");
        let message = serde_json::from_str::<serde_json::Value>(&body).unwrap()["error"]["message"].clone();
        assert_eq!(message, format!("The image at {url} could not be fetched."), "{url}");
    }
    assert_eq!(recorder.reached(), 0, "the server fetched from loopback");
    // A public image is fetched: the request goes on to the model (none is loaded here).
    let response = http.post(&chat).json(&chat_with_image(&format!("{}/png/8", host.base))).send().await.unwrap();
    let (code, body) = (response.status().as_u16(), response.text().await.unwrap());
    assert!(code == 404 && body.contains("model_not_found"), "{code} {body}");
    server.stop().await;
}

/// A flood of requests naming slow images: at most four are fetched at once, and beyond the
/// requests in flight (`max_pending`) the server says busy before fetching anything.
#[tokio::test]
async fn a_flood_of_slow_images_is_fetched_a_few_at_a_time_and_admitted_first() {
    let ns = Netns::new(23);
    let host = ImageHost::start(&ns, Path::new("python3"));
    let server = serve(ServerConfig { fetch_images: true, max_pending: 6, ..ServerConfig::default() }).await;
    let chat = format!("http://{}/v1/chat/completions", server.addr);
    let body = serde_json::json!({"model": "any", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": format!("{}/slow/256", host.base)}},
        {"type": "image_url", "image_url": {"url": format!("{}/slow/256", host.base)}},
    ]}]});
    let requests: Vec<_> = (0..12)
        .map(|_| {
            let (chat, body) = (chat.clone(), body.clone());
            tokio::spawn(async move {
                let response = reqwest::Client::new().post(chat).json(&body).send().await.unwrap();
                (response.status().as_u16(), response.text().await.unwrap())
            })
        })
        .collect();
    let mut busy = 0;
    for r in requests {
        let (code, body) = r.await.unwrap();
        // Admitted ones fetch their images and then find no model loaded (404); the others
        // are refused as busy at once (503).
        match code {
            404 => assert!(body.contains("model_not_found"), "{body}"),
            503 => assert!(body.contains("server_busy"), "{body}"),
            _ => panic!("{code} {body}"),
        }
        busy += usize::from(code == 503);
    }
    assert!(busy >= 1, "beyond max_pending requests are refused before fetching");
    let stats: serde_json::Value = reqwest::get(format!("{}/stats", host.base)).await.unwrap().json().await.unwrap();
    let most = stats["max_concurrent"].as_u64().unwrap();
    assert!((1..=4).contains(&most), "at most four fetches at once: {stats}");
    assert_eq!(stats["started"].as_u64().unwrap() as usize, 2 * (12 - busy), "only admitted requests fetched: {stats}");
    server.stop().await;
}
