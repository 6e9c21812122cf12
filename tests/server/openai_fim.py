"""Fill-in-the-middle through the official `openai` client's `suffix`.

    python openai_fim.py BASE_URL MODEL_ID PREFIX SUFFIX EXPECTED_PROMPT_TOKENS

Run by crates/sirocco-server/tests/openai_api.rs on a model with FIM tokens.
"""
import sys

from openai import OpenAI

base_url, model, prefix, suffix, expected = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
client = OpenAI(base_url=base_url, api_key="none", max_retries=0, timeout=120)


def check(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")


filled = client.completions.create(model=model, prompt=prefix, suffix=suffix, max_tokens=8, temperature=0,
                                   extra_body={"ignore_eos": True})
check(filled.usage.prompt_tokens == expected, f"FIM prompt is {filled.usage.prompt_tokens} tokens, expected {expected}")
check(filled.usage.completion_tokens == 8, f"usage {filled.usage}")
plain = client.completions.create(model=model, prompt=prefix, max_tokens=8, temperature=0, extra_body={"ignore_eos": True})
check(plain.usage.prompt_tokens < expected, "without a suffix the prompt is the prefix alone")
streamed = "".join(c.choices[0].text for c in client.completions.create(
    model=model, prompt=prefix, suffix=suffix, max_tokens=8, temperature=0, stream=True, extra_body={"ignore_eos": True}))
check(streamed == filled.choices[0].text, f"streamed {streamed!r} != {filled.choices[0].text!r}")
print("openai fim: all checks passed")
