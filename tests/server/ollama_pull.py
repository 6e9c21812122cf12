"""Ollama's pull and delete through the official `ollama` Python client, against `sirocco serve`
whose Hugging Face is the fake hub (tests/fakehub): a Hub name pulled with Ollama's progress
lines, used, pulled again, deleted; names and models it must refuse.

    python ollama_pull.py HOST

Run by crates/sirocco-cli/tests/ollama.rs.
"""
import sys

import ollama

host = sys.argv[1]
client = ollama.Client(host=host, timeout=300)
NAME = "hf.co/bartowski/SmolLM2-135M-Instruct-GGUF:Q4_1"


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


check("hf.co/owner/repo" in refused(lambda: client.pull("llama3.2"), 400), "only Hugging Face names")

progress = list(client.pull(NAME, stream=True))
statuses = [p.status for p in progress]
check(statuses[0] == "pulling manifest" and statuses[-1] == "success", statuses)
check("verifying sha256 digest" in statuses and "writing manifest" in statuses, statuses)
layer = [p for p in progress if p.status.startswith("pulling ") and p.status != "pulling manifest"]
check(layer and all(p.digest.startswith("sha256:") and p.total for p in layer), layer[:2])
check(layer[-1].completed == layer[-1].total, "the last progress line is the whole file")

listed = {m.model for m in client.list().models}
check("SmolLM2-135M-Instruct-Q4_1:latest" in listed, listed)
said = client.generate(model=NAME, prompt="Say hi", options={"num_predict": 3})
check(said.done and said.eval_count > 0, "the pulled name answers")
check(client.pull(NAME).status == "success", "pulled again: already there")
check("has no Q8_0 file" in refused(lambda: client.pull("hf.co/bartowski/SmolLM2-135M-Instruct-GGUF:Q8_0"), 500),
      "a quantization the repository lacks")

check(client.delete(NAME).status == "success", "deleted")
check("SmolLM2-135M-Instruct-Q4_1:latest" not in {m.model for m in client.list().models}, "gone from the list")
refused(lambda: client.delete(NAME), 404)
check("not a download" in refused(lambda: client.delete("SmolLM2-135M-Instruct.Q4_1"), 400),
      "a file the user keeps is not deleted")
print("all checks passed")
