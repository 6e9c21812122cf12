// One run per key at a time: a second call for a key already running joins the first instead
// of starting again (two ways into the same load — the last model restored at start and the
// conversation opened meanwhile — must not load it twice).

export class SingleFlight {
  #running = new Map<string, Promise<unknown>>();

  /** Whether a run for `key` is in flight. */
  has(key: string): boolean {
    return this.#running.has(key);
  }

  /** Runs `task` for `key`, or returns the run already in flight for it. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const running = this.#running.get(key);
    if (running) return running as Promise<T>;
    const started = task().finally(() => this.#running.delete(key));
    this.#running.set(key, started);
    return started;
  }
}
