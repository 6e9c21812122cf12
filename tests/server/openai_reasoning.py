"""A reasoning model's thought through the official `openai` client: `reasoning_content` apart
from `content`, whole and streamed, in chat and text completions; `reasoning_effort` and
`chat_template_kwargs.enable_thinking` reach the template; a thinking budget closes the thought;
`reasoning_format: none` leaves it in the text; usage counts the thought's tokens.

Usage: openai_reasoning.py <base_url> <model>. The model's template opens a thought in the
generation prompt (as DeepSeek R1's and Qwen 3's do when thinking) unless `enable_thinking` is
false, when it writes an empty one; SmolLM2 itself never closes a thought within a short reply.
"""
import sys

from openai import OpenAI

base, model = sys.argv[1], sys.argv[2]
client = OpenAI(base_url=base, api_key="unused")
ask = dict(model=model, messages=[{"role": "user", "content": "Is the sea blue?"}], max_tokens=24, temperature=0)

response = client.chat.completions.create(**ask)
whole = response.choices[0].message
details = response.usage.completion_tokens_details
assert details.reasoning_tokens == response.usage.completion_tokens, response.usage
thought = getattr(whole, "reasoning_content", None)
assert thought and thought.strip(), f"no reasoning_content: {whole}"
assert "think>" not in thought and "think>" not in (whole.content or ""), whole

streamed_thought, streamed_text, kinds = "", "", []
for chunk in client.chat.completions.create(**ask, stream=True):
    if not chunk.choices:
        continue
    delta = chunk.choices[0].delta
    piece = getattr(delta, "reasoning_content", None)
    if piece:
        streamed_thought += piece
        kinds.append("r")
    if delta.content:
        streamed_text += delta.content
        kinds.append("t")
assert streamed_thought == thought, (streamed_thought, thought)
assert streamed_text == (whole.content or ""), (streamed_text, whole.content)
assert kinds and set(kinds) == {"r"}, f"24 tokens of thought and no answer: {kinds}"

# An effort reaches the template (this one writes it in a system line), thinking stays on.
high = client.chat.completions.create(**ask, reasoning_effort="high")
assert high.usage.prompt_tokens > response.usage.prompt_tokens, (high.usage, response.usage)
assert getattr(high.choices[0].message, "reasoning_content", None), high.choices[0].message

# No thinking: through OpenAI's effort, or the template variable llama.cpp and vLLM take.
for off in (dict(reasoning_effort="none"), dict(extra_body={"chat_template_kwargs": {"enable_thinking": False}})):
    response = client.chat.completions.create(**ask, **off)
    message = response.choices[0].message
    assert getattr(message, "reasoning_content", None) is None and message.content, (off, message)
    assert response.usage.completion_tokens_details.reasoning_tokens == 0, (off, response.usage)

# A budget of 6 tokens: the server closes the thought and the answer follows.
response = client.chat.completions.create(**ask, extra_body={"thinking_budget": 6})
message, usage = response.choices[0].message, response.usage
assert message.reasoning_content and message.content and "think>" not in message.content, message
assert 6 < usage.completion_tokens_details.reasoning_tokens < usage.completion_tokens, usage
assert thought.startswith(message.reasoning_content), (message.reasoning_content, thought)
budgeted = message

# Streamed with the budget: the thought's deltas first, then the answer's, never mixed.
streamed_thought, streamed_text, kinds = "", "", []
for chunk in client.chat.completions.create(**ask, stream=True, extra_body={"thinking_budget": 6}):
    delta = chunk.choices[0].delta if chunk.choices else None
    if delta and getattr(delta, "reasoning_content", None):
        streamed_thought += delta.reasoning_content
        kinds.append("r")
    if delta and delta.content:
        streamed_text += delta.content
        kinds.append("t")
assert (streamed_thought, streamed_text) == (budgeted.reasoning_content, budgeted.content), (streamed_thought, streamed_text)
order = "".join(kinds)
assert order.startswith("r") and order.endswith("t") and "tr" not in order, f"thought, then answer: {order}"

# reasoning_format none: as the model wrote it, the closing tag the server wrote included.
inline = client.chat.completions.create(**ask, extra_body={"thinking_budget": 6, "reasoning_format": "none"})
inline = inline.choices[0].message
assert getattr(inline, "reasoning_content", None) is None, inline
assert "</think>\n\n" in inline.content, inline.content
# Apart, the blank lines around the thought belong to neither thought nor answer.
written_thought, written_answer = inline.content.split("</think>", 1)
assert written_thought.lstrip() == budgeted.reasoning_content, (inline.content, budgeted)
assert written_answer.lstrip() == budgeted.content, (inline.content, budgeted)

# A text completion whose prompt opens the thought: the same split, whole and streamed.
prompt = "<|im_start|>user\nIs the sea blue?<|im_end|>\n<|im_start|>assistant\n<think>\n"
plain = dict(model=model, prompt=prompt, max_tokens=24, temperature=0, extra_body={"thinking_budget": 6})
choice = client.completions.create(**plain).choices[0]
assert choice.model_extra.get("reasoning_content") == budgeted.reasoning_content, choice
assert choice.text == budgeted.content, (choice.text, budgeted.content)
streamed_thought, streamed_text = "", ""
for chunk in client.completions.create(**plain, stream=True):
    if chunk.choices:
        streamed_thought += chunk.choices[0].model_extra.get("reasoning_content") or ""
        streamed_text += chunk.choices[0].text
assert (streamed_thought, streamed_text) == (budgeted.reasoning_content, budgeted.content), (streamed_thought, streamed_text)
print("all checks passed")
