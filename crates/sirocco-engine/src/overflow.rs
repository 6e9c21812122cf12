//! What happens when a conversation no longer fits the context: refuse with a clear error, or
//! drop whole messages (never cut one in half) until it fits.

use sirocco_types::{ChatMessage, OverflowPolicy, Role};

use crate::{EngineError, Result};

/// The messages to send for `policy` so that `count(messages) < context` (one position stays
/// free for the reply), with how many were dropped. The last message is never dropped, and
/// messages are dropped in user/assistant pairs where they come in pairs, so roles still
/// alternate.
pub fn fit(
    messages: &[ChatMessage],
    policy: OverflowPolicy,
    context: usize,
    mut count: impl FnMut(&[ChatMessage]) -> Result<usize>,
) -> Result<(Vec<ChatMessage>, usize)> {
    let mut kept = messages.to_vec();
    let mut tokens = count(&kept)?;
    let overflow = |tokens| EngineError::ContextOverflow { prompt_tokens: tokens, context_size: context };
    if tokens < context {
        return Ok((kept, 0));
    }
    // The first message that may be dropped: after the system prompt, and for drop-middle
    // after the first user message and its answer.
    let system = kept.iter().take_while(|m| m.role == Role::System).count();
    let protected = match policy {
        OverflowPolicy::Stop => return Err(overflow(tokens)),
        OverflowPolicy::RollingWindow => system,
        OverflowPolicy::DropMiddle => {
            let first_user = kept[system..].iter().position(|m| m.role == Role::User).map(|i| system + i);
            match first_user {
                Some(u) if kept.get(u + 1).is_some_and(|m| m.role == Role::Assistant) => u + 2,
                Some(u) => u + 1,
                None => system,
            }
        }
    };
    let mut dropped = 0;
    while tokens >= context {
        // Never the last message (the one being answered).
        if protected + 1 >= kept.len() {
            return Err(overflow(tokens));
        }
        let pair = kept[protected].role == Role::User
            && kept.get(protected + 1).is_some_and(|m| m.role == Role::Assistant)
            && protected + 2 < kept.len();
        let n = if pair { 2 } else { 1 };
        kept.drain(protected..protected + n);
        dropped += n;
        tokens = count(&kept)?;
    }
    Ok((kept, dropped))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(role: Role, s: &str) -> ChatMessage {
        ChatMessage::new(role, s)
    }

    /// One token per character, like a toy tokenizer.
    fn chars(ms: &[ChatMessage]) -> Result<usize> {
        Ok(ms.iter().map(|m| m.content.len()).sum())
    }

    fn conversation() -> Vec<ChatMessage> {
        vec![
            m(Role::System, "SS"),
            m(Role::User, "u1u1"),
            m(Role::Assistant, "a1a1"),
            m(Role::User, "u2u2"),
            m(Role::Assistant, "a2a2"),
            m(Role::User, "u3u3"),
            m(Role::Assistant, "a3a3"),
            m(Role::User, "last"),
        ]
    }

    #[test]
    fn stop_refuses_with_the_numbers() {
        let err = fit(&conversation(), OverflowPolicy::Stop, 20, chars).unwrap_err();
        assert!(matches!(err, EngineError::ContextOverflow { prompt_tokens: 30, context_size: 20 }), "{err}");
    }

    #[test]
    fn drop_middle_keeps_the_system_prompt_and_the_first_exchange() {
        let (kept, dropped) = fit(&conversation(), OverflowPolicy::DropMiddle, 20, chars).unwrap();
        let texts: Vec<_> = kept.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(texts, ["SS", "u1u1", "a1a1", "last"]);
        assert_eq!(dropped, 4);
    }

    #[test]
    fn rolling_window_drops_the_oldest_pairs() {
        let (kept, dropped) = fit(&conversation(), OverflowPolicy::RollingWindow, 20, chars).unwrap();
        let texts: Vec<_> = kept.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(texts, ["SS", "u3u3", "a3a3", "last"]);
        assert_eq!(dropped, 4);
    }

    #[test]
    fn a_last_message_too_long_alone_is_still_an_error() {
        let ms = vec![m(Role::System, "S"), m(Role::User, &"x".repeat(50))];
        assert!(fit(&ms, OverflowPolicy::RollingWindow, 20, chars).is_err());
        let ok = fit(&ms, OverflowPolicy::RollingWindow, 100, chars).unwrap();
        assert_eq!(ok.1, 0);
    }
}
