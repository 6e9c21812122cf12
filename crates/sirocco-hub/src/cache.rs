//! The Hugging Face cache layout (shared with `huggingface_hub`, `hf-hub` and other tools):
//!
//! ```text
//! <cache>/models--<owner>--<name>/
//!     blobs/<sha256>                 verified file contents (LFS files are named by sha256)
//!     blobs/<sha256>.incomplete      a download in progress (resumed from its length)
//!     snapshots/<commit>/<path>      relative symlink to ../../blobs/<sha256>
//!     refs/main                      the commit `main` pointed at when last downloaded
//! ```
//!
//! A file is visible under `snapshots/` only once its blob has been verified and renamed into
//! place, so a failed or partial download is never half-visible.

use std::path::{Component, Path, PathBuf};

use crate::{HubError, Result};

pub fn repo_folder(cache: &Path, repo: &str) -> PathBuf {
    cache.join(format!("models--{}", repo.replace('/', "--")))
}

pub fn blob_path(cache: &Path, repo: &str, sha256: &str) -> PathBuf {
    repo_folder(cache, repo).join("blobs").join(sha256)
}

pub fn incomplete_path(cache: &Path, repo: &str, sha256: &str) -> PathBuf {
    repo_folder(cache, repo).join("blobs").join(format!("{sha256}.incomplete"))
}

/// The lock taken while `sha256`'s blob is fetched: where `huggingface_hub` takes its own
/// (`.locks/models--owner--name/<sha256>.lock`, flock), so Sirocco, `sirocco pull` and Python's
/// hub wait for each other instead of writing one `.incomplete` file together.
pub fn lock_path(cache: &Path, repo: &str, sha256: &str) -> PathBuf {
    cache.join(".locks").join(format!("models--{}", repo.replace('/', "--"))).join(format!("{sha256}.lock"))
}

/// The snapshot path of `file`; refuses paths that would leave the snapshot folder.
pub fn snapshot_path(cache: &Path, repo: &str, commit: &str, file: &str) -> Result<PathBuf> {
    let relative = Path::new(file);
    let safe = relative.components().all(|c| matches!(c, Component::Normal(_)));
    if !safe || file.is_empty() || commit.contains(['/', '\\']) || commit.contains("..") {
        return Err(HubError::Protocol(format!("refusing unsafe path {file:?} at {commit:?}")));
    }
    Ok(repo_folder(cache, repo).join("snapshots").join(commit).join(relative))
}

/// Makes `snapshots/<commit>/<file>` point at the verified blob and records `refs/main`.
pub fn link_snapshot(cache: &Path, repo: &str, commit: &str, file: &str, sha256: &str) -> Result<PathBuf> {
    let link = snapshot_path(cache, repo, commit, file)?;
    let parent = link.parent().expect("a snapshot path has a parent");
    std::fs::create_dir_all(parent)?;
    // ../../blobs/<sha> from snapshots/<commit>/, one more ../ per folder inside the repo path.
    let depth = Path::new(file).components().count() - 1;
    let mut target = PathBuf::new();
    for _ in 0..depth + 2 {
        target.push("..");
    }
    target.push("blobs");
    target.push(sha256);
    if link.symlink_metadata().is_ok() {
        std::fs::remove_file(&link)?;
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, &link)?;
    #[cfg(not(unix))]
    std::fs::copy(blob_path(cache, repo, sha256), &link).map(|_| ())?;
    let refs = repo_folder(cache, repo).join("refs");
    std::fs::create_dir_all(&refs)?;
    std::fs::write(refs.join("main"), commit)?;
    Ok(link)
}

/// Bytes free for an unprivileged user on the filesystem holding `folder`.
pub fn free_bytes(folder: &Path) -> Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(folder.as_os_str().as_bytes()).map_err(|e| HubError::Io(e.to_string()))?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `stat` a valid out-pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut stat) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    Ok(stat.f_bavail as u64 * stat.f_frsize as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_links_resolve_to_the_blob() {
        let dir = tempfile::tempdir().unwrap();
        let blob = blob_path(dir.path(), "a/b", "abc");
        std::fs::create_dir_all(blob.parent().unwrap()).unwrap();
        std::fs::write(&blob, b"data").unwrap();
        let link = link_snapshot(dir.path(), "a/b", "c0ffee", "sub/x.gguf", "abc").unwrap();
        assert_eq!(std::fs::read(&link).unwrap(), b"data");
        let top = link_snapshot(dir.path(), "a/b", "c0ffee", "y.gguf", "abc").unwrap();
        assert_eq!(std::fs::read(&top).unwrap(), b"data");
        assert_eq!(std::fs::read_to_string(repo_folder(dir.path(), "a/b").join("refs/main")).unwrap(), "c0ffee");
    }

    #[test]
    fn paths_that_escape_are_refused() {
        let dir = Path::new("/tmp/cache");
        assert!(snapshot_path(dir, "a/b", "c", "../../etc/passwd").is_err());
        assert!(snapshot_path(dir, "a/b", "c", "/etc/passwd").is_err());
        assert!(snapshot_path(dir, "a/b", "../x", "f.gguf").is_err());
        assert!(snapshot_path(dir, "a/b", "c", "ok/f.gguf").is_ok());
    }
}
