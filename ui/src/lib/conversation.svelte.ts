// The conversation on screen: the stored branch, and the answer being streamed into it.
import type {
  Attachment,
  DocumentSource,
  BranchMessage,
  BranchPage,
  ConversationView,
  GenerationStats,
  Role,
  StoredMessage,
  ToolCallRecord,
  TurnEvent,
} from './api';

/** Where a tool call is: waiting its turn, waiting for the user's answer, running, or over
 *  (its `result` says how). */
export type ToolCallPhase = 'queued' | 'asking' | 'running' | 'over';

export interface ShownToolCall extends ToolCallRecord {
  phase: ToolCallPhase;
}

/** A call as shown: one just made waits its turn; one read from the store is over (without a
 *  result if the app ended before it ran). */
const shownCall = (c: ToolCallRecord, live = false): ShownToolCall => ({ ...c, phase: live && !c.result ? 'queued' : 'over' });

export interface ShownMessage {
  id: number;
  parent_id: number | null;
  role: Role;
  content: string;
  /** A reasoning model's thought before the answer ('' when none). */
  reasoning: string;
  /** How long it thought (ms), once the thought is over. */
  reasoning_ms: number | null;
  /** While it thinks: when the thought began (`Date.now()`), for a live clock. */
  thinking_since: number | null;
  streaming: boolean;
  stats: GenerationStats | null;
  error: string | null;
  /** Stopped by the user, cut by max tokens or by the app's end: it can be continued. */
  unfinished: boolean;
  /** The app ended (a crash, a kill) while it was written: what was saved. */
  interrupted: boolean;
  sibling_index: number;
  sibling_count: number;
  /** The tools it called, each with its result once it has one. */
  tool_calls: ShownToolCall[];
  /** The files the user attached (images, documents). */
  attachments: Attachment[];
  /** A question's documents as the model was given them: whole, or the passages retrieved. */
  sources: DocumentSource[];
  /** While an answer waits for a document's passages to be embedded: how far that is. */
  reading: { name: string; done: number; total: number } | null;
}

function shown(m: StoredMessage | BranchMessage): ShownMessage {
  const branch = 'sibling_index' in m ? m : { sibling_index: 1, sibling_count: 1 };
  return {
    id: m.id,
    parent_id: m.parent_id,
    role: m.role,
    content: m.content,
    reasoning: 'reasoning' in m ? (m.reasoning ?? '') : '',
    reasoning_ms: 'reasoning_ms' in m ? m.reasoning_ms : null,
    thinking_since: null,
    streaming: false,
    stats: m.stats,
    error: m.error,
    unfinished:
      m.status === 'stopped' || m.status === 'streaming' || m.status === 'interrupted' || m.stats?.finish_reason === 'length',
    interrupted: m.status === 'interrupted',
    sibling_index: branch.sibling_index,
    sibling_count: branch.sibling_count,
    tool_calls: m.tool_calls.map((c) => shownCall(c)),
    attachments: m.attachments ?? [],
    sources: m.sources ?? [],
    reading: null,
  };
}

const placeholder = (id: number, parent_id: number | null): ShownMessage => ({
  id, parent_id, role: 'assistant', content: '', reasoning: '', reasoning_ms: null, thinking_since: null,
  streaming: true, stats: null, error: null, unfinished: false, interrupted: false, sibling_index: 1, sibling_count: 1,
  tool_calls: [], attachments: [], sources: [], reading: null,
});

/** Runs `flush` before the next frame is drawn. */
export type FrameScheduler = (flush: () => void) => void;

const nextFrame: FrameScheduler = (flush) =>
  typeof requestAnimationFrame === 'function' ? requestAnimationFrame(() => flush()) : flush();

export class Conversation {
  /** Streamed text waiting for the next frame: tokens that arrive between two frames change
   *  the page once, not once each. */
  #pending = '';
  /** The same for a thought's text. */
  #pendingThought = '';
  /** The context count that goes with the pending text: the meter moves in the frame the text
   *  it counts is drawn, never ahead of it. */
  #pendingLive: number | null = null;
  #scheduled = false;
  #schedule: FrameScheduler;

  constructor(schedule: FrameScheduler = nextFrame) {
    this.#schedule = schedule;
  }

  id = $state<number | null>(null);
  title = $state('');
  messages = $state<ShownMessage[]>([]);
  /** Older messages of the branch are in the store, not yet on screen. */
  hasOlder = $state(false);
  /** The context in use while an answer streams (its text events say), else `null`. */
  #live = $state<number | null>(null);

  /** The figures of the latest answer that has them. */
  get lastStats(): GenerationStats | null {
    for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i].stats) return this.messages[i].stats;
    return null;
  }

  /** Tokens of the context in use: while an answer streams, with what it has written so far. */
  get contextUsed(): number | null {
    return this.#live ?? this.lastStats?.context_used ?? null;
  }

  /** A turn is under way: from its start until the page hears it is over (between a step that
   *  called tools and the next one, no message streams, but the turn goes on). */
  #turn = $state(false);

  get generating(): boolean {
    return this.#turn || this.messages.some((m) => m.streaming);
  }

  /** The call waiting for the user's answer, if one is. */
  get asking(): ShownToolCall | null {
    for (const m of this.messages) for (const c of m.tool_calls) if (c.phase === 'asking') return c;
    return null;
  }

  /** The leaf on screen: a new question goes under it. */
  get leafId(): number | null {
    for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i].id > 0) return this.messages[i].id;
    return null;
  }

  show(view: ConversationView): void {
    this.id = view.conversation.id;
    this.title = view.conversation.title;
    this.setBranch(view);
  }

  setBranch(page: BranchPage): void {
    this.messages = page.messages.map(shown);
    this.hasOlder = page.has_more;
  }

  /** Older messages of the same branch, fetched as the user scrolls up. */
  prepend(page: BranchPage): void {
    const known = new Set(this.messages.map((m) => m.id));
    this.messages = [...page.messages.filter((m) => !known.has(m.id)).map(shown), ...this.messages];
    this.hasOlder = page.has_more;
  }

  clear(): void {
    this.id = null;
    this.title = '';
    this.messages = [];
    this.hasOlder = false;
  }

  /**
   * Where a turn's messages go before the store has answered: `keep` is how many messages of the
   * branch stay (the rest is replaced by what the turn makes), plus a placeholder answer that
   * streams (`existing`: the answer being continued).
   */
  beginTurn(keep: number, existing?: ShownMessage): ShownMessage {
    this.flush();
    this.#live = null;
    this.#turn = true;
    // A failed turn's placeholder (never stored) goes too.
    this.messages = this.messages.slice(0, keep).filter((m) => m.id > 0);
    if (existing) {
      existing.streaming = true;
      existing.interrupted = false;
      existing.error = null;
      this.messages.push(existing);
    } else {
      this.messages.push(placeholder(-1, null));
    }
    return this.messages[this.messages.length - 1];
  }

  /** Moves streamed text that is waiting for a frame into the answer now. */
  flush(): void {
    this.#scheduled = false;
    if (this.#pendingLive !== null) this.#live = this.#pendingLive;
    this.#pendingLive = null;
    if (!this.#pending && !this.#pendingThought) return;
    const answer = this.messages[this.messages.length - 1];
    if (answer) {
      // A thought always comes before the answer's text.
      if (this.#pendingThought) answer.reasoning += this.#pendingThought;
      if (this.#pending) answer.content += this.#pending;
    }
    this.#pending = '';
    this.#pendingThought = '';
  }

  #later(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(() => this.flush());
  }

  /** The turn is over (its command returned). */
  endTurn(): void {
    this.flush();
    this.#turn = false;
    for (const m of this.messages) {
      m.streaming = false;
      m.thinking_since = null;
    }
  }

  #call(id: string): ShownToolCall | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const call = this.messages[i].tool_calls.find((c) => c.id === id);
      if (call) return call;
    }
    return undefined;
  }

  /** Applies one turn event to the answer being streamed. */
  apply(event: TurnEvent): void {
    const answer = this.messages[this.messages.length - 1];
    if (!answer) return;
    if (event.kind === 'text') {
      if (event.context_used !== null) this.#pendingLive = event.context_used;
      this.#pending += event.text;
      this.#later();
      return;
    }
    if (event.kind === 'reasoning') {
      answer.thinking_since ??= Date.now();
      this.#pendingThought += event.text;
      this.#later();
      return;
    }
    this.flush();
    if (event.kind !== 'started') this.#live = null;
    switch (event.kind) {
      case 'started': {
        this.id = event.conversation_id;
        this.title = event.title;
        const before = this.messages.slice(0, -1);
        const added = event.added.map(shown);
        // A new sibling (regenerate / edit): its place among siblings is known after a reload;
        // until then show it as the newest.
        answer.id = event.answer_id;
        answer.parent_id = added.length ? added[added.length - 1].id : answer.parent_id;
        this.messages = [...before, ...added, answer];
        break;
      }
      case 'thought_ended':
        answer.reasoning_ms = event.ms;
        answer.thinking_since = null;
        break;
      case 'done':
        // A step that called tools: the turn goes on after the calls.
        if (event.stats.finish_reason !== 'tool_calls') this.#turn = false;
        answer.stats = event.stats;
        answer.streaming = false;
        answer.thinking_since = null;
        answer.unfinished = event.stats.finish_reason === 'cancelled' || event.stats.finish_reason === 'length';
        break;
      case 'error':
        this.#turn = false;
        answer.error = event.message;
        answer.streaming = false;
        answer.thinking_since = null;
        break;
      case 'tool_calls': {
        const caller = this.messages.find((m) => m.id === event.answer_id);
        if (caller) caller.tool_calls = event.calls.map((c) => shownCall(c, true));
        break;
      }
      case 'tool_approval':
      case 'tool_running': {
        const call = this.#call(event.call_id);
        if (call) call.phase = event.kind === 'tool_approval' ? 'asking' : 'running';
        break;
      }
      case 'tool_result': {
        const call = this.#call(event.call_id);
        if (call) {
          call.result = event.result;
          call.phase = 'over';
        }
        break;
      }
      case 'reading':
        answer.reading = { name: event.name, done: event.done, total: event.total };
        break;
      case 'sources': {
        answer.reading = null;
        const question = this.messages.find((m) => m.id === event.question_id);
        if (question) question.sources = event.sources;
        break;
      }
      case 'continued':
        // The model goes on from the results in a new answer under the one that called.
        this.messages.push(placeholder(event.answer_id, answer.id));
        break;
    }
  }

  /** The turn could not start (e.g. no model loaded): show why on the placeholder. */
  fail(message: string): void {
    this.flush();
    this.#live = null;
    this.#turn = false;
    const answer = this.messages[this.messages.length - 1];
    if (!answer) return;
    answer.error = message;
    answer.streaming = false;
  }
}
