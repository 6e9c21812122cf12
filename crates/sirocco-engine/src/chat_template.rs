//! Renders a conversation into a prompt with the model's own Jinja chat template.
//!
//! Templates come from untrusted files, so rendering is sandboxed: minijinja has no file or
//! network access, and a fuel limit stops templates that loop forever.

use minijinja::{Environment, Error, ErrorKind, Value};
use serde::{Deserialize, Serialize};

use crate::tools::ToolCall;
use crate::{EngineError, Result};

/// Enough for any real template over a long conversation; stops runaway templates.
const TEMPLATE_FUEL: u64 = 50_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    /// A tool's result, answering one of the assistant's calls.
    Tool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
    /// An assistant message's calls to tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// A tool message: the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self { role, content: content.into(), tool_calls: Vec::new(), tool_call_id: None }
    }
}

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
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_fuel(Some(TEMPLATE_FUEL));
    minijinja_contrib::add_to_environment(&mut env);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function("raise_exception", |message: String| -> std::result::Result<Value, Error> {
        Err(Error::new(ErrorKind::InvalidOperation, message))
    });
    env.add_template("chat", template).map_err(template_error)?;
    let ctx = minijinja::context! {
        messages => messages,
        bos_token => tokens.bos,
        eos_token => tokens.eos,
        add_generation_prompt => add_generation_prompt,
    };
    env.get_template("chat")
        .and_then(|t| t.render(ctx))
        .map_err(template_error)
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

    const CHATML: &str = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    #[test]
    fn renders_chatml_with_generation_prompt() {
        let out = render(
            CHATML,
            &[ChatMessage::new(Role::User, "Hi")],
            &SpecialTokens::default(),
            true,
        )
        .unwrap();
        assert_eq!(out, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    }

    #[test]
    fn python_string_methods_work() {
        let t = "{{ messages[0]['content'].strip().upper() }}";
        let out =
            render(t, &[ChatMessage::new(Role::User, "  hi ")], &SpecialTokens::default(), false)
                .unwrap();
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
    fn malformed_template_is_an_error_not_a_panic() {
        let err = render("{% for %}", &[], &SpecialTokens::default(), false).unwrap_err();
        assert!(matches!(err, EngineError::Template(_)));
    }
}
