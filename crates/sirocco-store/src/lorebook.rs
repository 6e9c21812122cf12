//! A persona's lorebook (SillyTavern's `character_book`): facts the model is told only when the
//! conversation mentions one of their keywords — a world's places and people without spending
//! the context on all of them every turn.
//!
//! An entry comes in when one of the latest [`SCAN_DEPTH`] messages mentions a keyword, within
//! [`TURN_BUDGET_BYTES`] a turn. `sirocco-chat` puts entries before the question being answered,
//! never into the system message, so the conversation before stays cached.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Most entries a persona keeps.
pub const MAX_ENTRIES: usize = 256;
/// Most keywords an entry keeps.
pub const MAX_KEYS: usize = 32;
/// Longest keyword.
pub const MAX_KEY_CHARS: usize = 100;
/// Longest entry text.
pub const MAX_CONTENT_BYTES: usize = 16 * 1024;
/// Most lorebook text one turn carries (≈ 2,000 tokens).
pub const TURN_BUDGET_BYTES: usize = 8 * 1024;
/// How many of the latest messages are searched for keywords.
pub const SCAN_DEPTH: usize = 4;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct LoreEntry {
    /// Any of these in the latest messages brings the entry in.
    pub keys: Vec<String>,
    pub content: String,
    pub enabled: bool,
    /// Always in, keywords or not.
    pub constant: bool,
    pub case_sensitive: bool,
    /// Lower first.
    pub insertion_order: i64,
}

impl Default for LoreEntry {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            content: String::new(),
            enabled: true,
            constant: false,
            case_sensitive: false,
            insertion_order: 100,
        }
    }
}

impl LoreEntry {
    /// Whether a keyword is in `texts` (`lower`: the same texts lowercased, made once a turn).
    fn mentioned_in(&self, texts: &[&str], lower: &[String]) -> bool {
        self.keys.iter().filter(|k| !k.trim().is_empty()).any(|key| {
            if self.case_sensitive {
                texts.iter().any(|text| text.contains(key.as_str()))
            } else {
                let key = key.to_lowercase();
                lower.iter().any(|text| text.contains(&key))
            }
        })
    }
}

/// What is wrong with a lorebook, for the user.
pub fn validate(entries: &[LoreEntry]) -> Result<(), String> {
    if entries.len() > MAX_ENTRIES {
        return Err(format!("the lorebook has {} entries; at most {MAX_ENTRIES} are kept", entries.len()));
    }
    for e in entries {
        if e.keys.len() > MAX_KEYS || e.keys.iter().any(|k| k.chars().count() > MAX_KEY_CHARS) {
            return Err(format!(
                "a lorebook entry has more than {MAX_KEYS} keywords or one longer than {MAX_KEY_CHARS} characters"
            ));
        }
        if e.content.len() > MAX_CONTENT_BYTES {
            return Err(format!(
                "a lorebook entry is {} KB; at most {} KB is kept",
                e.content.len() / 1024,
                MAX_CONTENT_BYTES / 1024
            ));
        }
    }
    Ok(())
}

/// The entries a turn brings in: enabled ones that are constant or whose keyword is in one of
/// `recent` (the latest messages, the new one included), in insertion order, as much as the
/// turn's budget holds.
pub fn active<'a>(entries: &'a [LoreEntry], recent: &[&str]) -> Vec<&'a str> {
    let lower: Vec<String> = recent.iter().map(|t| t.to_lowercase()).collect();
    let mut hits: Vec<&LoreEntry> = entries
        .iter()
        .filter(|e| e.enabled && !e.content.trim().is_empty() && (e.constant || e.mentioned_in(recent, &lower)))
        .collect();
    hits.sort_by_key(|e| e.insertion_order);
    let mut used = 0;
    hits.into_iter()
        .map(|e| e.content.trim())
        .take_while(|c| {
            used += c.len();
            used <= TURN_BUDGET_BYTES
        })
        .collect()
}

/// A card's `character_book` (V2/V3) as entries; a malformed one is a clear error, disabled or
/// empty entries are kept as they are (the user sees them).
pub fn from_card(book: Option<&Value>) -> Result<Vec<LoreEntry>, String> {
    let entries: Vec<Value> = match book {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(book)) => match book.get("entries") {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(entries)) => entries.clone(),
            // Some editors write entries keyed by id.
            Some(Value::Object(map)) => map.values().cloned().collect(),
            Some(_) => return Err("its `character_book.entries` is not a list".into()),
        },
        Some(_) => return Err("its `character_book` is not an object".into()),
    };
    if entries.len() > MAX_ENTRIES {
        return Err(format!("its lorebook has {} entries; at most {MAX_ENTRIES} are kept", entries.len()));
    }
    let text = |v: Option<&Value>, what: &str| match v {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("a lorebook entry's `{what}` is not text")),
    };
    let flag = |v: Option<&Value>, default: bool| v.and_then(Value::as_bool).unwrap_or(default);
    let parsed: Vec<LoreEntry> = entries
        .iter()
        .map(|e| {
            let Value::Object(e) = e else { return Err("a lorebook entry is not an object".to_string()) };
            let keys = match e.get("keys").or_else(|| e.get("key")) {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(keys)) => keys
                    .iter()
                    .map(|k| k.as_str().map(str::to_owned).ok_or_else(|| "a lorebook keyword is not text".to_string()))
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err("a lorebook entry's `keys` is not a list".into()),
            };
            Ok(LoreEntry {
                keys,
                content: text(e.get("content"), "content")?,
                enabled: flag(e.get("enabled"), true) && !flag(e.get("disable"), false),
                constant: flag(e.get("constant"), false),
                case_sensitive: flag(e.get("case_sensitive"), false),
                insertion_order: e
                    .get("insertion_order")
                    .or_else(|| e.get("order"))
                    .and_then(Value::as_i64)
                    .unwrap_or(100),
            })
        })
        .collect::<Result<_, _>>()?;
    validate(&parsed)?;
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(keys: &[&str], content: &str) -> LoreEntry {
        LoreEntry {
            keys: keys.iter().map(|k| k.to_string()).collect(),
            content: content.into(),
            ..LoreEntry::default()
        }
    }

    #[test]
    fn entries_come_in_when_their_keyword_is_mentioned() {
        let book = vec![
            LoreEntry { insertion_order: 2, ..entry(&["Nautilus"], "The Nautilus is an electric submarine.") },
            LoreEntry { insertion_order: 1, ..entry(&["Ned", "harpoon"], "Ned Land is a harpooner.") },
            LoreEntry { constant: true, insertion_order: 0, ..entry(&[], "The year is 1868.") },
            LoreEntry { enabled: false, ..entry(&["nautilus"], "disabled") },
            LoreEntry { case_sensitive: true, ..entry(&["Sea"], "capital Sea only") },
        ];
        assert_eq!(active(&book, &["Tell me about the sea."]), ["The year is 1868."]);
        assert_eq!(
            active(&book, &["Where is the NAUTILUS going?", "Ned has his harpoon."]),
            ["The year is 1868.", "Ned Land is a harpooner.", "The Nautilus is an electric submarine."]
        );
        assert_eq!(active(&book, &["The Sea."]), ["The year is 1868.", "capital Sea only"]);
    }

    #[test]
    fn a_turn_carries_at_most_its_budget() {
        let big = "x".repeat(TURN_BUDGET_BYTES / 2 + 1);
        let book = vec![entry(&["a"], &big), entry(&["a"], &big), entry(&["a"], "small")];
        let got = active(&book, &["a"]);
        assert_eq!(got.len(), 1, "the second big entry would pass the budget; later ones wait");
    }

    #[test]
    fn cards_books_are_read_and_hostile_ones_refused() {
        let card = serde_json::json!({"entries": [
            {"keys": ["Nautilus"], "content": "A submarine.", "enabled": true, "insertion_order": 5, "extensions": {}},
            {"keys": ["x"], "content": "off", "enabled": false},
            {"key": ["y"], "content": "old style", "order": 1, "constant": true}
        ]});
        let book = from_card(Some(&card)).unwrap();
        assert_eq!(book.len(), 3);
        assert_eq!(book[0].keys, ["Nautilus"]);
        assert_eq!(book[0].insertion_order, 5);
        assert!(!book[1].enabled);
        assert!(book[2].constant && book[2].keys == ["y"] && book[2].insertion_order == 1);
        assert_eq!(from_card(None).unwrap(), []);
        for (bad, why) in [
            (serde_json::json!("text"), "not an object"),
            (serde_json::json!({"entries": 3}), "not a list"),
            (serde_json::json!({"entries": [1]}), "not an object"),
            (serde_json::json!({"entries": [{"keys": [1], "content": "x"}]}), "keyword is not text"),
            (serde_json::json!({"entries": [{"keys": ["k"], "content": {"a": 1}}]}), "`content` is not text"),
            (
                serde_json::json!({"entries": vec![serde_json::json!({"keys": ["k"], "content": "x"}); MAX_ENTRIES + 1]}),
                "at most 256",
            ),
            (serde_json::json!({"entries": [{"keys": ["k"], "content": "x".repeat(MAX_CONTENT_BYTES + 1)}]}), "KB"),
        ] {
            let err = from_card(Some(&bad)).unwrap_err();
            assert!(err.contains(why), "{err} (wanted {why})");
        }
    }
}
