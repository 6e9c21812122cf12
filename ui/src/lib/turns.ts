// The chat's turns, run against the conversation on screen: send, regenerate, continue, edit,
// switch branches, read older messages. What a turn is asked with (the preset's settings, the
// persona, the model, the tools) is read from the page when the turn starts (`context`); the
// conversation (`Conversation`) shows what it makes.
import * as api from './api';
import type { BranchPage, ConversationView, NewAttachment, Turn, TurnEvent } from './api';
import type { TurnInput } from './api/chat';
import type { Conversation, ShownMessage } from './conversation.svelte';

/** The commands this runs (the app's; a test passes its own). */
export interface TurnsBackend {
  turn(request: TurnInput, onEvent: (event: TurnEvent) => void): Promise<unknown>;
  open(id: number): Promise<ConversationView>;
  editAnswer(id: number, text: string): Promise<BranchPage>;
  showSibling(id: number, step: -1 | 1): Promise<BranchPage>;
  older(conversation: number, before: number): Promise<BranchPage>;
}

const tauriBackend: TurnsBackend = {
  turn: api.chatTurn,
  open: (id) => api.conversationOpen(id, null),
  editAnswer: api.messageEditAnswer,
  showSibling: api.messageShowSibling,
  older: api.conversationOlder,
};

/** What the page asks a turn with, as it is when the turn starts: everything of the request
 *  but the turn, the conversation and "Start reply with". */
export type TurnContext = Omit<TurnInput, 'turn' | 'conversation_id' | 'reply_prefix'>;

export interface TurnHooks {
  /** What to ask with, read as each turn starts. */
  context(): TurnContext;
  /** The list of conversations changed (one was made, or its title or time moved). */
  listChanged(): void;
  /** A command failed (the page's banner); a failed turn is shown in the conversation. */
  failed(message: string): void;
}

export class Turns {
  constructor(
    private conversation: Conversation,
    private hooks: TurnHooks,
    private backend: TurnsBackend = tauriBackend,
  ) {}

  /** Runs a turn: the branch keeps its first `keep` messages, then what the turn makes. */
  async run(turn: Turn, keep: number, existing?: ShownMessage, replyPrefix: string | null = null): Promise<void> {
    const conversation = this.conversation;
    conversation.beginTurn(keep, existing);
    // A new conversation goes in the list as soon as the store has it, not after its answer.
    const isNew = conversation.id === null;
    try {
      await this.backend.turn({ ...this.hooks.context(), conversation_id: conversation.id, turn, reply_prefix: replyPrefix }, (event) => {
        conversation.apply(event);
        if (isNew && event.kind === 'started') this.hooks.listChanged();
      });
    } catch (e) {
      conversation.fail(api.errorMessage(e));
      return;
    }
    conversation.endTurn();
    // The store knows the branch's sibling counts; show what it saved (unless the user has
    // moved on meanwhile).
    if (conversation.id !== null) {
      const id = conversation.id;
      const view = await this.backend.open(id).catch(() => null);
      if (view && conversation.id === id && !conversation.generating) conversation.show(view);
    }
    this.hooks.listChanged();
  }

  send(text: string, prefix: string | null, attachments: NewAttachment[]): Promise<void> {
    const c = this.conversation;
    return this.run({ kind: 'send', parent_id: c.leafId, text, attachments }, c.messages.length, undefined, prefix);
  }

  /** Another answer to the question: an answer that went on after tool calls is one answer in
   *  steps, so the question is the one before its first step. */
  regenerate(answer: ShownMessage): Promise<void> {
    const messages = this.conversation.messages;
    let first = this.indexOf(answer);
    while (first > 0 && messages[first - 1].role === 'assistant' && messages[first].parent_id === messages[first - 1].id) first--;
    const question = messages[first]?.parent_id ?? null;
    return question === null ? Promise.resolve() : this.run({ kind: 'regenerate', question_id: question }, first);
  }

  continueAnswer(answer: ShownMessage): Promise<void> {
    return this.run({ kind: 'continue', answer_id: answer.id }, this.indexOf(answer), answer);
  }

  /** A question edited asks again (a new branch); an answer edited is kept as written. */
  async edit(m: ShownMessage, text: string): Promise<void> {
    if (m.role === 'user') return this.run({ kind: 'edit', message_id: m.id, text }, this.indexOf(m));
    const page = await this.attempt(this.backend.editAnswer(m.id, text));
    if (page) this.conversation.setBranch(page);
  }

  /** Shows the previous (-1) or next (1) version of `m`, and the branch under it. */
  async branch(m: ShownMessage, step: -1 | 1): Promise<void> {
    const page = await this.attempt(this.backend.showSibling(m.id, step));
    if (page) this.conversation.setBranch(page);
  }

  /** The page of messages before the first one shown. */
  async loadOlder(): Promise<void> {
    const id = this.conversation.id;
    const first = this.conversation.messages.find((m) => m.id > 0);
    if (id === null || !first) return;
    const page = await this.attempt(this.backend.older(id, first.id));
    if (page && this.conversation.id === id) this.conversation.prepend(page);
  }

  private indexOf(m: ShownMessage): number {
    return this.conversation.messages.findIndex((x) => x.id === m.id);
  }

  private async attempt<T>(job: Promise<T>): Promise<T | undefined> {
    try {
      return await job;
    } catch (e) {
      this.hooks.failed(api.errorMessage(e));
      return undefined;
    }
  }
}
