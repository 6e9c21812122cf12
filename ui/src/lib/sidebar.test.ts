import { describe, expect, it } from 'vitest';
import { groupConversations, snippetParts } from './sidebar';
import type { ConversationInfo } from './api';

const conv = (id: number, updated_at: number, pinned = false): ConversationInfo => ({
  id, title: `c${id}`, created_at: 0, updated_at, pinned, current_leaf_id: null, model: null, preset_id: null, persona_id: null, tools: [],
});

describe('groupConversations', () => {
  it('puts pinned first, then today, yesterday, the week and older', () => {
    const now = new Date(2026, 10, 23, 15, 0).getTime();
    const h = 3600 * 1000;
    const groups = groupConversations([conv(1, now - h), conv(2, now - 20 * h), conv(3, now - 3 * 24 * h), conv(4, now - 40 * 24 * h), conv(5, 0, true)], now);
    expect(groups.map((g) => [g.group, g.items.map((c) => c.id)])).toEqual([
      ['Pinned', [5]], ['Today', [1]], ['Yesterday', [2]], ['Previous 7 days', [3]], ['Older', [4]],
    ]);
  });
});

describe('snippetParts', () => {
  it('marks matches and keeps hostile text as text', () => {
    expect(snippetParts('…the \u0002Danube\u0003 flows <b>east</b>')).toEqual([
      { text: '…the ', match: false },
      { text: 'Danube', match: true },
      { text: ' flows <b>east</b>', match: false },
    ]);
  });
});
