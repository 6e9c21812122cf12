//! Search, repository files and remote headers against the fake hub, through `hf-hub`.

mod common;

use std::time::Duration;

use common::*;
use sirocco_hub::{Hub, HubConfig, HubError, SearchQuery, SortBy};

fn hub(fake: &FakeHub, cache: &std::path::Path) -> Hub {
    Hub::new(HubConfig {
        endpoint: Some(fake.api.clone()),
        cache_dir: Some(cache.into()),
        retry_base_delay: Some(Duration::from_millis(5)),
        ..HubConfig::default()
    })
    .unwrap()
}

#[tokio::test]
async fn search_finds_gguf_repositories_sorted_and_paged() {
    let fake = FakeHub::start();
    let cache = tempfile::tempdir().unwrap();
    let hub = hub(&fake, cache.path());

    let all = hub
        .search(&SearchQuery { text: String::new(), sort: SortBy::Downloads, page: 0, page_size: 10 })
        .await
        .unwrap();
    let ids: Vec<_> = all.iter().map(|r| r.id.as_str()).collect();
    // Only GGUF repositories, most downloaded first.
    assert_eq!(ids, [SMOL_REPO, "sirocco-test/Mistral-7B-shape-GGUF", MIXTRAL_REPO, GATED_REPO, SPLIT_REPO]);
    assert_eq!(all[0].author, "bartowski");
    assert_eq!(all[0].downloads, 5000);
    assert!(all[3].gated && !all[0].gated);

    let by_likes =
        hub.search(&SearchQuery { text: "shape".into(), sort: SortBy::Likes, page: 0, page_size: 10 }).await.unwrap();
    assert_eq!(
        by_likes.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [MIXTRAL_REPO, "sirocco-test/Mistral-7B-shape-GGUF"]
    );

    let recent = hub
        .search(&SearchQuery { text: String::new(), sort: SortBy::RecentlyUpdated, page: 0, page_size: 1 })
        .await
        .unwrap();
    assert_eq!(recent[0].id, "sirocco-test/Mistral-7B-shape-GGUF");
    // Page 2 of size 2: the third and fourth results.
    let page =
        hub.search(&SearchQuery { text: String::new(), sort: SortBy::Downloads, page: 1, page_size: 2 }).await.unwrap();
    assert_eq!(page.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [MIXTRAL_REPO, GATED_REPO]);
}

#[tokio::test]
async fn repository_files_readme_and_remote_header() {
    let fake = FakeHub::start();
    let cache = tempfile::tempdir().unwrap();
    let hub = hub(&fake, cache.path());
    let commit = hub.head_commit(SMOL_REPO).await.unwrap();
    assert_eq!(commit.len(), 40);

    let entries = hub.gguf_entries(SMOL_REPO, &commit).await.unwrap();
    assert_eq!(entries.len(), 1);
    let local = fixture("SmolLM2-135M-Instruct.Q4_1.gguf");
    assert_eq!(entries[0].quant.as_deref(), Some("Q4_1"));
    assert_eq!(entries[0].total_size, std::fs::metadata(&local).unwrap().len());
    assert_eq!(entries[0].parts[0].sha256.as_deref(), Some(sha256_file(&local).as_str()));

    assert!(hub.readme(SMOL_REPO, &commit).await.unwrap().contains("A small model."));

    // The header alone (a range request), judged exactly as the local file is.
    let remote = sirocco_hub::remote_header::read(&hub, SMOL_REPO, &commit, &entries[0].parts[0]).await.unwrap();
    let here = sirocco_gguf::inspect(&local).unwrap();
    assert_eq!(remote.tensor_bytes, here.tensor_bytes);
    assert_eq!(remote.block_count, here.block_count);
    assert_eq!(remote.chat_template, here.chat_template);
    let log = fake.log().await;
    let fetched: u64 = log.iter().map(|r| r["sent"].as_u64().unwrap()).sum();
    assert!(fetched > 0 && fetched <= 2 << 20, "fetched {fetched} bytes for the header: {log:?}");
}

#[tokio::test]
async fn unknown_and_gated_repositories_are_clear_errors() {
    let fake = FakeHub::start();
    let cache = tempfile::tempdir().unwrap();
    let hub = hub(&fake, cache.path());
    let err = hub.head_commit("nobody/nothing").await.unwrap_err();
    assert!(matches!(err, HubError::RepoNotFound(_)), "{err}");

    let commit = hub.head_commit(GATED_REPO).await.unwrap();
    let entries = hub.gguf_entries(GATED_REPO, &commit).await.unwrap();
    let err = sirocco_hub::remote_header::read(&hub, GATED_REPO, &commit, &entries[0].parts[0]).await.unwrap_err();
    assert!(matches!(err, HubError::Gated { .. }), "{err}");
    assert!(err.to_string().contains("access token"));

    let with_token = Hub::new(HubConfig {
        endpoint: Some(fake.api.clone()),
        token: Some("hf_test".into()),
        cache_dir: Some(cache.path().into()),
        retry_base_delay: None,
    })
    .unwrap();
    sirocco_hub::remote_header::read(&with_token, GATED_REPO, &commit, &entries[0].parts[0]).await.unwrap();
}
