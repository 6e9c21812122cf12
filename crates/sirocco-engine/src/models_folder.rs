//! Lists the GGUF model files in a folder.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// A `.gguf` file found in a models folder (its header is not read here).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModelFile {
    pub path: PathBuf,
    pub file_name: String,
    pub size_bytes: u64,
}

/// The `.gguf` files directly in `dir` and one level below (the usual `publisher/model`
/// layout), sorted by name. A missing folder is an empty list.
pub fn scan(dir: &Path) -> Vec<ModelFile> {
    let mut found = Vec::new();
    collect(dir, 0, &mut found);
    found.sort_by(|a, b| a.file_name.to_lowercase().cmp(&b.file_name.to_lowercase()));
    found
}

fn collect(dir: &Path, depth: u32, found: &mut Vec<ModelFile>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        // metadata() follows symlinks, so linked model files are listed too.
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        if meta.is_dir() && depth < 2 {
            collect(&path, depth + 1, found);
        } else if meta.is_file()
            && path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
        {
            found.push(ModelFile {
                file_name: path.file_name().unwrap_or_default().to_string_lossy().into_owned(),
                size_bytes: meta.len(),
                path,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_gguf_files_sorted_and_skips_others() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.gguf"), b"xx").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        std::fs::create_dir(dir.path().join("pub")).unwrap();
        std::fs::write(dir.path().join("pub/A.GGUF"), b"x").unwrap();
        let names: Vec<_> = scan(dir.path()).into_iter().map(|m| m.file_name).collect();
        assert_eq!(names, ["A.GGUF", "b.gguf"]);
    }

    #[test]
    fn missing_folder_is_empty() {
        assert!(scan(Path::new("/definitely/not/here")).is_empty());
    }
}
