// Model files, loads, the planner and the models kept loaded (src-tauri/src/commands/models.rs).
import { Channel, invoke } from '@tauri-apps/api/core';
export type {
  DeviceShare,
  DraftKind,
  Drafting,
  FitPlan,
  FitVerdict,
  FlashAttention,
  GgufSummary,
  Gpu,
  Hardware,
  KvCacheType,
  LoadParams,
  LoadedBy,
  LoadedModel,
  MemoryEstimate,
  MemoryUse,
  MistralVersion,
  ModelFile,
  ModelMemory,
  ModelMemoryView,
  ModelPlan,
  ModelStatus,
  ModelsFolder,
  PlanRequest,
  PromptFormatKind,
  ResidentModel,
  SplitEstimate,
} from '../bindings';
import type {
  Hardware,
  LoadParams,
  LoadedModel,
  MemoryEstimate,
  ModelMemory,
  ModelMemoryView,
  ModelPlan,
  ModelsFolder,
  PlanRequest,
  ResidentModel,
  SplitEstimate,
} from '../bindings';

export const listModels = () => invoke<ModelsFolder>('list_models');

/** Loads `path`; the fields left out keep their defaults (`LoadParams` is `serde(default)`). */
export function loadModel(path: string, params: Partial<LoadParams>, onProgress: (fraction: number) => void) {
  const channel = new Channel<number>();
  channel.onmessage = onProgress;
  return invoke<LoadedModel>('load_model', { path, params, onProgress: channel });
}
export const cancelLoad = () => invoke<void>('cancel_load');

export const planModel = (path: string) => invoke<ModelPlan>('plan_model', { path });
/** `devices`: each offload device's free memory (local GPUs, then other machines' devices):
 *  the estimate then gives each one's share. */
export const estimateMemory = (path: string, request: PlanRequest, devices: number[] | null = null) =>
  invoke<SplitEstimate>('estimate_memory', { path, request, devices });
export const hardware = () => invoke<Hardware>('hardware');

export const ramOf = (e: MemoryEstimate) => e.weights_ram + e.kv_ram + e.compute_ram + e.runtime_ram + e.projector_ram;
export const vramOf = (e: MemoryEstimate) => e.weights_vram + e.kv_vram + e.compute_vram;

export const loadedModels = () => invoke<ResidentModel[]>('loaded_models');
/** Ejects a model once the answers using it are done. */
export const unloadModel = (id: string) => invoke<void>('unload_model', { id });

export const modelMemory = () => invoke<ModelMemoryView>('model_memory');
/** Applies from the next load; saved for the next start. */
export const setModelMemory = (settings: ModelMemory) => invoke<ModelMemoryView>('set_model_memory', { settings });
