// The conversation on screen: messages and the reply being streamed into it.
import type { ChatMessage, GenerationEvent, GenerationStats } from './api';

export interface ShownMessage extends ChatMessage {
  id: number;
  streaming?: boolean;
  stats?: GenerationStats;
  error?: string;
}

export class Conversation {
  messages = $state<ShownMessage[]>([]);
  #nextId = 1;

  get generating(): boolean {
    return this.messages.some((m) => m.streaming);
  }

  /** The messages the model sees: finished ones with content, in order. */
  history(): ChatMessage[] {
    return this.messages
      .filter((m) => !m.error && m.content.length > 0)
      .map(({ role, content }) => ({ role, content }));
  }

  /** Adds the user's message and an empty assistant reply to stream into; returns the reply. */
  ask(text: string): ShownMessage {
    this.messages.push({ id: this.#nextId++, role: 'user', content: text });
    this.messages.push({ id: this.#nextId++, role: 'assistant', content: '', streaming: true });
    return this.messages[this.messages.length - 1];
  }

  /** Applies one generation event to `reply`. */
  apply(reply: ShownMessage, event: GenerationEvent): void {
    switch (event.kind) {
      case 'text':
        reply.content += event.text;
        break;
      case 'done':
        reply.stats = event.stats;
        reply.streaming = false;
        break;
      case 'error':
        reply.error = event.message;
        reply.streaming = false;
        break;
    }
  }

  fail(reply: ShownMessage, message: string): void {
    reply.error = message;
    reply.streaming = false;
  }

  clear(): void {
    this.messages = [];
  }
}
