// Ready-to-copy snippets for using the local server from other tools.

export interface Snippet {
  label: string;
  code: string;
}

export function serverSnippets(baseUrl: string, model: string, apiKey: string | null): Snippet[] {
  const key = apiKey || 'sirocco';
  const auth = apiKey ? ` \\\n  -H "Authorization: Bearer ${apiKey}"` : '';
  // Anthropic's clients add /v1 themselves.
  const root = baseUrl.replace(/\/v1\/?$/, '');
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
      label: 'Responses API',
      code: `from openai import OpenAI\n\nclient = OpenAI(base_url="${baseUrl}", api_key="${key}")\nfirst = client.responses.create(model="${model}", input="Hello!")\nprint(first.output_text)\n# Continue the conversation: the server keeps its recent responses.\nnext = client.responses.create(model="${model}", input="And then?", previous_response_id=first.id)\nprint(next.output_text)`,
    },
    {
      label: 'Anthropic API',
      code: `from anthropic import Anthropic\n\nclient = Anthropic(base_url="${root}", api_key="${key}")\nreply = client.messages.create(\n    model="${model}",\n    max_tokens=1024,\n    messages=[{"role": "user", "content": "Hello!"}],\n)\nprint(reply.content[0].text)`,
    },
    {
      label: 'Claude Code',
      code: `ANTHROPIC_BASE_URL=${root} \\\n  ANTHROPIC_AUTH_TOKEN=${key} \\\n  ANTHROPIC_MODEL=${model} \\\n  ANTHROPIC_SMALL_FAST_MODEL=${model} \\\n  claude`,
    },
    {
      label: 'Codex (config.toml)',
      code: `model = "${model}"\nmodel_provider = "sirocco"\n\n[model_providers.sirocco]\nname = "Sirocco"\nbase_url = "${baseUrl}"\nwire_api = "responses"${apiKey ? '\nenv_key = "SIROCCO_API_KEY"  # export SIROCCO_API_KEY=' + apiKey : ''}`,
    },
    {
      label: 'Continue (config.yaml)',
      code: `models:\n  - name: ${model} (Sirocco)\n    provider: openai\n    model: ${model}\n    apiBase: ${baseUrl}\n    apiKey: ${key}`,
    },
  ];
}
