import { describe, expect, it } from 'vitest';
import type { ConversationInfo } from './api';
import { Conversations, type ConversationsBackend } from './conversations.svelte';

const info = (id: number, title: string, pinned = false): ConversationInfo => ({
  id, title, created_at: 0, updated_at: 0, pinned, current_leaf_id: null, model: null, preset_id: null, persona_id: null, tools: [],
});

function backend(list: ConversationInfo[]): ConversationsBackend {
  return {
    list: async () => list.map((c) => ({ ...c })),
    rename: async (id, title) => {
      if (!title.trim()) throw { kind: 'invalid', message: 'A title cannot be empty' };
      list.find((c) => c.id === id)!.title = title;
    },
    pin: async (id, pinned) => void (list.find((c) => c.id === id)!.pinned = pinned),
    remove: async (id) => void list.splice(list.findIndex((c) => c.id === id), 1),
    import: async () => {
      list.push(info(9, 'Imported'), info(10, 'Imported too'));
      return [9, 10];
    },
  };
}

describe('Conversations', () => {
  it('show the store’s list after each change, a refused one included', async () => {
    const list = [info(1, 'First'), info(2, 'Second')];
    const c = new Conversations(backend(list));
    await c.refresh();
    await c.rename(1, 'Renamed');
    await c.togglePin(c.items[1]);
    expect(c.items.map((x) => [x.title, x.pinned])).toEqual([['Renamed', false], ['Second', true]]);
    list[0].title = 'Changed elsewhere';
    await expect(c.rename(1, ' ')).rejects.toMatchObject({ kind: 'invalid' });
    expect(c.items[0].title).toBe('Changed elsewhere');
    await c.remove(2);
    expect(c.items.map((x) => x.id)).toEqual([1]);
    expect(await c.import('{}')).toBe(2);
    expect(c.items.map((x) => x.id)).toEqual([1, 9, 10]);
  });
});
