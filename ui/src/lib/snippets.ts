// Ready-to-copy snippets for using the local server from other tools.

export interface Snippet {
  label: string;
  code: string;
}

export function serverSnippets(baseUrl: string, model: string, apiKey: string | null): Snippet[] {
  const key = apiKey || 'sirocco';
  const auth = apiKey ? ` \\\n  -H "Authorization: Bearer ${apiKey}"` : '';
  return [
    {
      label: 'curl',
      code: `curl ${baseUrl}/chat/completions \\\n  -H "Content-Type: application/json"${auth} \\\n  -d '{"model": "${model}", "messages": [{"role": "user", "content": "Hello!"}]}'`,
    },
    {
      label: 'Python (openai)',
      code: `from openai import OpenAI\n\nclient = OpenAI(base_url="${baseUrl}", api_key="${key}")\nreply = client.chat.completions.create(\n    model="${model}",\n    messages=[{"role": "user", "content": "Hello!"}],\n)\nprint(reply.choices[0].message.content)`,
    },
    {
      label: 'Continue (config.yaml)',
      code: `models:\n  - name: ${model} (Sirocco)\n    provider: openai\n    model: ${model}\n    apiBase: ${baseUrl}\n    apiKey: ${key}`,
    },
  ];
}
