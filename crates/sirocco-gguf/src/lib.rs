//! `sirocco-gguf`: validation and a summary of a GGUF file's header, read with llama.cpp's own
//! GGUF reader (`gguf_init_from_file` with `no_alloc`, through `llama-cpp-sys-2`). It links ggml
//! but not the engine, so the hub and the library judge files without it; the engine
//! re-exports it as `gguf_file`.
//!
//! llama.cpp aborts the process on some malformed inputs (a `GGML_ASSERT` cannot be caught),
//! so every file passes [`inspect`] before it is handed to the model loader:
//! - a cheap check of the fixed 24-byte prefix (magic, version, counts bounded by file size),
//!   so llama.cpp's reader is never asked to allocate for absurd counts;
//! - llama.cpp's reader, which rejects malformed metadata and returns NULL instead of aborting;
//! - every tensor's data must lie inside the file (a truncated download is caught here);
//! - the metadata the loader relies on must be present and of the right type (llama.cpp's
//!   typed getters assert on a type mismatch, so types are checked before every read).
//!
//! A split model's part 1 brings every other part through the same checks (llama.cpp opens them
//! all); a missing or truncated part is refused by name. A vision projector passes
//! [`inspect_projector`] before `mtmd` opens it. Held by the engine's `tests/gguf_validation.rs`
//! and its fuzz target (`crates/sirocco-engine/fuzz/`).

use std::ffi::{CStr, CString};
use std::io::Read;
use std::path::{Path, PathBuf};

use llama_cpp_sys_2 as sys;
use serde::{Deserialize, Serialize};

/// Why a file is not a usable model (or projector) file, phrased for the person using the app.
#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    #[error("{} is not a usable model file: {reason}", file_name(path))]
    InvalidModelFile { path: PathBuf, reason: String },
    #[error("could not read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

pub type Result<T> = std::result::Result<T, GgufError>;

const GGUF_MAGIC: &[u8; 4] = b"GGUF";
/// Smallest possible encoding of one key/value pair: key length (8) + one byte key + type (4).
const MIN_KV_BYTES: u64 = 13;
/// Smallest possible encoding of one tensor info: name length (8) + one byte name + n_dims (4)
/// + one dimension (8) + type (4) + offset (8).
const MIN_TENSOR_INFO_BYTES: u64 = 33;
/// Upper bound on the dimensions llama.cpp accepts.
const MAX_TENSORS: u64 = 1 << 20;

/// What the app shows about a model file, read from its header alone.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct GgufSummary {
    pub path: PathBuf,
    pub file_size: u64,
    pub architecture: String,
    pub name: Option<String>,
    pub tensor_count: u64,
    /// Bytes of tensor data (weights) in this file.
    pub tensor_bytes: u64,
    pub block_count: Option<u64>,
    pub context_length: Option<u64>,
    pub embedding_length: Option<u64>,
    pub head_count: Option<u64>,
    pub head_count_kv: Option<u64>,
    pub sliding_window: Option<u64>,
    pub expert_count: Option<u64>,
    pub expert_used_count: Option<u64>,
    pub chat_template: Option<String>,
    /// Number of files of a split model (`split.count`), 1 for a single file.
    pub split_count: u64,
    pub feed_forward_length: Option<u64>,
    /// Per-head size of keys and values (`attention.key_length`/`value_length`, else
    /// embedding / heads).
    pub key_length: Option<u64>,
    pub value_length: Option<u64>,
    pub vocab_size: Option<u64>,
    /// Tensor bytes of each repeating layer (`blk.N.*`), indexed by N.
    #[serde(skip)]
    pub layer_bytes: Vec<u64>,
    /// Tensor bytes outside the repeating layers: embeddings, output norm and head.
    pub other_bytes: u64,
    /// Weights (elements of every tensor): what "7B" or "135M" counts.
    pub parameter_count: u64,
    /// Bytes of each layer's mixture-of-experts tensors (`ffn_*_exps`), part of `layer_bytes`:
    /// what stays in RAM when the experts are kept on the CPU. Empty for dense models.
    pub expert_bytes: Vec<u64>,
    /// The output layer's tensors, part of `other_bytes`: the final norm (`output_norm.*`) and
    /// the head (`output.*`, absent when the file ties it to the token embeddings —
    /// llama.cpp then copies `token_embd.weight` to the output layer's device).
    #[serde(default)]
    pub output_norm_bytes: u64,
    #[serde(default)]
    pub output_head_bytes: u64,
    /// `token_embd.weight`, part of `other_bytes` (the input layer: always in RAM).
    #[serde(default)]
    pub token_embd_bytes: u64,
    /// Which vocabulary the model reads: its tokenizer's kind and a hash of its tokens' text
    /// (the special first five aside, as llama.cpp's draft check skips them). Two models with
    /// the same one can pair as model and draft model.
    #[serde(default)]
    pub vocabulary: Option<String>,
}

fn invalid(path: &Path, reason: impl Into<String>) -> GgufError {
    GgufError::InvalidModelFile { path: path.to_path_buf(), reason: reason.into() }
}

/// Checks `path` and reads its header. Never aborts, whatever the file holds. For the first
/// part of a split model (`…-00001-of-0000N.gguf`), every other part is checked too (llama.cpp
/// opens them all) and the summary counts the whole model's tensors and bytes.
pub fn inspect(path: &Path) -> Result<GgufSummary> {
    let mut summary = inspect_file(path)?;
    if summary.split_count > 1 {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let Some((base, 1, count)) = split_part(&name) else {
            return Err(invalid(path, "a part of a split model other than the first: load its part 1 (…-00001-of-…)"));
        };
        if u64::from(count) != summary.split_count {
            return Err(invalid(
                path,
                format!("its name says {count} parts but its header says {}", summary.split_count),
            ));
        }
        for part in 2..=count {
            let part_path = path.with_file_name(split_part_name(base, part, count));
            if !part_path.is_file() {
                return Err(invalid(path, format!("part {part} of {count} ({}) is missing", part_path.display())));
            }
            summary.add_split_part(&inspect_file(&part_path)?);
        }
    }
    Ok(summary)
}

fn inspect_file(path: &Path) -> Result<GgufSummary> {
    let meta = std::fs::metadata(path).map_err(|source| GgufError::Io { path: path.to_path_buf(), source })?;
    if !meta.is_file() {
        return Err(invalid(path, "not a regular file"));
    }
    inspect_header(path, meta.len())
}

/// `<base>-00002-of-00003.gguf` → `(base, 2, 3)`: how llama.cpp names a split model's parts.
pub fn split_part(name: &str) -> Option<(&str, u32, u32)> {
    let stem = name.strip_suffix(".gguf")?;
    let (rest, of) = stem.rsplit_once("-of-")?;
    let (base, part) = rest.rsplit_once('-')?;
    if part.len() != 5 || of.len() != 5 {
        return None;
    }
    let (part, of) = (part.parse().ok()?, of.parse().ok()?);
    (part >= 1 && part <= of).then_some((base, part, of))
}

/// The file name of part `part` of `count` (llama.cpp's `llama_split_path`).
pub fn split_part_name(base: &str, part: u32, count: u32) -> String {
    format!("{base}-{part:05}-of-{count:05}.gguf")
}

/// Architectures of embedding models (encoders that pool a text into one vector) in llama.cpp.
pub const EMBEDDING_ARCHITECTURES: &[&str] = &[
    "bert",
    "nomic-bert",
    "nomic-bert-moe",
    "jina-bert-v2",
    "jina-bert-v3",
    "modern-bert",
    "neo-bert",
    "eurobert",
    "gemma-embedding",
    "t5encoder",
];

impl GgufSummary {
    /// An embedding model (nomic-embed, bge, all-MiniLM, embeddinggemma…), not a chat model:
    /// it turns text into vectors (for searching documents) and writes nothing.
    pub fn is_embedding_model(&self) -> bool {
        EMBEDDING_ARCHITECTURES.contains(&self.architecture.as_str())
    }

    /// Counts another part of the same split model: its tensors, bytes and size.
    pub fn add_split_part(&mut self, part: &GgufSummary) {
        self.file_size += part.file_size;
        self.tensor_count += part.tensor_count;
        self.tensor_bytes += part.tensor_bytes;
        self.other_bytes += part.other_bytes;
        self.parameter_count += part.parameter_count;
        add_per_layer(&mut self.layer_bytes, &part.layer_bytes);
        add_per_layer(&mut self.expert_bytes, &part.expert_bytes);
        self.output_norm_bytes += part.output_norm_bytes;
        self.output_head_bytes += part.output_head_bytes;
        self.token_embd_bytes += part.token_embd_bytes;
    }

    /// Bytes the output layer puts on the device it is offloaded to: its norm and its head
    /// (the token embeddings again when the head is tied to them).
    pub fn output_layer_bytes(&self) -> u64 {
        self.output_norm_bytes + if self.output_head_bytes > 0 { self.output_head_bytes } else { self.token_embd_bytes }
    }
}

fn add_per_layer(mine: &mut Vec<u64>, theirs: &[u64]) {
    if mine.len() < theirs.len() {
        mine.resize(theirs.len(), 0);
    }
    for (m, t) in mine.iter_mut().zip(theirs) {
        *m += t;
    }
}

/// Like [`inspect`] for a file of which only the first bytes (at least the whole header)
/// are at `path`, and whose full size is `file_size`: a remote file's header fetched with a
/// range request, so the planner can judge it before it is downloaded.
pub fn inspect_header(path: &Path, file_size: u64) -> Result<GgufSummary> {
    check_prefix(path, file_size)?;

    let header = Header::open(path)?;
    let data_offset = header.data_offset();
    let tensor_count = header.tensor_count();
    let mut tensor_bytes: u64 = 0;
    let mut layer_bytes: Vec<u64> = Vec::new();
    let mut other_bytes: u64 = 0;
    let mut parameter_count: u64 = 0;
    let mut expert_bytes: Vec<u64> = Vec::new();
    let (mut output_norm_bytes, mut output_head_bytes, mut token_embd_bytes) = (0, 0, 0);
    for id in 0..tensor_count {
        let end = data_offset
            .checked_add(header.tensor_offset(id))
            .and_then(|o| o.checked_add(header.tensor_size(id)))
            .ok_or_else(|| invalid(path, "a tensor's offset overflows"))?;
        if end > file_size {
            return Err(invalid(
                path,
                format!(
                    "the file is truncated: tensor data ends at byte {end} but the file has \
                     {file_size} bytes (an interrupted download?)"
                ),
            ));
        }
        let size = header.tensor_size(id);
        tensor_bytes = tensor_bytes.saturating_add(size);
        parameter_count = parameter_count.saturating_add(header.tensor_elements(id));
        let name = header.tensor_name(id);
        match name.as_deref().and_then(layer_index) {
            Some(layer) if layer < 65_536 => {
                if layer_bytes.len() <= layer {
                    layer_bytes.resize(layer + 1, 0);
                }
                layer_bytes[layer] += size;
                if name.as_deref().is_some_and(|n| n.contains("_exps.")) {
                    if expert_bytes.len() <= layer {
                        expert_bytes.resize(layer + 1, 0);
                    }
                    expert_bytes[layer] += size;
                }
            }
            _ => {
                other_bytes += size;
                match name.as_deref() {
                    Some(n) if n.starts_with("output_norm.") => output_norm_bytes += size,
                    Some(n) if n.starts_with("output.") => output_head_bytes += size,
                    Some("token_embd.weight") => token_embd_bytes += size,
                    _ => {}
                }
            }
        }
    }

    // A split model's later parts (`split.no` > 0) carry tensors and no model metadata.
    let later_part = header.uint("split.no").is_some_and(|n| n > 0);
    let architecture = match header.string("general.architecture") {
        Some(a) => a,
        None if later_part => String::new(),
        None => return Err(invalid(path, "general.architecture is missing: not a model file")),
    };
    let arch_key = |k: &str| format!("{architecture}.{k}");
    let split_count = header.uint("split.count").unwrap_or(1);
    let summary = GgufSummary {
        path: path.to_path_buf(),
        file_size,
        name: header.string("general.name"),
        tensor_count: tensor_count as u64,
        tensor_bytes,
        block_count: header.uint(&arch_key("block_count")),
        context_length: header.uint(&arch_key("context_length")),
        embedding_length: header.uint(&arch_key("embedding_length")),
        head_count: header.uint(&arch_key("attention.head_count")),
        head_count_kv: header.uint(&arch_key("attention.head_count_kv")),
        sliding_window: header.uint(&arch_key("attention.sliding_window")),
        expert_count: header.uint(&arch_key("expert_count")),
        expert_used_count: header.uint(&arch_key("expert_used_count")),
        chat_template: header.string("tokenizer.chat_template"),
        split_count,
        feed_forward_length: header.uint(&arch_key("feed_forward_length")),
        key_length: header.uint(&arch_key("attention.key_length")),
        value_length: header.uint(&arch_key("attention.value_length")),
        vocab_size: header.uint(&arch_key("vocab_size")).or_else(|| header.array_len("tokenizer.ggml.tokens")),
        layer_bytes,
        other_bytes,
        parameter_count,
        expert_bytes,
        output_norm_bytes,
        output_head_bytes,
        token_embd_bytes,
        vocabulary: header.vocabulary(),
        architecture,
    };
    if summary.tensor_count == 0 && summary.split_count <= 1 {
        return Err(invalid(path, "the file holds no tensors"));
    }
    if summary.block_count == Some(0) || summary.block_count.is_some_and(|n| n > 4096) {
        return Err(invalid(path, "absurd layer count"));
    }
    Ok(summary)
}

/// What a multimodal projector file (`mmproj-*.gguf`, llama.cpp's `clip` architecture) is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ts_rs::TS)]
pub struct ProjectorSummary {
    pub path: PathBuf,
    pub file_size: u64,
    /// llama.cpp's name for its kind (`pixtral`, `gemma3`, `qwen2.5vl`, …).
    pub projector_type: Option<String>,
    pub vision: bool,
    pub audio: bool,
    /// The width of what it hands the language model: that model's embedding length.
    pub output_width: Option<u64>,
}

/// The metadata `mtmd` reads with typed getters, each of which aborts the process on another
/// type: a file must hold each of these, when it holds it, as this type.
const PROJECTOR_KEYS: &[(&str, sys::gguf_type)] = &[
    ("clip.has_vision_encoder", sys::GGUF_TYPE_BOOL),
    ("clip.has_audio_encoder", sys::GGUF_TYPE_BOOL),
    ("clip.has_llava_projector", sys::GGUF_TYPE_BOOL),
    ("clip.use_gelu", sys::GGUF_TYPE_BOOL),
    ("clip.use_silu", sys::GGUF_TYPE_BOOL),
    ("clip.projector_type", sys::GGUF_TYPE_STRING),
    ("clip.vision.projector_type", sys::GGUF_TYPE_STRING),
    ("clip.audio.projector_type", sys::GGUF_TYPE_STRING),
    ("clip.vision.image_size", sys::GGUF_TYPE_UINT32),
    ("clip.vision.patch_size", sys::GGUF_TYPE_UINT32),
    ("clip.vision.embedding_length", sys::GGUF_TYPE_UINT32),
    ("clip.vision.feed_forward_length", sys::GGUF_TYPE_UINT32),
    ("clip.vision.block_count", sys::GGUF_TYPE_UINT32),
    ("clip.vision.attention.head_count", sys::GGUF_TYPE_UINT32),
    ("clip.vision.projection_dim", sys::GGUF_TYPE_UINT32),
    ("clip.vision.spatial_merge_size", sys::GGUF_TYPE_UINT32),
    ("clip.vision.attention.layer_norm_epsilon", sys::GGUF_TYPE_FLOAT32),
    ("clip.audio.embedding_length", sys::GGUF_TYPE_UINT32),
    ("clip.audio.feed_forward_length", sys::GGUF_TYPE_UINT32),
    ("clip.audio.block_count", sys::GGUF_TYPE_UINT32),
    ("clip.audio.attention.head_count", sys::GGUF_TYPE_UINT32),
    ("clip.audio.projection_dim", sys::GGUF_TYPE_UINT32),
    ("clip.audio.attention.layer_norm_epsilon", sys::GGUF_TYPE_FLOAT32),
];
/// Arrays `mtmd` reads as 32-bit floats, at least three (one per colour).
const PROJECTOR_FLOAT_ARRAYS: &[&str] = &["clip.vision.image_mean", "clip.vision.image_std"];

/// Checks a projector file as [`inspect`] checks a model (structure, truncation), then that it
/// is one (`general.architecture` = `clip`, an encoder) and that the metadata `mtmd` reads has
/// the types it asserts. It cannot check every tensor's shape for every projector kind: those
/// `mtmd` checks while it loads.
pub fn inspect_projector(path: &Path) -> Result<ProjectorSummary> {
    let summary = inspect(path)?;
    if summary.architecture != "clip" {
        return Err(invalid(
            path,
            format!("not a projector file: its architecture is {}, not clip", summary.architecture),
        ));
    }
    let header = Header::open(path)?;
    for &(key, wanted) in PROJECTOR_KEYS {
        if let Some((_, found)) = header.find(key) {
            if found != wanted {
                return Err(invalid(path, format!("its {key} has the wrong type")));
            }
        }
    }
    for key in PROJECTOR_FLOAT_ARRAYS {
        if let Some((id, found)) = header.find(key) {
            let floats = found == sys::GGUF_TYPE_ARRAY
                && unsafe { sys::gguf_get_arr_type(header.0, id) } == sys::GGUF_TYPE_FLOAT32
                && unsafe { sys::gguf_get_arr_n(header.0, id) } >= 3;
            if !floats {
                return Err(invalid(path, format!("its {key} is not three or more 32-bit floats")));
            }
        }
    }
    let vision = header.flag("clip.has_vision_encoder");
    let audio = header.flag("clip.has_audio_encoder");
    if !vision && !audio {
        return Err(invalid(path, "a projector with neither a vision nor an audio encoder"));
    }
    Ok(ProjectorSummary {
        path: path.to_path_buf(),
        file_size: summary.file_size,
        projector_type: header.string("clip.projector_type").or_else(|| header.string("clip.vision.projector_type")),
        vision,
        audio,
        output_width: header.uint("clip.vision.projection_dim").or_else(|| header.uint("clip.audio.projection_dim")),
    })
}

/// `blk.12.attn_q.weight` → 12
fn layer_index(name: &str) -> Option<usize> {
    name.strip_prefix("blk.")?.split('.').next()?.parse().ok()
}

/// Rejects files whose fixed prefix is not GGUF or whose counts cannot fit the file.
fn check_prefix(path: &Path, file_size: u64) -> Result<()> {
    let mut prefix = [0u8; 24];
    let mut file = std::fs::File::open(path).map_err(|source| GgufError::Io { path: path.to_path_buf(), source })?;
    let mut read = 0;
    while read < prefix.len() {
        match file.read(&mut prefix[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(source) => return Err(GgufError::Io { path: path.to_path_buf(), source }),
        }
    }
    if read < 4 || &prefix[..4] != GGUF_MAGIC {
        return Err(invalid(path, "not a GGUF file (wrong magic number)"));
    }
    if read < prefix.len() {
        return Err(invalid(path, "the file is truncated inside its header"));
    }
    let version = u32::from_le_bytes(prefix[4..8].try_into().unwrap());
    if !(2..=3).contains(&version) {
        return Err(invalid(path, format!("unsupported GGUF version {version}")));
    }
    let n_tensors = u64::from_le_bytes(prefix[8..16].try_into().unwrap());
    let n_kv = u64::from_le_bytes(prefix[16..24].try_into().unwrap());
    let room = file_size - 24;
    if n_tensors > MAX_TENSORS || n_tensors.saturating_mul(MIN_TENSOR_INFO_BYTES) > room {
        return Err(invalid(
            path,
            format!("its header claims {n_tensors} tensors, more than the file can hold (absurd tensor count)"),
        ));
    }
    if n_kv.saturating_mul(MIN_KV_BYTES) > room {
        return Err(invalid(
            path,
            format!("its header claims {n_kv} metadata entries, more than the file can hold (absurd metadata count)"),
        ));
    }
    Ok(())
}

/// Owner of a `gguf_context` (metadata only) with type-checked getters.
struct Header(*mut sys::gguf_context);

impl Drop for Header {
    fn drop(&mut self) {
        // SAFETY: the pointer came from gguf_init_from_file and is freed once.
        unsafe { sys::gguf_free(self.0) }
    }
}

impl Header {
    fn open(path: &Path) -> Result<Self> {
        let c_path = path
            .to_str()
            .and_then(|s| CString::new(s).ok())
            .ok_or_else(|| invalid(path, "the path is not valid UTF-8"))?;
        let params = sys::gguf_init_params { no_alloc: true, ctx: std::ptr::null_mut() };
        // SAFETY: valid C string; llama.cpp returns NULL on malformed input.
        let ptr = unsafe { sys::gguf_init_from_file(c_path.as_ptr(), params) };
        if ptr.is_null() {
            return Err(invalid(path, "its metadata is malformed GGUF (a damaged file?)"));
        }
        Ok(Self(ptr))
    }

    fn data_offset(&self) -> u64 {
        unsafe { sys::gguf_get_data_offset(self.0) as u64 }
    }

    fn tensor_count(&self) -> i64 {
        unsafe { sys::gguf_get_n_tensors(self.0) }
    }

    fn tensor_offset(&self, id: i64) -> u64 {
        unsafe { sys::gguf_get_tensor_offset(self.0, id) as u64 }
    }

    fn tensor_size(&self, id: i64) -> u64 {
        unsafe { sys::gguf_get_tensor_size(self.0, id) as u64 }
    }

    /// Elements of a tensor: its bytes over its type's bytes per block, times the block's
    /// elements (the reader has checked the type; a type with no size counts nothing).
    fn tensor_elements(&self, id: i64) -> u64 {
        let kind = unsafe { sys::gguf_get_tensor_type(self.0, id) };
        let (type_size, block) = unsafe { (sys::ggml_type_size(kind) as u64, sys::ggml_blck_size(kind)) };
        if type_size == 0 || block <= 0 {
            return 0;
        }
        self.tensor_size(id) / type_size * block as u64
    }

    fn tensor_name(&self, id: i64) -> Option<String> {
        let ptr = unsafe { sys::gguf_get_tensor_name(self.0, id) };
        (!ptr.is_null()).then(|| unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned())
    }

    /// `tokenizer.ggml.model` and an xxh3 of the tokens' text from the sixth to the 32,768th.
    fn vocabulary(&self) -> Option<String> {
        let kind = self.string("tokenizer.ggml.model")?;
        let (id, ty) = self.find("tokenizer.ggml.tokens")?;
        // SAFETY: the array's element type is checked before its strings are read.
        if ty != sys::GGUF_TYPE_ARRAY || unsafe { sys::gguf_get_arr_type(self.0, id) } != sys::GGUF_TYPE_STRING {
            return None;
        }
        let n = unsafe { sys::gguf_get_arr_n(self.0, id) };
        let mut hash = xxhash_rust::xxh3::Xxh3::new();
        for i in 5..n.min(32_768) {
            let ptr = unsafe { sys::gguf_get_arr_str(self.0, id, i) };
            if !ptr.is_null() {
                hash.update(unsafe { CStr::from_ptr(ptr) }.to_bytes());
                hash.update(&[0]);
            }
        }
        Some(format!("{kind}:{:016x}", hash.digest()))
    }

    fn array_len(&self, key: &str) -> Option<u64> {
        match self.find(key)? {
            (id, sys::GGUF_TYPE_ARRAY) => Some(unsafe { sys::gguf_get_arr_n(self.0, id) } as u64),
            _ => None,
        }
    }

    fn find(&self, key: &str) -> Option<(i64, sys::gguf_type)> {
        let key = CString::new(key).ok()?;
        let id = unsafe { sys::gguf_find_key(self.0, key.as_ptr()) };
        (id >= 0).then(|| (id, unsafe { sys::gguf_get_kv_type(self.0, id) }))
    }

    fn string(&self, key: &str) -> Option<String> {
        match self.find(key)? {
            (id, sys::GGUF_TYPE_STRING) => {
                let ptr = unsafe { sys::gguf_get_val_str(self.0, id) };
                (!ptr.is_null()).then(|| unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned())
            }
            _ => None,
        }
    }

    fn flag(&self, key: &str) -> bool {
        match self.find(key) {
            // SAFETY: the getter is called only for the type it asserts.
            Some((id, sys::GGUF_TYPE_BOOL)) => unsafe { sys::gguf_get_val_bool(self.0, id) },
            _ => false,
        }
    }

    fn uint(&self, key: &str) -> Option<u64> {
        let (id, ty) = self.find(key)?;
        // SAFETY: each getter is called only for the type it asserts.
        unsafe {
            match ty {
                sys::GGUF_TYPE_UINT8 => Some(u64::from(sys::gguf_get_val_u8(self.0, id))),
                sys::GGUF_TYPE_UINT16 => Some(u64::from(sys::gguf_get_val_u16(self.0, id))),
                sys::GGUF_TYPE_UINT32 => Some(u64::from(sys::gguf_get_val_u32(self.0, id))),
                sys::GGUF_TYPE_UINT64 => Some(sys::gguf_get_val_u64(self.0, id)),
                sys::GGUF_TYPE_INT32 => u64::try_from(sys::gguf_get_val_i32(self.0, id)).ok(),
                sys::GGUF_TYPE_INT64 => u64::try_from(sys::gguf_get_val_i64(self.0, id)).ok(),
                _ => None,
            }
        }
    }
}
