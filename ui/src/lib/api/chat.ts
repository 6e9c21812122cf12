// Generation: a stored conversation's turn, the arena's unsaved answers, stopping
// (src-tauri/src/commands/chat.rs).
import { Channel, invoke } from '@tauri-apps/api/core';
export type {
  ChatMessage,
  NewAttachment,
  FinishReason,
  GenerationEvent,
  GenerationStats,
  OverflowPolicy,
  Role,
  SamplingParams,
  ToolCall,
  Turn,
  TurnEvent,
  TurnRequest,
} from '../bindings';
import type { ChatMessage, GenerationEvent, SamplingParams, Turn, TurnEvent, TurnRequest } from '../bindings';

/** A turn as the page sends it: `TurnRequest` is `serde(default)`, so every field but the turn
 *  may be left out, and the sampling parameters one by one. */
export type TurnInput = Partial<Omit<TurnRequest, 'turn' | 'sampling'>> & {
  turn: Turn;
  sampling?: Partial<SamplingParams>;
};

export function chatTurn(request: TurnInput, onEvent: (event: TurnEvent) => void) {
  const channel = new Channel<TurnEvent>();
  channel.onmessage = onEvent;
  return invoke<number>('chat_turn', { request, onEvent: channel });
}

/** Arena: an answer that is not saved. */
export function arenaGenerate(
  messages: ChatMessage[],
  sampling: SamplingParams,
  model: string | null,
  stream: string,
  onEvent: (e: GenerationEvent) => void,
) {
  const channel = new Channel<GenerationEvent>();
  channel.onmessage = onEvent;
  return invoke<void>('arena_generate', { messages, sampling, model, stream, onEvent: channel });
}

/** Stops the answer streaming under `stream` (`chat`, `arena-0`…; every answer when absent). */
export const stopGeneration = (stream?: string) => invoke<void>('stop_generation', { stream: stream ?? null });
