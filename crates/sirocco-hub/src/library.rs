//! The model library: every GGUF model on this machine that Sirocco can load, without copying
//! anything — the Hugging Face cache (downloads), the models folder and folders the user adds,
//! LM Studio's models folder and Ollama's model store.
//!
//! Only verified files are listed from the HF cache (`snapshots/` links point at verified
//! blobs; `.incomplete` files are never listed). Split models are one entry (part 1 first).
//! A vision projector (`mmproj-*.gguf`, as Hugging Face repositories and LM Studio name it) is
//! not a model: it belongs to the models beside it ([`LibraryModel::projector`]).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sirocco_gguf::GgufSummary;

use crate::gguf_files::{quant_of, split_part};
use crate::{HubError, Result};

#[derive(Debug, Clone, Serialize, PartialEq, Eq, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelSource {
    /// Downloaded into the Hugging Face cache.
    HfCache {
        repo: String,
        commit: String,
    },
    /// A folder: the models folder or one the user added.
    Folder {
        folder: PathBuf,
    },
    /// A file the user added from anywhere on disk (used in place, never copied).
    Imported,
    LmStudio,
    Ollama {
        model: String,
    },
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct LibraryModel {
    /// What the user sees: the file name (split suffix removed) or Ollama's `name:tag`.
    pub name: String,
    /// The file llama.cpp loads (part 1 of a split model).
    pub path: PathBuf,
    pub parts: Vec<PathBuf>,
    /// Bytes of all parts.
    pub size: u64,
    pub quant: Option<String>,
    pub source: ModelSource,
    /// The header as the engine's validator reads it; `None` with `error` set when the file is
    /// not a usable GGUF (it is still listed, so the user can see why and delete it).
    pub summary: Option<GgufSummary>,
    pub error: Option<String>,
    /// The vision projector beside it (`mmproj-*.gguf` in its folder), loaded with it: the
    /// model then sees images.
    pub projector: Option<PathBuf>,
    /// An embedding model (bert, nomic-bert…): it searches attached documents, it does not chat.
    pub embedding: bool,
}

impl LibraryModel {
    /// The name clients use for it (the local server's model id): the name without `.gguf`.
    pub fn id(&self) -> String {
        self.name.strip_suffix(".gguf").unwrap_or(&self.name).to_owned()
    }
}

/// Where to look. Missing folders are skipped.
#[derive(Debug, Clone, Default)]
pub struct LibraryRoots {
    pub hf_cache: Option<PathBuf>,
    pub folders: Vec<PathBuf>,
    /// Single GGUF files added from anywhere (part 1 of a split model brings its other parts).
    pub files: Vec<PathBuf>,
    pub lm_studio: Vec<PathBuf>,
    pub ollama: Option<PathBuf>,
}

impl LibraryRoots {
    /// The library as the app and the CLI both see it: downloads (the Hugging Face cache), the
    /// models folder, what the user added in the app, LM Studio's and Ollama's folders. One
    /// answer for both, so `sirocco models` lists what the app's picker lists.
    pub fn of_app(hf_cache: PathBuf, models_dir: PathBuf, added: &[PathBuf]) -> Self {
        let roots =
            Self { hf_cache: Some(hf_cache), folders: vec![models_dir], ..Self::default() }.with_locations(added);
        match std::env::var_os("HOME") {
            Some(home) => roots.detect_other_apps(Path::new(&home)),
            None => roots,
        }
    }

    /// Adds folders named for this run (`sirocco serve --models-dir`), each once.
    pub fn with_folders<'a>(mut self, extra: impl IntoIterator<Item = &'a PathBuf>) -> Self {
        for folder in extra {
            if !self.folders.contains(folder) {
                self.folders.push(folder.clone());
            }
        }
        self
    }

    /// Adds what the user added to the library: folders as folders, anything else as a file
    /// (a file that has gone missing is still listed, with its error, so it can be removed).
    pub fn with_locations(mut self, locations: &[PathBuf]) -> Self {
        for location in locations {
            if location.is_dir() {
                self.folders.push(location.clone());
            } else {
                self.files.push(location.clone());
            }
        }
        self
    }

    /// LM Studio's and Ollama's usual places under `home`, where they exist.
    pub fn detect_other_apps(mut self, home: &Path) -> Self {
        for dir in [".lmstudio/models", ".cache/lm-studio/models"] {
            let d = home.join(dir);
            if d.is_dir() {
                self.lm_studio.push(d);
            }
        }
        let ollama =
            std::env::var_os("OLLAMA_MODELS").map(PathBuf::from).unwrap_or_else(|| home.join(".ollama/models"));
        if ollama.join("manifests").is_dir() {
            self.ollama = Some(ollama);
        }
        self
    }
}

/// Every model under `roots`, each file listed once (by its resolved path).
pub fn scan(roots: &LibraryRoots) -> Vec<LibraryModel> {
    let mut found: Vec<(String, Vec<PathBuf>, ModelSource)> = Vec::new();
    if let Some(cache) = &roots.hf_cache {
        found.extend(scan_hf_cache(cache));
    }
    for folder in &roots.folders {
        found.extend(group_files(gguf_files_under(folder, 4), |_| ModelSource::Folder { folder: folder.clone() }));
    }
    for file in &roots.files {
        found.extend(imported_file(file));
    }
    for folder in &roots.lm_studio {
        found.extend(group_files(gguf_files_under(folder, 4), |_| ModelSource::LmStudio));
    }
    if let Some(store) = &roots.ollama {
        found.extend(scan_ollama(store));
    }
    let mut seen = HashSet::new();
    found
        .into_iter()
        .filter(|(_, parts, _)| seen.insert(std::fs::canonicalize(&parts[0]).unwrap_or_else(|_| parts[0].clone())))
        .map(|(name, parts, source)| describe(name, parts, source))
        .collect()
}

/// The id the library gives the model loaded from `path` (what `GET /v1/models` lists, so a
/// client naming it finds the loaded model): the file name without `.gguf` and a split model's
/// part suffix, or Ollama's `name:tag` for one of its blobs. Reads no GGUF header.
pub fn id_of(roots: &LibraryRoots, path: &Path) -> String {
    if let Some(store) = roots.ollama.as_ref().filter(|store| path.starts_with(store.join("blobs"))) {
        if let Some((name, _, _)) = scan_ollama(store).into_iter().find(|(_, parts, _)| parts[0] == path) {
            return name;
        }
    }
    let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let name = match split_part(&name) {
        Some((base, _, _)) => base.to_owned(),
        None => name,
    };
    name.strip_suffix(".gguf").unwrap_or(&name).to_owned()
}

fn describe(name: String, parts: Vec<PathBuf>, source: ModelSource) -> LibraryModel {
    let size = parts.iter().map(|p| std::fs::metadata(p).map_or(0, |m| m.len())).sum();
    let (summary, error) = match headers::inspect(&parts) {
        Ok(s) => (Some(s), None),
        Err(e) => (None, Some(e)),
    };
    let projector = match source {
        ModelSource::Ollama { .. } => None,
        _ => projector_beside(&parts[0]),
    };
    LibraryModel {
        quant: quant_of(&name),
        name,
        path: parts[0].clone(),
        parts,
        size,
        source,
        embedding: summary.as_ref().is_some_and(GgufSummary::is_embedding_model),
        summary,
        error,
        projector,
    }
}

/// A vision projector's file name, as repositories name them (`mmproj-model-f16.gguf`,
/// `mmproj-F16.gguf`, `Model-mmproj.gguf`).
pub fn is_projector_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.ends_with(".gguf") && (name.starts_with("mmproj") || name.contains("-mmproj") || name.contains(".mmproj"))
}

/// The vision projector in `model`'s folder that belongs to it, if any: one whose name names the
/// model (`Pixtral-12B-mmproj-F16.gguf` beside `Pixtral-12B-Q4_K_M.gguf`), or a projector named
/// by its kind alone (`mmproj-F16.gguf`, as many repositories ship it) in a folder whose models
/// are all one model in several quants. Where several fit, the F16 one (what llama.cpp's guides
/// use), else the first by name. A folder of different models shares no nameless projector.
pub fn projector_beside(model: &Path) -> Option<PathBuf> {
    let folder = model.parent()?;
    let files = gguf_files_under(folder, 0);
    let name_of = |f: &Path| f.file_name().unwrap_or_default().to_string_lossy().to_ascii_lowercase();
    let (projectors, models): (Vec<PathBuf>, Vec<PathBuf>) =
        files.into_iter().partition(|f| is_projector_name(&name_of(f)));
    let own = stem_words(&name_of(model));
    let named: Vec<&PathBuf> = projectors
        .iter()
        .filter(|p| {
            let words = stem_words(&name_of(p));
            !words.is_empty() && words.iter().all(|w| own.contains(w))
        })
        .collect();
    let fitting: Vec<&PathBuf> = if !named.is_empty() {
        named
    } else {
        let one_model = models.iter().all(|m| stem_words(&name_of(m)) == own);
        projectors.iter().filter(|p| one_model && stem_words(&name_of(p)).is_empty()).collect()
    };
    let f16 = |f: &&&PathBuf| {
        let n = name_of(f);
        n.contains("f16") && !n.contains("bf16")
    };
    fitting.iter().find(f16).or_else(|| fitting.first()).map(|f| (*f).clone())
}

/// The words of a file's name that name the model: without `.gguf`, `mmproj`, the quant or
/// precision (`Q4_K_M`, `F16`, `IQ2_XS`…) and a split part's suffix.
fn stem_words(name: &str) -> Vec<String> {
    let name = name.strip_suffix(".gguf").unwrap_or(name);
    let name = match split_part(&format!("{name}.gguf")) {
        Some((base, _, _)) => base.to_owned(),
        None => name.to_owned(),
    };
    let quant = |w: &str| {
        matches!(w, "f16" | "f32" | "bf16" | "fp16" | "fp32" | "model" | "k" | "m" | "s" | "l" | "xs" | "xxs" | "nl")
            || (w.len() >= 2
                && (w.starts_with('q') || w.starts_with("iq"))
                && w.trim_start_matches('i').trim_start_matches('q').chars().next().is_some_and(|c| c.is_ascii_digit()))
    };
    name.split(['-', '_', '.', ' '])
        .filter(|w| !w.is_empty() && *w != "mmproj" && !quant(w))
        .map(str::to_owned)
        .collect()
}

/// `.gguf` files under `folder`, at most `depth` folders down, sorted.
fn gguf_files_under(folder: &Path, depth: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(folder) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        if meta.is_dir() && depth > 0 {
            out.extend(gguf_files_under(&path, depth - 1));
        } else if meta.is_file() && path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf")) {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Files as models: split parts grouped under part 1 (incomplete splits left out).
fn group_files(files: Vec<PathBuf>, source: impl Fn(&Path) -> ModelSource) -> Vec<(String, Vec<PathBuf>, ModelSource)> {
    let mut singles = Vec::new();
    let mut splits: BTreeMap<PathBuf, Vec<(u32, u32, PathBuf)>> = BTreeMap::new();
    for file in files {
        let name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if is_projector_name(&name) {
            continue;
        }
        match split_part(&name) {
            Some((base, part, of)) => {
                splits.entry(file.with_file_name(base)).or_default().push((part, of, file.clone()))
            }
            None => singles.push((name, vec![file.clone()], source(&file))),
        }
    }
    for (base, mut parts) in splits {
        parts.sort();
        let of = parts[0].1;
        if parts.len() != of as usize || parts.iter().enumerate().any(|(i, (p, _, _))| *p != i as u32 + 1) {
            continue;
        }
        let name = format!("{}.gguf", base.file_name().unwrap_or_default().to_string_lossy());
        let files: Vec<PathBuf> = parts.into_iter().map(|(_, _, f)| f).collect();
        let src = source(&files[0]);
        singles.push((name, files, src));
    }
    singles
}

/// An added file as a model: a split model's part 1 with its sibling parts, else the file alone.
fn imported_file(file: &Path) -> Vec<(String, Vec<PathBuf>, ModelSource)> {
    let name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let Some((base, _, _)) = split_part(&name) else {
        return vec![(name, vec![file.to_path_buf()], ModelSource::Imported)];
    };
    let folder = file.parent().unwrap_or(Path::new("."));
    let siblings = gguf_files_under(folder, 0)
        .into_iter()
        .filter(|f| split_part(&f.file_name().unwrap_or_default().to_string_lossy()).is_some_and(|(b, _, _)| b == base))
        .collect();
    group_files(siblings, |_| ModelSource::Imported)
}

fn scan_hf_cache(cache: &Path) -> Vec<(String, Vec<PathBuf>, ModelSource)> {
    let mut out = Vec::new();
    let Ok(repos) = std::fs::read_dir(cache) else { return out };
    for repo_dir in repos.flatten() {
        let folder = repo_dir.file_name().to_string_lossy().into_owned();
        let Some(id) = folder.strip_prefix("models--") else { continue };
        let repo = id.replacen("--", "/", 1);
        let Ok(snapshots) = std::fs::read_dir(repo_dir.path().join("snapshots")) else { continue };
        for snapshot in snapshots.flatten() {
            let commit = snapshot.file_name().to_string_lossy().into_owned();
            // Links whose blob is missing (never verified, or deleted) fail `metadata` and drop out.
            let files = gguf_files_under(&snapshot.path(), 4);
            let source = ModelSource::HfCache { repo: repo.clone(), commit: commit.clone() };
            out.extend(group_files(files, |_| source.clone()));
        }
    }
    out
}

/// Ollama's store: `manifests/<registry>/<namespace>/<model>/<tag>` (JSON) names the model
/// layer's blob `blobs/sha256-<hex>`, a plain GGUF file.
fn scan_ollama(store: &Path) -> Vec<(String, Vec<PathBuf>, ModelSource)> {
    let mut out = Vec::new();
    for manifest in files_under(&store.join("manifests"), 4) {
        let Ok(text) = std::fs::read_to_string(&manifest) else { continue };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
        let Some(layers) = json["layers"].as_array() else { continue };
        let Some(digest) = layers
            .iter()
            .find(|l| l["mediaType"] == "application/vnd.ollama.image.model")
            .and_then(|l| l["digest"].as_str())
        else {
            continue;
        };
        let Some(hex) = digest.strip_prefix("sha256:").filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit())) else {
            continue;
        };
        let blob = store.join("blobs").join(format!("sha256-{hex}"));
        if !blob.is_file() {
            continue;
        }
        let tag = manifest.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let model = manifest.parent().and_then(|p| p.file_name()).unwrap_or_default().to_string_lossy().into_owned();
        let name = format!("{model}:{tag}");
        out.push((name.clone(), vec![blob], ModelSource::Ollama { model: name }));
    }
    out
}

fn files_under(folder: &Path, depth: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(folder) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && depth > 0 {
            out.extend(files_under(&path, depth - 1));
        } else if path.is_file() {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Deletes a model Sirocco downloaded (its snapshot links and blobs) or a file in a user
/// folder, returning the bytes freed. Other apps' stores and added files are never touched
/// (an added file is removed from the library, not from the disk).
pub fn delete(model: &LibraryModel) -> Result<u64> {
    match &model.source {
        ModelSource::LmStudio | ModelSource::Ollama { .. } => {
            return Err(HubError::Io("models of other apps are deleted in those apps".into()))
        }
        ModelSource::Imported => {
            return Err(HubError::Io("an added file is removed from the library, not deleted".into()))
        }
        ModelSource::HfCache { .. } | ModelSource::Folder { .. } => {}
    }
    let mut freed = 0;
    for part in &model.parts {
        let target = std::fs::canonicalize(part)?;
        freed += std::fs::metadata(&target)?.len();
        std::fs::remove_file(&target)?;
        if part != &target {
            std::fs::remove_file(part)?; // the snapshot link
        }
    }
    Ok(freed)
}

/// Headers already read, so that listing the library again (every `GET /v1/models`, every
/// picker refresh) reads only the files that changed: a model's summary is kept with each
/// part's size and modification time, and read again when any differs.
pub mod headers {
    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Mutex, OnceLock};
    use std::time::SystemTime;

    use sirocco_gguf::GgufSummary;

    type Stamp = Vec<(u64, Option<SystemTime>)>;
    type Read = Result<GgufSummary, String>;

    /// More models than any library has; beyond it the memo starts over (it is only a memo).
    const MOST: usize = 4096;
    static READ: OnceLock<Mutex<HashMap<PathBuf, (Stamp, Read)>>> = OnceLock::new();
    static HEADERS_READ: AtomicUsize = AtomicUsize::new(0);

    /// The summary of the model whose parts are `parts` (part 1 first), read again only when
    /// a part changed.
    pub fn inspect(parts: &[PathBuf]) -> Read {
        let stamp: Stamp =
            parts.iter().map(|p| std::fs::metadata(p).map_or((0, None), |m| (m.len(), m.modified().ok()))).collect();
        let memo = READ.get_or_init(Default::default);
        if let Some((kept, read)) = memo.lock().unwrap_or_else(|e| e.into_inner()).get(&parts[0]) {
            if *kept == stamp {
                return read.clone();
            }
        }
        HEADERS_READ.fetch_add(1, Ordering::Relaxed);
        let read = sirocco_gguf::inspect(&parts[0]).map_err(|e| e.to_string());
        let mut memo = memo.lock().unwrap_or_else(|e| e.into_inner());
        if memo.len() >= MOST {
            memo.clear();
        }
        memo.insert(parts[0].clone(), (stamp, read.clone()));
        read
    }

    /// How many headers this process has read (for tests).
    pub fn reads() -> usize {
        HEADERS_READ.load(Ordering::Relaxed)
    }
}
