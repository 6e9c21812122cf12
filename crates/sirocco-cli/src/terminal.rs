//! Text from others — a model's answer and thought, a tool's name, arguments and result, an
//! MCP server's error — made safe to write to a terminal. Control characters would be read by
//! the terminal as commands: an escape sequence can set the clipboard (OSC 52), retitle the
//! window, or move the cursor and redraw a line, such as the "allow it?" prompt. Each one is
//! shown instead of obeyed (`␛`, `\r`…); newlines and tabs stay. Per character, so a sequence
//! split across streamed pieces is caught all the same.

/// `text` with every control character (C0 but newline and tab, DEL, C1) and bidirectional
/// override shown rather than obeyed.
pub fn safe(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !needs_escape(c) => out.push(c),
            '\x1b' => out.push('␛'),
            '\r' => out.push_str("\\r"),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        c if c.is_control() => true, // C0, DEL and C1 (U+0080–U+009F, CSI U+009B among them)
        // Bidirectional embeddings, overrides and isolates reorder what follows on the line.
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::safe;

    #[test]
    fn control_sequences_are_shown_not_obeyed() {
        assert_eq!(safe("plain text\nwith\ttabs, ünïcödé"), "plain text\nwith\ttabs, ünïcödé");
        assert_eq!(safe("\x1b]52;c;cHduZWQ=\x07"), "␛]52;c;cHduZWQ=\\u{7}");
        assert_eq!(safe("done\r\x1b[2Kallow it? [y]es"), "done\\r␛[2Kallow it? [y]es");
        assert_eq!(safe("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(safe("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(safe("\x08\x7f"), "\\u{8}\\u{7f}");
    }
}
