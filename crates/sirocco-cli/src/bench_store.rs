//! `sirocco bench-store`: the conversation store at scale. Writes 100,000 messages (one
//! conversation of 5,000 among them), then times full-text searches and opening the long
//! conversation, against the `sqlite3` command running the same search on the same file when it
//! is installed (the ratio is Sirocco's overhead over SQLite itself).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use sirocco_store::{Export, ExportedConversation, ExportedMessage, MessageStatus, Role, Store};

const WORDS: &[&str] = &[
    "the",
    "model",
    "river",
    "context",
    "token",
    "mistral",
    "kernel",
    "cache",
    "window",
    "answer",
    "question",
    "python",
    "rust",
    "memory",
    "layer",
    "expert",
    "quant",
    "prompt",
    "system",
    "user",
    "stream",
    "bread",
    "dragon",
    "harbor",
    "lighthouse",
    "garden",
    "function",
    "vector",
    "matrix",
    "tensor",
    "attention",
    "sliding",
    "sparse",
    "mixture",
    "download",
    "checksum",
    "branch",
    "persona",
    "preset",
    "server",
    "client",
    "editor",
    "terminal",
    "compile",
    "danube",
    "violet",
    "copper",
    "falcon",
    "orchard",
    "glacier",
    "meadow",
    "quartz",
    "saffron",
    "tundra",
    "zephyr",
    "bishop",
];

/// A deterministic pseudo-random sentence generator (xorshift): reproducible corpora.
struct Words(u64);
impl Words {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn text(&mut self, words: usize) -> String {
        let mut out = String::new();
        for i in 0..words {
            if i > 0 {
                out.push(' ');
            }
            // Zipf-ish: low indices are much more common.
            let r = self.next() % 1000;
            let idx = ((r * r) / 1000 * WORDS.len() as u64 / 1000) as usize;
            out.push_str(WORDS[idx.min(WORDS.len() - 1)]);
        }
        out.push('.');
        out
    }
}

fn conversation(title: &str, messages: usize, words: &mut Words) -> ExportedConversation {
    let messages: Vec<_> = (0..messages)
        .map(|i| ExportedMessage {
            id: i as i64 + 1,
            parent: (i > 0).then_some(i as i64),
            role: if i % 2 == 0 { Role::User } else { Role::Assistant },
            content: words.text(if i % 2 == 0 { 15 } else { 60 }),
            status: MessageStatus::Complete,
            created_at: 0,
            stats: None,
            reasoning: None,
            reasoning_ms: None,
            tool_calls: Vec::new(),
            attachments: Vec::new(),
            sources: Vec::new(),
        })
        .collect();
    ExportedConversation {
        title: title.into(),
        created_at: 0,
        pinned: false,
        current_leaf: Some(messages.len() as i64),
        messages,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

pub async fn run(db: &Path, total: usize, long: usize, reps: usize) -> Result<(), String> {
    if db.exists() {
        return Err(format!("{} exists; give a new path", db.display()));
    }
    let store = Store::open(db).await.map_err(|e| e.to_string())?;
    let mut words = Words(0x9E37_79B9_7F4A_7C15);
    let mut conversations = vec![conversation("Long conversation", long, &mut words)];
    let rest = total.saturating_sub(long);
    let per = 500;
    for i in 0..rest.div_ceil(per) {
        conversations.push(conversation(&format!("Chat {i}"), per.min(rest - i * per), &mut words));
    }
    let export = Export { format: "sirocco-conversations".into(), version: 1, conversations };
    let json = serde_json::to_vec(&export).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let ids = store.import(&json).await.map_err(|e| e.to_string())?;
    println!("wrote {total} messages in {} conversations: {:.1} s", ids.len(), started.elapsed().as_secs_f64());

    println!("\nfull-text search over {total} messages (median of {reps}, top 50 with snippets)");
    println!("{:<28} {:>8} {:>12} {:>10}", "query", "hits", "sirocco ms", "sqlite3 ms");
    let sqlite3 = Command::new("sqlite3").arg("-version").output().is_ok();
    for query in ["danube", "lighthouse garden", "zephyr", "model", "nothingmatchesthis"] {
        let mut times = Vec::new();
        let mut hits = 0;
        for _ in 0..reps {
            let t = Instant::now();
            hits = store.search(query, 50).await.map_err(|e| e.to_string())?.len();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let ours = median(times);
        let theirs = if sqlite3 { sqlite3_search_ms(db, query, reps) } else { None };
        match theirs {
            Some(t) => println!("{query:<28} {hits:>8} {ours:>12.2} {t:>10.2}   ratio {:.2}", t / ours),
            None => println!("{query:<28} {hits:>8} {ours:>12.2} {:>10}", "—"),
        }
    }

    let mut times = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        let view = store.branch_view(ids[0]).await.map_err(|e| e.to_string())?;
        assert_eq!(view.len(), long);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!("\nopen the {long}-message conversation (branch with sibling counts): {:.1} ms median", median(times));
    if !sqlite3 {
        println!("(install the sqlite3 command for the search ratio)");
    }
    Ok(())
}

/// The same FTS query in the `sqlite3` command: one process running it `n` times, minus a
/// process that only opens the file, divided by `n` (SQLite's own timer has 1 ms steps).
fn sqlite3_search_ms(db: &Path, query: &str, reps: usize) -> Option<f64> {
    let fts: String = query.split_whitespace().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" ");
    let sql = format!(
        "WITH hits AS (SELECT rowid, snippet(messages_fts, 0, char(2), char(3), '…', 12) AS snippet \
         FROM messages_fts WHERE messages_fts MATCH '{fts}' ORDER BY rowid DESC LIMIT 50) \
         SELECT m.id, m.conversation_id, c.title, hits.snippet FROM hits JOIN messages m ON m.id = hits.rowid \
         JOIN conversations c ON c.id = m.conversation_id ORDER BY m.id DESC;\n"
    );
    let n = 200;
    let run = |script: &str| -> Option<f64> {
        let started = Instant::now();
        let mut child = Command::new("sqlite3")
            .arg(db)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        std::io::Write::write_all(&mut child.stdin.take()?, script.as_bytes()).ok()?;
        child.wait().ok()?.success().then(|| started.elapsed().as_secs_f64() * 1000.0)
    };
    let mut per_query = Vec::new();
    for _ in 0..reps.min(5) {
        let base = run("SELECT 1;\n")?;
        let full = run(&sql.repeat(n))?;
        per_query.push(((full - base) / n as f64).max(0.0));
    }
    Some(median(per_query))
}
