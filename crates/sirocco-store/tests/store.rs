//! The store on real SQLite files: message trees and branches, search, and a process killed
//! while an answer streams.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use sirocco_store::{MessageStatus, Role, Store};

#[tokio::test]
async fn edits_and_regenerations_make_branches() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("chats.db")).await.unwrap();
    let c = store.create_conversation("Colours").await.unwrap();
    let q = store.add_message(c, None, Role::User, "Name a colour.", MessageStatus::Complete).await.unwrap();
    let a1 = store.add_message(c, Some(q), Role::Assistant, "Blue.", MessageStatus::Complete).await.unwrap();
    // Regenerate: a sibling answer; it becomes the branch on screen.
    let a2 = store.add_message(c, Some(q), Role::Assistant, "Red.", MessageStatus::Complete).await.unwrap();
    let branch: Vec<_> = store.current_branch(c).await.unwrap().into_iter().map(|m| m.content).collect();
    assert_eq!(branch, ["Name a colour.", "Red."]);
    let siblings: Vec<_> = store.siblings(a2).await.unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(siblings, [a1, a2]);
    // Switch back to the first answer and continue from it.
    store.set_current_leaf(c, a1).await.unwrap();
    let q2 = store.add_message(c, Some(a1), Role::User, "Another?", MessageStatus::Complete).await.unwrap();
    let path: Vec<_> = store.path_to(q2).await.unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(path, [q, a1, q2]);

    // Conversations: pinned first, then most recent.
    let d = store.create_conversation("Later").await.unwrap();
    store.add_message(d, None, Role::User, "hi", MessageStatus::Complete).await.unwrap();
    store.set_pinned(c, true).await.unwrap();
    store.rename(c, "Colours of things").await.unwrap();
    let list = store.conversations().await.unwrap();
    assert_eq!(list.iter().map(|c| c.id).collect::<Vec<_>>(), [c, d]);
    assert_eq!(list[0].title, "Colours of things");

    // Deleting a conversation deletes its messages (and their search entries).
    store.delete_conversation(c).await.unwrap();
    assert!(store.message(a1).await.is_err());
    assert!(store.search("colour", 10).await.unwrap().is_empty());
    assert!(store.rename(c, "gone").await.is_err());
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
}

#[tokio::test]
async fn a_conversation_keeps_the_tool_servers_it_offers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("chats.db")).await.unwrap();
    let c = store.create_conversation("Tools").await.unwrap();
    assert!(store.conversation(c).await.unwrap().tools.is_empty(), "none until chosen");
    let chosen = vec!["everything".to_string(), "files \"home\"".to_string()];
    store.set_conversation_tools(c, &chosen).await.unwrap();
    assert_eq!(store.conversation(c).await.unwrap().tools, chosen);
    store.set_conversation_tools(c, &[]).await.unwrap();
    assert!(store.conversation(c).await.unwrap().tools.is_empty());
    assert!(store.set_conversation_tools(c + 1, &chosen).await.is_err(), "no such conversation");
}

#[tokio::test]
async fn search_finds_words_and_survives_hostile_queries() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("chats.db")).await.unwrap();
    let c = store.create_conversation("Rivers").await.unwrap();
    let m = store
        .add_message(c, None, Role::User, "The Danube flows into the Black Sea.", MessageStatus::Complete)
        .await
        .unwrap();
    let other = store.create_conversation("Cooking").await.unwrap();
    store.add_message(other, None, Role::User, "Bread needs flour and water.", MessageStatus::Complete).await.unwrap();

    let hits = store.search("danube", 10).await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].message_id, hits[0].conversation_title.as_str()), (m, "Rivers"));
    assert!(hits[0].snippet.contains("\u{2}Danube\u{3}"), "{}", hits[0].snippet);
    // Edited text is searchable at once; the old text is not.
    store.set_message_content(m, "The Rhine flows into the North Sea.", MessageStatus::Complete).await.unwrap();
    assert!(store.search("danube", 10).await.unwrap().is_empty());
    assert_eq!(store.search("rhine", 10).await.unwrap().len(), 1);
    // FTS5 syntax in user input is just text.
    for hostile in ["\"", "AND OR NOT", "content:x*", "(((", "NEAR(a b", "'; DROP TABLE messages; --"] {
        store.search(hostile, 10).await.unwrap();
    }
    assert_eq!(store.search("flour water", 10).await.unwrap().len(), 1);
}

/// The child: streams an answer forever, printing a line after each save.
#[tokio::test]
#[ignore = "run by a_killed_app_keeps_the_saved_part_of_a_streaming_answer in a child process"]
async fn child_streams_until_killed() {
    let path = std::env::var("SIROCCO_STORE_CHILD_DB").unwrap();
    let store = Store::open(std::path::Path::new(&path)).await.unwrap();
    let c = store.create_conversation("Streaming").await.unwrap();
    let q = store.add_message(c, None, Role::User, "Tell me a long story.", MessageStatus::Complete).await.unwrap();
    let mut stream = store.stream_message(c, Some(q)).await.unwrap();
    let mut i = 0u64;
    loop {
        if stream.push(&format!("word{i} ")).await.unwrap() {
            println!("saved {}", i + 1);
        }
        i += 1;
        tokio::task::yield_now().await;
    }
}

#[test]
fn a_killed_app_keeps_the_saved_part_of_a_streaming_answer() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chats.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "child_streams_until_killed", "--nocapture", "--test-threads=1"])
        .env("SIROCCO_STORE_CHILD_DB", &db)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the child to report three saves, then kill it without warning.
    let mut saved_words = 0u64;
    let mut saves = 0;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("saved ") {
            saved_words = n.parse().unwrap();
            saves += 1;
            if saves == 3 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(saves, 3);

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open(&db).await.unwrap();
        assert_eq!(store.integrity_check().await.unwrap(), "ok");
        let conversation = &store.conversations().await.unwrap()[0];
        let branch = store.current_branch(conversation.id).await.unwrap();
        assert_eq!(branch.len(), 2);
        let answer = &branch[1];
        // Its writer is gone: marked at open, so the page offers Continue (it never stays "streaming").
        assert_eq!(answer.status, MessageStatus::Interrupted);
        // At least what was reported saved, and only whole pushes in order.
        let words: Vec<_> = answer.content.split_whitespace().collect();
        assert!(words.len() as u64 >= saved_words, "{} words saved, {saved_words} reported", words.len());
        assert!(words.iter().enumerate().all(|(i, w)| *w == format!("word{i}")));
    });
}

#[test]
fn an_export_never_overwrites_an_earlier_one() {
    let dir = tempfile::tempdir().unwrap();
    let downloads = dir.path().join("Downloads");
    let first = sirocco_store::write_export_file(&downloads, "Trip: Paris/Rome?", "md", "one").unwrap();
    let second = sirocco_store::write_export_file(&downloads, "Trip: Paris/Rome?", "md", "two").unwrap();
    assert_eq!(first, downloads.join("Trip_ Paris_Rome_.md"));
    assert_eq!(second, downloads.join("Trip_ Paris_Rome_ (2).md"));
    assert_eq!(std::fs::read_to_string(&first).unwrap(), "one", "the first export is untouched");
    assert_eq!(std::fs::read_to_string(&second).unwrap(), "two");
    // A title with nothing usable still makes a file name; a huge one is cut.
    let untitled = sirocco_store::write_export_file(&downloads, "   ", "json", "{}").unwrap();
    assert_eq!(untitled.file_name().unwrap(), "Conversation.json");
    let long = sirocco_store::write_export_file(&downloads, &"a".repeat(1000), "json", "{}").unwrap();
    assert!(long.file_name().unwrap().len() < 100);
    // A folder that cannot be written is a clear error, not a panic.
    let blocked = dir.path().join("file-not-folder");
    std::fs::write(&blocked, "").unwrap();
    assert!(sirocco_store::write_export_file(&blocked, "x", "md", "x").is_err());
}
