//! Word (`.docx`): the text of `word/document.xml` in its zip — paragraphs, tabs, breaks, table
//! cells — read with a bound on what is unpacked (a zip bomb stops there).

use std::io::{Cursor, Read};

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::{DocumentError, DocumentText, Result};

/// The most of `word/document.xml` unpacked (its text is a small part of it).
const MAX_XML_BYTES: u64 = 64 * 1024 * 1024;

pub(crate) fn text(bytes: &[u8]) -> Result<DocumentText> {
    let not_word = || DocumentError::Unreadable("this is not a Word document (.docx)".into());
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| not_word())?;
    let part = zip.by_name("word/document.xml").map_err(|_| not_word())?;
    let mut xml = Vec::new();
    part.take(MAX_XML_BYTES + 1)
        .read_to_end(&mut xml)
        .map_err(|e| DocumentError::Unreadable(format!("this Word document is damaged ({e})")))?;
    if xml.len() as u64 > MAX_XML_BYTES {
        return Err(DocumentError::Unreadable(format!(
            "this Word document unpacks to more than {} MB of text markup",
            MAX_XML_BYTES / 1024 / 1024
        )));
    }
    let xml = std::str::from_utf8(&xml).map_err(|_| not_word())?;
    Ok(DocumentText { text: body_text(xml)?, pages: None, note: None })
}

/// The text of a WordprocessingML body: `w:t` runs, `w:tab`, `w:br`/`w:cr`, a line per
/// paragraph and table row, a tab between cells. Deleted text (`w:delText`) is left out.
fn body_text(xml: &str) -> Result<String> {
    let mut reader = Reader::from_str(xml);
    let mut out = String::new();
    let mut in_text = false;
    // Table cells open (nested tables nest them): a paragraph in a cell ends with a space.
    let mut cells = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| DocumentError::Unreadable(format!("this Word document is damaged ({e})")))?;
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                "t" => in_text = true,
                "tc" => cells += 1,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "p" => out.push(if cells > 0 { ' ' } else { '\n' }),
                "tc" => {
                    cells = cells.saturating_sub(1);
                    out.truncate(out.trim_end_matches(' ').len());
                    out.push('\t');
                }
                "tr" => {
                    out.truncate(out.trim_end_matches('\t').len());
                    out.push('\n');
                }
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                "tab" => out.push('\t'),
                "br" | "cr" => out.push('\n'),
                "p" => out.push('\n'),
                _ => {}
            },
            Event::Text(t) if in_text => out.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_text => {
                let name = r.into_inner();
                let c = match name.as_ref() {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    n => n
                        .strip_prefix("#x")
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .or_else(|| n.strip_prefix('#').and_then(|d| d.parse().ok()))
                        .and_then(char::from_u32),
                };
                out.extend(c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_tabs_cells_and_entities() {
        let xml = r#"<w:document xmlns:w="x"><w:body>
            <w:p><w:r><w:t>Fish &amp; chips</w:t><w:tab/><w:t xml:space="preserve"> &#233;t&#xE9;</w:t></w:r></w:p>
            <w:p><w:r><w:delText>gone</w:delText><w:t>kept</w:t><w:br/><w:t>next</w:t></w:r></w:p>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>a</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>b</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
            </w:body></w:document>"#;
        let text = crate::tidy(&body_text(xml).unwrap());
        assert_eq!(text, "Fish & chips\t été\nkept\nnext\na\tb");
    }
}
