//! PDF: each page's text through `pdf-extract` (on lopdf), page by page, so a page that cannot
//! be read costs that page only. Runs in the reader process (see `isolated`).

use std::panic::{catch_unwind, AssertUnwindSafe};

use pdf_extract::{Document, PlainTextOutput};

use crate::{DocumentError, DocumentText, Result, MAX_CHARS, MAX_PAGES};

pub(crate) fn text(bytes: &[u8]) -> Result<DocumentText> {
    if !bytes.starts_with(b"%PDF-") && !bytes[..bytes.len().min(1024)].windows(5).any(|w| w == b"%PDF-") {
        return Err(DocumentError::Unreadable("this is not a PDF file".into()));
    }
    let loaded = catch_unwind(AssertUnwindSafe(|| Document::load_mem(bytes)));
    let mut doc = match loaded {
        Ok(Ok(doc)) => doc,
        Ok(Err(e)) => return Err(DocumentError::Unreadable(format!("this PDF is damaged ({e})"))),
        Err(_) => return Err(DocumentError::Unreadable("this PDF is damaged".into())),
    };
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(DocumentError::Unreadable("this PDF is protected by a password".into()));
    }
    let total = doc.get_pages().len();
    if total == 0 {
        return Err(DocumentError::Unreadable("this PDF has no pages".into()));
    }
    let mut text = String::new();
    let mut unreadable = 0;
    let mut read = 0;
    for number in 1..=total.min(MAX_PAGES) {
        if text.len() > MAX_CHARS * 4 {
            break;
        }
        let mut page = String::new();
        let done = catch_unwind(AssertUnwindSafe(|| {
            let mut out = PlainTextOutput::new(&mut page);
            pdf_extract::output_doc_page(&doc, &mut out, number as u32)
        }));
        read = number;
        match done {
            Ok(Ok(())) => {
                text.push_str(&reflow(page.trim()));
                text.push_str("\n\n");
            }
            _ => unreadable += 1,
        }
    }
    let mut notes = Vec::new();
    if read < total {
        notes.push(format!("only the first {read} of {total} pages were read"));
    }
    if unreadable > 0 {
        notes.push(format!("{unreadable} of its pages could not be read"));
    }
    if unreadable == read {
        return Err(DocumentError::Unreadable("none of this PDF's pages could be read".into()));
    }
    Ok(DocumentText { text, pages: Some(total as u32), note: (!notes.is_empty()).then(|| notes.join("; ")) })
}

/// A page's lines joined where a line was only wrapped: PDFs place each line apart, and the
/// extractor writes a blank line wherever the gap between two lines is wide. A line that ends
/// mid-sentence (no `.`, `!`, `?`, `:` or `;`) followed by one that starts in lower case is the
/// same sentence going on.
fn reflow(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    let mut gap = String::new();
    for line in page.split('\n') {
        let line = line.trim_end();
        if line.trim().is_empty() {
            gap.push('\n');
            continue;
        }
        if !out.is_empty() {
            let wrapped = !out.ends_with(['.', '!', '?', ':', ';'])
                && line.trim_start().chars().next().is_some_and(char::is_lowercase);
            if wrapped {
                if !out.ends_with('-') {
                    out.push(' ');
                }
                out.push_str(line.trim_start());
                gap.clear();
                continue;
            }
            out.push_str(if gap.is_empty() { "\n" } else { "\n\n" });
        }
        gap.clear();
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::reflow;

    #[test]
    fn wrapped_lines_are_joined_and_paragraphs_kept() {
        let page = "Corvath Island\n\nThe parish hall holds a market on the first Saturday of each\n\nmonth, where salt is sold.\nRecords show steady trade.\n\nFees and tolls\nwell-\nknown";
        assert_eq!(
            reflow(page),
            "Corvath Island\n\nThe parish hall holds a market on the first Saturday of each month, where salt is sold.\nRecords show steady trade.\n\nFees and tolls well-known"
        );
    }
}
