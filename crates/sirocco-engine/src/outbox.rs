//! A request's event channel with its text paced: a reply's pieces go out at most once a
//! frame, bundled, instead of one wake-up of the receiving task per token.

use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use crate::logprobs::TokenLogprob;
use crate::request::GenerationEvent;

/// How often a reply's text is sent at most: one frame at 60 Hz. Waking the receiving task
/// for every token is not free when the model is fast and the cores are few (on 2 cores it
/// cost 2–4 % of decode speed: the woken thread pre-empts one of llama.cpp's); text that comes
/// faster waits for the next token at most this long, and the first piece and the last never
/// wait. Before a long step (another request's prompt in the batch) the scheduler sends what
/// waits.
const TEXT_INTERVAL: Duration = Duration::from_millis(16);

/// A request's event channel, with its text paced to [`TEXT_INTERVAL`].
pub(crate) struct Outbox {
    events: UnboundedSender<GenerationEvent>,
    pending: String,
    /// `pending` is thought (a reasoning model's), not answer.
    pending_thought: bool,
    sent_at: Option<Instant>,
    /// Tokens of the context the request fills now (its prompt and the reply so far).
    context_used: usize,
    /// Generated tokens' log-probabilities not sent yet (they go with the next text).
    logprobs: Vec<TokenLogprob>,
}

impl Outbox {
    pub(crate) fn new(events: UnboundedSender<GenerationEvent>) -> Self {
        Self {
            events,
            pending: String::new(),
            pending_thought: false,
            sent_at: None,
            context_used: 0,
            logprobs: Vec::new(),
        }
    }

    /// The request now fills `tokens` of the context: the next text sent says so.
    pub(crate) fn fills(&mut self, tokens: usize) {
        self.context_used = tokens;
    }

    /// A generated token's log-probability: it goes out with the next text.
    pub(crate) fn logprob(&mut self, entry: TokenLogprob) {
        self.logprobs.push(entry);
    }

    /// Queues `text` (made at `now`), sending what is queued when the last text went out
    /// long enough ago; false when nobody listens any more.
    pub(crate) fn text(&mut self, text: &str, now: Instant) -> bool {
        self.queue(false, text, now)
    }

    /// Queues a piece of the model's thought, paced like text (and in order with it).
    pub(crate) fn thought(&mut self, text: &str, now: Instant) -> bool {
        self.queue(true, text, now)
    }

    fn queue(&mut self, thought: bool, text: &str, now: Instant) -> bool {
        if thought != self.pending_thought && !self.flush() {
            return false;
        }
        self.pending_thought = thought;
        self.pending.push_str(text);
        if self.sent_at.is_some_and(|at| now.saturating_duration_since(at) < TEXT_INTERVAL) {
            return !self.events.is_closed();
        }
        self.sent_at = Some(now);
        self.flush()
    }

    /// Sends the queued text now; false when nobody listens any more.
    pub(crate) fn flush(&mut self) -> bool {
        if self.pending.is_empty() && (self.logprobs.is_empty() || self.pending_thought) {
            return !self.events.is_closed();
        }
        let text = std::mem::take(&mut self.pending);
        let event = if self.pending_thought {
            GenerationEvent::Reasoning { text }
        } else {
            let logprobs = std::mem::take(&mut self.logprobs);
            GenerationEvent::Text { text, context_used: self.context_used, logprobs }
        };
        self.events.send(event).is_ok()
    }

    /// Sends the queued text (and log-probabilities still waiting for text), then `event`.
    pub(crate) fn send(&mut self, event: GenerationEvent) {
        self.flush();
        if !self.logprobs.is_empty() {
            self.pending_thought = false;
            self.flush();
        }
        let _ = self.events.send(event);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.events.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    fn texts(rx: &mut mpsc::UnboundedReceiver<GenerationEvent>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(event) = rx.try_recv() {
            match event {
                GenerationEvent::Text { text, .. } => out.push(text),
                GenerationEvent::Reasoning { text } => out.push(format!("thought: {text}")),
                GenerationEvent::Error { message, .. } => out.push(format!("error: {message}")),
                _ => out.push("other".into()),
            }
        }
        out
    }

    #[test]
    fn text_faster_than_a_frame_goes_out_bundled_and_whole() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut outbox = Outbox::new(tx);
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        // Tokens every 5 ms: the first at once, then what came since, with the piece of 20 ms.
        for (i, piece) in ["Hel", "lo", ", ", "wor", "ld", "!"].iter().enumerate() {
            assert!(outbox.text(piece, ms(5 * i as u64)));
        }
        assert_eq!(texts(&mut rx), ["Hel", "lo, world"]);
        // The last pieces are not kept back: the next event takes them first.
        outbox.send(GenerationEvent::Error { message: "end".into(), busy: false, overflow: false });
        assert_eq!(texts(&mut rx), ["!", "error: end"]);
        // Thought and answer keep their order: switching sends what waits first.
        assert!(outbox.thought("a", ms(100)));
        assert!(outbox.thought("b", ms(101)));
        assert!(outbox.text("c", ms(102)));
        outbox.flush();
        assert_eq!(texts(&mut rx), ["thought: a", "thought: b", "c"]);
        // Each text says how much of the context the request fills when it goes out.
        outbox.fills(12);
        assert!(outbox.text("?", ms(200)));
        assert!(matches!(rx.try_recv(), Ok(GenerationEvent::Text { context_used: 12, .. })));
    }

    #[test]
    fn slow_text_goes_out_piece_by_piece() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut outbox = Outbox::new(tx);
        let t0 = Instant::now();
        for (i, piece) in ["a", "b", "c"].iter().enumerate() {
            assert!(outbox.text(piece, t0 + TEXT_INTERVAL * i as u32));
        }
        assert_eq!(texts(&mut rx), ["a", "b", "c"]);
    }

    #[test]
    fn a_gone_listener_is_noticed_while_text_waits() {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut outbox = Outbox::new(tx);
        let t0 = Instant::now();
        assert!(outbox.text("a", t0));
        drop(rx);
        assert!(outbox.is_closed());
        assert!(!outbox.text("b", t0), "held text, nobody listening");
        assert!(!outbox.text("c", t0 + TEXT_INTERVAL), "sent text, nobody listening");
    }
}
