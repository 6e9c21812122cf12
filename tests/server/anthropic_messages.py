"""The Anthropic Messages API through the official `anthropic` client: `messages.create` and
`messages.stream` (text, a tool call and its result, stop sequences, max_tokens), `count_tokens`,
thinking blocks, the x-api-key header, and Anthropic's error shape for bad requests.

    python anthropic_messages.py BASE_URL MODEL_ID API_KEY MODE

MODE "plain": the model's own template; "thinking": a template that opens a thought in the
generation prompt unless thinking is off (SmolLM2 never closes one by itself in a short reply).
Run by crates/sirocco-server/tests/openai_api.rs.
"""
import json
import sys
import urllib.request

import anthropic
from anthropic import Anthropic

base_url, model, key, mode = sys.argv[1:5]
client = Anthropic(base_url=base_url, api_key=key, max_retries=0, timeout=120)
# Anthropic's newest client has no `temperature` (Claude's latest models take none); older
# clients and Claude Code send it, and a local model needs it for repeatable answers.
greedy = {"extra_body": {"temperature": 0}}
ask = dict(model=model, messages=[{"role": "user", "content": "Is the sea blue?"}], **greedy)


def check(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")


def raw_stream(body):
    """The stream's (event, data) pairs as sent, read without the client."""
    request = urllib.request.Request(base_url + "/v1/messages", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json", "x-api-key": key})
    events, name = [], None
    with urllib.request.urlopen(request, timeout=120) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data = json.loads(line[len("data: "):])
                check(data["type"] == name, f"event {name} carries {data['type']}")
                events.append((name, data))
    return events


if mode == "thinking":
    # Thinking on, with a budget: a thinking block, then the answer.
    r = client.messages.create(**ask, max_tokens=40, thinking={"type": "enabled", "budget_tokens": 6})
    kinds = [b.type for b in r.content]
    check(kinds[0] == "thinking" and "text" in kinds, f"blocks {kinds}")
    thought, answer = r.content[0].thinking, "".join(b.text for b in r.content if b.type == "text")
    check(thought.strip() and "think>" not in thought and "think>" not in answer, r.content)
    # Streamed: the same blocks, the thought first.
    with client.messages.stream(**ask, max_tokens=40, thinking={"type": "enabled", "budget_tokens": 6}) as s:
        final = s.get_final_message()
    check([b.type for b in final.content] == kinds, f"streamed blocks {[b.type for b in final.content]}")
    check(final.content[0].thinking == thought, (final.content[0].thinking, thought))
    # Off: no thinking block.
    off = client.messages.create(**ask, max_tokens=24, thinking={"type": "disabled"})
    check([b.type for b in off.content] == ["text"], f"thinking off gave {[b.type for b in off.content]}")
    print("all checks passed")
    sys.exit(0)

# A whole answer.
r = client.messages.create(**ask, max_tokens=30)
check(r.type == "message" and r.role == "assistant" and r.model == model, r)
check(r.id.startswith("msg_"), r.id)
check([b.type for b in r.content] == ["text"] and r.content[0].text.strip(), r.content)
check(r.stop_reason in ("end_turn", "max_tokens"), r.stop_reason)
check(r.usage.input_tokens + r.usage.cache_read_input_tokens > 5 and 0 < r.usage.output_tokens <= 30, r.usage)
text = r.content[0].text

# count_tokens counts the prompt the answer was given.
counted = client.messages.count_tokens(model=model, messages=ask["messages"])
check(counted.input_tokens == r.usage.input_tokens + r.usage.cache_read_input_tokens, (counted, r.usage))
# (SmolLM2's template writes a default system prompt of its own when there is none.)
with_system = client.messages.count_tokens(model=model, messages=ask["messages"], system="Answer in French. " * 30)
check(with_system.input_tokens > counted.input_tokens, (with_system, counted))

# max_tokens cuts the answer.
short = client.messages.create(**ask, max_tokens=3)
check(short.stop_reason == "max_tokens" and short.usage.output_tokens == 3, (short.stop_reason, short.usage))

# A stop sequence from the middle of the answer: the text stops before it, and says which.
words = text.split()
check(len(words) >= 4, f"answer too short to pick a stop from: {text!r}")
stop = " " + words[len(words) // 2]
stopped = client.messages.create(**ask, max_tokens=30, stop_sequences=["zzzz", stop])
check(stopped.stop_reason == "stop_sequence" and stopped.stop_sequence == stop, (stopped.stop_reason, stopped.stop_sequence))
check(text.startswith(stopped.content[0].text) and stop not in stopped.content[0].text, (stopped.content, text))

# Streamed: the same text, and the events in Anthropic's order.
with client.messages.stream(**ask, max_tokens=30) as s:
    pieces = list(s.text_stream)
    final = s.get_final_message()
check("".join(pieces) == text and final.content[0].text == text, (pieces, text))
check(final.stop_reason == r.stop_reason and final.usage.output_tokens == r.usage.output_tokens, final)
events = raw_stream(dict(ask, max_tokens=8, stream=True))
names = [n for n, _ in events]
check(names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"], names)
body = [n for n in names[1:-2] if n != "ping"]
check(body[0] == "content_block_start" and body[-1] == "content_block_stop", body)
check(set(body[1:-1]) == {"content_block_delta"}, body)
# The usage says what was generated: all 8 tokens when cut there; fewer when the model ended
# first (a cached prompt may tip greedy decoding to another token: llama.cpp is not
# batch-invariant).
delta = events[-2][1]
check((delta["delta"]["stop_reason"], delta["usage"]["output_tokens"]) == ("max_tokens", 8)
      or (delta["delta"]["stop_reason"] == "end_turn" and 0 < delta["usage"]["output_tokens"] < 8), delta)

# A tool the model must call (`any`), its result sent back, and the answer.
tools = [{"name": "set_unit", "description": "Sets the temperature unit",
          "input_schema": {"type": "object", "properties": {"unit": {"enum": ["celsius", "fahrenheit"]}},
                           "required": ["unit"]}}]
call_ask = dict(model=model, messages=[{"role": "user", "content": "Switch the unit to celsius."}],
                tools=tools, max_tokens=60, **greedy)
r = client.messages.create(**call_ask, tool_choice={"type": "any"})
check(r.stop_reason == "tool_use", r.stop_reason)
uses = [b for b in r.content if b.type == "tool_use"]
check(len(uses) >= 1 and uses[0].name == "set_unit" and uses[0].id.startswith("toolu_"), r.content)
check(uses[0].input.get("unit") in ("celsius", "fahrenheit"), uses[0].input)
with client.messages.stream(**call_ask, tool_choice={"type": "tool", "name": "set_unit"}) as s:
    streamed = s.get_final_message()
streamed_uses = [b for b in streamed.content if b.type == "tool_use"]
check(streamed.stop_reason == "tool_use" and streamed_uses and streamed_uses[0].input == uses[0].input, streamed.content)
follow = client.messages.create(model=model, tools=tools, max_tokens=30, **greedy, messages=[
    call_ask["messages"][0],
    {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in r.content]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": uses[0].id, "content": "The unit is now celsius."}]},
])
check(follow.stop_reason in ("end_turn", "max_tokens", "tool_use") and follow.content, follow)
none = client.messages.create(**call_ask, tool_choice={"type": "none"})
check(all(b.type == "text" for b in none.content), none.content)

# A JSON schema for the answer (output_config.format): the text is JSON of that shape.
schema = {"type": "object", "properties": {"blue": {"type": "boolean"}}, "required": ["blue"], "additionalProperties": False}
shaped = client.messages.create(**ask, max_tokens=30, output_config={"format": {"type": "json_schema", "schema": schema}})
answer = json.loads(shaped.content[0].text)
check(set(answer) == {"blue"} and isinstance(answer["blue"], bool), shaped.content)

# Errors in Anthropic's shape, with the client's own exception for each.
def fails(exception, kind, **kwargs):
    try:
        client.messages.create(**kwargs)
    except exception as e:
        check(e.body["type"] == "error" and e.body["error"]["type"] == kind, e.body)
        return e.body["error"]["message"]
    raise SystemExit(f"FAILED: {kwargs} was accepted")


fails(anthropic.BadRequestError, "invalid_request_error", **dict(ask, max_tokens=10, extra_body={"temperature": 1.5}))
# An image in the history is named to the model (clients resend it every turn: refusing it would
# fail every later request); Anthropic's own server tools are not offered, and the request goes on.
pictured = client.messages.count_tokens(model=model, messages=[{"role": "user", "content": [
    {"type": "text", "text": "What is this?"},
    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}]}])
bare = client.messages.count_tokens(model=model, messages=[{"role": "user", "content": "What is this?"}])
check(pictured.input_tokens > bare.input_tokens + 5, (pictured, bare))
searched = client.messages.create(**dict(ask, max_tokens=4), tools=[{"type": "web_search_20250305", "name": "web_search"}])
check(searched.content, searched)
# Claude Code's billing header changes with each request; the prompt does not.
header = "x-anthropic-billing-header: cc_version=2.1.0; cc_entrypoint=cli; cch={};"
counts = {client.messages.count_tokens(model=model, messages=ask["messages"], system=[
    {"type": "text", "text": header.format(c)}, {"type": "text", "text": "You are Claude Code."}]).input_tokens
    for c in ("a", "a1b2c3d4e5f6g7h8")}
check(len(counts) == 1, counts)
# Claude Code names its own models: the served one answers, and says so.
claude = client.messages.create(**dict(ask, model="claude-sonnet-4-5", max_tokens=4))
check(claude.model == model, f"answered by {claude.model}")
# A prompt longer than the context, in Anthropic's words (Claude Code compacts on them).
too_long = fails(anthropic.BadRequestError, "invalid_request_error", model=model, max_tokens=10,
                 messages=[{"role": "user", "content": "word " * 4000}])
check(too_long.startswith("prompt is too long"), too_long)
try:
    Anthropic(base_url=base_url, api_key="wrong", max_retries=0).messages.create(**ask, max_tokens=10)
    raise SystemExit("FAILED: a wrong key was accepted")
except anthropic.AuthenticationError as e:
    check(e.body["error"]["type"] == "authentication_error", e.body)
# Without max_tokens (the client insists on it; a raw request says why).
request = urllib.request.Request(base_url + "/v1/messages", data=json.dumps({"model": model, "messages": ask["messages"]}).encode(),
                                 headers={"content-type": "application/json", "x-api-key": key})
try:
    urllib.request.urlopen(request, timeout=30)
    raise SystemExit("FAILED: a request without max_tokens was accepted")
except urllib.error.HTTPError as e:
    body = json.loads(e.read())
    check(e.code == 400 and body["error"]["type"] == "invalid_request_error" and "max_tokens" in body["error"]["message"], body)
print("all checks passed")
