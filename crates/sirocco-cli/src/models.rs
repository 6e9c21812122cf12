//! `sirocco models`: every local model Sirocco can load (HF cache, the models folder, folders
//! given with `--dir`, LM Studio, Ollama), one line each.

use std::path::PathBuf;

use sirocco_hub::library::{self, ModelSource};

use crate::format::bytes;

pub fn run(dirs: Vec<PathBuf>) -> Result<(), String> {
    let hub = sirocco_runtime::hub_of(&sirocco_runtime::Settings::of_app(), None).map_err(|e| e.to_string())?;
    let models = library::scan(&crate::paths::library_roots(hub.cache_dir().to_path_buf(), dirs));
    if models.is_empty() {
        println!("No models yet. Download one with: sirocco pull <owner/repo>");
        return Ok(());
    }
    println!("{:<48} {:>9} {:<8} {:<10} {:>8}  SOURCE", "MODEL", "SIZE", "QUANT", "ARCH", "CONTEXT");
    for m in models {
        let source = match &m.source {
            ModelSource::HfCache { repo, .. } => repo.clone(),
            ModelSource::Folder { folder } => folder.display().to_string(),
            ModelSource::Imported => "added".into(),
            ModelSource::LmStudio => "LM Studio".into(),
            ModelSource::Ollama { .. } => "Ollama".into(),
        };
        let (arch, ctx) = match &m.summary {
            Some(s) => (s.architecture.clone(), s.context_length.map_or("?".into(), |c| c.to_string())),
            None => ("invalid".into(), "-".into()),
        };
        println!(
            "{:<48} {:>9} {:<8} {:<10} {:>8}  {}",
            m.name,
            bytes(m.size),
            m.quant.as_deref().unwrap_or("-"),
            arch,
            ctx,
            source
        );
        if let Some(e) = &m.error {
            println!("    ! {e}");
        }
    }
    Ok(())
}
