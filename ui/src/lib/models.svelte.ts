// The models as the page shows them: the files it can load, the one the chat uses (loaded or
// loading, with the settings it was loaded with), what the planner said of the last one picked,
// and every model the app holds in memory (the host announces changes).
import * as api from './api';
import type { LoadedModel, ModelFile, ModelPlan, ModelsFolder, ResidentModel } from './api';
import { appPrefs, type Prefs } from './prefs';
import type { PageLoadParams } from './settings';

/** The commands this runs (the app's; a test passes its own). */
export interface ModelsBackend {
  list(): Promise<ModelsFolder>;
  plan(path: string): Promise<ModelPlan>;
  load(path: string, params: PageLoadParams, onProgress: (fraction: number) => void): Promise<LoadedModel>;
  unload(id: string): Promise<void>;
}

const tauriBackend: ModelsBackend = {
  list: api.listModels,
  plan: api.planModel,
  load: api.loadModel,
  unload: api.unloadModel,
};

export interface ChatModel {
  file: ModelFile;
  model: LoadedModel;
}

const fileName = (path: string) => path.split(/[\\/]/).pop() ?? path;

export class Models {
  folder = $state('');
  files = $state<ModelFile[]>([]);
  /** The models folder has been read once (before that the page says it is looking). */
  scanned = $state(false);
  /** The model the chat uses. */
  loaded = $state<ChatModel | null>(null);
  loading = $state<{ file: ModelFile; fraction: number } | null>(null);
  /** The settings `loaded` was loaded with (`null` when it was loaded elsewhere: the server,
   *  the arena). */
  loadedParams = $state<PageLoadParams | null>(null);
  /** The planner's view of the model picked last. */
  plan = $state<ModelPlan | null>(null);
  planned = $state<ModelFile | null>(null);
  /** Every model in memory (the chat's, the server's, the arena's). */
  resident = $state<ResidentModel[]>([]);
  /** The model used last loads by itself at start. */
  loadAtStart = $state(true);

  constructor(
    private backend: ModelsBackend = tauriBackend,
    private prefs: Prefs = appPrefs,
  ) {}

  async refresh() {
    try {
      const found = await this.backend.list();
      this.folder = found.folder;
      this.files = found.models;
    } finally {
      this.scanned = true;
    }
  }

  /** The file at `path`: the folder's entry, or one made from the path (a library model kept
   *  elsewhere). */
  fileAt(path: string): ModelFile {
    return this.files.find((m) => m.path === path) ?? { path, file_name: fileName(path), size_bytes: 0, vocabulary: null };
  }

  /** Reads `file`'s header and plans it for this machine. */
  async planFor(file: ModelFile): Promise<ModelPlan> {
    const plan = await this.backend.plan(file.path);
    this.plan = plan;
    this.planned = file;
    return plan;
  }

  /** Loads `file` for the chat; on failure nothing is loaded and the error is thrown. */
  async load(file: ModelFile, params: PageLoadParams): Promise<ChatModel> {
    this.loading = { file, fraction: 0 };
    try {
      const model = await this.backend.load(file.path, params, (fraction) => {
        if (this.loading) this.loading.fraction = fraction;
      });
      this.loaded = { file, model };
      this.loadedParams = params;
      void this.prefs.set('lastModel', file.path);
      return this.loaded;
    } catch (e) {
      this.loaded = null;
      this.loadedParams = null;
      throw e;
    } finally {
      this.loading = null;
    }
  }

  /** The chat uses a model already in memory (no reload). */
  select(m: ResidentModel) {
    if (!m.model) return;
    this.loaded = { file: this.fileAt(m.path), model: m.model };
    this.loadedParams = null;
  }

  /** Ejects a model once the answers using it are done. */
  eject(id: string) {
    return this.backend.unload(id);
  }

  /** The host's list changed (a model ejected, loaded by the server for a request, unloaded
   *  when idle or to make room): the chat lets go of a model that went, and takes one the
   *  server loaded when it has none. */
  residentChanged(models: ResidentModel[]) {
    this.resident = models;
    const path = this.loaded?.file.path;
    if (path && !models.some((m) => m.path === path && m.status !== 'unloading')) {
      this.loaded = null;
      this.loadedParams = null;
    }
    const ready = models.find((m) => m.status === 'loaded' && m.model);
    if (!this.loaded && !this.loading && ready) this.select(ready);
  }

  /** A model in memory at `path`, ready to answer. */
  residentAt(path: string) {
    return this.resident.find((m) => m.path === path && m.status === 'loaded') ?? null;
  }

  async setLoadAtStart(on: boolean) {
    this.loadAtStart = on;
    await this.prefs.set('loadLastModel', on);
  }

  /** The model to load at start: the one used last, unless the user turned that off, it is
   *  gone, or a model is already there. */
  async lastModel(): Promise<ModelFile | null> {
    this.loadAtStart = (await this.prefs.get<boolean>('loadLastModel')) ?? true;
    const last = await this.prefs.get<string>('lastModel');
    const file = this.files.find((m) => m.path === last);
    return this.loadAtStart && file && !this.loaded && !this.loading ? file : null;
  }
}
