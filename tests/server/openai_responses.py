"""OpenAI's Responses API through the official `openai` client: `responses.create` and
`responses.stream` (text, instructions, max_output_tokens, a JSON format, a function tool and its
output), follow-ups by `previous_response_id` (equal to sending the conversation whole),
`retrieve`/`delete`, reasoning items, and errors.

    python openai_responses.py BASE_URL MODEL_ID MODE

MODE "plain": the model's own template; "thinking": a template that opens a thought in the
generation prompt unless the effort is none (SmolLM2 never closes one by itself in a short reply).
Run by crates/sirocco-server/tests/openai_api.rs.
"""
import json
import sys

import openai
from openai import OpenAI

base_url, model, mode = sys.argv[1:4]
client = OpenAI(base_url=base_url, api_key="none", max_retries=0, timeout=120)
greedy = dict(model=model, temperature=0)


def check(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")


def streamed(**kwargs):
    """The final response and the events' types, through the client's stream helper (which
    wants a completed answer), or the raw stream when the answer may be cut short."""
    if kwargs.pop("raw", False):
        events = list(client.responses.create(**kwargs, stream=True))
        final = events[-1].response
    else:
        with client.responses.stream(**kwargs) as s:
            events = list(s)
            final = s.get_final_response()
    numbers = [e.sequence_number for e in events]
    check(numbers == list(range(len(numbers))), f"sequence numbers {numbers}")
    return final, [e.type for e in events]


if mode == "thinking":
    r = client.responses.create(**greedy, input="Is the sea blue?", max_output_tokens=200,
                                reasoning={"effort": "high"}, extra_body={"thinking_budget": 6})
    kinds = [item.type for item in r.output]
    check(kinds == ["reasoning", "message"], f"items {kinds}")
    thought = r.output[0].content[0].text
    check(thought.strip() and "think>" not in thought and "think>" not in r.output_text, r.output)
    check(0 < r.usage.output_tokens_details.reasoning_tokens < r.usage.output_tokens, r.usage)
    final, types = streamed(**greedy, input="Is the sea blue?", max_output_tokens=200, raw=True,
                            reasoning={"effort": "high"}, extra_body={"thinking_budget": 6})
    check(final.status == r.status and types[-1] == f"response.{r.status}", (final.status, r.status, types[-1]))
    check([item.type for item in final.output] == kinds, final.output)
    check(final.output[0].content[0].text == thought and final.output_text == r.output_text, final.output)
    first_thought = types.index("response.reasoning_text.delta")
    check(types[first_thought - 2:first_thought] == ["response.output_item.added", "response.content_part.added"], types)
    first_text = types.index("response.output_text.delta")
    check("response.reasoning_text.delta" in types[:first_text], types)
    check("response.reasoning_text.delta" not in types[first_text:], types)
    # Codex's highest effort is read as high; the thought comes back opaque too (Codex returns
    # reasoning only as encrypted_content).
    xhigh = client.responses.create(**greedy, input="Is the sea blue?", max_output_tokens=200,
                                    reasoning={"effort": "xhigh"}, extra_body={"thinking_budget": 6})
    check(xhigh.output[0].type == "reasoning" and xhigh.output[0].content[0].text == thought, xhigh.output)
    check(xhigh.output[0].encrypted_content, xhigh.output[0])
    # The thought goes back as a reasoning item; a follow-up by id carries it as well.
    follow = client.responses.create(**greedy, input="Why?", previous_response_id=r.id, max_output_tokens=8,
                                     reasoning={"effort": "none"})
    whole = client.responses.create(**greedy, max_output_tokens=8, reasoning={"effort": "none"}, input=[
        {"role": "user", "content": "Is the sea blue?"}, *[item.model_dump(exclude_none=True) for item in r.output],
        {"role": "user", "content": "Why?"}])
    check(follow.usage.input_tokens == whole.usage.input_tokens, (follow.usage, whole.usage))
    check([item.type for item in follow.output] == ["message"], f"effort none gave {follow.output}")
    print("all checks passed")
    sys.exit(0)

# A whole answer.
ask = dict(**greedy, input="Is the sea blue?", max_output_tokens=200)
r = client.responses.create(**ask, instructions="Answer briefly.")
check(r.object == "response" and r.id.startswith("resp_") and r.model == model, r)
check(r.status == "completed" and r.instructions == "Answer briefly.", (r.status, r.instructions))
check([item.type for item in r.output] == ["message"] and r.output_text.strip(), r.output)
check(r.output[0].role == "assistant" and r.output[0].id.startswith("msg_"), r.output[0])
check(r.usage.input_tokens > 5 and 0 < r.usage.output_tokens < 200, r.usage)
check(r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens, r.usage)

short = client.responses.create(**dict(ask, max_output_tokens=3))
check(short.status == "incomplete" and short.incomplete_details.reason == "max_output_tokens", short)
check(short.usage.output_tokens == 3, short.usage)

# Streamed: the same text, with the events in the API's order.
final, types = streamed(**ask, instructions="Answer briefly.")
check(final.output_text == r.output_text and final.status == r.status, (final.output_text, r.output_text))
check(types[:2] == ["response.created", "response.in_progress"], types)
check(types[-1] == "response.completed", types)
body = types[2:-1]
check(body[:2] == ["response.output_item.added", "response.content_part.added"], body)
check(body[-3:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done"], body)
check(set(body[2:-3]) == {"response.output_text.delta"}, body)
raw = [e.type for e in client.responses.create(**dict(ask, max_output_tokens=4), stream=True)]
check(raw[0] == "response.created" and raw[-1] == "response.incomplete", raw)

# A follow-up by id is the conversation sent whole.
first = client.responses.create(**greedy, input="My name is Ada. Say hello.", max_output_tokens=12)
by_id = client.responses.create(**greedy, input="What is my name?", previous_response_id=first.id, max_output_tokens=12)
whole = client.responses.create(**greedy, max_output_tokens=12, input=[
    {"role": "user", "content": "My name is Ada. Say hello."},
    {"role": "assistant", "content": first.output_text},
    {"role": "user", "content": "What is my name?"}])
check(by_id.usage.input_tokens == whole.usage.input_tokens, (by_id.usage, whole.usage))
check(by_id.output_text == whole.output_text and by_id.previous_response_id == first.id, (by_id.output_text, whole.output_text))
# Instructions are not carried over: a follow-up of a response with instructions counts without them.
again = client.responses.create(**greedy, input="And?", previous_response_id=r.id, max_output_tokens=4)
plain = client.responses.create(**greedy, max_output_tokens=4, input=[
    {"role": "user", "content": "Is the sea blue?"}, {"role": "assistant", "content": r.output_text},
    {"role": "user", "content": "And?"}])
check(again.usage.input_tokens == plain.usage.input_tokens, (again.usage, plain.usage))
# Kept responses are retrieved and deleted; a deleted one cannot be continued, nor its chain.
got = client.responses.retrieve(first.id)
check(got.id == first.id and got.output_text == first.output_text, got)
client.responses.delete(first.id)
try:
    client.responses.retrieve(first.id)
    raise SystemExit("FAILED: a deleted response was retrieved")
except openai.NotFoundError:
    pass
try:
    client.responses.create(**greedy, input="Again?", previous_response_id=by_id.id, max_output_tokens=4)
    raise SystemExit("FAILED: a chain whose start was deleted was continued")
except openai.BadRequestError as e:
    check("not found" in str(e), e)
# store: false keeps nothing.
unkept = client.responses.create(**dict(ask, max_output_tokens=4), store=False)
check(unkept.store is False, unkept.store)
try:
    client.responses.create(**greedy, input="More?", previous_response_id=unkept.id, max_output_tokens=4)
    raise SystemExit("FAILED: an unkept response was continued")
except openai.BadRequestError:
    pass

# A function tool: the call, its output sent back by id and whole (the same prompt).
tools = [{"type": "function", "name": "set_unit", "description": "Sets the temperature unit",
          "parameters": {"type": "object", "properties": {"unit": {"enum": ["celsius", "fahrenheit"]}},
                         "required": ["unit"], "additionalProperties": False}}]
call_ask = dict(**greedy, input="Switch the unit to celsius.", tools=tools, max_output_tokens=60)
r = client.responses.create(**call_ask, tool_choice="required", parallel_tool_calls=False)
calls = [item for item in r.output if item.type == "function_call"]
check(len(calls) == 1 and calls[0].name == "set_unit" and calls[0].call_id.startswith("call_"), r.output)
check(json.loads(calls[0].arguments).get("unit") in ("celsius", "fahrenheit"), calls[0].arguments)
final, types = streamed(**call_ask, tool_choice={"type": "function", "name": "set_unit"}, parallel_tool_calls=False)
streamed_calls = [item for item in final.output if item.type == "function_call"]
check(streamed_calls and json.loads(streamed_calls[0].arguments) == json.loads(calls[0].arguments), final.output)
check("response.function_call_arguments.done" in types, types)
output = {"type": "function_call_output", "call_id": calls[0].call_id, "output": "The unit is now celsius."}
after = client.responses.create(**greedy, tools=tools, max_output_tokens=20, previous_response_id=r.id, input=[output])
sent = client.responses.create(**greedy, tools=tools, max_output_tokens=20, input=[
    {"role": "user", "content": "Switch the unit to celsius."},
    *[item.model_dump(exclude_none=True) for item in r.output], output])
check(after.status in ("completed", "incomplete") and after.usage.input_tokens == sent.usage.input_tokens,
      (after.usage, sent.usage))

# As Codex sends them: hosted tools (web search by default) are not offered and the request goes
# on; an MCP server's tools grouped in a namespace are functions; an image in the history is
# named to the model instead of failing every later request.
codex = client.responses.create(**greedy, input="Switch the unit to celsius.", max_output_tokens=60, tool_choice="required",
                                tools=[{"type": "web_search", "external_web_access": False},
                                       {"type": "namespace", "name": "mcp__home", "description": "Home", "tools": tools}])
check([item.name for item in codex.output if item.type == "function_call"] == ["set_unit"], codex.output)
pictured = client.responses.create(**greedy, max_output_tokens=4, input=[
    {"role": "user", "content": [{"type": "input_text", "text": "What is this?"},
                                 {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}]}])
plain_text = client.responses.create(**greedy, max_output_tokens=4, input="What is this?")
check(pictured.usage.input_tokens > plain_text.usage.input_tokens + 5, (pictured.usage, plain_text.usage))

# A JSON schema for the text.
schema = {"type": "object", "properties": {"blue": {"type": "boolean"}}, "required": ["blue"], "additionalProperties": False}
shaped = client.responses.create(**ask, text={"format": {"type": "json_schema", "name": "answer", "schema": schema, "strict": True}})
answer = json.loads(shaped.output_text)
check(set(answer) == {"blue"} and isinstance(answer["blue"], bool), shaped.output_text)

# Errors: each a 400 naming what is wrong.
def fails(exception, needle, **kwargs):
    try:
        client.responses.create(**kwargs)
    except exception as e:
        check(needle in str(e), f"{needle!r} not in {e}")
        return
    raise SystemExit(f"FAILED: {kwargs} was accepted")


fails(openai.BadRequestError, "empty", **greedy, input=[])
fails(openai.BadRequestError, "item_reference", **greedy, input=[{"type": "item_reference", "id": "msg_1"}])
fails(openai.BadRequestError, "xxhigh", **greedy, input="hi", reasoning={"effort": "xxhigh"})
fails(openai.BadRequestError, "not found", **greedy, input="hi", previous_response_id="resp_nothing")
named = client.responses.create(model="gpt-5", input="hi", max_output_tokens=4)
check(named.model == model, f"a fixed model name is answered by the served model, not {named.model}")
try:
    client.responses.create(**greedy, input="word " * 4000, max_output_tokens=4)
    raise SystemExit("FAILED: a prompt longer than the context was accepted")
except openai.BadRequestError as e:
    check(e.code == "context_length_exceeded", e)
print("all checks passed")
