//! Conversations' saved KV state on disk: `<dir>/<key>.<fingerprint>.kv`, beside it a record
//! of the length and content hash (XXH3-128) it had when it was written whole
//! (`….kv.len`). The fingerprint names the load — the model file and what shapes its cache —
//! so another model, or other cache settings, never read a state.
//!
//! llama.cpp aborts (GGML_ASSERT) on a truncated state and reads damaged bytes as they are, so
//! a file is handed to it only when its record, its length, its hash and its header agree. A
//! state is written to a temporary file and renamed; the old record goes first, so a crash at
//! any point leaves no record and nothing is read.
//!
//! Files only: llama.cpp writes and reads the state itself (through the paths given here).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::gguf_file::GgufSummary;
use crate::{EngineError, Result};
use sirocco_types::LoadParams;

/// llama.cpp's `LLAMA_STATE_SEQ_MAGIC` ('ggsq') and `LLAMA_STATE_SEQ_VERSION`.
const SEQ_MAGIC: u32 = 0x6767_7371;
const SEQ_VERSION: u32 = 4;

/// A load's saved sequence states.
pub(crate) struct StateFiles {
    dir: PathBuf,
    fingerprint: String,
}

impl StateFiles {
    pub(crate) fn new(dir: PathBuf, summary: &GgufSummary, params: &LoadParams, context_length: u32) -> Self {
        Self { dir, fingerprint: fingerprint(summary, params, context_length) }
    }

    /// Where conversation `key`'s state is (its key made safe for a file name).
    pub(crate) fn path(&self, key: &str) -> PathBuf {
        let safe: String =
            key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).take(80).collect();
        self.dir.join(format!("{safe}.{}.kv", self.fingerprint))
    }

    /// Conversation `key`'s saved state and its token count, when there is one written whole
    /// and unchanged since.
    pub(crate) fn readable(&self, key: &str) -> Option<(PathBuf, usize)> {
        let path = self.path(key);
        let count = saved_token_count(&path)?;
        Some((path, count))
    }

    /// Saves conversation `key`'s state: `write` writes it to the path it is given (a
    /// temporary file), which then takes the state's place, with its record.
    pub(crate) fn save(&self, key: &str, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|source| EngineError::Io { path: self.dir.clone(), source })?;
        let path = self.path(key);
        let partial = path.with_extension("kv.partial");
        let record = length_record(&path);
        match std::fs::remove_file(&record) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(EngineError::Io { path: record, source }),
        }
        write(&partial)?;
        std::fs::rename(&partial, &path).map_err(|source| EngineError::Io { path: path.clone(), source })?;
        let (len, hash) = content_hash(&path).map_err(|source| EngineError::Io { path: path.clone(), source })?;
        std::fs::write(&record, format!("{len} {hash:032x}")).map_err(|source| EngineError::Io { path: record, source })
    }

    /// Removes conversation `key`'s state (one llama.cpp could not read).
    pub(crate) fn discard(&self, key: &str) {
        let path = self.path(key);
        let _ = std::fs::remove_file(length_record(&path));
        let _ = std::fs::remove_file(&path);
    }
}

/// Names a load's saved states: the model file (path and size) and what shapes its cache
/// (context length, cache type, flash attention). FNV-1a, stable across builds.
fn fingerprint(summary: &GgufSummary, params: &LoadParams, context_length: u32) -> String {
    let text = format!(
        "{}|{}|{}|{:?}|{:?}",
        summary.path.display(),
        summary.file_size,
        context_length,
        params.kv_cache_type,
        params.flash_attention
    );
    let hash =
        text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    format!("{hash:016x}")
}

fn length_record(path: &Path) -> PathBuf {
    path.with_extension("kv.len")
}

/// A file's length and XXH3-128 hash (tens of MB in a few milliseconds).
fn content_hash(path: &Path) -> std::io::Result<(usize, u128)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok((len, hasher.digest128()));
        }
        hasher.update(&buf[..n]);
        len += n;
    }
}

/// The token count in a sequence-state file's header (magic, version, count) when the file is
/// one, whole, as its record says, and holds that many tokens.
fn saved_token_count(path: &Path) -> Option<usize> {
    let mut header = [0u8; 12];
    std::fs::File::open(path).ok()?.read_exact(&mut header).ok()?;
    let word = |i: usize| u32::from_le_bytes(header[i..i + 4].try_into().expect("4 bytes"));
    let count = word(8) as usize;
    let record = std::fs::read_to_string(length_record(path)).ok()?;
    let (recorded_len, recorded_hash) = record.trim().split_once(' ')?;
    let (recorded_len, recorded_hash): (usize, u128) =
        (recorded_len.parse().ok()?, u128::from_str_radix(recorded_hash, 16).ok()?);
    let (size, hash) = content_hash(path).ok()?;
    if (size, hash) != (recorded_len, recorded_hash) {
        tracing::warn!(path = %path.display(), size, recorded_len, "a saved state is not whole or was changed; ignoring it");
        return None;
    }
    (word(0) == SEQ_MAGIC && word(4) == SEQ_VERSION && size >= 12 + 4 * count).then_some(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sirocco_types::KvCacheType;

    fn summary(path: &str, file_size: u64) -> GgufSummary {
        GgufSummary { path: PathBuf::from(path), file_size, ..GgufSummary::default() }
    }

    fn files(dir: &Path) -> StateFiles {
        StateFiles::new(dir.to_path_buf(), &summary("/models/a.gguf", 1000), &LoadParams::default(), 4096)
    }

    /// What llama.cpp writes: header, `count` token ids, then the cache bytes.
    fn state_bytes(count: u32, cache: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for word in [SEQ_MAGIC, SEQ_VERSION, count] {
            bytes.extend(word.to_le_bytes());
        }
        for t in 0..count {
            bytes.extend((t + 100).to_le_bytes());
        }
        bytes.extend(cache);
        bytes
    }

    fn save(states: &StateFiles, key: &str, bytes: Vec<u8>) {
        states
            .save(key, |partial| {
                std::fs::write(partial, bytes).map_err(|source| EngineError::Io { path: partial.into(), source })
            })
            .unwrap();
    }

    #[test]
    fn a_saved_state_reads_back_with_its_token_count() {
        let dir = tempfile::tempdir().unwrap();
        let states = files(dir.path());
        assert_eq!(states.readable("chat-1"), None);
        save(&states, "chat-1", state_bytes(3, b"kv cache"));
        let (path, count) = states.readable("chat-1").expect("readable");
        assert_eq!((path, count), (states.path("chat-1"), 3));
        assert!(
            !states.path("chat-1").with_extension("kv.partial").exists(),
            "the temporary file took the state's place"
        );
    }

    #[test]
    fn keys_become_safe_file_names_under_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = files(dir.path()).path("../../etc/passwd ok-1");
        assert_eq!(path.parent(), Some(dir.path()));
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("______etc_passwd_ok-1."), "{name}");
        assert!(name.ends_with(".kv"));
    }

    #[test]
    fn another_load_shape_never_reads_a_state() {
        let dir = tempfile::tempdir().unwrap();
        let states = files(dir.path());
        save(&states, "c", state_bytes(2, b""));
        let others = [
            StateFiles::new(dir.path().into(), &summary("/models/a.gguf", 1000), &LoadParams::default(), 8192),
            StateFiles::new(dir.path().into(), &summary("/models/a.gguf", 1001), &LoadParams::default(), 4096),
            StateFiles::new(dir.path().into(), &summary("/models/b.gguf", 1000), &LoadParams::default(), 4096),
            StateFiles::new(
                dir.path().into(),
                &summary("/models/a.gguf", 1000),
                &LoadParams { kv_cache_type: KvCacheType::Q8_0, ..LoadParams::default() },
                4096,
            ),
        ];
        for other in others {
            assert_ne!(other.path("c"), states.path("c"));
            assert_eq!(other.readable("c"), None);
        }
        assert!(states.readable("c").is_some(), "the same shape reads it");
    }

    #[test]
    fn a_truncated_changed_or_unrecorded_state_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let states = files(dir.path());
        save(&states, "cut", state_bytes(4, b"cache bytes"));
        let path = states.path("cut");
        let whole = std::fs::read(&path).unwrap();
        std::fs::write(&path, &whole[..whole.len() - 3]).unwrap();
        assert_eq!(states.readable("cut"), None, "truncated");

        save(&states, "flip", state_bytes(4, b"cache bytes"));
        let mut bytes = std::fs::read(states.path("flip")).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        std::fs::write(states.path("flip"), bytes).unwrap();
        assert_eq!(states.readable("flip"), None, "a changed byte");

        std::fs::write(states.path("bare"), state_bytes(1, b"")).unwrap();
        assert_eq!(states.readable("bare"), None, "no record: never written whole");
    }

    #[test]
    fn a_file_that_is_not_a_sequence_state_is_not_read_even_when_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let states = files(dir.path());
        let mut wrong_magic = state_bytes(1, b"");
        wrong_magic[0] ^= 0xff;
        save(&states, "magic", wrong_magic);
        assert_eq!(states.readable("magic"), None);
        let mut claims_more = state_bytes(2, b"");
        claims_more[8] = 200;
        save(&states, "count", claims_more);
        assert_eq!(states.readable("count"), None, "the header claims more tokens than the file holds");
        save(&states, "short", b"ggsq".to_vec());
        assert_eq!(states.readable("short"), None);
    }

    #[test]
    fn a_failed_write_leaves_no_readable_state_even_where_one_was() {
        let dir = tempfile::tempdir().unwrap();
        let states = files(dir.path());
        save(&states, "c", state_bytes(2, b"old"));
        let failed = states.save("c", |partial| {
            std::fs::write(partial, b"half").unwrap();
            Err(EngineError::Decode("disk full".into()))
        });
        assert!(failed.is_err());
        assert_eq!(states.readable("c"), None, "the old record went first");
    }

    #[test]
    fn discard_removes_the_state_and_its_record() {
        let dir = tempfile::tempdir().unwrap();
        let states = files(dir.path());
        save(&states, "c", state_bytes(2, b""));
        states.discard("c");
        assert!(!states.path("c").exists());
        assert!(!states.path("c").with_extension("kv.len").exists());
        states.discard("never-saved");
    }
}
