import { describe, expect, it } from 'vitest';
import { emptyServerForm, entryFromForm } from './mcp';

describe('entryFromForm', () => {
  it('reads a command with one argument per line and KEY=value environment', () => {
    const entry = entryFromForm({ ...emptyServerForm(), command: ' npx ', args: '-y\n@modelcontextprotocol/server-filesystem\n\n/home/me/notes', env: 'DEBUG=1\nTOKEN = a=b' });
    expect(entry).toEqual({ command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/home/me/notes'], env: { DEBUG: '1', TOKEN: 'a=b' } });
  });

  it('reads a URL with Name: value headers', () => {
    const entry = entryFromForm({ ...emptyServerForm(), kind: 'url', url: 'https://example.com/mcp', headers: 'Authorization: Bearer sk-1' });
    expect(entry).toEqual({ url: 'https://example.com/mcp', headers: { Authorization: 'Bearer sk-1' } });
  });

  it('says what is missing or malformed', () => {
    expect(() => entryFromForm(emptyServerForm())).toThrow('Enter the command');
    expect(() => entryFromForm({ ...emptyServerForm(), kind: 'url', url: 'file:///etc' })).toThrow('http:// or https://');
    expect(() => entryFromForm({ ...emptyServerForm(), command: 'x', env: 'JUSTAKEY' })).toThrow('“JUSTAKEY” is not KEY=value');
  });
});
