import { describe, expect, it } from 'vitest';
import { memoryPrefs } from './prefs';
import { shortcutOf } from './shortcuts';
import { Theme } from './theme.svelte';

describe('Theme', () => {
  it('cycles system → light → dark and is remembered; an unknown saved value is ignored', async () => {
    const prefs = memoryPrefs({ theme: 'sepia' });
    const t = new Theme(prefs);
    await t.restore();
    expect(t.label).toBe('Theme: system');
    await t.next();
    expect([t.choice, prefs.values.theme]).toEqual(['light', 'light']);
    await t.next();
    await t.next();
    expect(t.choice).toBe('system');
    const again = new Theme(memoryPrefs({ theme: 'dark' }));
    await again.restore();
    expect(again.label).toBe('Theme: dark');
  });

  it('sets data-theme to the choice, or the system’s, following the system as it changes', () => {
    const t = new Theme(memoryPrefs());
    const listeners: (() => void)[] = [];
    const system = {
      matches: true,
      addEventListener: (_: string, f: () => void) => listeners.push(f),
      removeEventListener: (_: string, f: () => void) => listeners.splice(listeners.indexOf(f), 1),
    } as unknown as MediaQueryList & { matches: boolean };
    const root = document.createElement('html');
    const stop = t.apply(root, system);
    expect(root.getAttribute('data-theme')).toBe('light');
    (system as { matches: boolean }).matches = false;
    listeners.forEach((f) => f());
    expect(root.getAttribute('data-theme')).toBe('dark');
    stop();
    expect(listeners).toEqual([]);
    t.choice = 'light';
    t.apply(root, system);
    expect(root.getAttribute('data-theme')).toBe('light');
  });
});

describe('shortcuts', () => {
  const key = (k: string, mods: Partial<Record<'ctrlKey' | 'metaKey' | 'shiftKey', boolean>> = {}) =>
    shortcutOf({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, ...mods });
  it('are Ctrl/⌘+N, Ctrl/⌘+K or Ctrl+Shift+F, and Esc', () => {
    expect([key('n', { ctrlKey: true }), key('N', { metaKey: true }), key('n')]).toEqual(['new_chat', 'new_chat', null]);
    expect([key('k', { ctrlKey: true }), key('F', { ctrlKey: true, shiftKey: true }), key('f', { ctrlKey: true })]).toEqual([
      'search',
      'search',
      null,
    ]);
    expect([key('Escape'), key('x', { ctrlKey: true })]).toEqual(['stop', null]);
  });
});
