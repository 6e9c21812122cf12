"""Tool calls through the official `openai` client: required and named calls, streamed and not,
the round trip (the call and its result sent back), and the errors a client can make.

    python openai_tools.py BASE_URL MODEL_ID NATIVE

NATIVE is "mistral" for a model with Mistral's own tool tokens (then the rendered prompt must
carry them, with the client's ids mapped to 9 characters), "tagged" for a template with its own
`<tool_call>` format (Qwen 2.5's), "generic" otherwise.
Run by crates/sirocco-server/tests/openai_api.rs.
"""
import json
import re
import sys

import urllib.request
from openai import BadRequestError, OpenAI

base_url, model, native = sys.argv[1], sys.argv[2], sys.argv[3]
client = OpenAI(base_url=base_url, api_key="none", max_retries=0, timeout=120)
root = base_url.removesuffix("/v1")


def check(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")


TOOLS = [
    {"type": "function", "function": {
        "name": "set_unit", "description": "Sets the temperature unit",
        "parameters": {"type": "object", "properties": {"unit": {"enum": ["celsius", "fahrenheit"]}},
                       "required": ["unit"], "additionalProperties": False}}},
    {"type": "function", "function": {"name": "lights_off", "description": "Turns the lights off"}},
]
NAMES = {"set_unit", "lights_off"}
ASK = [{"role": "user", "content": "Switch the unit to celsius."}]


def check_call(call, only=None):
    check(call.type == "function", f"type {call.type}")
    check(re.fullmatch(r"call_[A-Za-z0-9]{9}", call.id), f"id {call.id}")
    check(call.function.name in NAMES, f"name {call.function.name}")
    args = json.loads(call.function.arguments)
    if call.function.name == "set_unit":
        check(args.get("unit") in ("celsius", "fahrenheit"), f"arguments {args}")
    else:
        check(args == {}, f"a tool without parameters got {args}")
    if only:
        check(call.function.name == only, f"{call.function.name} called instead of {only}")


# Required, not streamed: the reply is calls, content null, finish_reason tool_calls.
r = client.chat.completions.create(model=model, messages=ASK, tools=TOOLS, tool_choice="required",
                                   parallel_tool_calls=False, temperature=0, max_tokens=120)
choice = r.choices[0]
check(choice.finish_reason == "tool_calls", f"finish_reason {choice.finish_reason}")
check(choice.message.content is None, f"content {choice.message.content!r}")
check(len(choice.message.tool_calls) == 1, f"calls {choice.message.tool_calls}")
check_call(choice.message.tool_calls[0])
check(r.usage.completion_tokens > 0, f"usage {r.usage}")
first = choice.message

# A named tool, streamed: the client's stream accumulates the call from the deltas.
chunks = list(client.chat.completions.create(
    model=model, messages=ASK, tools=TOOLS, tool_choice={"type": "function", "function": {"name": "lights_off"}},
    parallel_tool_calls=False, temperature=0, max_tokens=120, stream=True))
finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
check(finish == ["tool_calls"], f"stream finish reasons {finish}: {[c.model_dump() for c in chunks][-3:]}")
calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
check(len(calls) == 1 and calls[0].index == 0, f"streamed calls {calls}")
check_call(calls[0], only="lights_off")

# The round trip: the call as the server gave it, its result, and the model goes on.
follow = client.chat.completions.create(
    model=model, temperature=0, max_tokens=12, tools=TOOLS,
    messages=ASK + [
        {"role": "assistant", "content": None, "tool_calls": [tc.model_dump() for tc in first.tool_calls]},
        {"role": "tool", "tool_call_id": first.tool_calls[0].id, "content": json.dumps({"ok": True})},
    ])
check(follow.choices[0].finish_reason in ("stop", "length", "tool_calls"), f"follow-up {follow}")

# tool_choice "none": no tools reach the model; a plain answer.
plain = client.chat.completions.create(model=model, messages=ASK, tools=TOOLS, tool_choice="none",
                                       temperature=0, max_tokens=8)
check(plain.choices[0].message.tool_calls is None, "tool_choice none made calls")

# The prompt the model reads: its own tool tokens, the clients' ids mapped to 9 characters.
long_id = "call_8f0a1b2c3d4e5f60718293a4"
body = json.dumps({"tools": TOOLS, "messages": ASK + [
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": long_id, "type": "function", "function": {"name": "lights_off", "arguments": "{}"}}]},
    {"role": "tool", "tool_call_id": long_id, "content": "off"},
]}).encode()
post = urllib.request.Request(f"{root}/apply-template", data=body, headers={"Content-Type": "application/json"})
with urllib.request.urlopen(post, timeout=60) as response:
    rendered = json.load(response)["prompt"]
if native == "mistral":
    check(long_id not in rendered, "the client's long id reached the model")
    for token in ("[AVAILABLE_TOOLS]", "[TOOL_CALLS]", "[TOOL_RESULTS]"):
        check(token in rendered, f"{token} missing from {rendered!r}")
    ids = re.findall(r'"id": "([A-Za-z0-9]+)"', rendered)
    check(len(ids) == 1 and len(ids[0]) == 9, f"call ids in the prompt: {ids}")
    check(ids[0] in rendered.split("[TOOL_RESULTS]")[1], "the result names the same 9-character id")
elif native == "tagged":
    check("<tools>" in rendered and '"name": "set_unit"' in rendered, rendered)
    check('<tool_call>\n{"name": "lights_off", "arguments": {}}\n</tool_call>' in rendered, rendered)
    check("<tool_response>\noff\n</tool_response>" in rendered, rendered)
else:
    check("You can call these tools" in rendered and "set_unit" in rendered, rendered)

# Mistakes get 400s naming the field.
for bad, param in [
    ({"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
    ({"tools": [{"type": "retrieval", "function": {"name": "x"}}]}, "tools"),
    ({"tools": [{"type": "function", "function": {"name": "bad name!"}}]}, "tools"),
    ({"tool_choice": "required"}, "tool_choice"),
]:
    try:
        client.chat.completions.create(model=model, messages=ASK, max_tokens=4, **bad)
        check(False, f"{bad} was accepted")
    except BadRequestError as e:
        check(e.body.get("param") == param, f"{bad}: {e.body}")
try:
    client.chat.completions.create(model=model, max_tokens=4, messages=ASK + [{"role": "tool", "content": "x"}])
    check(False, "a tool message without tool_call_id was accepted")
except BadRequestError as e:
    check("tool_call_id" in e.body.get("message", ""), f"{e.body}")

print(f"openai tools ({native}): all checks passed")
