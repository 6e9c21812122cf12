//! Mistral's prompt formats, built token by token the way Mistral's reference library
//! (`mistral-common`) builds them, instead of through the Jinja template in the file.
//!
//! Jinja templates shipped with Mistral GGUFs differ from the reference in small ways (where the
//! system prompt goes, spaces around `[INST]`), and a rendered string tokenized with special-token
//! parsing lets text like `[INST]` inside a message become a control token. Here control tokens
//! are placed by id and every message's text is tokenized as plain text.
//!
//! - v1 (Mistral 7B v0.1/v0.2, Mixtral 8x7B): `[INST]` is plain text; the system prompt opens the
//!   first user message.
//! - v3 (Mistral 7B v0.3, Codestral 22B, Mistral Large 2, Mistral NeMo with tekken): `[INST]` and
//!   `[/INST]` are control tokens; the system prompt opens the *last* user message.
//! - v7 (Mistral Large 2411, Mistral Small 3 with tekken): system messages stay where they are,
//!   between `[SYSTEM_PROMPT]` and `[/SYSTEM_PROMPT]`.
//! - v11 (Mistral Small 3.2, Magistral Small 2506, Devstral): each call is
//!   `[TOOL_CALLS]name[CALL_ID]id[ARGS]{json}`; results are sorted into the calls' order.
//! - v13 (Magistral Small 2507, Ministral 3): calls without ids (`[TOOL_CALLS]name[ARGS]{json}`),
//!   results without ids, the tools listed before the *first* user message (a prefix that stays
//!   cached); `[THINK]`…`[/THINK]` in the vocabulary.
//! - v15 (Mistral Small 4): v13 with `[MODEL_SETTINGS]{"reasoning_effort": …}[/MODEL_SETTINGS]`
//!   before the first user message, always (`none` unless asked).
//!
//! SentencePiece and tekken vocabularies share these structures; they differ only in how text is
//! tokenized (a leading `▁` for SentencePiece), which llama.cpp's tokenizer already does per the
//! file.

use serde::{Deserialize, Serialize};

use crate::tools::{self, ToolSpec};
use sirocco_types::{ChatMessage, Role, ToolCall};

/// The Mistral instruct format versions Sirocco builds natively.
/// Later versions compare greater (`version >= MistralVersion::V7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum MistralVersion {
    V1,
    V3,
    V7,
    V11,
    V13,
    V15,
}

/// One piece of a prompt: a special token by role, or text to tokenize without special parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Bos,
    Eos,
    Control(&'static str),
    Text(String),
    /// An image (its [`crate::ImageInput::id`]): the positions its projector fills.
    Image(u64),
}

pub const BEGIN_INST: &str = "[INST]";
pub const END_INST: &str = "[/INST]";
pub const BEGIN_SYSTEM: &str = "[SYSTEM_PROMPT]";
pub const END_SYSTEM: &str = "[/SYSTEM_PROMPT]";
pub const BEGIN_TOOLS: &str = "[AVAILABLE_TOOLS]";
pub const END_TOOLS: &str = "[/AVAILABLE_TOOLS]";
pub const TOOL_CALLS: &str = "[TOOL_CALLS]";
pub const BEGIN_TOOL_RESULTS: &str = "[TOOL_RESULTS]";
pub const END_TOOL_RESULTS: &str = "[/TOOL_RESULTS]";
/// v7, v11: between a result's call id and its content.
pub const TOOL_CONTENT: &str = "[TOOL_CONTENT]";
/// v11: before a call's id.
pub const CALL_ID: &str = "[CALL_ID]";
/// v11 and later: before a call's arguments.
pub const ARGS: &str = "[ARGS]";
/// v13 and later: a thought.
pub const BEGIN_THINK: &str = "[THINK]";
pub const END_THINK: &str = "[/THINK]";
/// v15: the model's settings (its reasoning effort).
pub const BEGIN_SETTINGS: &str = "[MODEL_SETTINGS]";
pub const END_SETTINGS: &str = "[/MODEL_SETTINGS]";
/// Every control token these formats place.
pub const CONTROLS: [&str; 16] = [
    BEGIN_INST,
    END_INST,
    BEGIN_SYSTEM,
    END_SYSTEM,
    BEGIN_TOOLS,
    END_TOOLS,
    TOOL_CALLS,
    BEGIN_TOOL_RESULTS,
    END_TOOL_RESULTS,
    TOOL_CONTENT,
    CALL_ID,
    ARGS,
    BEGIN_THINK,
    END_THINK,
    BEGIN_SETTINGS,
    END_SETTINGS,
];

/// What the vocabulary tells about a model, enough to recognise a Mistral format.
#[derive(Debug, Clone, Default)]
pub struct VocabFacts {
    /// `[INST]` is a control token.
    pub has_inst_control: bool,
    /// `[SYSTEM_PROMPT]` is a control token (also in NeMo's v3 tekken vocabulary, whose
    /// template never uses it).
    pub has_system_control: bool,
    /// `[ARGS]` and `[CALL_ID]` are control tokens (v11 and later).
    pub has_call_controls: bool,
    /// `[THINK]` and `[/THINK]` are control tokens (v13 and later).
    pub has_think_controls: bool,
    /// `[MODEL_SETTINGS]` and `[/MODEL_SETTINGS]` are control tokens (v15).
    pub has_settings_controls: bool,
    /// A SentencePiece vocabulary of exactly 32,000 tokens (Mistral 7B v0.1/v0.2, Mixtral).
    pub spm_32k: bool,
    pub chat_template: Option<String>,
    pub model_name: Option<String>,
}

impl MistralVersion {
    /// Recognises a Mistral format from the vocabulary: the control tokens only Mistral's
    /// tokenizers have (v3, v7: `[SYSTEM_PROMPT]` in the vocabulary and, when the file has a
    /// template, used by it), or for v1 (whose `[INST]` is plain text) the 32k SentencePiece
    /// vocabulary together with an `[INST]` template without Llama 2's `<<SYS>>`, or a Mistral
    /// name when the file has no template.
    ///
    /// v11 and later add control tokens of their own: `[MODEL_SETTINGS]` only v15 has;
    /// `[ARGS]` and `[CALL_ID]` v11 and v13 both have, told apart by the template (a v11 call
    /// writes `[CALL_ID]`, a v13 one does not) or else by `[THINK]`, which no v11 vocabulary has.
    pub fn detect(facts: &VocabFacts) -> Option<Self> {
        let template = facts.chat_template.as_deref();
        if facts.has_inst_control && facts.has_settings_controls {
            return Some(Self::V15);
        }
        if facts.has_inst_control && facts.has_call_controls {
            return Some(match template {
                Some(t) if t.contains(CALL_ID) => Self::V11,
                Some(t) if t.contains(ARGS) => Self::V13,
                _ if facts.has_think_controls => Self::V13,
                _ => Self::V11,
            });
        }
        if facts.has_inst_control {
            let template_uses_system = facts.chat_template.as_deref().is_none_or(|t| t.contains(BEGIN_SYSTEM));
            return Some(if facts.has_system_control && template_uses_system { Self::V7 } else { Self::V3 });
        }
        if !facts.spm_32k {
            return None;
        }
        match &facts.chat_template {
            Some(t) => (t.contains("[INST]") && !t.contains("<<SYS>>")).then_some(Self::V1),
            None => {
                let name = facts.model_name.as_deref().unwrap_or_default().to_lowercase();
                (name.contains("mistral") || name.contains("mixtral")).then_some(Self::V1)
            }
        }
    }

    pub fn label(self, tekken: bool) -> String {
        let v = match self {
            Self::V1 => "v1",
            Self::V3 => "v3",
            Self::V7 => "v7",
            Self::V11 => "v11",
            Self::V13 => "v13",
            Self::V15 => "v15",
        };
        if tekken {
            format!("Mistral {v}-tekken")
        } else {
            format!("Mistral {v}")
        }
    }
}

const JOIN: &str = "\n\n";

/// A message after Mistral's normalisation: same-role neighbours merged (tool results never).
struct Turn {
    role: Role,
    content: String,
    /// The last assistant turn is a prefix the reply continues ("Start reply with").
    prefix: bool,
    tool_calls: Vec<ToolCall>,
    tool_call_id: Option<String>,
    /// An assistant turn's thought (kept from v13 on).
    reasoning: Option<String>,
    /// A user turn's images (their ids), before its text.
    images: Vec<u64>,
}

impl Turn {
    fn text(role: Role, content: String, prefix: bool) -> Self {
        Self { role, content, prefix, tool_calls: Vec::new(), tool_call_id: None, reasoning: None, images: Vec::new() }
    }
}

/// Merges consecutive messages of one role (joining non-empty contents with a blank line) as
/// `mistral-common`'s normaliser does. Before v7, system messages leave the list and become one
/// system prompt; from v7 each stays in place. A conversation that would not start with a user
/// message (before v7) or is empty gets an empty user message first.
fn normalize(
    version: MistralVersion,
    messages: &[ChatMessage],
    reply_prefix: Option<&str>,
) -> (Vec<Turn>, Option<String>) {
    let prefix_message = reply_prefix.map(|p| ChatMessage::new(Role::Assistant, p));
    let all: Vec<(&ChatMessage, bool)> =
        messages.iter().map(|m| (m, false)).chain(prefix_message.as_ref().map(|m| (m, true))).collect();
    let system_parts: Vec<&str> = all
        .iter()
        .filter(|(m, _)| m.role == Role::System && !m.content.is_empty())
        .map(|(m, _)| m.content.as_str())
        .collect();
    let system_prompt = (!system_parts.is_empty()).then(|| system_parts.join(JOIN));

    let mut turns: Vec<Turn> = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let role = all[i].0.role;
        let mut j = i;
        while j < all.len() && all[j].0.role == role {
            j += 1;
        }
        let group = &all[i..j];
        match role {
            Role::System if version < MistralVersion::V7 => {}
            Role::System => {
                turns.extend(group.iter().map(|(m, _)| Turn::text(role, m.content.clone(), false)));
            }
            Role::Tool => turns.extend(group.iter().map(|(m, _)| Turn {
                tool_call_id: Some(m.tool_call_id.clone().unwrap_or_default()),
                ..Turn::text(role, m.content.clone(), false)
            })),
            Role::User | Role::Assistant => {
                let content = group
                    .iter()
                    .map(|(m, _)| m.content.as_str())
                    .filter(|c| !c.is_empty())
                    .collect::<Vec<_>>()
                    .join(JOIN);
                let prefix = group.iter().any(|(_, p)| *p);
                let tool_calls = group.iter().flat_map(|(m, _)| m.tool_calls.iter().cloned()).collect();
                let thoughts: String = group.iter().filter_map(|(m, _)| m.reasoning_content.as_deref()).collect();
                let reasoning = (!thoughts.is_empty()).then_some(thoughts);
                let images = group.iter().flat_map(|(m, _)| m.images.iter().map(crate::ImageInput::id)).collect();
                turns.push(Turn { tool_calls, reasoning, images, ..Turn::text(role, content, prefix) });
            }
        }
        i = j;
    }
    let needs_user = match turns.first() {
        None => true,
        Some(first) => version < MistralVersion::V7 && first.role != Role::User,
    };
    if needs_user {
        turns.insert(0, Turn::text(Role::User, String::new(), false));
    }
    if version >= MistralVersion::V11 {
        sort_results(&mut turns);
    }
    (turns, if version >= MistralVersion::V7 { None } else { system_prompt })
}

/// v11 and later: each run of tool results in the order of the calls they answer (the latest
/// assistant turn's; a result for no such call last), as mistral-common's normaliser sorts them.
fn sort_results(turns: &mut [Turn]) {
    let mut calls: Vec<String> = Vec::new();
    let mut i = 0;
    while i < turns.len() {
        if turns[i].role == Role::Assistant && !turns[i].tool_calls.is_empty() {
            calls = turns[i].tool_calls.iter().map(|c| c.id.clone()).collect();
        }
        if turns[i].role != Role::Tool {
            i += 1;
            continue;
        }
        let end = turns[i..].iter().position(|t| t.role != Role::Tool).map_or(turns.len(), |n| i + n);
        let place = |t: &Turn| calls.iter().position(|c| Some(c) == t.tool_call_id.as_ref()).unwrap_or(usize::MAX);
        turns[i..end].sort_by_key(place);
        i = end;
    }
}

/// The calls of an assistant turn as Mistral lists them after `[TOOL_CALLS]`.
fn calls_json(calls: &[ToolCall]) -> String {
    let list = calls
        .iter()
        .map(|c| {
            let mut call = serde_json::Map::new();
            call.insert("name".into(), c.name.clone().into());
            call.insert("arguments".into(), tools::json_or_text(&c.arguments));
            if !c.id.is_empty() && c.id != "null" {
                call.insert("id".into(), tools::mistral_call_id(&c.id).into());
            }
            serde_json::Value::Object(call)
        })
        .collect();
    tools::python_json(&serde_json::Value::Array(list))
}

/// v15's reasoning effort when the request names none (Mistral Small 4's default).
pub const DEFAULT_EFFORT: &str = "none";

/// A call's arguments as the model writes them after `[ARGS]` (v11 and later).
fn args_text(arguments: &str) -> String {
    tools::python_json(&tools::json_or_text(arguments))
}

/// The prompt for `messages` (and an optional start of the reply) as segments, exactly as
/// `mistral-common` encodes the conversation. With `tools` (v3 and later), their list comes
/// before the last user message (v13 and later: the first); calls and results are encoded in
/// the model's own way. `reasoning_effort` is v15's model setting ([`DEFAULT_EFFORT`] when
/// `None`); earlier versions have none.
pub fn segments(
    version: MistralVersion,
    messages: &[ChatMessage],
    reply_prefix: Option<&str>,
    tools: Option<&ToolSpec>,
    reasoning_effort: Option<&str>,
) -> Vec<Segment> {
    let (turns, system_prompt) = normalize(version, messages, reply_prefix);
    let first_user = turns.iter().position(|t| t.role == Role::User);
    let last_user = turns.iter().rposition(|t| t.role == Role::User);
    let tools_before = if version >= MistralVersion::V13 { first_user } else { last_user };
    let with_system = |content: &str| match &system_prompt {
        Some(s) => format!("{s}{JOIN}{content}"),
        None => content.to_owned(),
    };
    let mut out = vec![Segment::Bos];
    for (i, turn) in turns.iter().enumerate() {
        match (turn.role, version) {
            (Role::User, MistralVersion::V1) => {
                let content = if Some(i) == first_user { with_system(&turn.content) } else { turn.content.clone() };
                out.extend(turn.images.iter().map(|&id| Segment::Image(id)));
                out.push(Segment::Text(format!("[INST] {content} [/INST]")));
            }
            (Role::User, _) => {
                let content = if Some(i) == last_user { with_system(&turn.content) } else { turn.content.clone() };
                if let Some(spec) = tools.filter(|_| Some(i) == tools_before) {
                    out.push(Segment::Control(BEGIN_TOOLS));
                    out.push(Segment::Text(spec.mistral_json()));
                    out.push(Segment::Control(END_TOOLS));
                }
                if version == MistralVersion::V15 && Some(i) == first_user {
                    let effort = reasoning_effort.unwrap_or(DEFAULT_EFFORT);
                    out.push(Segment::Control(BEGIN_SETTINGS));
                    out.push(Segment::Text(tools::python_json(&serde_json::json!({ "reasoning_effort": effort }))));
                    out.push(Segment::Control(END_SETTINGS));
                }
                out.push(Segment::Control(BEGIN_INST));
                out.extend(turn.images.iter().map(|&id| Segment::Image(id)));
                out.push(Segment::Text(content));
                out.push(Segment::Control(END_INST));
            }
            (Role::System, _) => {
                out.push(Segment::Control(BEGIN_SYSTEM));
                out.push(Segment::Text(turn.content.clone()));
                out.push(Segment::Control(END_SYSTEM));
            }
            (Role::Tool, MistralVersion::V7 | MistralVersion::V11) => {
                let id = tools::mistral_call_id(turn.tool_call_id.as_deref().unwrap_or_default());
                out.push(Segment::Control(BEGIN_TOOL_RESULTS));
                out.push(Segment::Text(id));
                out.push(Segment::Control(TOOL_CONTENT));
                out.push(Segment::Text(turn.content.clone()));
                out.push(Segment::Control(END_TOOL_RESULTS));
            }
            (Role::Tool, MistralVersion::V13 | MistralVersion::V15) => {
                out.push(Segment::Control(BEGIN_TOOL_RESULTS));
                out.push(Segment::Text(turn.content.clone()));
                out.push(Segment::Control(END_TOOL_RESULTS));
            }
            (Role::Tool, _) => {
                let mut result = serde_json::Map::new();
                result.insert("content".into(), tools::json_or_text(&turn.content));
                result.insert(
                    "call_id".into(),
                    tools::mistral_call_id(turn.tool_call_id.as_deref().unwrap_or_default()).into(),
                );
                out.push(Segment::Control(BEGIN_TOOL_RESULTS));
                out.push(Segment::Text(tools::python_json(&serde_json::Value::Object(result))));
                out.push(Segment::Control(END_TOOL_RESULTS));
            }
            (Role::Assistant, v) => {
                // v13 and later keep a thought, first; an answer with one is not trimmed (it is
                // chunks to mistral-common, which trims only plain text). Before v13 it is left out.
                let thought = turn.reasoning.as_deref().filter(|_| v >= MistralVersion::V13);
                if let Some(thought) = thought {
                    out.push(Segment::Control(BEGIN_THINK));
                    out.push(Segment::Text(thought.to_owned()));
                    out.push(Segment::Control(END_THINK));
                }
                let content = if v == MistralVersion::V1 || thought.is_some() {
                    &turn.content[..]
                } else {
                    turn.content.trim_end_matches(' ')
                };
                // v3 holds either text or calls; v7 and later text, then calls.
                if turn.tool_calls.is_empty() || v >= MistralVersion::V7 {
                    out.push(Segment::Text(content.to_owned()));
                }
                if !turn.tool_calls.is_empty() && v <= MistralVersion::V7 {
                    out.push(Segment::Control(TOOL_CALLS));
                    out.push(Segment::Text(calls_json(&turn.tool_calls)));
                }
                // v11 and later: each call on its own, named; v11 with its id.
                for call in turn.tool_calls.iter().filter(|_| v >= MistralVersion::V11) {
                    out.push(Segment::Control(TOOL_CALLS));
                    out.push(Segment::Text(call.name.clone()));
                    if v == MistralVersion::V11 && !call.id.is_empty() && call.id != "null" {
                        out.push(Segment::Control(CALL_ID));
                        out.push(Segment::Text(tools::mistral_call_id(&call.id)));
                    }
                    out.push(Segment::Control(ARGS));
                    out.push(Segment::Text(args_text(&call.arguments)));
                }
                if !turn.prefix {
                    out.push(Segment::Eos);
                }
            }
        }
    }
    out.retain(|s| !matches!(s, Segment::Text(t) if t.is_empty()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Segment::*;

    fn m(role: Role, content: &str) -> ChatMessage {
        ChatMessage::new(role, content)
    }

    fn text(s: &str) -> Segment {
        Text(s.to_owned())
    }

    #[test]
    fn v1_puts_the_system_prompt_in_the_first_user_message() {
        let msgs = [m(Role::System, "S"), m(Role::User, "A"), m(Role::Assistant, "B "), m(Role::User, "C")];
        assert_eq!(
            segments(MistralVersion::V1, &msgs, None, None, None),
            vec![Bos, text("[INST] S\n\nA [/INST]"), text("B "), Eos, text("[INST] C [/INST]")]
        );
    }

    #[test]
    fn v3_puts_the_system_prompt_in_the_last_user_message_and_trims_replies() {
        let msgs = [m(Role::System, "S"), m(Role::User, "A"), m(Role::Assistant, "B "), m(Role::User, "C")];
        assert_eq!(
            segments(MistralVersion::V3, &msgs, None, None, None),
            vec![
                Bos,
                Control(BEGIN_INST),
                text("A"),
                Control(END_INST),
                text("B"),
                Eos,
                Control(BEGIN_INST),
                text("S\n\nC"),
                Control(END_INST),
            ]
        );
    }

    #[test]
    fn v7_keeps_system_messages_in_place() {
        let msgs = [m(Role::System, "S"), m(Role::User, "A")];
        assert_eq!(
            segments(MistralVersion::V7, &msgs, Some("Sure"), None, None),
            vec![
                Bos,
                Control(BEGIN_SYSTEM),
                text("S"),
                Control(END_SYSTEM),
                Control(BEGIN_INST),
                text("A"),
                Control(END_INST),
                text("Sure"),
            ]
        );
    }

    #[test]
    fn same_role_neighbours_merge_instead_of_failing() {
        let msgs = [
            m(Role::User, "A"),
            m(Role::User, ""),
            m(Role::User, "B"),
            m(Role::Assistant, "C"),
            m(Role::Assistant, "D"),
        ];
        let segs = segments(MistralVersion::V3, &msgs, None, None, None);
        assert_eq!(segs[2], text("A\n\nB"));
        assert_eq!(segs[4], text("C\n\nD"));
    }

    #[test]
    fn detects_versions_from_the_vocabulary() {
        let mut f = VocabFacts { has_inst_control: true, ..Default::default() };
        assert_eq!(MistralVersion::detect(&f), Some(MistralVersion::V3));
        f.has_system_control = true;
        assert_eq!(MistralVersion::detect(&f), Some(MistralVersion::V7));
        // NeMo: [SYSTEM_PROMPT] in the tekken vocabulary, a v3 template.
        f.chat_template = Some("[INST]{{ m }}[/INST]".into());
        assert_eq!(MistralVersion::detect(&f), Some(MistralVersion::V3));
        let llama2 = VocabFacts {
            spm_32k: true,
            chat_template: Some("[INST] <<SYS>>\n{{ system }}\n<</SYS>>".into()),
            ..Default::default()
        };
        assert_eq!(MistralVersion::detect(&llama2), None);
        // v11 and v13 share their call tokens: the template, else [THINK], tells them apart.
        let calls = VocabFacts {
            has_inst_control: true,
            has_system_control: true,
            has_call_controls: true,
            ..Default::default()
        };
        assert_eq!(MistralVersion::detect(&calls), Some(MistralVersion::V11));
        let think = VocabFacts { has_think_controls: true, ..calls.clone() };
        assert_eq!(MistralVersion::detect(&think), Some(MistralVersion::V13));
        let v11_template =
            VocabFacts { chat_template: Some("[TOOL_CALLS]{{ n }}[CALL_ID]{{ i }}[ARGS]".into()), ..think.clone() };
        assert_eq!(MistralVersion::detect(&v11_template), Some(MistralVersion::V11));
        let v13_template =
            VocabFacts { chat_template: Some("[TOOL_CALLS]{{ n }}[ARGS]{{ a }}".into()), ..calls.clone() };
        assert_eq!(MistralVersion::detect(&v13_template), Some(MistralVersion::V13));
        let settings = VocabFacts { has_settings_controls: true, ..v11_template };
        assert_eq!(MistralVersion::detect(&settings), Some(MistralVersion::V15));
        let old = VocabFacts { spm_32k: true, model_name: Some("Mixtral-8x7B-Instruct".into()), ..Default::default() };
        assert_eq!(MistralVersion::detect(&old), Some(MistralVersion::V1));
        assert_eq!(MistralVersion::detect(&VocabFacts::default()), None);
    }
}
