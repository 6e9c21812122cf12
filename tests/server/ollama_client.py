"""Ollama's API through the official `ollama` Python client, unmodified, and its NDJSON
checked line by line, against `sirocco serve` on a library of fixtures.

    python ollama_client.py HOST

HOST is `http://127.0.0.1:PORT`. The library holds SmolLM2 (chat), tiny-coder-fim (FIM),
Tiny-BERT-Embed (embeddings) and Tiny-Pixtral with its projector (vision).
Run by crates/sirocco-cli/tests/ollama.rs.
"""
import json
import math
import struct
import sys
import time
from datetime import datetime, timezone
import urllib.request
import zlib

import ollama

host = sys.argv[1]
client = ollama.Client(host=host, timeout=300)
CHAT = "SmolLM2-135M-Instruct.Q4_1"
QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]
GREEDY = {"temperature": 0, "num_predict": 40, "seed": 1}


def check(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")


def refused(call, status):
    try:
        call()
    except ollama.ResponseError as e:
        check(e.status_code == status, f"expected {status}, got {e.status_code}: {e.error}")
        return e.error
    raise SystemExit(f"FAILED: expected an error {status}")


def png(width, height):
    """A small RGB PNG, a colour gradient."""
    raw = b"".join(b"\0" + b"".join(bytes((x * 40 % 256, y * 40 % 256, 128)) for x in range(width)) for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# The library, as `ollama list` shows it.
listed = {m.model: m for m in client.list().models}
for name in [CHAT, "tiny-coder-fim", "Tiny-BERT-Embed-F32", "Tiny-Pixtral-F16"]:
    check(f"{name}:latest" in listed, f"{name} is listed: {sorted(listed)}")
smol = listed[f"{CHAT}:latest"]
check(smol.details.format == "gguf" and smol.details.family == "llama", smol.details)
check(smol.details.quantization_level == "Q4_1" and smol.details.parameter_size.endswith("M"), smol.details)
check(smol.size > 50_000_000 and len(smol.digest) == 64, smol)

# One model, with and without its tag, in any case.
shown = client.show(CHAT.lower())
check(shown.modelinfo["general.architecture"] == "llama", shown.modelinfo)
check("completion" in shown.capabilities and "{" in shown.template, shown.capabilities)
check("vision" in client.show("Tiny-Pixtral-F16:latest").capabilities, "the projector beside it makes it see")
check("embedding" in client.show("Tiny-BERT-Embed-F32").capabilities, "an embedding model says so")
check("not found" in refused(lambda: client.show("no-such-model"), 404), "an unknown model is a 404")

# No messages: the model is loaded, and says so.
loaded = client.chat(model=CHAT, messages=[])
check(loaded.done and loaded.done_reason == "load", loaded)

# A chat answer, whole and streamed: the same greedy text.
whole = client.chat(model=CHAT, messages=QUESTION, options=GREEDY)
check("Paris" in whole.message.content and whole.message.role == "assistant", whole.message)
check(whole.done and whole.done_reason in ("stop", "length"), whole)
check(whole.eval_count > 0 and whole.prompt_eval_count > 0 and whole.total_duration > 0, whole)
pieces = list(client.chat(model=CHAT, messages=QUESTION, options=GREEDY, stream=True))
check(len(pieces) > 2 and all(not p.done for p in pieces[:-1]) and pieces[-1].done, "pieces, then the end")
check("".join(p.message.content for p in pieces) == whole.message.content, "the stream adds up to the answer")
check(pieces[-1].eval_count == whole.eval_count, "the last piece has the figures")

# In memory now.
running = {m.model: m for m in client.ps().models}
check(f"{CHAT}:latest" in running and running[f"{CHAT}:latest"].context_length > 0, running)
check(running[f"{CHAT}:latest"].expires_at is not None, "when it goes")

# A JSON schema holds the answer to it.
schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
shaped = client.chat(model=CHAT, messages=[{"role": "user", "content": "Which city is the capital of France?"}],
                     format=schema, options={"temperature": 0, "num_predict": 40})
check(isinstance(json.loads(shaped.message.content).get("city"), str), shaped.message.content)

# A tool call's round trip, as the client sends it back: a call without an id, a result naming
# its tool.
tools = [{"type": "function", "function": {"name": "get_weather", "description": "The weather in a city",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
history = [
    {"role": "user", "content": "What is the weather in Paris?"},
    {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
    {"role": "tool", "content": "18 degrees and sunny", "tool_name": "get_weather"},
]
after = client.chat(model=CHAT, messages=history, tools=tools, options={"temperature": 0, "num_predict": 30})
check(after.done and (after.message.content or after.message.tool_calls), after.message)
orphan = [{"role": "user", "content": "Hi"}, {"role": "tool", "content": "18", "tool_name": "get_weather"}]
check("no tool call" in refused(lambda: client.chat(model=CHAT, messages=orphan), 400), "a result without a call")

# Images: the vision model takes one; a model that does not see says so.
picture = png(24, 16)
seen = client.chat(model="Tiny-Pixtral-F16", messages=[{"role": "user", "content": "What is this?", "images": [picture]}],
                   options={"num_predict": 4})
check(seen.done and seen.eval_count > 0, seen)
blind = [{"role": "user", "content": "What is this?", "images": [picture]}]
check("does not see images" in refused(lambda: client.chat(model=CHAT, messages=blind), 400), "a blind model")

# Generate: templated, raw, and fill-in-the-middle on the coder.
said = client.generate(model=CHAT, prompt="What is the capital of France? Answer in one sentence.", options=GREEDY)
check("Paris" in said.response and said.done, said.response)
raw = client.generate(model=CHAT, prompt="The capital of France is", raw=True, options={"temperature": 0, "num_predict": 5})
check(raw.done and raw.eval_count > 0, raw)
check(raw.context is None, "a raw prompt has no context")

# `context`: the conversation's tokens, the same streamed or whole; sent back, it is continued.
check(said.context and all(isinstance(t, int) for t in said.context), said.context)
check(list(client.generate(model=CHAT, prompt="What is the capital of France? Answer in one sentence.", options=GREEDY,
                           stream=True))[-1].context == said.context, "the streamed context is the whole one's")
follow = client.generate(model=CHAT, prompt="And the capital of Italy?", context=said.context, options=GREEDY)
check(follow.done and follow.response, follow)
check(follow.context[:len(said.context)] == said.context and len(follow.context) > len(said.context) + 5,
      "the conversation goes on from the tokens given")
fresh = client.generate(model=CHAT, prompt="And the capital of Italy?", options=GREEDY)
check(follow.prompt_eval_count > fresh.prompt_eval_count + len(said.context) // 2, "the earlier turn was read")
check("context" in refused(lambda: client.generate(model=CHAT, prompt="x", raw=True, context=said.context), 400), "raw")
check("vocabulary" in refused(lambda: client.generate(model=CHAT, prompt="x", context=[-1, 10**9]), 400),
      "ids outside the vocabulary")
streamed = list(client.generate(model="tiny-coder-fim", prompt="def add(a, b):\n    ", suffix="\n    return c\n",
                                options={"num_predict": 8, "temperature": 0}, stream=True))
check(streamed[-1].done and streamed[-1].eval_count > 0, streamed[-1])
check(client.generate(model=CHAT, prompt="").done_reason == "load", "an empty prompt loads")

# keep_alive 0 with nothing to answer unloads a model the server loaded; a unitless text is refused.
check("tiny-coder-fim:latest" in {m.model for m in client.ps().models}, "the coder was loaded on demand")
check(client.generate(model="tiny-coder-fim", prompt="", keep_alive=0).done_reason == "unload", "unloads")
check("tiny-coder-fim:latest" not in {m.model for m in client.ps().models}, "the coder is gone")
check("invalid duration" in refused(lambda: client.generate(model=CHAT, prompt="Hi", keep_alive="300"), 400), "300")


def coder_expires():
    return next((m.expires_at for m in client.ps().models if m.model == "tiny-coder-fim:latest"), None)


def until_coder_gone(why):
    deadline = time.monotonic() + 60
    while coder_expires() is not None:
        check(time.monotonic() < deadline, why)
        time.sleep(0.2)


# keep_alive on a model the server loads: -1 keeps it for good, a duration that long once idle
# (ps says when it goes, and it goes), 0 with a prompt answers and then unloads.
CODE = {"model": "tiny-coder-fim", "prompt": "def f():", "raw": True, "options": {"num_predict": 2}}
client.generate(**CODE, keep_alive=-1)
check(coder_expires().year > 2100, coder_expires())
client.generate(**CODE)
check(coder_expires().year < 2100, "a request without keep_alive brings the server's idle rule back")
client.generate(**CODE, keep_alive=-1)
client.generate(**CODE, keep_alive="2s")
check(0 < (coder_expires() - datetime.now(timezone.utc)).total_seconds() < 10, coder_expires())
until_coder_gone("a model kept for 2s is unloaded once idle that long")
check(client.generate(**CODE, keep_alive=0).done, "answers with keep_alive 0")
until_coder_gone("keep_alive 0 unloads once answered")

# num_ctx: a model the server loads is loaded with that context (again, when asked for another).
for n_ctx in (512, 768):
    check(client.generate(**{**CODE, "options": {"num_predict": 2, "num_ctx": n_ctx}}).done, n_ctx)
    running = json.loads(urllib.request.urlopen(f"{host}/api/ps", timeout=10).read())["models"]
    coder = next(m for m in running if m["model"] == "tiny-coder-fim:latest")
    check(coder["context_length"] == n_ctx, (n_ctx, coder["context_length"]))
check("num_ctx" in refused(lambda: client.generate(**{**CODE, "options": {"num_ctx": 1}}), 400), "a tiny num_ctx")

# Another name for a model (`ollama cp`): listed, answering, removed alone.
client.copy(CHAT, "gpt-4o")
check("gpt-4o:latest" in {m.model for m in client.list().models}, "the new name is listed")
check(client.chat(model="GPT-4o", messages=QUESTION, options=GREEDY).message.content == whole.message.content,
      "the new name answers as the model")
check("own name" in refused(lambda: client.copy(CHAT, "tiny-coder-fim"), 400), "a model's own name stays its own")
client.delete("gpt-4o")
names = {m.model for m in client.list().models}
check("gpt-4o:latest" not in names and f"{CHAT}:latest" in names, "deleting the name leaves the model")
refused(lambda: client.show("gpt-4o"), 404)

# Embeddings, new and old.
vectors = client.embed(model="Tiny-BERT-Embed-F32", input=["a cat", "a dog"]).embeddings
check(len(vectors) == 2 and len(vectors[0]) > 8, len(vectors))
check(all(abs(math.sqrt(sum(x * x for x in v)) - 1) < 1e-3 for v in vectors), "unit length")
cut = client.embed(model="Tiny-BERT-Embed-F32", input="a cat", dimensions=8).embeddings[0]
check(len(cut) == 8 and abs(math.sqrt(sum(x * x for x in cut)) - 1) < 1e-3, cut)
old = client.embeddings(model="Tiny-BERT-Embed-F32", prompt="a cat").embedding
check(len(old) == len(vectors[0]), len(old))

# The bytes on the wire: NDJSON, one object a line, no blank line, the last one done.
request = urllib.request.Request(f"{host}/api/chat", method="POST", headers={"Content-Type": "application/json"},
                                 data=json.dumps({"model": CHAT, "messages": QUESTION, "options": GREEDY}).encode())
with urllib.request.urlopen(request, timeout=300) as response:
    check(response.headers["Content-Type"] == "application/x-ndjson", response.headers["Content-Type"])
    body = response.read().decode()
check(body.endswith("\n") and "\n\n" not in body, "one object a line")
lines = [json.loads(line) for line in body.splitlines()]
check(all(line["message"]["role"] == "assistant" and "created_at" in line for line in lines), "every line is whole")
check(lines[-1]["done"] is True and not any(line["done"] for line in lines[:-1]), "done only at the end")
check(urllib.request.urlopen(host, timeout=10).read() == b"Ollama is running", "the root says it runs")
version = json.loads(urllib.request.urlopen(f"{host}/api/version", timeout=10).read())
check(version["version"].count(".") == 2, version)

print("all checks passed")
