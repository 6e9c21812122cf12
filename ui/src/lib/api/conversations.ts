// Stored conversations: list, open, search, export and import, branches
// (src-tauri/src/commands/conversations.rs).
import { invoke } from '@tauri-apps/api/core';
export type {
  Attachment,
  BranchMessage,
  BranchPage,
  ConversationInfo,
  DocumentSource,
  ConversationView,
  MessageStatus,
  SearchHit,
  StoredMessage,
  ToolCallRecord,
  ToolCallResult,
  ToolCallStatus,
} from '../bindings';
import type { BranchPage, ConversationInfo, ConversationView, NewAttachment, SearchHit } from '../bindings';

/** An attached file (an image, a document) as a data URL, read from the store by its hash. */
export const attachmentData = (hash: string) => invoke<string>('attachment_data', { hash });
/** A file dropped on the window, read by the app to be attached (an image or a document). */
export const droppedFile = (path: string) => invoke<NewAttachment>('dropped_file', { path });
export const conversationsList = () => invoke<ConversationInfo[]>('conversations_list');
/** Opens a conversation; `through` (a search hit's message) picks the branch that holds it. */
export const conversationOpen = (id: number, through: number | null = null) =>
  invoke<ConversationView>('conversation_open', { id, through });
/** The user left a conversation: its cache is saved so coming back is fast, even after a restart. */
export const conversationLeave = (id: number) => invoke<boolean>('conversation_leave', { id });
export const conversationRename = (id: number, title: string) => invoke<void>('conversation_rename', { id, title });
export const conversationPin = (id: number, pinned: boolean) => invoke<void>('conversation_pin', { id, pinned });
export const conversationDelete = (id: number) => invoke<void>('conversation_delete', { id });
export const conversationsSearch = (text: string) => invoke<SearchHit[]>('conversations_search', { text });
export const conversationExportReveal = (path: string) => invoke<void>('conversation_export_reveal', { path });
export const conversationExport = (id: number | null, markdown: boolean) =>
  invoke<string>('conversation_export', { id, markdown });
export const conversationsImport = (json: string) => invoke<number[]>('conversations_import', { json });
export const conversationOlder = (id: number, before: number) => invoke<BranchPage>('conversation_older', { id, before });
export const messageShowSibling = (id: number, step: -1 | 1) => invoke<BranchPage>('message_show_sibling', { id, step });
export const messageDelete = (id: number) => invoke<BranchPage>('message_delete', { id });
export const messageEditAnswer = (id: number, text: string) => invoke<BranchPage>('message_edit_answer', { id, text });
