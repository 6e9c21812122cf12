// Presentation helpers for the conversation sidebar.
import type { ConversationInfo } from './api';

export type Group = 'Pinned' | 'Today' | 'Yesterday' | 'Previous 7 days' | 'Older';

/** Conversations in display groups (pinned first, then by last activity), empty groups left out. */
export function groupConversations(list: ConversationInfo[], now = Date.now()): { group: Group; items: ConversationInfo[] }[] {
  const startOfToday = new Date(now);
  startOfToday.setHours(0, 0, 0, 0);
  const today = startOfToday.getTime();
  const day = 24 * 3600 * 1000;
  const groups = new Map<Group, ConversationInfo[]>();
  for (const c of list) {
    const g: Group = c.pinned
      ? 'Pinned'
      : c.updated_at >= today
        ? 'Today'
        : c.updated_at >= today - day
          ? 'Yesterday'
          : c.updated_at >= today - 7 * day
            ? 'Previous 7 days'
            : 'Older';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(c);
  }
  const order: Group[] = ['Pinned', 'Today', 'Yesterday', 'Previous 7 days', 'Older'];
  return order.filter((g) => groups.has(g)).map((group) => ({ group, items: groups.get(group)! }));
}

/** A search snippet (matches between U+0002 and U+0003) as parts to render as text, never HTML. */
export function snippetParts(snippet: string): { text: string; match: boolean }[] {
  const parts: { text: string; match: boolean }[] = [];
  for (const piece of snippet.split('\u0002')) {
    const end = piece.indexOf('\u0003');
    if (end < 0) {
      if (piece) parts.push({ text: piece, match: false });
      continue;
    }
    if (end > 0) parts.push({ text: piece.slice(0, end), match: true });
    const rest = piece.slice(end + 1).replaceAll('\u0003', '');
    if (rest) parts.push({ text: rest, match: false });
  }
  return parts;
}
