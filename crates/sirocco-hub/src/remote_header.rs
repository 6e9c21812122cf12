//! A remote GGUF's header, fetched with range requests through `hf-hub`, read by the engine's
//! validator (llama.cpp's own GGUF reader) so the planner can judge a file before it is
//! downloaded.

use std::io::Write;

use sirocco_gguf::GgufSummary;

use crate::gguf_files::RemoteFile;
use crate::{Hub, HubError, Result};

/// First request: most headers fit (a 32k vocabulary is ~0.5 MB; 256k vocabularies ~6 MB).
const FIRST_BYTES: u64 = 2 << 20;
/// Headers are never larger than this; growing stops here.
const MAX_BYTES: u64 = 128 << 20;
/// A dropped connection or a server error is retried like a download is: this many attempts,
/// the first retry after the hub's retry delay, doubling.
const ATTEMPTS: u32 = 4;

/// A whole model's summary from the headers of all its parts (part 1 first): a split model's
/// tensors and bytes are counted across every part, as the planner needs them.
pub async fn read_model(hub: &Hub, repo_id: &str, revision: &str, parts: &[RemoteFile]) -> Result<GgufSummary> {
    let (first, rest) = parts.split_first().ok_or_else(|| HubError::Protocol("a model with no files".into()))?;
    let mut summary = read(hub, repo_id, revision, first).await?;
    for part in rest {
        summary.add_split_part(&read(hub, repo_id, revision, part).await?);
    }
    Ok(summary)
}

/// Reads the header of `file` (the first part of a split model) in `repo` at `revision`,
/// fetching 2 MB first and four times more while the header does not fit.
pub async fn read(hub: &Hub, repo_id: &str, revision: &str, file: &RemoteFile) -> Result<GgufSummary> {
    let repo = hub.repo(repo_id)?;
    let mut want = FIRST_BYTES.min(file.size);
    loop {
        let bytes = first_bytes(hub, &repo, repo_id, revision, &file.path, want).await?;
        let mut tmp = tempfile::NamedTempFile::new()?;
        tmp.write_all(&bytes)?;
        tmp.flush()?;
        let path = tmp.path().to_path_buf();
        let size = file.size;
        let parsed = tokio::task::spawn_blocking(move || sirocco_gguf::inspect_header(&path, size))
            .await
            .map_err(|e| HubError::Io(e.to_string()))?;
        match parsed {
            Ok(mut summary) => {
                summary.path = file.path.clone().into();
                return Ok(summary);
            }
            Err(_) if want < file.size.min(MAX_BYTES) => want = (want * 4).min(file.size).min(MAX_BYTES),
            Err(e) => return Err(HubError::BadHeader(e.to_string())),
        }
    }
}

/// The first `want` bytes of `path`, retrying what may pass (a reset, a truncated body, a 5xx);
/// what cannot (not found, no access) fails at once.
async fn first_bytes(
    hub: &Hub,
    repo: &hf_hub::repository::HFRepository<hf_hub::repository::RepoTypeModel>,
    repo_id: &str,
    revision: &str,
    path: &str,
    want: u64,
) -> Result<Vec<u8>> {
    let mut delay = hub.retry_delay;
    let mut attempt = 1;
    loop {
        let sent = repo
            .download_file_to_bytes()
            .filename(path.to_owned())
            .revision(revision.to_owned())
            .range(0..want)
            .send()
            .await
            .map_err(|e| HubError::from_hf(e, repo_id, Some(path)));
        match sent {
            Ok(bytes) if bytes.len() as u64 == want => return Ok(bytes.to_vec()),
            Ok(bytes) if attempt >= ATTEMPTS => {
                return Err(HubError::Network(format!(
                    "reading the header of {path}: {} of {want} bytes arrived",
                    bytes.len()
                )))
            }
            Err(HubError::Network(e)) if attempt >= ATTEMPTS => {
                return Err(HubError::Network(format!("reading the header of {path}: {e}")))
            }
            Ok(_) | Err(HubError::Network(_)) => {}
            Err(e) => return Err(e),
        }
        tracing::warn!(file = path, attempt, "reading a remote header failed; retrying");
        tokio::time::sleep(delay).await;
        delay *= 2;
        attempt += 1;
    }
}
