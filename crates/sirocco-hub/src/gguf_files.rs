//! A repository's GGUF files as the user thinks of them: one entry per model and quant, with
//! split parts (`name-00001-of-00003.gguf`) together, and the repository's vision projector
//! (`mmproj-*.gguf`) offered with each of them rather than as a model of its own.

use serde::{Deserialize, Serialize};

/// A file in a repository.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ts_rs::TS)]
pub struct RemoteFile {
    pub path: String,
    pub size: u64,
    /// The Hub's LFS sha256 (`None` for small files kept in git).
    pub sha256: Option<String>,
}

/// One downloadable model: a single GGUF or all parts of a split one.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ts_rs::TS)]
pub struct GgufEntry {
    /// The name shown: the file name, or for split models the name without the part suffix.
    pub name: String,
    /// `Q4_K_M`, `IQ3_XS`, `F16`… when the name says.
    pub quant: Option<String>,
    /// The model's files, part 1 first (the one llama.cpp loads).
    pub parts: Vec<RemoteFile>,
    /// Bytes of the model's parts.
    pub total_size: u64,
    /// The repository's vision projector, downloaded and verified with the model and loaded
    /// with it (the F16 one where the repository has several).
    #[serde(default)]
    pub projector: Option<RemoteFile>,
}

impl GgufEntry {
    /// Every file to download: the model's parts, then its projector.
    pub fn files(&self) -> Vec<RemoteFile> {
        self.parts.iter().chain(&self.projector).cloned().collect()
    }
}

/// Parses `…-00001-of-00003.gguf` into (stem, part, of).
pub use sirocco_gguf::split_part;

/// The quantization named in a file name (`Q4_K_M`, `IQ2_XXS`, `Q8_0`, `F16`, `BF16`…).
pub fn quant_of(name: &str) -> Option<String> {
    let upper = name.to_uppercase();
    let file = upper.rsplit('/').next()?;
    let stem = file.strip_suffix(".GGUF").unwrap_or(file);
    stem.split(['-', '.']).rev().find(|t| is_quant(t)).map(str::to_owned)
}

fn is_quant(token: &str) -> bool {
    let t = token.trim();
    if matches!(t, "F16" | "BF16" | "F32" | "FP16") {
        return true;
    }
    let body = t.strip_prefix("IQ").or_else(|| t.strip_prefix('Q')).or_else(|| t.strip_prefix("TQ"));
    match body {
        Some(b) => {
            let mut chars = b.chars();
            chars.next().is_some_and(|c| c.is_ascii_digit())
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
                && (b.len() == 1 || b.as_bytes()[1] == b'_')
        }
        None => false,
    }
}

/// Groups the GGUF files of a listing; other files are left out. Ordered by total size.
pub fn group(files: &[RemoteFile]) -> Vec<GgufEntry> {
    let mut entries: Vec<GgufEntry> = Vec::new();
    let mut splits: std::collections::BTreeMap<String, Vec<(u32, u32, RemoteFile)>> = Default::default();
    let name = |f: &RemoteFile| f.path.rsplit('/').next().unwrap_or(&f.path).to_owned();
    let (projectors, models): (Vec<&RemoteFile>, Vec<&RemoteFile>) = files
        .iter()
        .filter(|f| f.path.to_lowercase().ends_with(".gguf"))
        .partition(|f| crate::library::is_projector_name(&name(f)));
    let projector = projectors
        .iter()
        .find(|f| {
            let n = name(f).to_ascii_lowercase();
            n.contains("f16") && !n.contains("bf16")
        })
        .or_else(|| projectors.first())
        .map(|f| (*f).clone());
    for file in models {
        match split_part(&file.path) {
            Some((base, part, of)) => splits.entry(base.to_owned()).or_default().push((part, of, file.clone())),
            None => entries.push(GgufEntry {
                name: file.path.clone(),
                quant: quant_of(&file.path),
                total_size: file.size,
                parts: vec![file.clone()],
                projector: projector.clone(),
            }),
        }
    }
    for (base, mut parts) in splits {
        parts.sort_by_key(|(part, _, _)| *part);
        let of = parts[0].1;
        // A split model is offered only when every part is there.
        let complete =
            parts.len() == of as usize && parts.iter().enumerate().all(|(i, (p, o, _))| *p == i as u32 + 1 && *o == of);
        if !complete {
            continue;
        }
        let parts: Vec<RemoteFile> = parts.into_iter().map(|(_, _, f)| f).collect();
        entries.push(GgufEntry {
            name: format!("{base}.gguf"),
            quant: quant_of(&base),
            total_size: parts.iter().map(|p| p.size).sum(),
            parts,
            projector: projector.clone(),
        });
    }
    entries.sort_by(|a, b| a.total_size.cmp(&b.total_size).then(a.name.cmp(&b.name)));
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(path: &str, size: u64) -> RemoteFile {
        RemoteFile { path: path.into(), size, sha256: Some("x".into()) }
    }

    #[test]
    fn quants_are_read_from_names() {
        assert_eq!(quant_of("Mistral-7B-Instruct-v0.3-Q4_K_M.gguf").as_deref(), Some("Q4_K_M"));
        assert_eq!(quant_of("mixtral-8x7b-instruct-v0.1.Q5_0.gguf").as_deref(), Some("Q5_0"));
        assert_eq!(quant_of("Codestral-22B-v0.1-IQ3_XS.gguf").as_deref(), Some("IQ3_XS"));
        assert_eq!(quant_of("model-bf16.gguf").as_deref(), Some("BF16"));
        assert_eq!(quant_of("Q8_0/Mistral-Large-Instruct-2407-Q8_0.gguf").as_deref(), Some("Q8_0"));
        assert_eq!(quant_of("README.gguf"), None);
    }

    #[test]
    fn split_parts_are_one_entry_and_incomplete_splits_are_left_out() {
        let files = [
            f("big-Q4_K_M-00002-of-00002.gguf", 20),
            f("big-Q4_K_M-00001-of-00002.gguf", 30),
            f("small-Q8_0.gguf", 5),
            f("broken-Q2_K-00001-of-00003.gguf", 1),
            f("README.md", 1),
        ];
        let entries = group(&files);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].name, "small-Q8_0.gguf");
        let big = &entries[1];
        assert_eq!(big.name, "big-Q4_K_M.gguf");
        assert_eq!(big.quant.as_deref(), Some("Q4_K_M"));
        assert_eq!(big.total_size, 50);
        assert_eq!(big.parts[0].path, "big-Q4_K_M-00001-of-00002.gguf");
        assert!(entries.iter().all(|e| e.projector.is_none()));
    }

    #[test]
    fn a_repositorys_projector_comes_with_each_model_not_as_one() {
        let files = [
            f("Mistral-Small-3.2-24B-Instruct-2506-Q4_K_M.gguf", 14),
            f("Mistral-Small-3.2-24B-Instruct-2506-Q8_0.gguf", 25),
            f("mmproj-BF16.gguf", 3),
            f("mmproj-F16.gguf", 3),
            f("mmproj-F32.gguf", 6),
        ];
        let entries = group(&files);
        assert_eq!(entries.len(), 2, "{entries:?}");
        for e in &entries {
            assert_eq!(e.projector.as_ref().map(|p| p.path.as_str()), Some("mmproj-F16.gguf"));
            let files: Vec<String> = e.files().into_iter().map(|f| f.path).collect();
            assert_eq!(files, [e.parts[0].path.clone(), "mmproj-F16.gguf".to_string()]);
        }
        assert_eq!(entries[0].total_size, 14, "the model's own bytes");
    }
}
