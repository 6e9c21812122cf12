//! Turns a conversation into the prompt tokens for a loaded model: Mistral's formats built
//! natively (exactly as Mistral's reference tokenizes them), otherwise the model's own Jinja
//! template (or the user's override), otherwise llama.cpp's built-in ChatML.
//!
//! Message text never becomes control tokens. Mistral's formats place control tokens by id; on
//! the Jinja path a message holding special-token text (found in one pass over the vocabulary's
//! control-token texts) is tokenized as text by `tokenize_rendered`. Held by
//! `tests/mistral_formats.rs` and `tests/generation.rs` (`special_token_text_*`).

use aho_corasick::AhoCorasick;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::token::LlamaToken;
use serde::{Deserialize, Serialize};

use crate::chat_template::{self, SpecialTokens};
use crate::gguf_file::GgufSummary;
use crate::mistral_format::{self, MistralVersion, Segment};
use crate::reasoning::ThinkStyle;
use crate::tools::{self, CallTokens, ToolSpec};
use crate::{EngineError, Result};
use sirocco_types::ChatMessage;

/// Which way prompts are built for the loaded model, as the UI names it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PromptFormatKind {
    Mistral {
        version: MistralVersion,
        tekken: bool,
        label: String,
    },
    /// The Jinja template in the file.
    ModelTemplate,
    /// A template the user set for this model.
    UserTemplate,
    /// The file has no template: llama.cpp's built-in ChatML.
    BuiltinChatml,
}

/// How a model calls tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToolStyle {
    /// Mistral's `[TOOL_CALLS]` token and its other call tokens (v11 and later).
    Mistral(CallTokens),
    /// The model's template writes tools itself and its calls come in `<tool_call>` tags.
    Tagged,
    /// The tools in the system prompt, the reply a grammar-held JSON object.
    Generic,
}

pub(crate) struct PromptFormat {
    pub kind: PromptFormatKind,
    /// Mistral's control tokens this vocabulary has, looked up once at load.
    controls: Vec<(&'static str, LlamaToken)>,
    template: Option<String>,
    special: SpecialTokens,
    bos: LlamaToken,
    eos: LlamaToken,
    add_bos: bool,
    /// Finds the text of the vocabulary's control tokens in a message.
    control_texts: Option<AhoCorasick>,
    /// The model's template (its own or the user's) writes or reads `<think>` tags.
    thinks_in_tags: bool,
}

/// A matcher for the text of every token llama.cpp's tokenizer turns into a control token
/// only when asked to parse special tokens (control and unknown tokens; user-defined ones it
/// matches either way). A message without any of these texts tokenizes the same both ways, and
/// finding them is one pass over the text instead of two tokenizations.
fn control_texts(model: &LlamaModel) -> Option<AhoCorasick> {
    use llama_cpp_2::token_type::LlamaTokenAttr;
    let vocab = model.vocab();
    let texts: Vec<Vec<u8>> = vocab
        .tokens()
        .filter(|&t| vocab.attr(t).intersects(LlamaTokenAttr::Control | LlamaTokenAttr::Unknown))
        .filter_map(|t| vocab.text(t).map(|text| text.to_bytes().to_vec()))
        .filter(|text| !text.is_empty())
        .collect();
    if texts.is_empty() {
        return None;
    }
    AhoCorasick::new(texts).inspect_err(|e| tracing::warn!("control-token matcher: {e}")).ok()
}

/// The id of a special token written as `name`, if the vocabulary has it as one.
fn special_token(model: &LlamaModel, name: &str) -> Option<LlamaToken> {
    let vocab = model.vocab();
    let parsed = vocab.tokenize(name.as_bytes(), false, true);
    (parsed.len() == 1 && vocab.tokenize(name.as_bytes(), false, false) != parsed).then(|| parsed[0])
}

impl PromptFormat {
    pub fn for_model(model: &LlamaModel, summary: &GgufSummary, template_override: Option<&str>) -> Self {
        let vocab = model.vocab();
        // A vocabulary may lack a BOS or EOS (an embedding model's has no EOS: -1), and
        // llama.cpp throws a C++ exception — which aborts the process — for a piece of an id
        // outside it.
        let piece = |t: LlamaToken| {
            if (0..vocab.n_tokens()).contains(&t.0) {
                String::from_utf8_lossy(&vocab.token_to_piece(t, true, None)).into_owned()
            } else {
                String::new()
            }
        };
        let special = SpecialTokens { bos: piece(vocab.bos()), eos: piece(vocab.eos()) };
        use mistral_format::*;
        let controls: Vec<_> = mistral_format::CONTROLS
            .into_iter()
            .filter_map(|name| special_token(model, name).map(|t| (name, t)))
            .collect();
        let has = |name: &str| controls.iter().any(|(n, _)| *n == name);
        let (kind, template) = match template_override.filter(|t| !t.trim().is_empty()) {
            Some(t) => (PromptFormatKind::UserTemplate, Some(t.to_owned())),
            None => {
                let facts = VocabFacts {
                    has_inst_control: has(BEGIN_INST) && has(END_INST),
                    has_system_control: has(BEGIN_SYSTEM) && has(END_SYSTEM),
                    has_call_controls: has(ARGS) && has(CALL_ID),
                    has_think_controls: has(BEGIN_THINK) && has(END_THINK),
                    has_settings_controls: has(BEGIN_SETTINGS) && has(END_SETTINGS),
                    // SentencePiece (`llama`), read from the header: llama-cpp-2's
                    // `vocab_type()` panics on kinds it does not know (an embedding model's WPM).
                    spm_32k: model.meta_val_str("tokenizer.ggml.model").is_ok_and(|m| m == "llama")
                        && vocab.n_tokens() == 32000,
                    chat_template: summary.chat_template.clone(),
                    model_name: summary.name.clone(),
                };
                match MistralVersion::detect(&facts) {
                    Some(version) => {
                        let tekken = model.meta_val_str("tokenizer.ggml.pre").is_ok_and(|p| p == "tekken");
                        let label = version.label(tekken);
                        (PromptFormatKind::Mistral { version, tekken, label }, None)
                    }
                    None => match &summary.chat_template {
                        Some(t) => (PromptFormatKind::ModelTemplate, Some(t.clone())),
                        None => (PromptFormatKind::BuiltinChatml, None),
                    },
                }
            }
        };
        Self {
            kind,
            controls,
            template,
            special,
            bos: vocab.bos(),
            eos: vocab.eos(),
            add_bos: vocab.should_add_bos(),
            control_texts: control_texts(model),
            thinks_in_tags: template_override
                .or(summary.chat_template.as_deref())
                .is_some_and(|t| t.contains(crate::reasoning::OPEN_TAG) || t.contains(crate::reasoning::CLOSE_TAG)),
        }
    }

    /// How this model marks its thought, when it thinks: Mistral's `[THINK]` tokens (v13 and
    /// later vocabularies), or the `<think>` tags its template writes.
    pub(crate) fn think_style(&self) -> Option<ThinkStyle> {
        use mistral_format::{BEGIN_THINK, END_THINK};
        if let (PromptFormatKind::Mistral { .. }, Some(open), Some(close)) =
            (&self.kind, self.control(BEGIN_THINK), self.control(END_THINK))
        {
            return Some(ThinkStyle::Tokens { open, close });
        }
        self.thinks_in_tags.then_some(ThinkStyle::Tags)
    }

    fn control(&self, name: &str) -> Option<LlamaToken> {
        self.controls.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    /// How this model calls tools: Mistral's tokens, its template's `<tool_call>` tags, or the
    /// generic JSON format.
    pub fn tool_style(&self) -> ToolStyle {
        if let Some(tokens) = self.call_tokens() {
            return ToolStyle::Mistral(tokens);
        }
        match &self.template {
            Some(t) if t.contains(tools::TAG_OPEN) && t.contains("tools") => ToolStyle::Tagged,
            _ => ToolStyle::Generic,
        }
    }

    /// The tokens of a reply's tool calls, when the model has Mistral's own tool format (v3 and
    /// later) and its vocabulary every token that format places.
    fn call_tokens(&self) -> Option<CallTokens> {
        use mistral_format::*;
        let PromptFormatKind::Mistral { version, .. } = &self.kind else { return None };
        let mut needed = vec![BEGIN_TOOLS, END_TOOLS, TOOL_CALLS, BEGIN_TOOL_RESULTS, END_TOOL_RESULTS];
        match version {
            MistralVersion::V1 => return None,
            MistralVersion::V3 => {}
            MistralVersion::V7 => needed.push(TOOL_CONTENT),
            MistralVersion::V11 => needed.extend([TOOL_CONTENT, CALL_ID, ARGS]),
            MistralVersion::V13 | MistralVersion::V15 => needed.push(ARGS),
        }
        if !needed.iter().all(|n| self.control(n).is_some()) {
            return None;
        }
        let (args, call_id) = match version {
            MistralVersion::V11 => (self.control(ARGS), self.control(CALL_ID)),
            v if *v >= MistralVersion::V13 => (self.control(ARGS), None),
            _ => (None, None),
        };
        Some(CallTokens { calls: self.control(TOOL_CALLS)?, args, call_id })
    }

    /// The prompt tokens for `messages`; with `reply_prefix` the assistant's reply starts with
    /// that text and generation continues it. With `tools`, the model is told about them in its
    /// own format or the generic one; calls and results in the history are written the same way.
    /// `reasoning_effort` goes where the format has a place for it (Mistral v15's settings).
    /// The text's tokens, and for each image the index in them it stands before and its id.
    pub(crate) fn prompt(
        &self,
        model: &LlamaModel,
        messages: &[ChatMessage],
        reply_prefix: Option<&str>,
        tools: Option<&ToolSpec>,
        reasoning_effort: Option<crate::ReasoningEffort>,
    ) -> Result<Prompt> {
        let vocab = model.vocab();
        let reply_prefix = reply_prefix.filter(|p| !p.is_empty());
        let native_tools = self.call_tokens().is_some();
        if let PromptFormatKind::Mistral { version, .. } = &self.kind {
            let generic;
            let (messages, tools) = if native_tools {
                (messages, tools)
            } else {
                generic = tools::generic_messages(messages, tools);
                (&generic[..], None)
            };
            let mut tokens = Vec::new();
            let mut images = Vec::new();
            let setting = reasoning_effort.map(crate::ReasoningEffort::mistral_setting);
            for segment in mistral_format::segments(*version, messages, reply_prefix, tools, setting) {
                match segment {
                    Segment::Bos => tokens.push(self.bos),
                    Segment::Eos => tokens.push(self.eos),
                    Segment::Control(name) => {
                        let (_, token) = self
                            .controls
                            .iter()
                            .find(|(n, _)| *n == name)
                            .ok_or_else(|| EngineError::Template(format!("the vocabulary has no {name} token")))?;
                        tokens.push(*token);
                    }
                    Segment::Text(text) => tokens.extend(vocab.tokenize(text.as_bytes(), false, false)),
                    Segment::Image(id) => images.push((tokens.len(), id)),
                }
            }
            return Ok(Prompt { tokens, images });
        }
        // Each image goes in its message's text as a marker, before the text; the rendered
        // prompt is cut at the markers.
        let with_markers;
        let messages = if messages.iter().any(|m| !m.images.is_empty()) {
            with_markers = messages
                .iter()
                .map(|m| {
                    let markers: String =
                        m.images.iter().map(|i| format!("{IMAGE_OPEN}{:016x}{IMAGE_CLOSE}", i.id())).collect();
                    // A message's own marker characters would place images: they go.
                    let text = m.content.replace([IMAGE_OPEN, IMAGE_CLOSE], "");
                    ChatMessage { content: markers + &text, ..m.clone() }
                })
                .collect::<Vec<_>>();
            &with_markers[..]
        } else {
            messages
        };
        let tools_json = tools.map(ToolSpec::openai_json);
        let tagged = match (self.tool_style(), &self.template) {
            (ToolStyle::Tagged, Some(template)) => Some(template),
            _ => None,
        };
        let messages = match tagged {
            Some(_) => messages.to_vec(),
            None => tools::generic_messages(messages, tools),
        };
        let render = |messages: &[ChatMessage]| match tagged {
            Some(template) => chat_template::render_with_tools(
                template,
                messages,
                tools_json.as_ref(),
                &self.special,
                true,
                reasoning_effort,
            ),
            None => self.render(model, messages, reasoning_effort),
        };
        let prompt = render(&messages)?;
        let Prompt { mut tokens, mut images } = if messages.iter().any(|m| !m.images.is_empty()) {
            tokenize_with_images(model, &prompt)?
        } else {
            Prompt {
                tokens: tokenize_rendered(model, self.control_texts.as_ref(), &prompt, &messages, render),
                images: Vec::new(),
            }
        };
        if self.add_bos && tokens.first() != Some(&self.bos) {
            tokens.insert(0, self.bos);
            for (at, _) in &mut images {
                *at += 1;
            }
        }
        if let Some(prefix) = reply_prefix {
            // Text the user typed: never parsed for special tokens.
            tokens.extend(vocab.tokenize(prefix.as_bytes(), false, false));
        }
        Ok(Prompt { tokens, images })
    }

    /// Fill-in-the-middle: the prompt that asks for the code between `prefix` and `suffix`, in
    /// the model's own order. Mistral's (Codestral): `<s>[SUFFIX]suffix[PREFIX]prefix`, the
    /// suffix's text without SentencePiece's leading space, exactly as mistral-common builds it;
    /// other models with FIM tokens: `<fim_prefix>prefix<fim_suffix>suffix<fim_middle>`. Text is
    /// never parsed for control tokens.
    pub fn infill_tokens(&self, model: &LlamaModel, prefix: &str, suffix: &str) -> Result<Vec<LlamaToken>> {
        let vocab = model.vocab();
        let text = |s: &str| vocab.tokenize(s.as_bytes(), false, false);
        let unsupported = || {
            EngineError::InvalidRequest(
                "this model was not trained for fill-in-the-middle (its vocabulary has no FIM tokens)".into(),
            )
        };
        if let PromptFormatKind::Mistral { version, .. } = &self.kind {
            let (Some(suffix_token), Some(prefix_token)) =
                (special_token(model, "[SUFFIX]"), special_token(model, "[PREFIX]"))
            else {
                return Err(unsupported());
            };
            if *version == MistralVersion::V1 {
                return Err(unsupported());
            }
            let mut tokens = vec![self.bos, suffix_token];
            if !suffix.is_empty() {
                // mistral-common's way to drop the leading space: encode after "☺" and drop
                // the two tokens that make it.
                tokens.extend(text(&format!("☺{suffix}")).into_iter().skip(2));
            }
            tokens.push(prefix_token);
            tokens.extend(text(prefix));
            return Ok(tokens);
        }
        let (pre, suf, mid) = (vocab.fim_pre(), vocab.fim_suf(), vocab.fim_mid());
        if [pre, suf, mid].iter().any(|t| t.0 < 0) {
            return Err(unsupported());
        }
        let mut tokens = Vec::new();
        if self.add_bos {
            tokens.push(self.bos);
        }
        tokens.push(pre);
        tokens.extend(text(prefix));
        tokens.push(suf);
        tokens.extend(text(suffix));
        tokens.push(mid);
        Ok(tokens)
    }

    fn render(
        &self,
        model: &LlamaModel,
        messages: &[ChatMessage],
        effort: Option<crate::ReasoningEffort>,
    ) -> Result<String> {
        match &self.template {
            Some(t) => chat_template::render_with_tools(t, messages, None, &self.special, true, effort),
            None => {
                let chatml = LlamaChatTemplate::new("chatml").expect("no NUL in a constant");
                let chat = messages
                    .iter()
                    .map(|m| {
                        let role = serde_json::to_value(m.role).unwrap_or_default();
                        LlamaChatMessage::new(role.as_str().unwrap_or("user").to_owned(), m.content.replace('\0', ""))
                    })
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| EngineError::Template(e.to_string()))?;
                model.apply_chat_template(&chatml, &chat, true).map_err(|e| EngineError::Template(e.to_string()))
            }
        }
    }
}

/// A prompt's text as tokens, and where its images go: `(index in tokens, image id)`.
pub(crate) struct Prompt {
    pub tokens: Vec<LlamaToken>,
    pub images: Vec<(usize, u64)>,
}

/// Marks an image's place (its id in hex between them) in a template's rendering.
const IMAGE_OPEN: char = '\u{F8F2}';
const IMAGE_CLOSE: char = '\u{F8F3}';

/// A rendered prompt with image markers: the text between them parsed as the whole prompt is
/// when it holds no special-token text in messages (see [`tokenize_rendered`]: with images, a
/// message's control-token text is parsed as such).
fn tokenize_with_images(model: &LlamaModel, prompt: &str) -> Result<Prompt> {
    let vocab = model.vocab();
    let mut tokens = Vec::new();
    let mut images = Vec::new();
    let mut rest = prompt;
    while let Some(open) = rest.find(IMAGE_OPEN) {
        tokens.extend(vocab.tokenize(&rest.as_bytes()[..open], false, true));
        let after = &rest[open + IMAGE_OPEN.len_utf8()..];
        let close = after.find(IMAGE_CLOSE).ok_or_else(|| EngineError::Template("a broken image marker".into()))?;
        let id = u64::from_str_radix(&after[..close], 16)
            .map_err(|_| EngineError::Template("a broken image marker".into()))?;
        images.push((tokens.len(), id));
        rest = &after[close + IMAGE_CLOSE.len_utf8()..];
    }
    tokens.extend(vocab.tokenize(rest.as_bytes(), false, true));
    Ok(Prompt { tokens, images })
}

/// Marks a message's text in a second rendering (private-use characters no text carries).
const MARK_OPEN: char = '\u{F8F0}';
const MARK_CLOSE: char = '\u{F8F1}';

/// A rendered prompt as tokens: the template's own text parsed for special tokens, the
/// messages' text never — a message that says `<|im_start|>system` stays those characters,
/// as Mistral's native path keeps it. Where no message holds special-token text (nearly
/// always) this is the whole prompt parsed at once. Otherwise the prompt is rendered again with
/// each message's text replaced by a marker and tokenized piece by piece — when putting the
/// texts back (as they are, trimmed as many templates do, or the part a reasoning model's
/// template keeps) gives the very same prompt; a template that rewrites the text in another
/// way keeps the whole-prompt parse, logged.
fn tokenize_rendered(
    model: &LlamaModel,
    control_texts: Option<&AhoCorasick>,
    prompt: &str,
    messages: &[ChatMessage],
    render: impl Fn(&[ChatMessage]) -> Result<String>,
) -> Vec<LlamaToken> {
    let vocab = model.vocab();
    let whole = vocab.tokenize(prompt.as_bytes(), false, true);
    // A control token's text is where the two parses can differ; the tokenizer has the last word.
    let holds_special = |text: &str| {
        control_texts.is_some_and(|m| m.is_match(text))
            && vocab.tokenize(text.as_bytes(), false, true) != vocab.tokenize(text.as_bytes(), false, false)
    };
    if !messages.iter().any(|m| holds_special(&m.content)) {
        return whole;
    }
    let marked: Vec<ChatMessage> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| ChatMessage { content: format!("{MARK_OPEN}{i}{MARK_CLOSE}"), ..m.clone() })
        .collect();
    let marked_prompt = render(&marked).unwrap_or_default();
    let Some(pieces) = split_marked(&marked_prompt, messages, prompt) else {
        tracing::warn!("the chat template rewrites message text: special-token text in a message is parsed as such");
        return whole;
    };
    pieces.iter().flat_map(|(text, is_message)| vocab.tokenize(text.as_bytes(), false, !is_message)).collect()
}

/// What a template kept of a message whose text it rewrote (Qwen 3's and DeepSeek R1's drop an
/// answer's reasoning, up to `</think>`): the longest start of `rest` that is part of the
/// message's text and is followed by the template's `next` text. Being the message's own
/// characters, it is tokenized as text — however much control-token text the message holds.
/// With no `next` text the message must run to the end of the prompt (`last`).
fn kept_part<'a>(content: &str, rest: &'a str, next: &str, last: bool) -> Option<&'a str> {
    if next.is_empty() {
        return (last && content.contains(rest)).then_some(rest);
    }
    rest.match_indices(next)
        .map(|(end, _)| end)
        .take_while(|&end| end <= content.len())
        .filter(|&end| content.contains(&rest[..end]))
        .last()
        .map(|end| &rest[..end])
}

/// `prompt` cut where `marked` (the same rendering with markers for the messages' text) has
/// template text and where it has each message's text (`true`). A template may trim a message's
/// text (Llama 3's does): each message's piece is its text as is, trimmed, or trimmed at one end —
/// whichever is followed by the template's next text; a template that keeps only part of it
/// (see [`kept_part`]) gives that part. `None` if a marker is broken, names no message, or the
/// template changes the text in another way.
fn split_marked<'a>(marked: &str, messages: &[ChatMessage], prompt: &'a str) -> Option<Vec<(&'a str, bool)>> {
    // The marked rendering as template text and message indices, alternating.
    let mut template = Vec::new();
    let mut indices = Vec::new();
    let mut rest = marked;
    while let Some(open) = rest.find(MARK_OPEN) {
        template.push(&rest[..open]);
        let after = &rest[open + MARK_OPEN.len_utf8()..];
        let close = after.find(MARK_CLOSE)?;
        let index: usize = after[..close].parse().ok()?;
        indices.push(messages.get(index)?.content.as_str());
        rest = &after[close + MARK_CLOSE.len_utf8()..];
    }
    if rest.contains(MARK_CLOSE) {
        return None;
    }
    template.push(rest);

    let mut pieces = Vec::new();
    let mut at = 0;
    for (k, text) in template.iter().enumerate() {
        if !prompt[at..].starts_with(text) {
            return None;
        }
        pieces.push((&prompt[at..at + text.len()], false));
        at += text.len();
        let Some(content) = indices.get(k) else { break };
        let next = template[k + 1];
        let fits =
            |candidate: &&str| prompt[at..].starts_with(*candidate) && prompt[at + candidate.len()..].starts_with(next);
        let chosen = [*content, content.trim(), content.trim_start(), content.trim_end()]
            .into_iter()
            .find(|c| fits(c))
            .or_else(|| kept_part(content, &prompt[at..], next, k + 2 == template.len()))?;
        pieces.push((&prompt[at..at + chosen.len()], true));
        at += chosen.len();
    }
    (at == prompt.len()).then(|| pieces.into_iter().filter(|(text, _)| !text.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::kept_part;

    #[test]
    fn the_kept_part_is_the_longest_piece_of_the_message_before_the_template_text() {
        let end = "<|im_end|>\n";
        // The message holds the template's text itself: the longer piece is the message's.
        let content = "<think>x</think>ok<|im_end|>\nstill mine";
        let rest = "ok<|im_end|>\nstill mine<|im_end|>\n<|im_start|>user\n";
        assert_eq!(kept_part(content, rest, end, false), Some("ok<|im_end|>\nstill mine"));
        // Nothing of the message before the template's text: the template kept nothing.
        assert_eq!(kept_part("<think>all reasoning</think>", "<|im_end|>\n", end, false), Some(""));
        // Text that is not the message's is never taken for it.
        assert_eq!(kept_part("hello", "goodbye<|im_end|>\n", end, false), None);
        // No template text after it: only the last message, running to the prompt's end.
        assert_eq!(kept_part("a</think>tail", "tail", "", true), Some("tail"));
        assert_eq!(kept_part("a</think>tail", "tail", "", false), None);
    }
}
