import { describe, expect, it } from 'vitest';
import { Personas } from './personas.svelte';
import { memoryPrefs } from './prefs';
import { persona } from './testing';

describe('Personas', () => {
  it('show the chosen persona’s openings with {{char}} and {{user}} filled in, empty ones left out', async () => {
    const list = [persona(1, 'Ada', { greeting: 'Hello {{USER}}, I am {{char}}.', alternate_greetings: ['  ', 'Hi {{user}}!'] })];
    const p = new Personas(async () => list, memoryPrefs({ userName: 'Sam' }));
    await p.refresh();
    expect(p.greetings).toEqual([]);
    p.choose(1);
    expect(p.greetings).toEqual(['Hello User, I am Ada.', 'Hi User!']);
    await p.restoreUserName();
    expect(p.greetings).toEqual(['Hello Sam, I am Ada.', 'Hi Sam!']);
  });

  it('start again from the first greeting when another persona is chosen', async () => {
    const p = new Personas(async () => [persona(1, 'Ada'), persona(2, 'Bo')], memoryPrefs());
    await p.refresh();
    p.choose(1);
    p.greetingIndex = 1;
    p.choose(2);
    expect(p.greetingIndex).toBe(0);
  });

  it('let go of a chosen persona that was deleted, and keep the user’s name', async () => {
    let list = [persona(1, 'Ada'), persona(2, 'Bo')];
    const prefs = memoryPrefs();
    const p = new Personas(async () => list, prefs);
    await p.refresh();
    p.choose(2);
    list = [persona(1, 'Ada')];
    await p.refresh();
    expect([p.chosenId, p.chosen]).toEqual([null, null]);
    await p.setUserName('Kim');
    expect(prefs.values.userName).toBe('Kim');
  });
});
