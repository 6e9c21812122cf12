//! The library lists downloads, folders, LM Studio's and Ollama's models, once each, and
//! deletes what Sirocco owns.

mod common;

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use common::*;
use sirocco_hub::download::{self, DownloadOptions, DownloadRequest};
use sirocco_hub::library::{self, LibraryRoots, ModelSource};
use sirocco_hub::{Hub, HubConfig};

#[tokio::test]
async fn every_source_is_listed_once_and_sirocco_deletes_only_its_own() {
    let fake = FakeHub::start();
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("hf");
    let hub = Hub::new(HubConfig {
        endpoint: Some(fake.api.clone()),
        cache_dir: Some(cache.clone()),
        retry_base_delay: Some(Duration::from_millis(5)),
        ..HubConfig::default()
    })
    .unwrap();
    let commit = hub.head_commit(MIXTRAL_REPO).await.unwrap();
    let entry = hub.gguf_entries(MIXTRAL_REPO, &commit).await.unwrap().remove(0);
    let request = DownloadRequest { repo: MIXTRAL_REPO.into(), commit: commit.clone(), files: entry.parts };
    download::download(
        &hub,
        &request,
        &DownloadOptions::default(),
        |_| {},
        &std::sync::Arc::new(AtomicBool::new(false)),
    )
    .await
    .unwrap();
    // A download in progress elsewhere in the cache is never listed.
    std::fs::write(cache.join("models--sirocco-test--Mixtral-8x7B-shape-GGUF/blobs/abc.incomplete"), b"x").unwrap();

    let tiny = fixture("tiny-mistral-7b-shape.gguf");
    let folder = root.path().join("models");
    std::fs::create_dir_all(folder.join("nested")).unwrap();
    std::fs::copy(&tiny, folder.join("nested/Mistral-7B-shape-Q8_0.gguf")).unwrap();
    std::fs::copy(&tiny, folder.join("Big-Q4_K_M-00001-of-00002.gguf")).unwrap();
    std::fs::copy(&tiny, folder.join("Big-Q4_K_M-00002-of-00002.gguf")).unwrap();
    std::fs::copy(&tiny, folder.join("Orphan-Q4_0-00001-of-00003.gguf")).unwrap();
    std::fs::write(folder.join("broken.gguf"), b"GGUF but nothing else").unwrap();
    // The same folder added twice lists each file once.
    let lm = root.path().join("lmstudio");
    std::fs::create_dir_all(lm.join("publisher/repo")).unwrap();
    std::fs::copy(&tiny, lm.join("publisher/repo/lm-Q5_K_M.gguf")).unwrap();
    let ollama = root.path().join("ollama");
    let digest = sha256_file(&tiny);
    std::fs::create_dir_all(ollama.join("blobs")).unwrap();
    std::fs::copy(&tiny, ollama.join(format!("blobs/sha256-{digest}"))).unwrap();
    let manifest_dir = ollama.join("manifests/registry.ollama.ai/library/mistral");
    std::fs::create_dir_all(&manifest_dir).unwrap();
    let manifest = serde_json::json!({"layers": [
        {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:00"},
        {"mediaType": "application/vnd.ollama.image.model", "digest": format!("sha256:{digest}")}]});
    std::fs::write(manifest_dir.join("7b"), manifest.to_string()).unwrap();

    let roots = LibraryRoots {
        hf_cache: Some(cache.clone()),
        folders: vec![folder.clone(), folder.clone()],
        lm_studio: vec![lm.clone()],
        ollama: Some(ollama.clone()),
        ..LibraryRoots::default()
    };
    let models = library::scan(&roots);
    let mut names: Vec<_> = models.iter().map(|m| m.name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "Big-Q4_K_M.gguf",
            "Mistral-7B-shape-Q8_0.gguf",
            "Mixtral-8x7B-shape-F16.gguf",
            "broken.gguf",
            "lm-Q5_K_M.gguf",
            "mistral:7b"
        ]
    );
    let by_name = |n: &str| models.iter().find(|m| m.name == n).unwrap();
    let downloaded = by_name("Mixtral-8x7B-shape-F16.gguf");
    assert_eq!(downloaded.source, ModelSource::HfCache { repo: MIXTRAL_REPO.into(), commit });
    assert_eq!(downloaded.summary.as_ref().unwrap().expert_count, Some(8));
    let split = by_name("Big-Q4_K_M.gguf");
    assert_eq!(split.parts.len(), 2);
    assert_eq!(split.size, 2 * std::fs::metadata(&tiny).unwrap().len());
    assert_eq!(split.quant.as_deref(), Some("Q4_K_M"));
    let broken = by_name("broken.gguf");
    assert!(broken.summary.is_none() && broken.error.as_deref().is_some_and(|e| !e.is_empty()));
    assert_eq!(by_name("mistral:7b").source, ModelSource::Ollama { model: "mistral:7b".into() });
    assert_eq!(by_name("lm-Q5_K_M.gguf").source, ModelSource::LmStudio);
    // The id a loaded file is served under is the one the library lists (split parts, Ollama's
    // blobs named by digest).
    for m in &models {
        assert_eq!(library::id_of(&roots, &m.path), m.id(), "{}", m.path.display());
    }
    assert_eq!(library::id_of(&roots, &split.path), "Big-Q4_K_M");
    assert_eq!(library::id_of(&roots, &by_name("mistral:7b").path), "mistral:7b");

    // Deleting frees the bytes and the model leaves the library; other apps' models stay.
    let freed = library::delete(downloaded).unwrap();
    assert_eq!(freed, downloaded.size);
    assert!(library::delete(by_name("mistral:7b")).is_err());
    let after = library::scan(&roots);
    assert!(after.iter().all(|m| m.name != "Mixtral-8x7B-shape-F16.gguf"));
    assert!(after.iter().any(|m| m.name == "mistral:7b"));
}

#[test]
fn added_files_and_folders_are_used_where_they_are_and_never_deleted() {
    let root = tempfile::tempdir().unwrap();
    let tiny = fixture("tiny-mistral-7b-shape.gguf");
    let elsewhere = root.path().join("Downloads");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let single = elsewhere.join("My-Model-Q6_K.gguf");
    std::fs::copy(&tiny, &single).unwrap();
    std::fs::copy(&tiny, elsewhere.join("Other-Q4_0.gguf")).unwrap(); // beside it, not added
    std::fs::copy(&tiny, elsewhere.join("Huge-Q2_K-00001-of-00002.gguf")).unwrap();
    std::fs::copy(&tiny, elsewhere.join("Huge-Q2_K-00002-of-00002.gguf")).unwrap();
    let added_folder = root.path().join("ssd/models");
    std::fs::create_dir_all(&added_folder).unwrap();
    std::fs::copy(&tiny, added_folder.join("In-Folder-Q8_0.gguf")).unwrap();
    let gone = root.path().join("removed-drive/Gone-Q4_K_M.gguf");

    let locations =
        [single.clone(), elsewhere.join("Huge-Q2_K-00001-of-00002.gguf"), added_folder.clone(), gone.clone()];
    let roots = LibraryRoots::default().with_locations(&locations);
    assert_eq!(roots.folders, std::slice::from_ref(&added_folder));
    let models = library::scan(&roots);
    let mut names: Vec<_> = models.iter().map(|m| m.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["Gone-Q4_K_M.gguf", "Huge-Q2_K.gguf", "In-Folder-Q8_0.gguf", "My-Model-Q6_K.gguf"]);
    let by_name = |n: &str| models.iter().find(|m| m.name == n).unwrap();
    let added = by_name("My-Model-Q6_K.gguf");
    assert_eq!(added.source, ModelSource::Imported);
    assert_eq!(added.path, single, "used in place, not copied");
    assert!(added.summary.is_some());
    assert_eq!(by_name("Huge-Q2_K.gguf").parts.len(), 2);
    assert_eq!(by_name("In-Folder-Q8_0.gguf").source, ModelSource::Folder { folder: added_folder });
    let missing = by_name("Gone-Q4_K_M.gguf");
    assert!(missing.summary.is_none() && missing.error.is_some(), "a missing file says why");

    // Deleting an added file is refused: it is removed from the library instead.
    let err = library::delete(added).unwrap_err();
    assert!(err.to_string().contains("removed from the library"), "{err}");
    assert!(single.is_file());
}

/// An embedding model (llama.cpp's `bert`, the tiny fixture) is listed as one: the app searches
/// attached documents with it, and chat models are not taken for one.
#[test]
fn embedding_models_are_told_apart() {
    let root = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("embedding/Tiny-BERT-Embed-F32.gguf"), root.path().join("Tiny-BERT-Embed-F32.gguf")).unwrap();
    std::fs::copy(fixture("tiny-mistral-7b-shape.gguf"), root.path().join("Chat-Q4_0.gguf")).unwrap();
    let roots = LibraryRoots { folders: vec![root.path().to_path_buf()], ..LibraryRoots::default() };
    let mut models = library::scan(&roots);
    models.sort_by(|a, b| a.name.cmp(&b.name));
    let kinds: Vec<(&str, bool)> = models.iter().map(|m| (m.name.as_str(), m.embedding)).collect();
    assert_eq!(kinds, [("Chat-Q4_0.gguf", false), ("Tiny-BERT-Embed-F32.gguf", true)]);
}

/// A vision projector (`mmproj-*.gguf`) is not a model: it belongs to the models in its folder
/// (the F16 one where a repository ships several), and a folder without one gives none.
#[test]
fn a_projector_beside_a_model_belongs_to_it_and_is_not_listed_as_a_model() {
    let root = tempfile::tempdir().unwrap();
    let vision = root.path().join("Pixtral");
    let plain = root.path().join("Plain");
    std::fs::create_dir_all(&vision).unwrap();
    std::fs::create_dir_all(&plain).unwrap();
    let tiny = fixture("tiny-mistral-7b-shape.gguf");
    std::fs::copy(&tiny, vision.join("Pixtral-Q4_K_M.gguf")).unwrap();
    std::fs::copy(&tiny, vision.join("Pixtral-Q8_0.gguf")).unwrap();
    std::fs::copy(&tiny, vision.join("mmproj-Pixtral-F32.gguf")).unwrap();
    std::fs::copy(&tiny, vision.join("mmproj-Pixtral-F16.gguf")).unwrap();
    std::fs::copy(&tiny, plain.join("Plain-Q4_0.gguf")).unwrap();
    let roots = LibraryRoots { folders: vec![root.path().to_path_buf()], ..LibraryRoots::default() };
    let mut models = library::scan(&roots);
    models.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Pixtral-Q4_K_M.gguf", "Pixtral-Q8_0.gguf", "Plain-Q4_0.gguf"]);
    for m in &models[..2] {
        assert_eq!(m.projector.as_deref(), Some(vision.join("mmproj-Pixtral-F16.gguf").as_path()), "{}", m.name);
    }
    assert_eq!(models[2].projector, None);

    // A models folder of different models: a projector goes only with the model it names, and a
    // projector named by its kind alone with none of them.
    let mixed = root.path().join("mixed");
    std::fs::create_dir_all(&mixed).unwrap();
    for name in ["SmolLM2-135M-Instruct.Q4_1.gguf", "Tiny-Pixtral-F16.gguf", "mmproj-Tiny-Pixtral-F32.gguf"] {
        std::fs::copy(&tiny, mixed.join(name)).unwrap();
    }
    assert_eq!(
        library::projector_beside(&mixed.join("Tiny-Pixtral-F16.gguf")),
        Some(mixed.join("mmproj-Tiny-Pixtral-F32.gguf"))
    );
    assert_eq!(library::projector_beside(&mixed.join("SmolLM2-135M-Instruct.Q4_1.gguf")), None);
    std::fs::rename(mixed.join("mmproj-Tiny-Pixtral-F32.gguf"), mixed.join("mmproj-F16.gguf")).unwrap();
    assert_eq!(library::projector_beside(&mixed.join("Tiny-Pixtral-F16.gguf")), None, "whose is it?");
    assert!(library::is_projector_name("Mistral-Small-3.2-24B-Instruct-2506-mmproj-F16.gguf"));
    assert!(!library::is_projector_name("Mistral-Small-3.2-24B-Instruct-2506-Q4_K_M.gguf"));
}

/// A repository with a vision projector: it is offered with the model (not as a model), downloaded
/// and verified with it through the real `hf-hub` path, and the library then loads it with the model.
#[tokio::test]
async fn a_repositorys_projector_is_downloaded_with_its_model_and_found_beside_it() {
    let repo = "sirocco-test/Tiny-Pixtral-GGUF";
    let model = fixture("vision/Tiny-Pixtral-F16.gguf");
    let projector = fixture("vision/mmproj-Tiny-Pixtral-F32.gguf");
    let fake = FakeHub::with_repos(&serde_json::json!([
        {"id": repo, "downloads": 1, "likes": 0, "tags": ["gguf"], "files": [
            {"path": "Tiny-Pixtral-F16.gguf", "source": model},
            {"path": "mmproj-F32.gguf", "source": projector},
        ]}
    ]));
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("hf");
    let hub = Hub::new(HubConfig {
        endpoint: Some(fake.api.clone()),
        cache_dir: Some(cache.clone()),
        ..HubConfig::default()
    })
    .unwrap();
    let commit = hub.head_commit(repo).await.unwrap();
    let entries = hub.gguf_entries(repo, &commit).await.unwrap();
    assert_eq!(entries.len(), 1, "the projector is not offered as a model: {entries:?}");
    let entry = &entries[0];
    assert_eq!(entry.projector.as_ref().map(|p| p.path.as_str()), Some("mmproj-F32.gguf"));
    let request = DownloadRequest { repo: repo.into(), commit: commit.clone(), files: entry.files() };
    let path: Vec<std::path::PathBuf> = download::download(
        &hub,
        &request,
        &DownloadOptions::default(),
        |_| {},
        &std::sync::Arc::new(AtomicBool::new(false)),
    )
    .await
    .unwrap();
    assert_eq!(path.len(), 2, "{path:?}");
    assert!(path[0].ends_with("Tiny-Pixtral-F16.gguf"), "the model is the file to load: {path:?}");
    let roots = LibraryRoots { hf_cache: Some(cache), ..LibraryRoots::default() };
    let models = library::scan(&roots);
    assert_eq!(models.len(), 1, "{models:?}");
    let kept = models[0].projector.as_ref().expect("the projector is beside the model");
    assert_eq!(sha256_file(kept), sha256_file(&projector), "verified bytes");
}
