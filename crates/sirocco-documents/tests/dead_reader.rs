//! A reader process that dies without answering (as one killed by the kernel for its memory
//! would) is an error for that file; the caller goes on.

use sirocco_documents::{read, DocumentError, Kind};

#[tokio::test]
async fn a_reader_that_dies_is_an_error_not_a_crash() {
    // `false` exits 1 at once, having read nothing and answered nothing.
    sirocco_documents::set_reader_program("/bin/false".into());
    let e = read(Kind::Pdf, b"%PDF-1.4 whatever".to_vec()).await.unwrap_err();
    assert!(matches!(e, DocumentError::Reader(_)), "{e:?}");
    assert!(e.to_string().contains("stopped on this file"), "{e}");
}
