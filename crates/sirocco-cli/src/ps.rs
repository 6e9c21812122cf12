//! `sirocco ps`: the models a running server holds, from its `GET /models` (llama.cpp's
//! router listing, with Sirocco's details of each loaded model).

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

pub async fn run(addr: SocketAddr, api_key: Option<String>) -> Result<(), String> {
    let mut request = reqwest::Client::new().get(format!("http://{addr}/models"));
    if let Some(key) = api_key.filter(|k| !k.is_empty()) {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.map_err(|_| {
        format!("no Sirocco server answers on {addr} (start one with `sirocco serve` or the app's Server page)")
    })?;
    if !response.status().is_success() {
        let status = response.status();
        let body: Value = response.json().await.unwrap_or_default();
        let message = body["error"]["message"].as_str().unwrap_or("no reason given").to_owned();
        return Err(format!("the server on {addr} answered {status}: {message}"));
    }
    let listing: Value = response.json().await.map_err(|e| format!("the server's answer is not a model list: {e}"))?;
    print!("{}", table(&listing, now_ms()));
    Ok(())
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// The loaded models as a table (the library's unloaded ones are left out).
fn table(listing: &Value, now_ms: u64) -> String {
    let rows: Vec<[String; 6]> = listing["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["status"]["value"].as_str().is_some_and(|s| s != "unloaded"))
        .map(|m| {
            let s = &m["sirocco"];
            let memory = match (s["ram_bytes"].as_u64(), s["vram_bytes"].as_u64()) {
                (Some(ram), Some(vram)) if vram > 0 => {
                    format!("{} + {} GPU", crate::format::bytes(ram), crate::format::bytes(vram))
                }
                (Some(ram), _) => crate::format::bytes(ram),
                _ => "?".into(),
            };
            let idle = match s["idle_since_ms"].as_u64() {
                Some(since) => crate::format::duration(now_ms.saturating_sub(since) as f64 / 1000.0),
                None => "answering".into(),
            };
            [
                m["id"].as_str().unwrap_or("?").to_owned(),
                m["status"]["value"].as_str().unwrap_or("?").to_owned(),
                match s["loaded_by"].as_str() {
                    Some("user") => "you".to_owned(),
                    Some("server") => "a request".to_owned(),
                    other => other.unwrap_or("?").to_owned(),
                },
                memory,
                s["in_use"].as_u64().unwrap_or(0).to_string(),
                idle,
            ]
        })
        .collect();
    if rows.is_empty() {
        return "no model is loaded\n".into();
    }
    let header = ["MODEL", "STATUS", "LOADED BY", "MEMORY", "IN USE", "IDLE"].map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn loaded_models_are_listed_with_who_loaded_them_and_their_idle_time() {
        let listing = json!({ "data": [
            { "id": "chat", "status": { "value": "loaded" },
              "sirocco": { "loaded_by": "user", "ram_bytes": 4_400_000_000u64, "vram_bytes": 0, "in_use": 1, "idle_since_ms": null } },
            { "id": "coder", "status": { "value": "loaded" },
              "sirocco": { "loaded_by": "server", "ram_bytes": 98_400_000, "vram_bytes": 0, "in_use": 0, "idle_since_ms": 1_000 } },
            { "id": "unused", "status": { "value": "unloaded" } },
        ]});
        let table = super::table(&listing, 76_000);
        assert_eq!(
            table,
            "MODEL  STATUS  LOADED BY  MEMORY   IN USE  IDLE\n\
             chat   loaded  you        4.4 GB   1       answering\n\
             coder  loaded  a request  98.4 MB  0       1:15\n"
        );
        assert_eq!(super::table(&json!({ "data": [] }), 0), "no model is loaded\n");
    }
}
