// The app's keyboard shortcuts, as one table (shown in the empty chat and handled by App).
export type Shortcut = 'new_chat' | 'search' | 'stop';

type Keys = Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'shiftKey'>;

/** The shortcut `e` is, if any: Ctrl/⌘+N a new chat, Ctrl/⌘+K (or Ctrl+Shift+F) search, Esc
 *  stops an answer. */
export function shortcutOf(e: Keys): Shortcut | null {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.toLowerCase();
  if (mod && key === 'n') return 'new_chat';
  if (mod && (key === 'k' || (e.shiftKey && key === 'f'))) return 'search';
  if (e.key === 'Escape') return 'stop';
  return null;
}
