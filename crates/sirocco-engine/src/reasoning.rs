//! A reasoning model's thought, kept apart from its answer as the reply streams: between
//! Mistral's `[THINK]` and `[/THINK]` control tokens (v13 and later vocabularies), or between
//! `<think>` and `</think>` in the text when the model's template writes them (Qwen 3, DeepSeek
//! R1, SmolLM3, Magistral Small 2506). What is inside goes out as reasoning, never as answer
//! text, and the tool-call reader never sees it (a call written while thinking is not a call).

use llama_cpp_2::token::LlamaToken;

pub(crate) const OPEN_TAG: &str = "<think>";
pub(crate) const CLOSE_TAG: &str = "</think>";

/// How a model marks its thought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ThinkStyle {
    /// Control tokens (no text of their own).
    Tokens { open: LlamaToken, close: LlamaToken },
    /// Tags in the text, which may arrive split over several pieces.
    Tags,
}

/// A part of the reply's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Thought(String),
    Answer(String),
}

/// Splits a reply into thought and answer.
#[derive(Debug)]
pub(crate) struct ThinkReader {
    style: Option<ThinkStyle>,
    thinking: bool,
    /// The thought is followed (for a thinking budget) but shown in the answer, markers and
    /// all, as the model wrote it.
    inline: bool,
    /// A thought just closed: the whitespace that separates it from the answer is not answer.
    after_thought: bool,
    /// A thought just opened: the whitespace after its marker is not thought.
    thought_start: bool,
    /// Tags: text that may be the start of the next tag, held until decided.
    pending: String,
}

impl ThinkReader {
    /// Everything is answer.
    pub fn off() -> Self {
        Self {
            style: None,
            thinking: false,
            inline: false,
            after_thought: false,
            thought_start: false,
            pending: String::new(),
        }
    }

    /// `thinking`: the prompt already opened the thought (a template that ends its generation
    /// prompt with the opening tag), so the reply starts inside it.
    pub fn new(style: ThinkStyle, thinking: bool) -> Self {
        Self {
            style: Some(style),
            thinking,
            inline: false,
            after_thought: false,
            thought_start: thinking,
            pending: String::new(),
        }
    }

    /// Thought goes out as answer text, with its markers (see [`Self::inline`]).
    pub fn inline(self, inline: bool) -> Self {
        Self { inline, ..self }
    }

    pub fn is_inline(&self) -> bool {
        self.inline
    }

    pub fn in_thought(&self) -> bool {
        self.thinking
    }

    /// True when `token` opens or closes a thought (it is then consumed, not shown).
    pub fn marker(&mut self, token: LlamaToken) -> bool {
        match self.style {
            Some(ThinkStyle::Tokens { open, .. }) if token == open => {
                self.thinking = true;
                self.thought_start = true;
            }
            Some(ThinkStyle::Tokens { close, .. }) if token == close => {
                self.thinking = false;
                self.after_thought = !self.inline;
            }
            _ => return false,
        }
        true
    }

    /// `text` as the piece it is now; `None` when nothing of it is shown (the blank lines
    /// between a thought and its answer, as templates write `</think>\n\n`).
    fn piece(&mut self, text: String) -> Option<Piece> {
        if self.thinking && !self.inline {
            return past_blank_start(&mut self.thought_start, text).map(Piece::Thought);
        }
        past_blank_start(&mut self.after_thought, text).map(Piece::Answer)
    }

    /// `text` as thought and answer pieces, in order (empty pieces left out).
    pub fn split(&mut self, text: String) -> Vec<Piece> {
        if self.style != Some(ThinkStyle::Tags) {
            return self.piece(text).into_iter().collect();
        }
        self.pending.push_str(&text);
        let mut out = Vec::new();
        loop {
            let tag = if self.thinking { CLOSE_TAG } else { OPEN_TAG };
            match self.pending.find(tag) {
                Some(at) => {
                    let end = if self.inline { at + tag.len() } else { at };
                    let before = self.pending[..end].to_owned();
                    self.pending.drain(..at + tag.len());
                    out.extend(self.piece(before));
                    self.thinking = !self.thinking;
                    self.after_thought = !self.thinking && !self.inline;
                    self.thought_start = self.thinking;
                }
                None => {
                    // Keep the end of the text that could begin the tag.
                    let keep = crate::stop_strings::tag_start_at_end(&self.pending, tag);
                    let rest = self.pending.split_off(self.pending.len() - keep);
                    let ready = std::mem::replace(&mut self.pending, rest);
                    out.extend(self.piece(ready));
                    return out;
                }
            }
        }
    }

    /// What is still held, once the reply has ended.
    pub fn finish(&mut self) -> Vec<Piece> {
        let rest = std::mem::take(&mut self.pending);
        self.piece(rest).into_iter().collect()
    }
}

/// `text`, without its leading whitespace while `at_start` (which ends at the first other
/// character); `None` when nothing is left.
fn past_blank_start(at_start: &mut bool, text: String) -> Option<String> {
    let text = if *at_start { text.trim_start().to_owned() } else { text };
    if !text.is_empty() {
        *at_start = false;
    }
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Piece::*;

    fn read(reader: &mut ThinkReader, pieces: &[&str]) -> Vec<Piece> {
        let mut out: Vec<Piece> = pieces.iter().flat_map(|p| reader.split(String::from(*p))).collect();
        out.extend(reader.finish());
        // Neighbours of one kind joined, as a reader of the stream sees them.
        out.into_iter().fold(Vec::new(), |mut acc: Vec<Piece>, p| {
            match (acc.last_mut(), p) {
                (Some(Thought(a)), Thought(b)) | (Some(Answer(a)), Answer(b)) => a.push_str(&b),
                (_, p) => acc.push(p),
            }
            acc
        })
    }

    #[test]
    fn tags_split_across_pieces_are_found_and_never_shown() {
        let mut r = ThinkReader::new(ThinkStyle::Tags, false);
        let got = read(&mut r, &["<th", "ink>Let me see", ": 2+2.</", "thi", "nk>\n\nIt is 4 <b>"]);
        // The blank lines between thought and answer are neither.
        assert_eq!(got, [Thought("Let me see: 2+2.".into()), Answer("It is 4 <b>".into())]);
    }

    #[test]
    fn inline_tags_stay_in_the_text_while_the_thought_is_followed() {
        let mut r = ThinkReader::new(ThinkStyle::Tags, false).inline(true);
        let mut got = r.split("<think>a</th".into());
        assert!(r.in_thought());
        got.extend(r.split("ink>b".into()));
        assert!(!r.in_thought());
        got.extend(r.finish());
        let text: String = got
            .into_iter()
            .map(|p| match p {
                Answer(t) => t,
                Thought(t) => panic!("thought {t}"),
            })
            .collect();
        assert_eq!(text, "<think>a</think>b");
    }

    #[test]
    fn a_reply_may_start_inside_a_thought_the_prompt_opened() {
        let mut r = ThinkReader::new(ThinkStyle::Tags, true);
        // The blank line after the opening is not thought either.
        assert_eq!(read(&mut r, &["\n", " hmm</think>Yes."]), [Thought("hmm".into()), Answer("Yes.".into())]);
        // A thought cut off by the end of the reply is still a thought.
        let mut r = ThinkReader::new(ThinkStyle::Tags, false);
        assert_eq!(read(&mut r, &["<think>still thinking </thi"]), [Thought("still thinking </thi".into())]);
    }

    #[test]
    fn tokens_mark_the_thought_and_are_consumed() {
        let (open, close) = (LlamaToken(34), LlamaToken(35));
        let mut r = ThinkReader::new(ThinkStyle::Tokens { open, close }, false);
        assert!(!r.marker(LlamaToken(7)));
        assert!(r.marker(open) && r.in_thought());
        assert_eq!(r.split("plan <think>".into()), [Thought("plan <think>".into())]);
        assert!(r.marker(close) && !r.in_thought());
        assert_eq!(r.split("done".into()), [Answer("done".into())]);
        // Followed but shown inline: the text as written, markers left to the caller.
        let mut r = ThinkReader::new(ThinkStyle::Tokens { open, close }, false).inline(true);
        assert!(r.marker(open) && r.in_thought() && r.is_inline());
        assert_eq!(r.split("plan".into()), [Answer("plan".into())]);
        let mut off = ThinkReader::off();
        assert!(!off.marker(open));
        assert_eq!(off.split("<think>x</think>".into()), [Answer("<think>x</think>".into())]);
    }
}
