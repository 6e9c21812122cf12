//! A remote GGUF's header, fetched with range requests through `hf-hub`, read by the engine's
//! validator (llama.cpp's own GGUF reader) so the planner can judge a file before it is
//! downloaded.

use std::io::Write;

use sirocco_engine::GgufSummary;

use crate::gguf_files::RemoteFile;
use crate::{Hub, HubError, Result};

/// First request: most headers fit (a 32k vocabulary is ~0.5 MB; 256k vocabularies ~6 MB).
const FIRST_BYTES: u64 = 2 << 20;
/// Headers are never larger than this; growing stops here.
const MAX_BYTES: u64 = 128 << 20;

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
        let bytes = repo
            .download_file_to_bytes()
            .filename(file.path.clone())
            .revision(revision.to_owned())
            .range(0..want)
            .send()
            .await
            .map_err(|e| HubError::from_hf(e, repo_id, Some(&file.path)))?;
        let mut tmp = tempfile::NamedTempFile::new()?;
        tmp.write_all(&bytes)?;
        tmp.flush()?;
        let path = tmp.path().to_path_buf();
        let size = file.size;
        let parsed = tokio::task::spawn_blocking(move || sirocco_engine::gguf_file::inspect_header(&path, size))
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
