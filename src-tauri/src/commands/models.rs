//! Models: the picker's list (the library), a load through the host (progress channel,
//! cancel), an eject, the models in memory (the page follows `models-changed` events), the
//! memory settings (`HostConfig`), the planner's plan and the hardware it plans for.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use sirocco_engine::hardware::Hardware;
use sirocco_engine::planner::{self, FitPlan, MemoryEstimate, PlanRequest};
use sirocco_engine::{LoadParams, LoadedModel};
use sirocco_host::{HostConfig, LoadedBy, ModelSpec, ResidentModel};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{blocking, IpcError, IpcResult};
use crate::settings::{self, ModelMemory};
use crate::AppState;

/// A model the picker offers (part 1 of a split model).
#[derive(serde::Serialize, ts_rs::TS)]
pub struct ModelFile {
    path: PathBuf,
    file_name: String,
    size_bytes: u64,
    /// Its vocabulary (`GgufSummary::vocabulary`): models with the same one can draft for it.
    vocabulary: Option<String>,
}

/// The models folder and the models the picker offers.
#[derive(serde::Serialize, ts_rs::TS)]
pub struct ModelsFolder {
    folder: PathBuf,
    models: Vec<ModelFile>,
}

/// The models the picker offers: everything in the library (downloads, the models folder,
/// LM Studio, Ollama) that chats — not embedding models, which only search documents.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn list_models(state: State<'_, AppState>) -> IpcResult<ModelsFolder> {
    let roots = state.library_roots();
    let models = blocking(move || Ok::<_, IpcError>(sirocco_hub::library::scan(&roots))).await?;
    Ok(ModelsFolder { folder: state.folders.models.clone(), models: chat_models(models) })
}

fn chat_models(library: Vec<sirocco_hub::library::LibraryModel>) -> Vec<ModelFile> {
    let mut models: Vec<ModelFile> = library
        .into_iter()
        .filter(|m| !m.embedding)
        .map(|m| ModelFile {
            vocabulary: m.summary.as_ref().and_then(|s| s.vocabulary.clone()),
            path: m.path,
            file_name: m.name,
            size_bytes: m.size,
        })
        .collect();
    models.sort_by_key(|m| m.file_name.to_lowercase());
    models
}

/// Loads a model; progress (0..=1) goes to `on_progress`, at most once per percent.
#[tauri::command]
#[tracing::instrument(skip_all, fields(path = ?path), err(level = "warn", Display))]
pub async fn load_model(
    state: State<'_, AppState>,
    path: PathBuf,
    params: Option<LoadParams>,
    on_progress: Channel<f32>,
) -> IpcResult<LoadedModel> {
    let cancel = Arc::new(AtomicBool::new(false));
    *state.load_cancel.lock().unwrap() = cancel.clone();
    let mut last = -1.0f32;
    let progress = move |fraction: f32| {
        if fraction - last >= 0.01 || fraction >= 1.0 {
            last = fraction;
            let _ = on_progress.send(fraction);
        }
    };
    let params = params.unwrap_or_default();
    // The user's template for this model, if they keep one (commands/templates.rs).
    let chat_template_override = state.store.model_template(&sirocco_store::template_key(&path)).await?;
    // A vision projector beside the file (`mmproj-*.gguf`) comes with it: the model sees images.
    let projector = params.projector.clone().or_else(|| sirocco_hub::library::projector_beside(&path));
    let params = LoadParams {
        state_dir: Some(state.folders.kv_states()),
        workers: state.workers_for(params.gpu_layers),
        chat_template_override,
        projector,
        ..params
    };
    let spec = ModelSpec { id: state.model_id(&path).await, path, params };
    Ok(state.host.load(spec, LoadedBy::User, progress, cancel).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn cancel_load(state: State<'_, AppState>) {
    state.load_cancel.lock().unwrap().store(true, Ordering::Relaxed);
}

/// Ejects model `id` once the answers using it are done.
#[tauri::command]
#[tracing::instrument(skip_all, fields(id = ?id), err(level = "warn", Display))]
pub async fn unload_model(state: State<'_, AppState>, id: String) -> IpcResult<()> {
    Ok(state.host.unload(&id).await?)
}

/// Every model loaded now (memory, who loaded it, idle since); `models-changed` events follow.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn loaded_models(state: State<'_, AppState>) -> Vec<ResidentModel> {
    state.host.resident()
}

/// The limits on models kept loaded, and what they give on this machine.
#[derive(serde::Serialize, ts_rs::TS)]
pub struct ModelMemoryView {
    settings: ModelMemory,
    /// The most models kept loaded, the default filled in.
    max_models: usize,
    /// What "as many as fit" stops at.
    default_max_models: usize,
    /// RAM the models may use together, and the machine's.
    budget_ram: u64,
    total_ram: u64,
}

fn model_memory_view(settings: ModelMemory, hardware: &Hardware) -> ModelMemoryView {
    let config = settings.host_config();
    ModelMemoryView {
        settings,
        max_models: config.max_models(),
        default_max_models: sirocco_host::DEFAULT_MAX_MODELS,
        budget_ram: config.budget_on(hardware).ram,
        total_ram: hardware.ram_total,
    }
}

///
/// Async, like every command that asks the devices for their memory: a synchronous command
/// runs on the window's thread and would freeze the window while a driver answers.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn model_memory(state: State<'_, AppState>) -> IpcResult<ModelMemoryView> {
    let config = state.host.config();
    let hardware = detect_hardware().await?;
    Ok(model_memory_view(ModelMemory { max_models: config.max_models, reserve_ram: config.reserve_ram }, &hardware))
}

/// This machine's memory and devices, asked off the async threads (drivers may be slow).
async fn detect_hardware() -> IpcResult<Hardware> {
    blocking(|| Ok::<_, IpcError>(Hardware::detect())).await
}

/// Most models kept loaded (1 to 16, or none for the default) and RAM left free (at most all
/// of it). Applies from the next load; saved for the next start.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn set_model_memory(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    settings: ModelMemory,
) -> IpcResult<ModelMemoryView> {
    if settings.max_models.is_some_and(|n| !(1..=MOST_MODELS).contains(&n)) {
        return Err(format!("Keep between 1 and {MOST_MODELS} models loaded.").into());
    }
    let hardware = detect_hardware().await?;
    if settings.reserve_ram > hardware.ram_total {
        return Err("The RAM to leave free is more than this computer has.".to_string().into());
    }
    state.host.set_config(HostConfig {
        max_models: settings.max_models,
        reserve_ram: settings.reserve_ram,
        ..state.host.config()
    });
    settings::save_model_memory(&app, &settings)?;
    Ok(model_memory_view(settings, &hardware))
}

/// The most a user may ask to keep loaded.
const MOST_MODELS: usize = 16;

/// What a model file is and how it fits this machine, from its header alone.
#[derive(serde::Serialize, ts_rs::TS)]
pub struct ModelPlan {
    summary: sirocco_engine::GgufSummary,
    hardware: Hardware,
    fit: FitPlan,
    /// The other machines a load with GPU layers would use (enabled in "Other machines"); the
    /// fit counts the devices of those that answer.
    workers: Vec<String>,
    /// Free memory of each of their devices that answered, after the local GPUs' in the fit's
    /// device order.
    worker_memory: Vec<u64>,
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(path = ?path), err(level = "warn", Display))]
pub async fn plan_model(state: State<'_, AppState>, path: PathBuf) -> IpcResult<ModelPlan> {
    let workers = state.workers_for(u32::MAX);
    let worker_memory = super::workers::usable_memory(&state).await;
    blocking(move || {
        let summary = sirocco_engine::gguf_file::inspect(&path)?;
        let hardware = Hardware::detect();
        // A projector beside the model is loaded with it: its memory counts.
        let fit = planner::fit_with_projector(&summary, &hardware, &worker_memory, None, projector_size(&path));
        Ok::<_, IpcError>(ModelPlan { summary, hardware, fit, workers, worker_memory })
    })
    .await
}

/// A load's predicted memory: what stays in RAM, and each offload device's share.
#[derive(serde::Serialize, ts_rs::TS)]
#[ts(rename = "SplitEstimate")]
pub struct MemoryEstimateView {
    #[serde(flatten)]
    estimate: MemoryEstimate,
    /// The offload devices' shares, in `devices`' order (empty without devices).
    devices: Vec<planner::DeviceShare>,
}

/// The size of the vision projector beside model `path` (loaded with it), if it has one.
fn projector_size(path: &std::path::Path) -> Option<u64> {
    sirocco_hub::library::projector_beside(path).and_then(|p| std::fs::metadata(p).ok()).map(|m| m.len())
}

/// Predicted memory of loading `path` with `request` over offload devices with `devices`
/// bytes free each (the local GPUs, then the other machines' devices, as `plan_model` gave
/// them); none given: every offloaded layer on one device.
#[tauri::command]
#[tracing::instrument(skip_all, fields(path = ?path), err(level = "warn", Display))]
pub async fn estimate_memory(
    path: PathBuf,
    request: PlanRequest,
    devices: Option<Vec<u64>>,
) -> IpcResult<MemoryEstimateView> {
    blocking(move || {
        let summary = sirocco_engine::gguf_file::inspect(&path)?;
        let (mut estimate, devices) = match devices.filter(|d| !d.is_empty()) {
            Some(free) => planner::estimate_split(&summary, &request, &free),
            None => (planner::estimate(&summary, &request), Vec::new()),
        };
        estimate.projector_ram = projector_size(&path).map_or(0, planner::projector_memory);
        Ok::<_, IpcError>(MemoryEstimateView { estimate, devices })
    })
    .await
}

/// This machine as the planner sees it (RAM, GPUs, CPU features).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Display))]
pub async fn hardware() -> IpcResult<Hardware> {
    blocking(|| Ok::<_, IpcError>(Hardware::detect())).await
}

#[cfg(test)]
mod tests {
    use sirocco_hub::library::{LibraryModel, ModelSource};

    fn model(name: &str, embedding: bool) -> LibraryModel {
        LibraryModel {
            name: name.into(),
            path: name.into(),
            parts: vec![name.into()],
            size: 1,
            quant: None,
            source: ModelSource::Imported,
            summary: None,
            error: None,
            projector: None,
            embedding,
        }
    }

    #[test]
    fn the_picker_offers_chat_models_only_in_name_order() {
        let library =
            vec![model("zephyr.gguf", false), model("Tiny-BERT-Embed.gguf", true), model("Mistral.gguf", false)];
        let names: Vec<String> = super::chat_models(library).into_iter().map(|m| m.file_name).collect();
        assert_eq!(names, ["Mistral.gguf", "zephyr.gguf"]);
    }
}
