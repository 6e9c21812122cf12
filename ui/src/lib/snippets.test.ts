import { describe, expect, it } from 'vitest';
import { serverSnippets } from './snippets';

describe('serverSnippets', () => {
  it('fills in the address, the model and the key', () => {
    const all = serverSnippets('http://127.0.0.1:1234/v1', 'SmolLM2', 'sk-1');
    const [curl, python] = all;
    const by = (label: string) => all.find((s) => s.label.startsWith(label))!.code;
    const cont = { code: by('Continue') };
    expect(curl.code).toContain('curl http://127.0.0.1:1234/v1/chat/completions');
    expect(curl.code).toContain('Authorization: Bearer sk-1');
    expect(python.code).toContain('base_url="http://127.0.0.1:1234/v1", api_key="sk-1"');
    expect(cont.code).toContain('provider: openai');
    expect(cont.code).toContain('apiBase: http://127.0.0.1:1234/v1');
    expect(by('Responses')).toContain('previous_response_id=first.id');
    // Anthropic's clients add /v1 to the address themselves.
    expect(by('Anthropic')).toContain('Anthropic(base_url="http://127.0.0.1:1234", api_key="sk-1")');
    expect(by('Claude Code')).toContain('ANTHROPIC_BASE_URL=http://127.0.0.1:1234 ');
    expect(by('Claude Code')).toContain('ANTHROPIC_MODEL=SmolLM2');
    expect(by('Codex')).toContain('wire_api = "responses"');
    expect(by('Codex')).toContain('base_url = "http://127.0.0.1:1234/v1"');
  });

  it('leaves authorization out when there is no key', () => {
    expect(serverSnippets('http://127.0.0.1:1234/v1', 'm', null)[0].code).not.toContain('Authorization');
  });
});
