//! A reply read as it is sampled: a reasoning model's thought first ([`ThinkReader`]), then
//! tool calls ([`ToolReader`]) in what is not thought. One place decides what each token and
//! each piece of text is, so a call written while thinking is never a call and a thought never
//! reaches the answer.

use llama_cpp_2::token::LlamaToken;

use crate::reasoning::{Piece, ThinkReader};
use crate::tools::{ToolOutcome, ToolReader};

/// What a sampled token is to the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenRole {
    /// A marker read and consumed (a thought's, or a call's outside a thought): no text.
    Marker,
    /// A thought's marker shown inline: its own text is the text.
    MarkerText,
    /// Text (a control token among it shows nothing).
    Text,
}

#[derive(Debug)]
pub(crate) struct ReplyReader {
    think: ThinkReader,
    tools: ToolReader,
}

impl ReplyReader {
    pub fn new(think: ThinkReader, tools: ToolReader) -> Self {
        Self { think, tools }
    }

    pub fn in_thought(&self) -> bool {
        self.think.in_thought()
    }

    pub fn token(&mut self, token: LlamaToken) -> TokenRole {
        if self.think.marker(token) {
            return if self.think.is_inline() { TokenRole::MarkerText } else { TokenRole::Marker };
        }
        // Inside a thought a call's marker is not a call.
        if !self.think.in_thought() && self.tools.marker(token) {
            return TokenRole::Marker;
        }
        TokenRole::Text
    }

    /// `text` as thought and shown answer, in order: answer text that tool calls being
    /// collected hold is left out (it comes back from [`Self::finish`] if it was no call).
    pub fn text(&mut self, text: String) -> Vec<Piece> {
        let pieces = self.think.split(text);
        self.route(pieces)
    }

    fn route(&mut self, pieces: Vec<Piece>) -> Vec<Piece> {
        pieces
            .into_iter()
            .filter_map(|piece| match piece {
                Piece::Thought(text) => Some(Piece::Thought(text)),
                Piece::Answer(text) => self.tools.hold(text).filter(|t| !t.is_empty()).map(Piece::Answer),
            })
            .collect()
    }

    /// Once the reply has ended: what is still held, and what its tool calls were.
    pub fn finish(&mut self) -> (Vec<Piece>, Option<ToolOutcome>) {
        let held = self.think.finish();
        let pieces = self.route(held);
        (pieces, std::mem::replace(&mut self.tools, ToolReader::Off).finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reasoning::ThinkStyle;
    use crate::tools::CallTokens;

    const OPEN: LlamaToken = LlamaToken(34);
    const CLOSE: LlamaToken = LlamaToken(35);
    const CALLS: LlamaToken = LlamaToken(9);
    const ARGS: LlamaToken = LlamaToken(32);

    /// Mistral v13: `[THINK]`…`[/THINK]`, calls as `[TOOL_CALLS]name[ARGS]{json}`.
    fn mistral() -> ReplyReader {
        let tools = ToolReader::Marker {
            tokens: CallTokens { calls: CALLS, args: Some(ARGS), call_id: None },
            collecting: false,
            buffer: String::new(),
        };
        ReplyReader::new(ThinkReader::new(ThinkStyle::Tokens { open: OPEN, close: CLOSE }, false), tools)
    }

    /// Feeds tokens (ids) and text in order; returns (thought, answer, outcome).
    fn read(reader: &mut ReplyReader, parts: &[Result<LlamaToken, &str>]) -> (String, String, Option<ToolOutcome>) {
        let (mut thought, mut answer) = (String::new(), String::new());
        let mut take = |pieces: Vec<Piece>| {
            for p in pieces {
                match p {
                    Piece::Thought(t) => thought.push_str(&t),
                    Piece::Answer(t) => answer.push_str(&t),
                }
            }
        };
        for part in parts {
            match part {
                // A control token's own text is empty when not shown.
                Ok(token) => {
                    if reader.token(*token) == TokenRole::Text {
                        take(reader.text(String::new()));
                    }
                }
                Err(text) => take(reader.text((*text).to_string())),
            }
        }
        let (held, outcome) = reader.finish();
        take(held);
        (thought, answer, outcome)
    }

    #[test]
    fn a_call_written_inside_a_thought_is_not_a_call() {
        let (thought, answer, outcome) = read(
            &mut mistral(),
            &[
                Ok(OPEN),
                Err("I could call "),
                Ok(CALLS),
                Err("get_weather"),
                Ok(ARGS),
                Err(r#"{"city": "Paris"}"#),
                Ok(CLOSE),
                Err("It is sunny."),
            ],
        );
        assert_eq!(thought, r#"I could call get_weather{"city": "Paris"}"#);
        assert_eq!(answer, "It is sunny.");
        assert_eq!(outcome, None, "no call was made");

        // The same call after the thought is one.
        let (thought, answer, outcome) = read(
            &mut mistral(),
            &[
                Ok(OPEN),
                Err("Call it."),
                Ok(CLOSE),
                Ok(CALLS),
                Err("get_weather"),
                Ok(ARGS),
                Err(r#"{"city": "Paris"}"#),
            ],
        );
        assert_eq!((thought.as_str(), answer.as_str()), ("Call it.", ""));
        let Some(ToolOutcome::Calls(calls)) = outcome else { panic!("{outcome:?}") };
        assert_eq!((calls.len(), calls[0].name.as_str()), (1, "get_weather"));
    }

    #[test]
    fn tagged_calls_inside_think_tags_stay_thought() {
        let tools = ToolReader::Tagged { pending: String::new(), collecting: false, buffer: String::new() };
        let mut reader = ReplyReader::new(ThinkReader::new(ThinkStyle::Tags, false), tools);
        let call = r#"<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>"#;
        let (thought, answer, outcome) =
            read(&mut reader, &[Err("<think>maybe "), Err(call), Err("</think>"), Err("\n\nSunny.")]);
        assert_eq!(thought, format!("maybe {call}"));
        assert_eq!(answer, "Sunny.");
        assert_eq!(outcome, None);
    }
}
