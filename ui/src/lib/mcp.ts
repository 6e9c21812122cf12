// The Tools page's "Add server" form as a server entry: a command with its arguments (one per
// line) and environment (KEY=value per line), or a URL with headers (Name: value per line).
import type { ServerEntry } from './bindings';

export interface ServerForm {
  kind: 'command' | 'url';
  command: string;
  args: string;
  env: string;
  url: string;
  headers: string;
}

export const emptyServerForm = (): ServerForm => ({ kind: 'command', command: '', args: '', env: '', url: '', headers: '' });

const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);

/** `KEY<sep>value` lines as a map, or the first line that is not one. */
function pairs(text: string, sep: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines(text)) {
    const at = line.indexOf(sep);
    if (at <= 0) throw new Error(`“${line}” is not ${what}`);
    out[line.slice(0, at).trim()] = line.slice(at + sep.length).trim();
  }
  return out;
}

/** The entry the form describes, or an error saying what is missing. */
export function entryFromForm(form: ServerForm): ServerEntry {
  if (form.kind === 'command') {
    const command = form.command.trim();
    if (!command) throw new Error('Enter the command that starts the server (e.g. npx).');
    const env = pairs(form.env, '=', 'KEY=value');
    return { command, args: lines(form.args), env };
  }
  const url = form.url.trim();
  if (!/^https?:\/\//.test(url)) throw new Error('Enter the server’s http:// or https:// address.');
  return { url, headers: pairs(form.headers, ':', 'Name: value') };
}
