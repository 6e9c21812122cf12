//! Reading real documents (made by fpdf2 and python-docx, see tests/fixtures/make_documents.py)
//! and hostile ones through the reader process.

use std::path::PathBuf;

use sirocco_documents::{read, DocumentError, Kind};

fn fixtures() -> PathBuf {
    let dir = std::env::var_os("SIROCCO_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/sirocco/fixtures"))
        .join("documents");
    assert!(dir.join("reference.json").exists(), "run tests/fixtures/fetch.sh first");
    dir
}

fn reference() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(fixtures().join("reference.json")).unwrap()).unwrap()
}

async fn read_file(name: &str) -> Result<sirocco_documents::DocumentText, DocumentError> {
    sirocco_documents::set_reader_program(env!("CARGO_BIN_EXE_sirocco-read-document").into());
    let kind = Kind::of(name, "").unwrap();
    read(kind, std::fs::read(fixtures().join(name)).unwrap()).await
}

#[tokio::test]
async fn pdf_and_word_files_read_as_their_text() {
    let reference = reference();
    for name in ["report.pdf", "almanac.pdf", "letter.docx"] {
        let doc = read_file(name).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        for want in reference[name]["contains"].as_array().unwrap() {
            assert!(doc.text.contains(want.as_str().unwrap()), "{name} lacks {want}:\n{}", doc.text);
        }
        assert_eq!(doc.pages.map(u64::from), reference[name]["pages"].as_u64(), "{name}");
        assert_eq!(doc.note, None, "{name}");
    }
}

#[tokio::test]
async fn a_5000_page_pdf_is_read_to_the_page_limit() {
    let doc = read_file("pages-5000.pdf").await.unwrap();
    assert_eq!(doc.pages, Some(5000));
    let max = sirocco_documents::MAX_PAGES;
    assert!(doc.text.contains(&format!("Page {max} of the long ledger.")));
    assert!(!doc.text.contains(&format!("Page {} of the long ledger.", max + 1)));
    assert_eq!(doc.note.as_deref(), Some(format!("only the first {max} of 5000 pages were read").as_str()));
}

#[tokio::test]
async fn looping_pdfs_are_a_clear_error() {
    for name in ["loop.pdf", "loop-form.pdf", "loop-xref.pdf"] {
        let e = read_file(name).await.expect_err(name);
        eprintln!("{name}: {e:?}");
        assert!(
            matches!(e, DocumentError::Unreadable(_) | DocumentError::Reader(_) | DocumentError::Empty(_)),
            "{name}: {e:?}"
        );
    }
}

#[tokio::test]
async fn a_truncated_pdf_is_a_clear_error() {
    sirocco_documents::set_reader_program(env!("CARGO_BIN_EXE_sirocco-read-document").into());
    let bytes = std::fs::read(fixtures().join("report.pdf")).unwrap();
    let e = read(Kind::Pdf, bytes[..bytes.len() / 2].to_vec()).await.unwrap_err();
    assert!(e.to_string().contains("PDF"), "{e}");
    let e = read(Kind::Pdf, b"GIF89a not a pdf".to_vec()).await.unwrap_err();
    assert_eq!(e.to_string(), "this is not a PDF file");
}

#[tokio::test]
async fn a_word_zip_bomb_stops_at_the_bound() {
    let e = read_file("bomb.docx").await.unwrap_err();
    assert!(e.to_string().contains("unpacks to more than 64 MB"), "{e}");
    sirocco_documents::set_reader_program(env!("CARGO_BIN_EXE_sirocco-read-document").into());
    let e = read(Kind::Docx, std::fs::read(fixtures().join("report.pdf")).unwrap()).await.unwrap_err();
    assert_eq!(e.to_string(), "this is not a Word document (.docx)");
}

#[tokio::test]
async fn text_in_a_legacy_encoding_reads_as_latin_1() {
    sirocco_documents::set_reader_program(env!("CARGO_BIN_EXE_sirocco-read-document").into());
    let doc = read(Kind::Text, b"caf\xE9 cr\xE8me".to_vec()).await.unwrap();
    assert_eq!(doc.text, "café crème");
}
