//! Turns a stream of token bytes into valid UTF-8 pieces.
//!
//! Byte-level tokenizers split multi-byte characters across tokens; the incomplete tail of a
//! character is held back until the next token completes it.

#[derive(Debug, Default)]
pub struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    /// Adds `bytes` and returns the text that is complete so far (possibly empty).
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(text) => {
                    out.push_str(text);
                    self.pending.clear();
                    return out;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    out.push_str(std::str::from_utf8(&self.pending[..valid]).unwrap());
                    match e.error_len() {
                        // An incomplete character at the end: keep it for the next token.
                        None => {
                            self.pending.drain(..valid);
                            return out;
                        }
                        // Bytes that can never be valid: replace them and go on.
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            self.pending.drain(..valid + bad);
                        }
                    }
                }
            }
        }
    }

    /// Flushes whatever is left at the end of generation.
    pub fn finish(&mut self) -> String {
        let rest = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multibyte_characters_split_across_pushes_are_reassembled() {
        let text = "héllo 世界 🙂!";
        let bytes = text.as_bytes();
        // Every possible split into single bytes.
        let mut s = Utf8Stream::default();
        let mut out = String::new();
        for b in bytes {
            let piece = s.push(std::slice::from_ref(b));
            assert!(std::str::from_utf8(piece.as_bytes()).is_ok());
            out.push_str(&piece);
        }
        out.push_str(&s.finish());
        assert_eq!(out, text);
    }

    #[test]
    fn incomplete_character_is_held_back() {
        let mut s = Utf8Stream::default();
        let smile = "🙂".as_bytes();
        assert_eq!(s.push(&smile[..2]), "");
        assert_eq!(s.push(&smile[2..]), "🙂");
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let mut s = Utf8Stream::default();
        assert_eq!(s.push(b"a\xffb"), "a\u{fffd}b");
        assert_eq!(s.push(b"\xf0\x9f"), "");
        assert_eq!(s.finish(), "\u{fffd}");
    }
}
