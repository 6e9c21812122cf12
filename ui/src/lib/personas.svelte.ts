// Personas as the chat uses them: the list, the one chatting (if any), its openings with
// `{{char}}`/`{{user}}` filled in, the one picked, and the user's own name.
import * as api from './api';
import type { Persona } from './api';
import { appPrefs, type Prefs } from './prefs';

export class Personas {
  list = $state<Persona[]>([]);
  chosenId = $state<number | null>(null);
  /** What `{{user}}` in a persona's text becomes (empty: "User"). */
  userName = $state('');
  /** Which opening starts a new conversation (0: the greeting, 1…: the alternates). */
  greetingIndex = $state(0);
  readonly chosen = $derived(this.list.find((p) => p.id === this.chosenId) ?? null);
  /** The chosen persona's openings as the chat will show them. */
  readonly greetings = $derived.by(() => {
    const p = this.chosen;
    if (!p) return [];
    const user = this.userName || 'User';
    return [p.greeting, ...p.alternate_greetings]
      .filter((g) => g.trim())
      .map((g) => g.replace(/\{\{char\}\}/gi, p.name).replace(/\{\{user\}\}/gi, user));
  });

  constructor(
    private read: () => Promise<Persona[]> = api.personasList,
    private prefs: Prefs = appPrefs,
  ) {}

  /** Reads the personas; a chosen one that was deleted is let go. */
  async refresh() {
    this.list = await this.read();
    if (this.chosenId !== null && !this.list.some((p) => p.id === this.chosenId)) this.chosenId = null;
  }

  /** Chats as `id` (`null`: no persona); the greeting starts again from the first. */
  choose(id: number | null) {
    this.chosenId = id;
    this.greetingIndex = 0;
  }

  async restoreUserName() {
    this.userName = (await this.prefs.get<string>('userName')) ?? '';
  }

  async setUserName(name: string) {
    this.userName = name;
    await this.prefs.set('userName', name);
  }
}
