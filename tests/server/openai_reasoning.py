"""A reasoning model's thought through the official `openai` client: `reasoning_content` apart
from `content`, whole and streamed, with `reasoning_effort` accepted.

Usage: openai_reasoning.py <base_url> <model>. The model's template opens a thought in the
generation prompt (as DeepSeek R1's and Qwen 3's do when thinking), so the reply begins inside one.
"""
import sys

from openai import OpenAI

base, model = sys.argv[1], sys.argv[2]
client = OpenAI(base_url=base, api_key="unused")
ask = dict(model=model, messages=[{"role": "user", "content": "Is the sea blue?"}], max_tokens=24, temperature=0)

whole = client.chat.completions.create(**ask, reasoning_effort="high").choices[0].message
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
assert "".join(kinds).lstrip("r").count("r") == 0, f"thought before answer: {kinds}"
print("all checks passed")
