import { describe, expect, it } from 'vitest';
import type { Preset, PresetParams } from './api';
import { Presets, type PresetsBackend } from './presets.svelte';
import { memoryPrefs } from './prefs';
import { plan, preset, presetParams } from './testing';

/** A backend over a list in memory, recording model defaults. */
function backend(list: Preset[]) {
  const defaults = new Map<string, number>();
  let next = 100;
  const b: PresetsBackend = {
    list: async () => list.map((p) => ({ ...p })),
    save: async (id: number | null, name: string, params: PresetParams) => {
      if (id === null) {
        list.push(preset(next, name, params));
        return next++;
      }
      list.splice(list.findIndex((p) => p.id === id), 1, preset(id, name, params));
      return id;
    },
    duplicate: async (id: number) => {
      const p = list.find((x) => x.id === id)!;
      list.push(preset(next, `${p.name} copy`, p.params));
      return next++;
    },
    remove: async (id: number) => void list.splice(list.findIndex((p) => p.id === id), 1),
    modelDefault: async (path: string) => defaults.get(path) ?? null,
    setModelDefault: async (path: string, id: number) => void defaults.set(path, id),
  };
  return { b, defaults, list };
}

const precise = () => preset(1, 'Precise', presetParams({ system_prompt: 'Be exact.' }, { temperature: 0.2 }));
const creative = () => preset(2, 'Creative', presetParams({ context_length: 16384 }, { temperature: 1.1 }));

describe('Presets', () => {
  it('start with the preset chosen last, or the first', async () => {
    const first = new Presets(backend([precise(), creative()]).b, memoryPrefs());
    await first.refresh();
    expect([first.chosenId, first.settings.temperature, first.settings.system_prompt]).toEqual([1, 0.2, 'Be exact.']);
    const again = new Presets(backend([precise(), creative()]).b, memoryPrefs({ lastPreset: 2 }));
    await again.refresh();
    expect([again.chosenId, again.settings.temperature, again.settings.context_length]).toEqual([2, 1.1, 16384]);
  });

  it('remember a choice for the next start and as the loaded model’s default', async () => {
    const { b, defaults } = backend([precise(), creative()]);
    const prefs = memoryPrefs();
    const p = new Presets(b, prefs);
    await p.refresh();
    p.choose(2, { modelPath: '/m/a.gguf' });
    await Promise.resolve();
    expect([prefs.values.lastPreset, defaults.get('/m/a.gguf')]).toEqual([2, 2]);
    p.choose(1, { remember: false });
    expect([p.chosenId, prefs.values.lastPreset]).toEqual([1, 2]);
  });

  it('save the settings on screen into the preset, or as a new one', async () => {
    const { b, list } = backend([precise(), creative()]);
    const p = new Presets(b, memoryPrefs());
    await p.refresh();
    p.settings.temperature = 0.4;
    await p.save(null, null);
    expect(list.find((x) => x.id === 1)!.params.sampling.temperature).toBe(0.4);
    p.settings.temperature = 0.9;
    await p.save('Mine', null);
    const mine = list.find((x) => x.name === 'Mine')!;
    expect([p.chosenId, mine.params.sampling.temperature, mine.params.system_prompt]).toEqual([mine.id, 0.9, 'Be exact.']);
  });

  it('deleting the chosen preset falls back to one that exists', async () => {
    const p = new Presets(backend([precise(), creative()]).b, memoryPrefs({ lastPreset: 2 }));
    await p.refresh();
    await p.remove(1);
    expect(p.chosenId).toBe(2);
    await p.remove(2);
    expect([p.chosenId, p.list]).toEqual([null, []]);
  });

  it('a picked model gets the planner’s choices, then its own default preset over them', async () => {
    const { b, defaults } = backend([precise(), creative()]);
    const p = new Presets(b, memoryPrefs());
    await p.refresh();
    p.applyPlan(plan({ context_length: 0, gpu_layers: 12, experts_on_cpu: true }, 32768));
    expect([p.settings.context_length, p.settings.gpu_layers, p.settings.experts_on_cpu]).toEqual([2048, 12, true]);
    await p.applyModelDefault('/m/a.gguf');
    expect(p.chosenId).toBe(1);
    defaults.set('/m/a.gguf', 2);
    await p.applyModelDefault('/m/a.gguf');
    expect([p.chosenId, p.settings.context_length, p.settings.gpu_layers]).toEqual([2, 16384, 12]);
  });
});
