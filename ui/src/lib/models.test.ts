import { describe, expect, it } from 'vitest';
import { Models, type ModelsBackend } from './models.svelte';
import { memoryPrefs } from './prefs';
import { defaultSettings, loadParamsOf } from './settings';
import { loadedModel, plan, resident } from './testing';

const file = (path: string) => ({ path, file_name: path.split('/').pop()!, size_bytes: 10, vocabulary: null });

function backend(over: Partial<ModelsBackend> = {}): ModelsBackend {
  return {
    list: async () => ({ folder: '/m', models: [file('/m/a.gguf'), file('/m/b.gguf')] }),
    plan: async () => plan({ gpu_layers: 3 }),
    load: async () => loadedModel(),
    unload: async () => {},
    ...over,
  };
}

describe('Models', () => {
  it('reads the folder, and counts it read even when that fails', async () => {
    const m = new Models(backend());
    await m.refresh();
    expect([m.folder, m.files.length, m.scanned]).toEqual(['/m', 2, true]);
    const broken = new Models(backend({ list: async () => Promise.reject({ kind: 'io', message: 'gone' }) }));
    await expect(broken.refresh()).rejects.toMatchObject({ kind: 'io' });
    expect(broken.scanned).toBe(true);
  });

  it('loads with progress, remembers the settings and the file; a failed load leaves nothing loaded', async () => {
    const prefs = memoryPrefs();
    const seen: number[] = [];
    const m = new Models(
      backend({
        load: async (_path, _params, progress) => {
          progress(0.5);
          seen.push(m.loading!.fraction);
          return loadedModel();
        },
      }),
      prefs,
    );
    const params = loadParamsOf(defaultSettings());
    await m.load(file('/m/a.gguf'), params);
    expect(seen).toEqual([0.5]);
    expect(m.loaded?.file.path).toBe('/m/a.gguf');
    expect(m.loadedParams).toEqual(params);
    expect(m.loading).toBeNull();
    expect(prefs.values.lastModel).toBe('/m/a.gguf');

    const failing = new Models(backend({ load: async () => Promise.reject({ kind: 'invalid', message: 'truncated' }) }), prefs);
    failing.loaded = m.loaded;
    await expect(failing.load(file('/m/b.gguf'), params)).rejects.toMatchObject({ message: 'truncated' });
    expect([failing.loaded, failing.loadedParams, failing.loading]).toEqual([null, null, null]);
  });

  it('lets go of a model that went, and takes one the server loaded when it has none', async () => {
    const m = new Models(backend());
    await m.refresh();
    await m.load(file('/m/a.gguf'), loadParamsOf(defaultSettings()));
    m.residentChanged([resident('/m/a.gguf', 'unloading')]);
    expect(m.loaded).toBeNull();
    m.residentChanged([resident('/m/b.gguf', 'loading', null), resident('/elsewhere/c.gguf', 'loaded')]);
    expect(m.loaded?.file).toEqual({ path: '/elsewhere/c.gguf', file_name: 'c.gguf', size_bytes: 0, vocabulary: null });
    expect(m.loadedParams).toBeNull();
    expect(m.residentAt('/m/b.gguf')).toBeNull();
  });

  it('loads the last model at start only when asked to and when it is still there', async () => {
    const prefs = memoryPrefs({ lastModel: '/m/b.gguf' });
    const m = new Models(backend(), prefs);
    await m.refresh();
    expect((await m.lastModel())?.path).toBe('/m/b.gguf');
    await m.setLoadAtStart(false);
    expect(await m.lastModel()).toBeNull();
    await m.setLoadAtStart(true);
    prefs.values.lastModel = '/m/deleted.gguf';
    expect(await m.lastModel()).toBeNull();
  });

  it('keeps the plan of the file picked last', async () => {
    const m = new Models(backend());
    const p = await m.planFor(file('/m/a.gguf'));
    expect(p.fit.gpu_layers).toBe(3);
    expect([m.plan, m.planned?.path]).toEqual([p, '/m/a.gguf']);
  });
});
