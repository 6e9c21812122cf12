"""The OpenAI-compatible server, driven by the official `openai` Python client.

    python openai_client.py BASE_URL MODEL_ID API_KEY

Exits non-zero with the failing check's message. Run by crates/sirocco-server/tests/openai_client.rs.
"""
import json
import sys

import openai
from openai import OpenAI

base_url, model, key = sys.argv[1], sys.argv[2], sys.argv[3]
client = OpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=120)
question = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]


def check(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")


# Models.
models = client.models.list()
check([m.id for m in models.data] == [model], f"models list: {models}")
check(client.models.retrieve(model).id == model, "retrieve the model")

# Chat, not streamed: the answer, usage, finish reason.
reply = client.chat.completions.create(model=model, messages=question, temperature=0, max_tokens=40)
answer = reply.choices[0].message.content
check("Paris" in answer, f"chat answer: {answer!r}")
check(reply.choices[0].finish_reason in ("stop", "length"), f"finish reason {reply.choices[0].finish_reason}")
check(reply.usage.prompt_tokens > 5 and reply.usage.completion_tokens > 0, f"usage {reply.usage}")
check(reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens, "total tokens")

# Chat, streamed: the same greedy answer, chunk by chunk, then usage.
pieces, finish, usage = [], None, None
for chunk in client.chat.completions.create(
    model=model, messages=question, temperature=0, max_tokens=40, stream=True, stream_options={"include_usage": True}
):
    if chunk.usage:
        usage = chunk.usage
    for choice in chunk.choices:
        if choice.delta.content:
            pieces.append(choice.delta.content)
        if choice.finish_reason:
            finish = choice.finish_reason
check("".join(pieces) == answer, f"streamed {''.join(pieces)!r} != {answer!r}")
# Text is sent at most once a frame, bundled; the first piece never waits, and neither does the
# rest at the end, so an answer of several tokens comes in at least two pieces however fast.
check(len(pieces) >= 2, f"streamed in pieces: {pieces}")
check(finish == reply.choices[0].finish_reason, f"stream finish {finish}")
check(usage is not None and usage.completion_tokens == reply.usage.completion_tokens, f"stream usage {usage}")
# The same question again: its prompt comes from the cache, and the usage says so (OpenAI's
# prompt_tokens_details; llama.cpp's timings say where the time went).
cached = usage.prompt_tokens_details.cached_tokens
check(0 < cached < usage.prompt_tokens, f"cached prompt tokens {usage.prompt_tokens_details}")
timings = usage.model_extra["timings"]
check(timings["cache_n"] == cached and timings["prompt_n"] == usage.prompt_tokens - cached, f"timings {timings}")
check(timings["predicted_n"] == usage.completion_tokens and timings["predicted_per_second"] > 0, f"timings {timings}")

# Text completion (no chat template).
completion = client.completions.create(model=model, prompt="The capital of France is", max_tokens=8, temperature=0)
check(len(completion.choices[0].text) > 0, "completion text")
check(completion.usage.completion_tokens > 0, "completion usage")
streamed = "".join(c.choices[0].text for c in client.completions.create(
    model=model, prompt="The capital of France is", max_tokens=8, temperature=0, stream=True))
check(streamed == completion.choices[0].text, f"streamed completion {streamed!r}")

# JSON-schema output: the reply parses and follows the schema.
schema = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
    "required": ["city", "country"],
    "additionalProperties": False,
}
structured = client.chat.completions.create(
    model=model,
    messages=[{"role": "user", "content": "Give the capital of France as JSON with city and country."}],
    response_format={"type": "json_schema", "json_schema": {"name": "capital", "schema": schema}},
    temperature=0,
    max_tokens=60,
)
data = json.loads(structured.choices[0].message.content)
check(set(data) == {"city", "country"} and all(isinstance(v, str) for v in data.values()), f"json schema output {data}")

# Embeddings: unit vectors, base64 by default in the SDK and floats on request, in input order;
# texts that mean the same are closer than unrelated ones.
import math
texts = ["The cat sat on the mat.", "A cat was sitting on the mat.", "Quarterly tax filings are due in April."]
embedded = client.embeddings.create(model=model, input=texts)
vectors = [d.embedding for d in sorted(embedded.data, key=lambda d: d.index)]
check(len(vectors) == 3 and len({len(v) for v in vectors}) == 1 and len(vectors[0]) >= 64, "embedding shapes")
check(all(abs(math.sqrt(sum(x * x for x in v)) - 1) < 1e-3 for v in vectors), "unit length")
cos = lambda a, b: sum(x * y for x, y in zip(a, b))
check(cos(vectors[0], vectors[1]) > cos(vectors[0], vectors[2]), f"similar texts are closer: {cos(vectors[0], vectors[1])} vs {cos(vectors[0], vectors[2])}")
floats = client.embeddings.create(model=model, input=texts[0], encoding_format="float")
check(max(abs(x - y) for x, y in zip(floats.data[0].embedding, vectors[0])) < 1e-5, "float and base64 agree")
check(embedded.usage.prompt_tokens > 10 and floats.usage.prompt_tokens < embedded.usage.prompt_tokens, f"usage {embedded.usage}")
try:
    client.embeddings.create(model=model, input=texts[0], dimensions=7)
    raise SystemExit("FAILED: a wrong dimension count was accepted")
except openai.BadRequestError as e:
    check(e.body.get("param") == "dimensions", f"dimensions error {e.body}")

# A client with a fixed model name (one not served) gets the served model, and is told which.
fixed = client.chat.completions.create(model="gpt-4o", messages=question, max_tokens=4)
check(fixed.model == model, f"answered by {fixed.model}")

# Errors, as the SDK sees them.
for kwargs, kind, field in [
    ({"temperature": 7}, openai.BadRequestError, "temperature"),
    ({"n": 3}, openai.BadRequestError, "n"),
    ({"messages": []}, openai.BadRequestError, "messages"),
    ({"messages": [{"role": "wizard", "content": "hi"}]}, openai.BadRequestError, "messages"),
]:
    args = {"model": model, "messages": question, "max_tokens": 5, **kwargs}
    try:
        client.chat.completions.create(**args)
        raise SystemExit(f"FAILED: {kwargs} was accepted")
    except kind as e:
        check(e.body and e.body.get("param") == field, f"{kwargs}: param {e.body}")
try:
    OpenAI(base_url=base_url, api_key="wrong", max_retries=0).models.list()
    raise SystemExit("FAILED: a wrong API key was accepted")
except openai.AuthenticationError:
    pass
# The key as Anthropic's clients send it (`x-api-key`) works too; a wrong one does not.
key_header = OpenAI(base_url=base_url, api_key="not-this", default_headers={"x-api-key": key}, max_retries=0)
check(len(key_header.models.list().data) >= 1, "x-api-key accepted")
try:
    OpenAI(base_url=base_url, api_key="wrong", default_headers={"x-api-key": "wrong"}, max_retries=0).models.list()
    raise SystemExit("FAILED: a wrong x-api-key was accepted")
except openai.AuthenticationError:
    pass

print("openai client: all checks passed")
