//! Stop strings that may be split across tokens.
//!
//! Text that could still turn into a stop string is held back until it can't; text is only
//! ever cut at character boundaries.

/// How many bytes at the end of `text` could be the start of `tag` (which then waits for the
/// next piece); always a character boundary. Tag readers (tool-call tags, thought tags) share it.
pub(crate) fn tag_start_at_end(text: &str, tag: &str) -> usize {
    let n = text.len();
    (1..tag.len().min(n + 1))
        .rev()
        .find(|&k| text.is_char_boundary(n - k) && tag.starts_with(&text[n - k..]))
        .unwrap_or(0)
}

#[derive(Debug, Default)]
pub struct StopStrings {
    stops: Vec<String>,
    held: String,
    /// The stop string generation ended on, once one was found.
    matched: Option<String>,
}

/// What to show after a piece of generated text arrived.
#[derive(Debug, PartialEq, Eq)]
pub struct Checked {
    pub emit: String,
    pub stopped: bool,
}

impl StopStrings {
    pub fn new(stops: &[String]) -> Self {
        Self { stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(), held: String::new(), matched: None }
    }

    pub fn push(&mut self, text: &str) -> Checked {
        if self.stops.is_empty() {
            return Checked { emit: text.to_owned(), stopped: false };
        }
        self.held.push_str(text);
        let first_stop = self
            .stops
            .iter()
            .filter_map(|s| self.held.find(s.as_str()).map(|at| (at, s)))
            .min_by_key(|&(at, s)| (at, std::cmp::Reverse(s.len())));
        if let Some((at, stop)) = first_stop {
            self.matched = Some(stop.clone());
            let emit = self.held[..at].to_owned();
            self.held.clear();
            return Checked { emit, stopped: true };
        }
        // Keep the longest tail that is the start of some stop string.
        let keep_from = self
            .held
            .char_indices()
            .map(|(i, _)| i)
            .find(|&i| self.stops.iter().any(|s| s.starts_with(&self.held[i..])))
            .unwrap_or(self.held.len());
        let emit = self.held[..keep_from].to_owned();
        self.held.drain(..keep_from);
        Checked { emit, stopped: false }
    }

    /// The stop string that ended generation (the earliest in the text, the longest there).
    pub fn matched(&self) -> Option<&str> {
        self.matched.as_deref()
    }

    /// Text still held back when generation ends for another reason.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stops(s: &[&str]) -> StopStrings {
        StopStrings::new(&s.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn stop_split_across_pieces_is_found_and_never_shown() {
        let mut s = stops(&["\nUser:"]);
        assert_eq!(s.push("Hello"), Checked { emit: "Hello".into(), stopped: false });
        assert_eq!(s.push(" there\nUs"), Checked { emit: " there".into(), stopped: false });
        assert_eq!(s.push("er: more"), Checked { emit: "".into(), stopped: true });
        assert_eq!(s.matched(), Some("\nUser:"));
    }

    #[test]
    fn a_false_start_is_released() {
        let mut s = stops(&["###"]);
        assert_eq!(s.push("a #").emit, "a ");
        assert_eq!(s.push("# b").emit, "## b");
        assert_eq!(s.finish(), "");
    }

    #[test]
    fn earliest_of_several_stops_wins() {
        let mut s = stops(&["END", "STOP"]);
        assert_eq!(s.push("x STOP y END"), Checked { emit: "x ".into(), stopped: true });
    }

    #[test]
    fn multibyte_text_is_cut_on_char_boundaries() {
        let mut s = stops(&["🙂!"]);
        assert_eq!(s.push("é🙂").emit, "é");
        assert_eq!(s.push("?").emit, "🙂?");
        assert_eq!(s.push("🙂!"), Checked { emit: "".into(), stopped: true });
    }

    #[test]
    fn without_stops_everything_passes() {
        let mut s = stops(&[""]);
        assert_eq!(s.push("abc").emit, "abc");
    }
}
