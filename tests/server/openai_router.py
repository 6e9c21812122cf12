"""llama.cpp router-mode management through the official `openai` client's raw HTTP calls
(`client.get` / `client.post`, the way tools reach endpoints the client has no method for):
every library model with its status, a load, a chat with it, an unload.

    python openai_router.py SERVER_ROOT CHAT_MODEL OTHER_MODEL

Run by crates/sirocco-server/tests/on_demand.rs; SERVER_ROOT has no /v1 (the router endpoints
live beside it, as in llama.cpp's server).
"""
import sys

import openai
from openai import OpenAI

root, chat_model, other = sys.argv[1], sys.argv[2], sys.argv[3]
client = OpenAI(base_url=f"{root}/v1", api_key="none", max_retries=0, timeout=120)


def check(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")


def statuses():
    listing = client.get(f"{root}/models", cast_to=object)
    return {m["id"]: m["status"]["value"] for m in listing["data"]}


check(statuses() == {chat_model: "unloaded", other: "unloaded"}, f"before: {statuses()}")
loaded = client.post(f"{root}/models/load", body={"model": chat_model}, cast_to=object)
check(loaded == {"success": True}, f"load answered {loaded}")
check(statuses() == {chat_model: "loaded", other: "unloaded"}, f"after the load: {statuses()}")
# The OpenAI list names what is loaded; the loaded model answers.
check(chat_model in [m.id for m in client.models.list().data], "the loaded model is listed")
reply = client.chat.completions.create(model=chat_model, messages=[{"role": "user", "content": "Hi"}], max_tokens=4)
check(reply.choices[0].message.content is not None, "the loaded model answers")

try:
    client.post(f"{root}/models/load", body={"model": "gpt-4o"}, cast_to=object)
    check(False, "a model outside the library loaded")
except openai.NotFoundError as e:
    check(e.body["code"] == "model_not_found" if isinstance(e.body, dict) else False, f"unknown model: {e.body}")

unloaded = client.post(f"{root}/models/unload", body={"model": chat_model}, cast_to=object)
check(unloaded == {"success": True}, f"unload answered {unloaded}")
check(statuses() == {chat_model: "unloaded", other: "unloaded"}, f"after the unload: {statuses()}")
print("all checks passed")
