//! Listing the library again reads only the headers that changed (every `GET /v1/models` and
//! picker refresh lists it). Its own test binary: it counts the process's header reads.

mod common;

use common::fixture;
use sirocco_hub::library::{self, headers, LibraryRoots};

#[test]
fn a_second_listing_reads_only_what_changed() {
    let root = tempfile::tempdir().unwrap();
    let tiny = fixture("tiny-mistral-7b-shape.gguf");
    std::fs::copy(&tiny, root.path().join("A-Q8_0.gguf")).unwrap();
    std::fs::copy(&tiny, root.path().join("B-Q4_0.gguf")).unwrap();
    let roots = LibraryRoots { folders: vec![root.path().to_path_buf()], ..LibraryRoots::default() };

    let before = headers::reads();
    let first = library::scan(&roots);
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|m| m.summary.is_some()));
    assert_eq!(headers::reads() - before, 2);

    let again = library::scan(&roots);
    assert_eq!(headers::reads() - before, 2, "nothing changed, nothing read");
    assert!(again.iter().map(|m| &m.summary).eq(first.iter().map(|m| &m.summary)));

    // One file replaced by a broken one: that one is read again, and the listing says so.
    std::fs::write(root.path().join("B-Q4_0.gguf"), b"GGUF but nothing else").unwrap();
    let changed = library::scan(&roots);
    assert_eq!(headers::reads() - before, 3);
    let b = changed.iter().find(|m| m.name.starts_with("B-")).unwrap();
    assert!(b.summary.is_none() && b.error.is_some(), "{b:?}");
}
