// The settings panel's state: the presets, the one chosen, and the settings on screen (a
// preset applied, then what the user moved and what the planner chose for the model).
import * as api from './api';
import type { ModelPlan, Preset, PresetParams } from './api';
import { appPrefs, type Prefs } from './prefs';
import { applyPreset, defaultSettings, presetParamsOf } from './settings';

/** The commands this runs (the app's; a test passes its own). */
export interface PresetsBackend {
  list(): Promise<Preset[]>;
  save(id: number | null, name: string, params: PresetParams): Promise<number>;
  duplicate(id: number): Promise<number>;
  remove(id: number): Promise<void>;
  modelDefault(path: string): Promise<number | null>;
  setModelDefault(path: string, id: number): Promise<void>;
}

const tauriBackend: PresetsBackend = {
  list: api.presetsList,
  save: api.presetSave,
  duplicate: api.presetDuplicate,
  remove: api.presetDelete,
  modelDefault: api.modelPresetGet,
  setModelDefault: api.modelPresetSet,
};

export class Presets {
  list = $state<Preset[]>([]);
  chosenId = $state<number | null>(null);
  settings = $state(defaultSettings());
  readonly chosen = $derived(this.list.find((p) => p.id === this.chosenId) ?? null);

  constructor(
    private backend: PresetsBackend = tauriBackend,
    private prefs: Prefs = appPrefs,
  ) {}

  /** Reads the presets; the first time, the one chosen last (or the first) is applied. */
  async refresh() {
    this.list = await this.backend.list();
    if (this.chosenId === null && this.list.length) {
      const last = await this.prefs.get<number>('lastPreset');
      this.choose(this.list.some((p) => p.id === last) ? last! : this.list[0].id, { remember: false });
    }
  }

  /** Applies a preset to the panel. `remember`: it is the user's choice (kept for the next
   *  start, and as `modelPath`'s default when one is loaded). */
  choose(id: number, { remember = true, modelPath = null as string | null } = {}) {
    const p = this.list.find((x) => x.id === id);
    if (!p) return;
    this.chosenId = id;
    this.settings = applyPreset(this.settings, p.params);
    if (!remember) return;
    if (modelPath) this.backend.setModelDefault(modelPath, id).catch(() => {});
    void this.prefs.set('lastPreset', id);
  }

  /** Saves the settings on screen into the chosen preset, or as a new one named `asName`. */
  async save(asName: string | null, modelPath: string | null) {
    const current = this.chosen;
    if (!current) return;
    const params = presetParamsOf(this.settings, current.params);
    const id = await this.backend.save(asName === null ? current.id : null, asName ?? current.name, params);
    await this.refresh();
    this.choose(id, { modelPath });
  }

  async duplicate(id: number, modelPath: string | null) {
    const copy = await this.backend.duplicate(id);
    await this.refresh();
    this.choose(copy, { modelPath });
  }

  async remove(id: number) {
    await this.backend.remove(id);
    if (this.chosenId === id) this.chosenId = null;
    await this.refresh();
  }

  /** The planner's choices for a model just picked: its context, GPU layers, experts in RAM. */
  applyPlan(plan: ModelPlan) {
    this.settings.context_length = plan.fit.context_length || Math.min(2048, plan.summary.context_length ?? 2048);
    this.settings.gpu_layers = plan.fit.gpu_layers;
    this.settings.experts_on_cpu = plan.fit.experts_on_cpu;
  }

  /** The model's own default preset, if the user chose one, applied over the plan. */
  async applyModelDefault(path: string) {
    const own = await this.backend.modelDefault(path).catch(() => null);
    const preset = this.list.find((p) => p.id === own);
    if (!preset) return;
    this.chosenId = preset.id;
    this.settings = applyPreset(this.settings, preset.params);
  }
}
