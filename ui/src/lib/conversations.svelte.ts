// The sidebar's list of conversations, and what is done to them from there.
import * as api from './api';
import type { ConversationInfo } from './api';

/** The commands this runs (the app's; a test passes its own). */
export interface ConversationsBackend {
  list(): Promise<ConversationInfo[]>;
  rename(id: number, title: string): Promise<void>;
  pin(id: number, pinned: boolean): Promise<void>;
  remove(id: number): Promise<void>;
  import(json: string): Promise<number[]>;
}

const tauriBackend: ConversationsBackend = {
  list: api.conversationsList,
  rename: api.conversationRename,
  pin: api.conversationPin,
  remove: api.conversationDelete,
  import: api.conversationsImport,
};

export class Conversations {
  items = $state<ConversationInfo[]>([]);
  constructor(private backend: ConversationsBackend = tauriBackend) {}

  async refresh() {
    this.items = await this.backend.list();
  }

  /** Each change is followed by the list as the store has it (order, titles, pins). */
  async rename(id: number, title: string) {
    try {
      await this.backend.rename(id, title);
    } finally {
      await this.refresh();
    }
  }

  async togglePin(c: ConversationInfo) {
    try {
      await this.backend.pin(c.id, !c.pinned);
    } finally {
      await this.refresh();
    }
  }

  async remove(id: number) {
    await this.backend.remove(id);
    await this.refresh();
  }

  /** Imports a Sirocco export; resolves with how many conversations came in. */
  async import(json: string): Promise<number> {
    const ids = await this.backend.import(json);
    await this.refresh();
    return ids.length;
  }
}
