"""Log-probabilities through the official `openai` client: `logprobs=True, top_logprobs=3` in
chat completions (whole and streamed) and `logprobs=2` in text completions; each token's
log-probability and its alternatives, the tokens spelling the answer; none unless asked;
bad counts refused with OpenAI's error shape.

Usage: openai_logprobs.py <base_url> <model>. Greedy (temperature 0), so each chosen token is
the likeliest: its log-probability is the first alternative's.
"""
import math
import sys

import openai
from openai import OpenAI

base, model = sys.argv[1], sys.argv[2]
client = OpenAI(base_url=base, api_key="unused")
ask = dict(model=model, messages=[{"role": "user", "content": "Name three colours."}], max_tokens=16, temperature=0)


def check_entries(entries, content):
    assert entries, "no tokens"
    assert b"".join(bytes(e.bytes) for e in entries).decode() == content, (entries, content)
    for e in entries:
        assert e.logprob <= 0, e
        assert len(e.top_logprobs) == 3, e
        probs = [t.logprob for t in e.top_logprobs]
        assert probs == sorted(probs, reverse=True), e
        assert sum(math.exp(p) for p in probs) <= 1.0001, e
        # Greedy: the chosen token is the likeliest.
        assert (e.token, e.logprob) == (e.top_logprobs[0].token, e.top_logprobs[0].logprob), e


whole = client.chat.completions.create(**ask, logprobs=True, top_logprobs=3).choices[0]
check_entries(whole.logprobs.content, whole.message.content)

streamed, text = [], ""
for chunk in client.chat.completions.create(**ask, logprobs=True, top_logprobs=3, stream=True):
    if chunk.choices:
        choice = chunk.choices[0]
        text += choice.delta.content or ""
        if choice.logprobs and choice.logprobs.content:
            streamed += choice.logprobs.content
assert text == whole.message.content, (text, whole.message.content)
check_entries(streamed, text)
assert [(e.token, round(e.logprob, 4)) for e in streamed] == [(e.token, round(e.logprob, 4)) for e in whole.logprobs.content]

# Not asked: none.
assert client.chat.completions.create(**ask).choices[0].logprobs is None

# Text completions: the legacy shape.
plain = client.completions.create(model=model, prompt="The capital of France is", max_tokens=8, temperature=0, logprobs=2)
choice = plain.choices[0]
lp = choice.logprobs
assert "".join(lp.tokens) == choice.text, (lp.tokens, choice.text)
assert len(lp.token_logprobs) == len(lp.tokens) == len(lp.top_logprobs) == len(lp.text_offset)
assert lp.text_offset[0] == 0 and lp.text_offset == sorted(lp.text_offset)
for chosen, top in zip(lp.token_logprobs, lp.top_logprobs):
    assert len(top) == 2 and chosen == max(top.values()), (chosen, top)
assert client.completions.create(model=model, prompt="Hi", max_tokens=4).choices[0].logprobs is None

# Counts OpenAI refuses are refused, with its error shape.
for bad in (dict(logprobs=True, top_logprobs=21), dict(top_logprobs=2)):
    try:
        client.chat.completions.create(**ask, **bad)
        raise AssertionError(f"accepted {bad}")
    except openai.BadRequestError as e:
        assert e.body["param"] == "top_logprobs", e.body
print("all checks passed")
