import { describe, expect, it } from 'vitest';
import { Conversation } from './conversation.svelte';
import { Turns, type TurnsBackend } from './turns';
import type { BranchMessage, BranchPage, ConversationView, TurnEvent } from './api';
import type { TurnInput } from './api/chat';

const msg = (id: number, parent: number | null, role: 'user' | 'assistant', content: string): BranchMessage => ({
  id, conversation_id: 7, parent_id: parent, role, content, status: 'complete', created_at: 0, stats: null, error: null,
  reasoning: null, reasoning_ms: null, tool_calls: [], attachments: [], sources: [], sibling_index: 1, sibling_count: 1,
});

const view = (messages: BranchMessage[]): ConversationView => ({
  conversation: { id: 7, title: 'Q', created_at: 0, updated_at: 0, pinned: false, current_leaf_id: null, model: null, preset_id: null, persona_id: null, tools: [] },
  messages,
  has_more: false,
});

/** A backend that records what it is asked and answers as the store would. */
function fake(events: TurnEvent[], stored: BranchMessage[]) {
  const log: string[] = [];
  const requests: TurnInput[] = [];
  const backend: TurnsBackend = {
    async turn(request, onEvent) {
      requests.push(request);
      for (const e of events) onEvent(e);
    },
    async open(id) {
      log.push(`open ${id}`);
      return view(stored);
    },
    async editAnswer(id, text) {
      log.push(`editAnswer ${id} ${text}`);
      return { messages: stored, has_more: false };
    },
    async showSibling(id, step) {
      log.push(`showSibling ${id} ${step}`);
      throw { kind: 'not_found', message: 'That message is gone.' };
    },
    async older(): Promise<BranchPage> {
      return { messages: [], has_more: false };
    },
  };
  return { backend, log, requests };
}

const context = () => ({ model: '/models/a.gguf', tools: ['files'], user_name: 'Ana' });

describe('Turns', () => {
  it('a first question: the list hears of the conversation when the store has it, and the page shows what was saved', async () => {
    const stored = [msg(1, null, 'user', 'Hi'), msg(2, 1, 'assistant', 'Hello!')];
    const { backend, log, requests } = fake(
      [
        { kind: 'started', conversation_id: 7, title: 'Hi', added: [msg(1, null, 'user', 'Hi')], answer_id: 2 },
        { kind: 'text', text: 'Hello!', context_used: 9 },
      ],
      stored,
    );
    const conversation = new Conversation((f) => f());
    const heard: string[] = [];
    const turns = new Turns(conversation, { context, listChanged: () => heard.push(`list (messages ${conversation.messages.length})`), failed: (m) => heard.push(m) }, backend);

    await turns.send('Hi', 'Sure,', []);

    expect(requests).toEqual([
      { model: '/models/a.gguf', tools: ['files'], user_name: 'Ana', conversation_id: null, turn: { kind: 'send', parent_id: null, text: 'Hi', attachments: [] }, reply_prefix: 'Sure,' },
    ]);
    // Once as it started (the question and the placeholder answer on screen), once at the end.
    expect(heard).toEqual(['list (messages 2)', 'list (messages 2)']);
    expect(log).toEqual(['open 7']);
    expect(conversation.generating).toBe(false);
    expect(conversation.messages.map((m) => [m.id, m.content])).toEqual([[1, 'Hi'], [2, 'Hello!']]);
  });

  it('regenerating an answer given in steps asks the question again from before its first step', async () => {
    const conversation = new Conversation((f) => f());
    // Question 1, then an answer that called a tool (2) and went on (3).
    conversation.show(view([msg(1, null, 'user', 'Weather?'), msg(2, 1, 'assistant', ''), msg(3, 2, 'assistant', 'Sunny.')]));
    const { backend, requests } = fake([{ kind: 'text', text: 'Rainy.', context_used: 12 }], [msg(1, null, 'user', 'Weather?'), msg(4, 1, 'assistant', 'Rainy.')]);
    const turn = backend.turn;
    let during: number[] = [];
    backend.turn = (request, onEvent) => {
      during = conversation.messages.map((m) => m.id);
      return turn(request, onEvent);
    };
    const turns = new Turns(conversation, { context, listChanged: () => {}, failed: () => {} }, backend);

    await turns.regenerate(conversation.messages[2]);

    expect(requests.map((r) => [r.conversation_id, r.turn])).toEqual([[7, { kind: 'regenerate', question_id: 1 }]]);
    // While it ran, the question stayed and both steps made way for the new answer.
    expect(during).toEqual([1, -1]);
    expect(conversation.messages.map((m) => [m.id, m.content])).toEqual([[1, 'Weather?'], [4, 'Rainy.']]);
  });

  it('a turn the command refuses is shown in the conversation; a failed branch switch goes to the banner', async () => {
    const conversation = new Conversation((f) => f());
    conversation.show(view([msg(1, null, 'user', 'Hi'), msg(2, 1, 'assistant', 'Hello')]));
    const { backend } = fake([], []);
    backend.turn = async () => {
      throw { kind: 'no_model', message: 'Load a model first.' };
    };
    const banner: string[] = [];
    const turns = new Turns(conversation, { context, listChanged: () => {}, failed: (m) => banner.push(m) }, backend);

    await turns.send('Again', null, []);
    const last = conversation.messages[conversation.messages.length - 1];
    expect([last.error, conversation.generating, banner]).toEqual(['Load a model first.', false, []]);

    await turns.branch(conversation.messages[1], 1);
    expect(banner).toEqual(['That message is gone.']);
  });

  it('an edited answer is kept as written; the user moving on keeps the page where they went', async () => {
    const conversation = new Conversation((f) => f());
    conversation.show(view([msg(1, null, 'user', 'Hi'), msg(2, 1, 'assistant', 'Hello')]));
    const edited = [msg(1, null, 'user', 'Hi'), msg(2, 1, 'assistant', 'Hello there')];
    const { backend, log, requests } = fake([{ kind: 'text', text: '…', context_used: null }], edited);
    const turns = new Turns(conversation, { context, listChanged: () => {}, failed: () => {} }, backend);

    await turns.edit(conversation.messages[1], 'Hello there');
    expect([requests.length, log, conversation.messages[1].content]).toEqual([0, ['editAnswer 2 Hello there'], 'Hello there']);

    // A turn whose end comes after the user opened a new chat: the saved branch is not put back.
    backend.open = async () => {
      conversation.clear();
      return view(edited);
    };
    await turns.send('More', null, []);
    expect([conversation.id, conversation.messages]).toEqual([null, []]);
  });
});
