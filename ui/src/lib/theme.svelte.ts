// The colour theme: the system's (followed as it changes), light or dark; remembered.
import { appPrefs, type Prefs } from './prefs';

export type ThemeChoice = 'system' | 'light' | 'dark';

const ORDER: ThemeChoice[] = ['system', 'light', 'dark'];

export class Theme {
  choice = $state<ThemeChoice>('system');
  readonly label = $derived(`Theme: ${this.choice}`);
  constructor(private prefs: Prefs = appPrefs) {}

  async restore() {
    const saved = await this.prefs.get<ThemeChoice>('theme');
    if (saved && ORDER.includes(saved)) this.choice = saved;
  }

  /** system → light → dark → system. */
  async next() {
    this.choice = ORDER[(ORDER.indexOf(this.choice) + 1) % ORDER.length];
    await this.prefs.set('theme', this.choice);
  }

  /** What `data-theme` says: always light or dark. */
  resolved(systemIsLight: boolean): 'light' | 'dark' {
    return this.choice === 'system' ? (systemIsLight ? 'light' : 'dark') : this.choice;
  }

  /** Keeps `data-theme` on `root` in step with the choice and the system's; returns the
   *  cleanup (call it from an `$effect`, which re-runs when the choice changes). */
  apply(root: HTMLElement, system: MediaQueryList) {
    const set = () => root.setAttribute('data-theme', this.resolved(system.matches));
    set();
    system.addEventListener('change', set);
    return () => system.removeEventListener('change', set);
  }
}
