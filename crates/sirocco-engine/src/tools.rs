//! Tool (function) calling: the tools a request offers, the calls a reply makes, and how a
//! reply's text becomes calls.
//!
//! Three ways, chosen per model ([`crate::prompt`]):
//! - **Mistral's own format** (v3 and later vocabularies): tools go in `[AVAILABLE_TOOLS]`,
//!   calls follow a `[TOOL_CALLS]` token — a JSON list (v3, v7) or one call per token,
//!   `name[CALL_ID]id[ARGS]{json}` (v11) or `name[ARGS]{json}` (v13, v15) — results go in
//!   `[TOOL_RESULTS]`, all built as `mistral-common` builds them (its JSON is Python's
//!   `json.dumps`, reproduced by [`python_json`]). The reply streams as text until the model
//!   emits `[TOOL_CALLS]`; with a required tool call (v3, v7), `[TOOL_CALLS]` starts the reply
//!   and a grammar holds the calls to the tools' schemas.
//! - **A template that writes tools itself** (Hermes, Qwen 2.5…): the template gets the tools,
//!   calls and results; the reply streams as text until [`TAG_OPEN`] and the calls are read
//!   from the tags (`ToolReader::Tagged`).
//! - **Any other model**: the tools are described in the system prompt and the whole reply is
//!   JSON held by a grammar: `{"tool_calls": [...]}` or `{"response": "..."}`.
//!
//! Mistral's templates demand 9-character alphanumeric call ids; clients use their own
//! (`call_…`). [`mistral_call_id`] maps a client's id to the 9 characters the model sees (the
//! same id always to the same 9), and the ids of calls the model makes reach clients as
//! `call_` + those 9, which map back to them.

use std::hash::{BuildHasher, Hasher};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use sirocco_types::{ChatMessage, Role, ToolCall};

/// A function the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A JSON schema for the arguments (an object schema).
    #[serde(default = "empty_object")]
    pub parameters: Value,
}

fn empty_object() -> Value {
    json!({})
}

/// Whether the reply may, must, or must call one named tool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    #[default]
    Auto,
    Required,
    Function(String),
}

/// The tools a request offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub tools: Vec<Tool>,
    #[serde(default)]
    pub choice: ToolChoice,
    /// Several calls in one reply.
    #[serde(default = "yes")]
    pub parallel: bool,
}

fn yes() -> bool {
    true
}

impl ToolSpec {
    /// The tools a reply may call under `choice`.
    fn callable(&self) -> Vec<&Tool> {
        match &self.choice {
            ToolChoice::Function(name) => self.tools.iter().filter(|t| &t.name == name).collect(),
            _ => self.tools.iter().collect(),
        }
    }

    pub fn must_call(&self) -> bool {
        self.choice != ToolChoice::Auto
    }

    /// The tools as Mistral's templates list them: `[{"type": "function", "function": {name,
    /// description, parameters}}]`, in Python's JSON layout.
    pub(crate) fn mistral_json(&self) -> String {
        let list: Vec<Value> = self
            .tools
            .iter()
            .map(|t| json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}))
            .collect();
        python_json(&Value::Array(list))
    }

    /// The JSON schema of one call: a tool's name and arguments matching its parameters (and,
    /// for Mistral, the 9-character id its models write after them).
    fn call_schema(&self, with_id: bool) -> Value {
        let items: Vec<Value> = self
            .callable()
            .into_iter()
            .map(|t| {
                let parameters = if t.parameters.as_object().is_some_and(|o| !o.is_empty()) {
                    t.parameters.clone()
                } else {
                    // No parameters: OpenAI's way to declare a function without arguments.
                    json!({"type": "object", "properties": {}, "additionalProperties": false})
                };
                let mut properties = serde_json::Map::new();
                properties.insert("name".into(), json!({"const": t.name}));
                properties.insert("arguments".into(), parameters);
                let mut required = vec!["name", "arguments"];
                if with_id {
                    properties.insert("id".into(), json!({"type": "string", "pattern": "^[a-zA-Z0-9]{9}$"}));
                    required.push("id");
                }
                json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
            })
            .collect();
        json!({"anyOf": items})
    }

    /// The JSON schema of a list of calls.
    fn calls_schema(&self, with_id: bool) -> Value {
        let mut schema = json!({"type": "array", "items": self.call_schema(with_id), "minItems": 1});
        if !self.parallel {
            schema["maxItems"] = json!(1);
        }
        schema
    }

    /// The tools as OpenAI lists them (what chat templates with their own tool format read).
    pub(crate) fn openai_json(&self) -> Value {
        Value::Array(
            self.tools
                .iter()
                .map(|t| json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}))
                .collect(),
        )
    }

    /// Mistral, a call required: the schema of what follows `[TOOL_CALLS]`.
    pub(crate) fn mistral_calls_schema(&self) -> Value {
        self.calls_schema(true)
    }

    /// Any other model: the schema of the whole reply.
    pub(crate) fn generic_schema(&self) -> Value {
        let calls = json!({
            "type": "object",
            "properties": {"tool_calls": self.calls_schema(false)},
            "required": ["tool_calls"],
            "additionalProperties": false,
        });
        if self.must_call() {
            return calls;
        }
        let answer = json!({
            "type": "object",
            "properties": {"response": {"type": "string"}},
            "required": ["response"],
            "additionalProperties": false,
        });
        json!({"anyOf": [calls, answer]})
    }

    /// Any other model: what the system prompt says about the tools and the reply's form.
    pub(crate) fn generic_instructions(&self) -> String {
        let tools: Vec<Value> = self
            .callable()
            .into_iter()
            .map(|t| json!({"name": t.name, "description": t.description, "parameters": t.parameters}))
            .collect();
        let tools = serde_json::to_string_pretty(&tools).unwrap_or_default();
        let how = if self.must_call() {
            "Respond with a JSON object that calls one or more of them: {\"tool_calls\": [{\"name\": \"<tool name>\", \"arguments\": {<arguments>}}]}."
        } else {
            "Respond with a JSON object: either {\"tool_calls\": [{\"name\": \"<tool name>\", \"arguments\": {<arguments>}}]} to call one or more of them, or {\"response\": \"<your answer>\"} to answer directly."
        };
        format!("You can call these tools:\n{tools}\n\n{how}")
    }
}

/// The grammar for JSON following `schema`, written compactly: at most one space between
/// tokens (llama.cpp's own allows newlines and 20 spaces of indent at each, which a model can
/// spend its whole budget on).
fn compact_json_grammar(schema: &Value) -> crate::Result<String> {
    let bad =
        |e: String| crate::EngineError::InvalidRequest(format!("tools: a parameters schema cannot be followed: {e}"));
    let grammar = llama_cpp_2::json_schema_to_grammar(&schema.to_string()).map_err(|e| bad(e.to_string()))?;
    let mut lines: Vec<String> = grammar.lines().map(str::to_owned).collect();
    match lines.iter_mut().find(|l| l.starts_with("space ::= ")) {
        Some(space) => *space = "space ::= | \" \"".into(),
        None => return Err(bad("the grammar has no `space` rule".into())),
    }
    Ok(lines.join("\n"))
}

/// `grammar` with its root rule renamed `inner` and a new root made by `root` from that name.
fn wrap_root(grammar: &str, inner: &str, root: impl FnOnce(&str) -> String) -> crate::Result<String> {
    let mut lines: Vec<String> = grammar.lines().map(str::to_owned).collect();
    let line = lines
        .iter_mut()
        .find(|l| l.starts_with("root ::= "))
        .ok_or_else(|| crate::EngineError::InvalidRequest("tools: the grammar has no root".into()))?;
    let body = line["root ::= ".len()..].to_owned();
    *line = format!("root ::= {}\n{inner} ::= {body}", root(inner));
    Ok(lines.join("\n"))
}

/// Mistral, a call required: the grammar of what follows `[TOOL_CALLS]` — the calls' JSON,
/// after the space SentencePiece vocabularies put before it.
pub(crate) fn mistral_calls_grammar(spec: &ToolSpec) -> crate::Result<String> {
    let grammar = compact_json_grammar(&spec.mistral_calls_schema())?;
    wrap_root(&grammar, "calls", |calls| format!("\" \"? {calls}"))
}

/// Where a template's own format puts a call (Hermes, Qwen 2.5 and others):
/// `<tool_call>\n{"name": …, "arguments": …}\n</tool_call>`.
pub const TAG_OPEN: &str = "<tool_call>";
pub const TAG_CLOSE: &str = "</tool_call>";

/// A call required, in a template's tagged format: the grammar of the reply's call blocks.
pub(crate) fn tagged_calls_grammar(spec: &ToolSpec) -> crate::Result<String> {
    let grammar = compact_json_grammar(&spec.call_schema(false))?;
    wrap_root(&grammar, "call", |call| {
        let block = format!("\"{TAG_OPEN}\\n\" {call} \"\\n{TAG_CLOSE}\"");
        if spec.parallel {
            format!("{block} (\"\\n\" {block})*")
        } else {
            block
        }
    })
}

/// The calls in a reply's `<tool_call>` blocks (the last one may lack its closing tag), or None
/// when a block is not a call.
fn parse_tagged(text: &str) -> Option<Vec<ToolCall>> {
    let mut calls = Vec::new();
    for block in text.split(TAG_OPEN).skip(1) {
        let body = block.split(TAG_CLOSE).next().unwrap_or_default();
        calls.extend(parse_calls(body.trim())?);
    }
    (!calls.is_empty()).then_some(calls)
}

/// Any other model: the grammar of the whole reply.
pub(crate) fn generic_grammar(spec: &ToolSpec) -> crate::Result<String> {
    compact_json_grammar(&spec.generic_schema())
}

/// A conversation for a model without its own tool format: the tools described in the system
/// prompt, earlier calls written as the JSON the model was asked for, results as user messages.
pub(crate) fn generic_messages(messages: &[ChatMessage], spec: Option<&ToolSpec>) -> Vec<ChatMessage> {
    let mut out: Vec<ChatMessage> = messages
        .iter()
        .map(|m| match m.role {
            Role::Assistant if !m.tool_calls.is_empty() => {
                let calls: Vec<Value> = m
                    .tool_calls
                    .iter()
                    .map(|c| json!({"name": c.name, "arguments": json_or_text(&c.arguments), "id": c.id}))
                    .collect();
                let calls = json!({"tool_calls": calls}).to_string();
                let content = if m.content.is_empty() { calls } else { format!("{}\n\n{calls}", m.content) };
                // The calls become text; the thought and any images stay where they were.
                ChatMessage { content, tool_calls: Vec::new(), ..m.clone() }
            }
            Role::Tool => {
                let result = json!({"tool_result": {"id": m.tool_call_id, "content": m.content}});
                ChatMessage::new(Role::User, result.to_string())
            }
            // Everything but tool fields passes through: a user's images, an earlier thought.
            _ => ChatMessage { tool_call_id: None, ..m.clone() },
        })
        .collect();
    if let Some(spec) = spec.filter(|s| !s.tools.is_empty()) {
        let instructions = spec.generic_instructions();
        match out.first_mut() {
            Some(first) if first.role == Role::System => first.content = format!("{}\n\n{instructions}", first.content),
            _ => out.insert(0, ChatMessage::new(Role::System, instructions)),
        }
    }
    out
}

/// `value` as Python's `json.dumps(value, ensure_ascii=False)` writes it (`", "` and `": "`
/// between items), which is how Mistral's reference serialises tools, calls and results.
pub fn python_json(value: &Value) -> String {
    struct Python;
    impl serde_json::ser::Formatter for Python {
        fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
            if first {
                Ok(())
            } else {
                w.write_all(b", ")
            }
        }
        fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
            if first {
                Ok(())
            } else {
                w.write_all(b", ")
            }
        }
        fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
            w.write_all(b": ")
        }
    }
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Python);
    value.serialize(&mut ser).expect("a JSON value serialises");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Text that is JSON becomes its value, other text stays a string (Mistral's reference does the
/// same with arguments and tool results; empty text is `{}`).
pub(crate) fn json_or_text(text: &str) -> Value {
    if text.is_empty() {
        return json!({});
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

fn is_mistral_id(id: &str) -> bool {
    id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The 9-character alphanumeric id Mistral's templates demand, for a client's call id: the id
/// itself when it already is one, the 9 characters after `call_` for ids this server gave out,
/// otherwise a stable digest of the id (so a call and its result keep matching).
pub fn mistral_call_id(client_id: &str) -> String {
    if is_mistral_id(client_id) {
        return client_id.to_owned();
    }
    if let Some(rest) = client_id.strip_prefix("call_").filter(|r| is_mistral_id(r)) {
        return rest.to_owned();
    }
    // FNV-1a, 64 bits: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in client_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    base62(h)
}

fn base62(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    (0..9)
        .map(|_| {
            let d = DIGITS[(n % 62) as usize] as char;
            n /= 62;
            d
        })
        .collect()
}

/// A fresh id for a call the model made without one.
fn new_call_id() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    base62(h.finish())
}

/// The calls in `text` (a JSON list of `{name, arguments, id?}`, or one such object), or None
/// when it is not that. Ids reach the caller as `call_` + 9 characters.
pub(crate) fn parse_calls(text: &str) -> Option<Vec<ToolCall>> {
    let mut values = serde_json::Deserializer::from_str(text.trim_start()).into_iter::<Value>();
    let list = match values.next()?.ok()? {
        Value::Array(items) => items,
        one @ Value::Object(_) => vec![one],
        _ => return None,
    };
    if list.is_empty() {
        return None;
    }
    list.into_iter()
        .map(|call| {
            let name = call.get("name")?.as_str()?.to_owned();
            let arguments = match call.get("arguments") {
                None | Some(Value::Null) => "{}".to_owned(),
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            };
            let id = call
                .get("id")
                .and_then(Value::as_str)
                .filter(|id| is_mistral_id(id))
                .map_or_else(new_call_id, str::to_owned);
            Some(ToolCall { id: format!("call_{id}"), name, arguments })
        })
        .collect()
}

/// Where the control tokens of a v11+ call were among the collected text (they have no text of
/// their own): a new call, the call's id, its arguments. Characters no model writes in a name.
const NEXT_CALL: char = '\u{1e}';
const CALL_ID_AT: char = '\u{1d}';
const ARGS_AT: char = '\u{1f}';

/// The calls of a v11+ reply (`name[CALL_ID]id[ARGS]{json}` or `name[ARGS]{json}`, one per
/// `[TOOL_CALLS]`), or None when one is not a call (no name, no arguments).
fn parse_named_calls(text: &str) -> Option<Vec<ToolCall>> {
    text.split(NEXT_CALL)
        .map(|call| {
            let (head, arguments) = call.split_once(ARGS_AT)?;
            let (name, id) = match head.split_once(CALL_ID_AT) {
                Some((name, id)) => (name, Some(id.trim())),
                None => (head, None),
            };
            let name = name.trim();
            if name.is_empty() {
                return None;
            }
            let arguments = match arguments.trim() {
                "" => "{}".to_owned(),
                a => serde_json::from_str::<Value>(a).map_or_else(|_| a.to_owned(), |v| v.to_string()),
            };
            let id = id.filter(|id| is_mistral_id(id)).map_or_else(new_call_id, str::to_owned);
            Some(ToolCall { id: format!("call_{id}"), name: name.to_owned(), arguments })
        })
        .collect()
}

/// A Mistral model's call tokens: `[TOOL_CALLS]`, and from v11 on `[ARGS]` and (v11) `[CALL_ID]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CallTokens {
    pub calls: llama_cpp_2::token::LlamaToken,
    pub args: Option<llama_cpp_2::token::LlamaToken>,
    pub call_id: Option<llama_cpp_2::token::LlamaToken>,
}

/// What a reply under tools turned out to be.
#[derive(Debug, PartialEq)]
pub(crate) enum ToolOutcome {
    Calls(Vec<ToolCall>),
    /// Text that was held back (the generic format's answer, or calls that did not parse).
    Text(String),
}

/// Watches a reply's tokens and text for tool calls.
#[derive(Debug)]
pub(crate) enum ToolReader {
    Off,
    /// Mistral: text streams until the `[TOOL_CALLS]` token; what follows is collected (with
    /// v11+'s call tokens marked in it).
    Marker {
        tokens: CallTokens,
        collecting: bool,
        buffer: String,
    },
    /// The generic format: the whole reply is JSON, collected.
    Json {
        buffer: String,
    },
    /// A template's tagged format: text streams until `<tool_call>` appears (a partial tag at
    /// the end waits in `pending` until decided); from there on everything is collected.
    Tagged {
        pending: String,
        collecting: bool,
        buffer: String,
    },
}

impl ToolReader {
    /// True when `token` is one of the call tokens (it is then consumed, not shown).
    pub fn marker(&mut self, token: llama_cpp_2::token::LlamaToken) -> bool {
        let Self::Marker { tokens, collecting, buffer } = self else { return false };
        if token == tokens.calls {
            if *collecting {
                buffer.push(NEXT_CALL);
            }
            *collecting = true;
            return true;
        }
        let mark = match () {
            _ if Some(token) == tokens.args => ARGS_AT,
            _ if Some(token) == tokens.call_id => CALL_ID_AT,
            _ => return false,
        };
        // Outside calls they are text the model should not write: dropped all the same.
        if *collecting {
            buffer.push(mark);
        }
        true
    }

    /// Takes `text` when it belongs to calls being collected; gives it back otherwise.
    pub fn hold(&mut self, text: String) -> Option<String> {
        match self {
            Self::Marker { collecting: true, buffer, .. }
            | Self::Json { buffer }
            | Self::Tagged { collecting: true, buffer, .. } => {
                buffer.push_str(&text);
                None
            }
            Self::Tagged { pending, collecting, buffer } => {
                pending.push_str(&text);
                if let Some(at) = pending.find(TAG_OPEN) {
                    *buffer = pending.split_off(at);
                    *collecting = true;
                    return Some(std::mem::take(pending));
                }
                let keep = crate::stop_strings::tag_start_at_end(pending, TAG_OPEN);
                let rest = pending.split_off(pending.len() - keep);
                Some(std::mem::replace(pending, rest))
            }
            _ => Some(text),
        }
    }

    /// What the held text is, once the reply has ended.
    pub fn finish(self) -> Option<ToolOutcome> {
        match self {
            Self::Off | Self::Marker { collecting: false, .. } => None,
            Self::Tagged { pending, collecting: false, .. } => {
                (!pending.is_empty()).then_some(ToolOutcome::Text(pending))
            }
            Self::Tagged { buffer, .. } => Some(match parse_tagged(&buffer) {
                Some(calls) => ToolOutcome::Calls(calls),
                None => ToolOutcome::Text(buffer),
            }),
            Self::Marker { buffer, .. } => {
                let calls = if buffer.contains(ARGS_AT) { parse_named_calls(&buffer) } else { parse_calls(&buffer) };
                Some(match calls {
                    Some(calls) => ToolOutcome::Calls(calls),
                    // What did not parse is shown as it came, without the marks.
                    None => ToolOutcome::Text(buffer.replace([NEXT_CALL, CALL_ID_AT, ARGS_AT], "")),
                })
            }
            Self::Json { buffer } => {
                let value: Option<Value> = serde_json::from_str(&buffer).ok();
                if let Some(calls) =
                    value.as_ref().and_then(|v| v.get("tool_calls")).and_then(|c| parse_calls(&c.to_string()))
                {
                    return Some(ToolOutcome::Calls(calls));
                }
                match value.as_ref().and_then(|v| v.get("response")).and_then(Value::as_str) {
                    Some(answer) => Some(ToolOutcome::Text(answer.to_owned())),
                    None => Some(ToolOutcome::Text(buffer)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generic_format_keeps_images_and_earlier_thoughts() {
        use sirocco_types::ImageInput;
        let image = ImageInput::new(vec![1u8, 2, 3]);
        let asking = ChatMessage { images: vec![image.clone()], ..ChatMessage::new(Role::User, "What is this?") };
        let answer =
            ChatMessage { reasoning_content: Some("a red square".into()), ..ChatMessage::new(Role::Assistant, "Red.") };
        let mut calling = ChatMessage::new(Role::Assistant, "");
        calling.reasoning_content = Some("look it up".into());
        calling.tool_calls = vec![ToolCall { id: "a".into(), name: "f".into(), arguments: "{}".into() }];
        let out = generic_messages(&[asking.clone(), answer.clone(), calling], None);
        assert_eq!(out[0], asking);
        assert_eq!(out[1], answer);
        assert_eq!(out[2].reasoning_content.as_deref(), Some("look it up"));
        assert!(out[2].tool_calls.is_empty() && out[2].content.contains("\"tool_calls\""), "{:?}", out[2]);
    }

    #[test]
    fn python_json_spaces_items_like_json_dumps() {
        let v: Value = serde_json::from_str(r#"{"b": [1, 2.5, "x"], "a": {"é": null, "q": "\"\n"}}"#).unwrap();
        assert_eq!(python_json(&v), r#"{"b": [1, 2.5, "x"], "a": {"é": null, "q": "\"\n"}}"#);
    }

    #[test]
    fn client_ids_map_to_nine_characters_and_back() {
        assert_eq!(mistral_call_id("abcDEF123"), "abcDEF123");
        assert_eq!(mistral_call_id("call_abcDEF123"), "abcDEF123");
        let long = mistral_call_id("call_8f0a1b2c3d4e5f60718293a4");
        assert!(is_mistral_id(&long), "{long}");
        assert_eq!(long, mistral_call_id("call_8f0a1b2c3d4e5f60718293a4"), "stable");
        assert_ne!(long, mistral_call_id("call_8f0a1b2c3d4e5f60718293a5"));
        // A call the model made comes back from the client as `call_` + its id.
        let calls = parse_calls(r#"[{"name": "f", "arguments": {}, "id": "Zz9Zz9Zz9"}]"#).unwrap();
        assert_eq!(calls[0].id, "call_Zz9Zz9Zz9");
        assert_eq!(mistral_call_id(&calls[0].id), "Zz9Zz9Zz9");
    }

    #[test]
    fn parses_mistral_calls_with_and_without_ids() {
        let calls = parse_calls(r#" [{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "now", "arguments": "{}"}] trailing"#).unwrap();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].name, "get_weather");
        assert_eq!(calls[0].arguments, r#"{"city":"Paris"}"#);
        assert!(calls[0].id.starts_with("call_") && is_mistral_id(&calls[0].id[5..]));
        assert_eq!(calls[1].arguments, "{}");
        assert_eq!(parse_calls(r#"[{"arguments": {}}]"#), None, "a call needs a name");
        assert_eq!(parse_calls("not json"), None);
        assert_eq!(parse_calls("[]"), None);
    }

    #[test]
    fn generic_replies_are_calls_or_an_answer() {
        let read = |text: &str| {
            let mut r = ToolReader::Json { buffer: String::new() };
            assert_eq!(r.hold(text.to_owned()), None);
            r.finish().unwrap()
        };
        match read(r#"{"tool_calls": [{"name": "f", "arguments": {"x": 1}}]}"#) {
            ToolOutcome::Calls(c) => assert_eq!((c[0].name.as_str(), c[0].arguments.as_str()), ("f", r#"{"x":1}"#)),
            other => panic!("{other:?}"),
        }
        assert_eq!(read(r#"{"response": "Hi <b>"}"#), ToolOutcome::Text("Hi <b>".into()));
        assert_eq!(read(r#"{"tool_calls": [{"na"#), ToolOutcome::Text(r#"{"tool_calls": [{"na"#.into()));
    }

    fn call_tokens(calls: i32, args: Option<i32>, call_id: Option<i32>) -> CallTokens {
        use llama_cpp_2::token::LlamaToken;
        CallTokens { calls: LlamaToken(calls), args: args.map(LlamaToken), call_id: call_id.map(LlamaToken) }
    }

    #[test]
    fn mistral_v11_and_v13_calls_are_read_one_per_token() {
        use llama_cpp_2::token::LlamaToken;
        // v11: [TOOL_CALLS]get_weather[CALL_ID]abcDEF123[ARGS]{…}[TOOL_CALLS]now[CALL_ID]…[ARGS]{}
        let tokens = call_tokens(9, Some(32), Some(33));
        let mut r = ToolReader::Marker { tokens, collecting: false, buffer: String::new() };
        assert_eq!(r.hold("Checking. ".into()).as_deref(), Some("Checking. "));
        for (token, text) in
            [(9, "get_weather"), (33, "abcDEF123"), (32, r#"{"city": "Paris"}"#), (9, "now"), (33, "x"), (32, "")]
        {
            assert!(r.marker(LlamaToken(token)));
            assert_eq!(r.hold(text.into()), None);
        }
        let Some(ToolOutcome::Calls(calls)) = r.finish() else { panic!() };
        let got: Vec<_> = calls.iter().map(|c| (c.name.as_str(), c.arguments.as_str())).collect();
        assert_eq!(got, [("get_weather", r#"{"city":"Paris"}"#), ("now", "{}")]);
        assert_eq!(calls[0].id, "call_abcDEF123", "the model's own id");
        assert!(calls[1].id.starts_with("call_") && is_mistral_id(&calls[1].id[5..]), "a new id for a bad one");
        // v13: no ids; arguments that are not JSON stay text.
        let mut r =
            ToolReader::Marker { tokens: call_tokens(9, Some(32), None), collecting: false, buffer: String::new() };
        for (token, text) in [(9, "search"), (32, "cats and dogs")] {
            assert!(r.marker(LlamaToken(token)));
            r.hold(text.into());
        }
        assert!(
            matches!(r.finish(), Some(ToolOutcome::Calls(c)) if c[0].name == "search" && c[0].arguments == "cats and dogs")
        );
        // A call without a name is not a call: its text comes back, without the marks.
        let mut r =
            ToolReader::Marker { tokens: call_tokens(9, Some(32), None), collecting: false, buffer: String::new() };
        assert!(r.marker(LlamaToken(9)) && r.marker(LlamaToken(32)));
        r.hold("{}".into());
        assert_eq!(r.finish(), Some(ToolOutcome::Text("{}".into())));
    }

    #[test]
    fn mistral_text_streams_until_the_marker() {
        let marker = llama_cpp_2::token::LlamaToken(9);
        let mut r = ToolReader::Marker { tokens: call_tokens(9, None, None), collecting: false, buffer: String::new() };
        assert_eq!(r.hold("Let me check. ".into()).as_deref(), Some("Let me check. "));
        assert!(!r.marker(llama_cpp_2::token::LlamaToken(10)));
        assert!(r.marker(marker));
        assert_eq!(r.hold(r#"[{"name": "f", "arguments": {}}]"#.into()), None);
        assert!(matches!(r.finish(), Some(ToolOutcome::Calls(c)) if c.len() == 1));
        let plain = ToolReader::Marker { tokens: call_tokens(9, None, None), collecting: false, buffer: String::new() };
        assert_eq!(plain.finish(), None);
    }

    #[test]
    fn tagged_calls_stream_text_until_the_tag_even_split_across_pieces() {
        let mut r = ToolReader::Tagged { pending: String::new(), collecting: false, buffer: String::new() };
        let mut shown = String::new();
        for piece in [
            "Let me look ",
            "that up. <",
            "tool_",
            "call>\n{\"name\": \"f\", ",
            "\"arguments\": {\"x\": 1}}\n</tool_call>\n<tool_call>\n{\"name\": \"g\"}",
        ] {
            shown.push_str(&r.hold(piece.into()).unwrap_or_default());
        }
        assert_eq!(shown, "Let me look that up. ");
        match r.finish() {
            Some(ToolOutcome::Calls(c)) => {
                assert_eq!(c.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["f", "g"]);
                assert_eq!(c[0].arguments, r#"{"x":1}"#);
            }
            other => panic!("{other:?}"),
        }
        // A `<` that is not a tag is shown once it is clear it is not one.
        let mut r = ToolReader::Tagged { pending: String::new(), collecting: false, buffer: String::new() };
        assert_eq!(r.hold("a <".into()).as_deref(), Some("a "));
        assert_eq!(r.hold("b> c".into()).as_deref(), Some("<b> c"));
        assert_eq!(r.hold("<tool".into()).as_deref(), Some(""));
        assert_eq!(r.finish(), Some(ToolOutcome::Text("<tool".into())));
    }

    #[test]
    fn schemas_follow_the_choice() {
        let spec = ToolSpec {
            tools: vec![
                Tool { name: "a".into(), description: String::new(), parameters: json!({}) },
                Tool {
                    name: "b".into(),
                    description: String::new(),
                    parameters: json!({"type": "object", "properties": {"x": {"type": "integer"}}}),
                },
            ],
            choice: ToolChoice::Function("b".into()),
            parallel: false,
        };
        let s = spec.generic_schema();
        let items = &s["properties"]["tool_calls"]["items"]["anyOf"];
        assert_eq!(items.as_array().unwrap().len(), 1);
        assert_eq!(items[0]["properties"]["name"]["const"], "b");
        assert_eq!(s["properties"]["tool_calls"]["maxItems"], 1);
        let auto = ToolSpec { choice: ToolChoice::Auto, ..spec };
        assert_eq!(auto.generic_schema()["anyOf"].as_array().unwrap().len(), 2);
        assert_eq!(
            auto.mistral_json(),
            r#"[{"type": "function", "function": {"name": "a", "description": "", "parameters": {}}}, {"type": "function", "function": {"name": "b", "description": "", "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}}}}]"#
        );
    }
}
