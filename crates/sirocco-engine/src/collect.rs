//! One way to drain a generation: every caller that reads a [`Generation`]'s events — the
//! chat turn, each server route, the arena, the CLI — goes through [`Collector`] (or
//! [`collect`], its loop), so "what the answer was" and "which event is the last" are decided
//! once.
//!
//! The rule for the last event: [`GenerationEvent::is_last`] — `Done` or `Error`, nothing else.
//! A thought (`Reasoning`) or the tool calls come before the last event and never end a
//! generation. A channel that closes before a last event is [`Ending::Cut`] (the engine went
//! away): what came is kept, and the caller says so.
//!
//! Streaming callers still see each event as it comes (they map it to their wire shape) and
//! hand it to the collector too; what they send at the end (stats, finish reason, the stored
//! response) comes from the collector's [`Collected`], never from a second accumulation.

use sirocco_types::{GenerationStats, ToolCall};

use crate::logprobs::TokenLogprob;
use crate::request::{Generation, GenerationEvent};

/// How a generation ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Ending {
    /// It finished (for any [`sirocco_types::FinishReason`], a stop included).
    Done(GenerationStats),
    /// The engine refused or failed it (see [`GenerationEvent::Error`]).
    Failed { message: String, busy: bool, overflow: bool },
    /// The events stopped before a last one: the engine went away mid-answer.
    #[default]
    Cut,
}

/// Everything a generation gave.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Collected {
    /// The answer's text, in order.
    pub text: String,
    /// The thought, kept apart (empty unless the request asked for it apart).
    pub reasoning: String,
    /// The tools the reply calls (empty for a plain answer).
    pub tool_calls: Vec<ToolCall>,
    /// Each generated token with its log-probability, in order (with `logprobs` asked).
    pub logprobs: Vec<TokenLogprob>,
    /// Context tokens in use after the last text (prompt and reply so far).
    pub context_used: usize,
    pub ending: Ending,
}

impl Collected {
    /// The stats when the generation finished.
    pub fn stats(&self) -> Option<&GenerationStats> {
        match &self.ending {
            Ending::Done(stats) => Some(stats),
            _ => None,
        }
    }

    /// The stats when it finished, else why not, as a sentence.
    pub fn result(&self) -> Result<&GenerationStats, String> {
        match &self.ending {
            Ending::Done(stats) => Ok(stats),
            Ending::Failed { message, .. } => Err(message.clone()),
            Ending::Cut => Err(CUT.to_string()),
        }
    }
}

/// What a generation cut short is told as.
pub const CUT: &str = "the engine stopped before the answer was finished";

/// Gathers a generation's events as they come; see the module doc for the rule.
#[derive(Debug, Default)]
pub struct Collector {
    collected: Collected,
    ended: bool,
}

impl Collector {
    /// Takes one event; `true` when it was the last (further events are ignored).
    pub fn add(&mut self, event: &GenerationEvent) -> bool {
        if self.ended {
            return true;
        }
        let c = &mut self.collected;
        match event {
            GenerationEvent::Reasoning { text } => c.reasoning.push_str(text),
            GenerationEvent::Text { text, context_used, logprobs } => {
                c.text.push_str(text);
                c.context_used = *context_used;
                c.logprobs.extend(logprobs.iter().cloned());
            }
            GenerationEvent::ToolCalls { calls } => c.tool_calls.extend(calls.iter().cloned()),
            GenerationEvent::Done { stats } => c.ending = Ending::Done(stats.clone()),
            GenerationEvent::Error { message, busy, overflow } => {
                c.ending = Ending::Failed { message: message.clone(), busy: *busy, overflow: *overflow }
            }
        }
        self.ended = event.is_last();
        self.ended
    }

    /// What came so far (the ending stays [`Ending::Cut`] until a last event).
    pub fn collected(&self) -> &Collected {
        &self.collected
    }

    pub fn finish(self) -> Collected {
        self.collected
    }
}

impl GenerationEvent {
    /// The one rule for the end of a generation: `Done` or `Error`.
    pub fn is_last(&self) -> bool {
        matches!(self, GenerationEvent::Done { .. } | GenerationEvent::Error { .. })
    }
}

/// Drains `generation` to its last event, showing each event to `each` first.
pub async fn collect(generation: &mut Generation, mut each: impl FnMut(&GenerationEvent)) -> Collected {
    let mut collector = Collector::default();
    while let Some(event) = generation.events.recv().await {
        each(&event);
        if collector.add(&event) {
            break;
        }
    }
    collector.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sirocco_types::FinishReason;

    fn stats(finish: FinishReason) -> GenerationStats {
        serde_json::from_value(serde_json::json!({
            "prompt_tokens": 3, "cached_tokens": 0, "generated_tokens": 2, "time_to_first_token_ms": 1.0,
            "prefill_tokens_per_second": 1.0, "decode_tokens_per_second": 1.0, "context_used": 7,
            "context_length": 64, "finish_reason": finish, "dropped_messages": 0,
        }))
        .unwrap()
    }

    fn text(t: &str) -> GenerationEvent {
        GenerationEvent::Text { text: t.into(), context_used: 7, logprobs: Vec::new() }
    }

    #[test]
    fn a_thought_and_tool_calls_come_before_the_end_and_never_end_it() {
        let mut c = Collector::default();
        assert!(!c.add(&GenerationEvent::Reasoning { text: "hmm".into() }));
        assert!(!c.add(&text("Hel")));
        assert!(!c.add(&text("lo")));
        let call = ToolCall { id: "c1".into(), name: "f".into(), arguments: "{}".into() };
        assert!(!c.add(&GenerationEvent::ToolCalls { calls: vec![call.clone()] }));
        let stats = stats(FinishReason::ToolCalls);
        assert!(c.add(&GenerationEvent::Done { stats: stats.clone() }));
        // Nothing after the last event counts.
        assert!(c.add(&text("late")));
        let got = c.finish();
        assert_eq!((got.reasoning.as_str(), got.text.as_str(), got.context_used), ("hmm", "Hello", 7));
        assert_eq!(got.tool_calls, vec![call]);
        assert_eq!(got.ending, Ending::Done(stats));
    }

    #[test]
    fn an_error_ends_it_and_a_closed_channel_is_a_cut() {
        let mut c = Collector::default();
        c.add(&text("part"));
        assert!(c.add(&GenerationEvent::Error { message: "busy".into(), busy: true, overflow: false }));
        assert_eq!(c.finish().ending, Ending::Failed { message: "busy".into(), busy: true, overflow: false });

        let mut c = Collector::default();
        c.add(&text("half an ans"));
        let got = c.finish();
        assert_eq!((got.text.as_str(), &got.ending), ("half an ans", &Ending::Cut));
        assert!(got.stats().is_none());
        assert_eq!(got.result().unwrap_err(), CUT);
    }
}
