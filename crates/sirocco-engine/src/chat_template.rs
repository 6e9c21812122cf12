//! Renders a conversation into a prompt with the model's own Jinja chat template.
//!
//! Templates come from untrusted files, so rendering is sandboxed: minijinja has no file or
//! network access, and a fuel limit stops templates that loop forever.

use minijinja::{Environment, Error, ErrorKind, Value};

use crate::{EngineError, Result};
use sirocco_types::ChatMessage;
use sirocco_types::ReasoningEffort;

/// Enough for any real template over a long conversation; stops runaway templates.
const TEMPLATE_FUEL: u64 = 50_000_000;

/// The special tokens a template refers to, as text.
#[derive(Debug, Clone, Default)]
pub struct SpecialTokens {
    pub bos: String,
    pub eos: String,
}

/// Renders `messages` with `template` the way Hugging Face's `apply_chat_template` does
/// (`trim_blocks`, `lstrip_blocks`, Python string methods, `raise_exception`).
pub fn render(
    template: &str,
    messages: &[ChatMessage],
    tokens: &SpecialTokens,
    add_generation_prompt: bool,
) -> Result<String> {
    render_with_tools(template, messages, None, tokens, add_generation_prompt, None)
}

/// A message as templates read it: OpenAI's shape, calls as `{id, type, function: {name,
/// arguments}}` with the arguments as a value (templates write them with `tojson`).
fn template_message(m: &ChatMessage) -> serde_json::Value {
    let mut out = serde_json::json!({ "role": m.role, "content": m.content });
    if !m.tool_calls.is_empty() {
        let calls: Vec<serde_json::Value> = m
            .tool_calls
            .iter()
            .map(|c| {
                serde_json::json!({
                    "id": c.id, "type": "function",
                    "function": { "name": c.name, "arguments": crate::tools::json_or_text(&c.arguments) },
                })
            })
            .collect();
        out["tool_calls"] = calls.into();
    }
    if let Some(id) = &m.tool_call_id {
        out["tool_call_id"] = id.clone().into();
    }
    // An earlier answer's thought: templates that keep it (Qwen 3's, for the turn in progress)
    // read it here; the others ignore it.
    if let Some(thought) = m.reasoning_content.as_ref().filter(|t| !t.is_empty()) {
        out["reasoning_content"] = thought.clone().into();
    }
    out
}

/// [`render`] with the tools the request offers (`tools` as OpenAI lists them), for templates
/// that describe tools themselves, and the reasoning effort asked for, as the variables
/// reasoning templates read: `enable_thinking` (Qwen 3, SmolLM3: false for `none`) and
/// `reasoning_effort` (gpt-oss and others). Without an effort neither is defined, so each
/// template keeps its own default.
pub fn render_with_tools(
    template: &str,
    messages: &[ChatMessage],
    tools: Option<&serde_json::Value>,
    tokens: &SpecialTokens,
    add_generation_prompt: bool,
    effort: Option<ReasoningEffort>,
) -> Result<String> {
    let messages: Vec<serde_json::Value> = messages.iter().map(template_message).collect();
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_fuel(Some(TEMPLATE_FUEL));
    minijinja_contrib::add_to_environment(&mut env);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function("raise_exception", |message: String| -> std::result::Result<Value, Error> {
        Err(Error::new(ErrorKind::InvalidOperation, message))
    });
    env.add_filter("tojson", tojson);
    env.add_template("chat", template).map_err(template_error)?;
    let base = minijinja::context! {
        messages => messages,
        tools => tools,
        bos_token => tokens.bos,
        eos_token => tokens.eos,
        add_generation_prompt => add_generation_prompt,
    };
    // Left undefined, not `none`, without an effort: templates test `is defined`.
    let ctx = match effort {
        Some(e) => minijinja::context! { enable_thinking => e.thinks(), reasoning_effort => e.as_str(), ..base },
        None => base,
    };
    env.get_template("chat").and_then(|t| t.render(ctx)).map_err(template_error)
}

/// A template checked before the user keeps it: a sample conversation (a system prompt, a
/// question, an answer with its thought, a second question) rendered with it, ready for the
/// answer. An error says what is wrong (a syntax error, `raise_exception`'s message, a template
/// that leaves the conversation out).
pub fn sample(template: &str, tokens: &SpecialTokens) -> Result<String> {
    use sirocco_types::Role;
    const LAST: &str = "And in French?";
    let mut answer = ChatMessage::new(Role::Assistant, "Hello! How can I help you today?");
    answer.reasoning_content = Some("The user greets me; I greet them back.".into());
    let messages = [
        ChatMessage::new(Role::System, "You are a helpful assistant."),
        ChatMessage::new(Role::User, "Say hello."),
        answer,
        ChatMessage::new(Role::User, LAST),
    ];
    let out = render(template, &messages, tokens, true)?;
    if !out.contains(LAST) {
        return Err(EngineError::Template(
            "the template does not write the conversation's messages (the last question is missing from its output)"
                .into(),
        ));
    }
    Ok(out)
}

/// `tojson` as Hugging Face's templates have it (Python's `json.dumps`: `", "` and `": "`,
/// keys in their order, no HTML escaping; `indent=n` for pretty output), not minijinja's
/// compact, HTML-escaped one: models were trained on what Python wrote.
fn tojson(value: Value, indent: Option<usize>, kwargs: minijinja::value::Kwargs) -> std::result::Result<Value, Error> {
    let indent = kwargs.get::<Option<usize>>("indent")?.or(indent);
    let _: Option<bool> = kwargs.get("ensure_ascii")?;
    let _: Option<bool> = kwargs.get("sort_keys")?;
    kwargs.assert_all_used()?;
    let json = serde_json::to_value(&value).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    let text = match indent {
        None => crate::tools::python_json(&json),
        Some(n) => {
            use serde::Serialize;
            let pad = vec![b' '; n.min(16)];
            let mut out = Vec::new();
            let mut ser =
                serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(&pad));
            json.serialize(&mut ser).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
            String::from_utf8(out).unwrap_or_default()
        }
    };
    Ok(Value::from_safe_string(text))
}

fn template_error(e: Error) -> EngineError {
    let mut message = e.to_string();
    if let Some(detail) = e.detail() {
        if !message.contains(detail) {
            message = format!("{message}: {detail}");
        }
    }
    EngineError::Template(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sirocco_types::Role;

    const CHATML: &str = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    #[test]
    fn renders_chatml_with_generation_prompt() {
        let out = render(CHATML, &[ChatMessage::new(Role::User, "Hi")], &SpecialTokens::default(), true).unwrap();
        assert_eq!(out, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    }

    #[test]
    fn tojson_writes_what_python_writes() {
        let t = "{{ messages[0] | tojson }}|{{ {'b': [1, 2], 'a': '<x>'} | tojson(indent=2) }}";
        let out = render(t, &[ChatMessage::new(Role::User, "<é>")], &SpecialTokens::default(), false).unwrap();
        assert_eq!(
            out,
            "{\"role\": \"user\", \"content\": \"<é>\"}|{\n  \"b\": [\n    1,\n    2\n  ],\n  \"a\": \"<x>\"\n}"
        );
    }

    #[test]
    fn python_string_methods_work() {
        let t = "{{ messages[0]['content'].strip().upper() }}";
        let out = render(t, &[ChatMessage::new(Role::User, "  hi ")], &SpecialTokens::default(), false).unwrap();
        assert_eq!(out, "HI");
    }

    #[test]
    fn raise_exception_becomes_a_clear_error() {
        let t = "{{ raise_exception('Conversation roles must alternate') }}";
        let err = render(t, &[], &SpecialTokens::default(), false).unwrap_err();
        assert!(err.to_string().contains("Conversation roles must alternate"), "{err}");
    }

    #[test]
    fn endless_template_runs_out_of_fuel() {
        let t = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}";
        let err = render(t, &[], &SpecialTokens::default(), false).unwrap_err();
        assert!(matches!(err, EngineError::Template(_)), "{err}");
    }

    #[test]
    fn effort_sets_the_reasoning_variables_only_when_asked() {
        // Qwen 3's test, and a reasoning_effort reader.
        let t = "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>{% endif %}\
                 {{ reasoning_effort | default('model default') }}";
        let user = [ChatMessage::new(Role::User, "Hi")];
        let tokens = SpecialTokens::default();
        let with = |e| render_with_tools(t, &user, None, &tokens, true, e).unwrap();
        assert_eq!(with(None), "model default");
        assert_eq!(with(Some(ReasoningEffort::None)), "<think>\n\n</think>none");
        assert_eq!(with(Some(ReasoningEffort::High)), "high");
    }

    #[test]
    fn an_earlier_thought_reaches_the_template_as_reasoning_content() {
        let t = "{% for m in messages %}{{ m.role }}:{% if m.reasoning_content is string %}({{ m.reasoning_content }}){% endif %}{{ m.content }};{% endfor %}";
        let mut answer = ChatMessage::new(Role::Assistant, "4");
        answer.reasoning_content = Some("2+2".into());
        let out = render(t, &[ChatMessage::new(Role::User, "2+2?"), answer], &SpecialTokens::default(), false).unwrap();
        assert_eq!(out, "user:2+2?;assistant:(2+2)4;");
    }

    #[test]
    fn a_sample_conversation_checks_a_template_before_it_is_kept() {
        let out = sample(CHATML, &SpecialTokens::default()).unwrap();
        assert!(out.starts_with("<|im_start|>system\nYou are a helpful assistant.<|im_end|>"), "{out}");
        assert!(out.ends_with("And in French?<|im_end|>\n<|im_start|>assistant\n"), "{out}");
        let err = sample("{{ 'hello' }}", &SpecialTokens::default()).unwrap_err().to_string();
        assert!(err.contains("does not write the conversation"), "{err}");
        let err = sample(
            "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}",
            &SpecialTokens::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("System role not supported"), "{err}");
        assert!(sample("{% for m in messages %}", &SpecialTokens::default()).is_err());
    }

    #[test]
    fn malformed_template_is_an_error_not_a_panic() {
        let err = render("{% for %}", &[], &SpecialTokens::default(), false).unwrap_err();
        assert!(matches!(err, EngineError::Template(_)));
    }
}
