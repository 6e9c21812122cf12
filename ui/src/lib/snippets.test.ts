import { describe, expect, it } from 'vitest';
import { serverSnippets } from './snippets';

describe('serverSnippets', () => {
  it('fills in the address, the model and the key', () => {
    const [curl, python, cont] = serverSnippets('http://127.0.0.1:1234/v1', 'SmolLM2', 'sk-1');
    expect(curl.code).toContain('curl http://127.0.0.1:1234/v1/chat/completions');
    expect(curl.code).toContain('Authorization: Bearer sk-1');
    expect(python.code).toContain('base_url="http://127.0.0.1:1234/v1", api_key="sk-1"');
    expect(cont.code).toContain('provider: openai');
    expect(cont.code).toContain('apiBase: http://127.0.0.1:1234/v1');
  });

  it('leaves authorization out when there is no key', () => {
    expect(serverSnippets('http://127.0.0.1:1234/v1', 'm', null)[0].code).not.toContain('Authorization');
  });
});
