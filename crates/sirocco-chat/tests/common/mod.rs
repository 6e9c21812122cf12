//! What the turn tests share: a turn's events as a short shape to compare.

use sirocco_chat::TurnEvent;

/// One letter per event kind, runs of the same kind written once: "sretd" is started, thought,
/// its end, text, done.
pub fn shape(events: &[TurnEvent]) -> String {
    let mut out = String::new();
    for event in events {
        let c = match event {
            TurnEvent::Started { .. } => 's',
            TurnEvent::Reasoning { .. } => 'r',
            TurnEvent::ThoughtEnded { .. } => 'e',
            TurnEvent::Text { .. } => 't',
            TurnEvent::Done { .. } => 'd',
            TurnEvent::ToolCalls { .. } => 'c',
            TurnEvent::ToolApproval { .. } => 'a',
            TurnEvent::ToolRunning { .. } => 'u',
            TurnEvent::ToolResult { .. } => 'o',
            TurnEvent::Continued { .. } => 'n',
            TurnEvent::Reading { .. } => 'g',
            TurnEvent::Sources { .. } => 'w',
            TurnEvent::Error { .. } => 'x',
        };
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}
