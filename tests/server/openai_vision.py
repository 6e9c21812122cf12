"""Images through the official `openai` and `anthropic` clients: an `image_url` part as a data
URL (chat completions), an `input_image` (Responses) and a base64 image block (Anthropic
Messages) reach a model loaded with its vision projector (each prompt counts the image's
positions), whole and streamed; a web address, broken base64, a damaged image and an image for
a model that does not see are each a clear 400 in chat completions; the Responses and Messages
APIs give a model that does not see a note in the image's place (clients resend whole
histories), and refuse a web address.

Usage: openai_vision.py <base_url> <vision model> <text model>. The vision model is the tiny
Pixtral-type fixture (tests/fixtures/make_vision.py): a 112×84 image fills 15 positions.
"""
import base64
import io
import sys

import openai
from openai import OpenAI
from PIL import Image

base, model, text_model = sys.argv[1], sys.argv[2], sys.argv[3]
client = OpenAI(base_url=base, api_key="unused")


def png(width, height):
    image = Image.frombytes("RGB", (width, height), bytes(i % 251 for i in range(width * height * 3)))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def data_url(data, mime="image/png"):
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def ask(url, model=model, **extra):
    content = [{"type": "text", "text": "What is in this picture?"}, {"type": "image_url", "image_url": {"url": url}}]
    return client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": content}], max_tokens=4, temperature=0,
        extra_body={"ignore_eos": True}, **extra)


def refused(url, words, model=model):
    try:
        ask(url, model=model)
    except openai.BadRequestError as e:
        assert words in str(e), f"{words!r} not in {e}"
        return
    raise AssertionError(f"{url[:40]} was accepted")


response = ask(data_url(png(112, 84)))
text_only = client.chat.completions.create(
    model=model, messages=[{"role": "user", "content": "What is in this picture?"}], max_tokens=4, temperature=0)
# BOS, [INST], the image's 15 positions (14 of it and [IMG_END]), the text, [/INST].
assert response.usage.prompt_tokens == text_only.usage.prompt_tokens + 15, (response.usage, text_only.usage)
assert response.usage.completion_tokens == 4, response.usage

streamed = ask(data_url(png(112, 84)), stream=True, stream_options={"include_usage": True})
usage = [c.usage for c in streamed if c.usage][-1]
assert usage.prompt_tokens == response.usage.prompt_tokens, usage
# A JPEG (another format, another size) goes through too.
jpeg = io.BytesIO()
Image.frombytes("RGB", (56, 140), bytes(i % 251 for i in range(56 * 140 * 3))).save(jpeg, format="JPEG")
assert ask(data_url(jpeg.getvalue(), "image/jpeg")).usage.completion_tokens == 4

refused("https://example.com/cat.png", "not fetched from the web unless")
refused("data:image/png;base64,%%%not-base64", "not valid base64")
refused("data:text/plain;base64,aGVsbG8=", "not an image")
refused(data_url(png(112, 84)[:200]), "damaged or incomplete")
refused(data_url(png(112, 84)), "does not see images", model=text_model)
# The Responses API: an input_image with a data URL, counted like the chat's.
question = [{"type": "input_text", "text": "What is in this picture?"},
            {"type": "input_image", "image_url": data_url(png(112, 84))}]
answer = client.responses.create(model=model, input=[{"role": "user", "content": question}], max_output_tokens=4,
                                 temperature=0, extra_body={"ignore_eos": True})
assert answer.usage.input_tokens == response.usage.prompt_tokens, (answer.usage, response.usage)
seen = client.responses.create(model=text_model, input=[{"role": "user", "content": question}], max_output_tokens=2)
text_seen = client.responses.create(model=text_model, input="What is in this picture?", max_output_tokens=2)
assert seen.usage.input_tokens > text_seen.usage.input_tokens, "a model that does not see reads a note instead"
try:
    client.responses.create(model=model, max_output_tokens=2, input=[{"role": "user", "content": [
        {"type": "input_image", "image_url": "https://example.com/cat.png"}]}])
    raise AssertionError("a web address was accepted")
except openai.BadRequestError as e:
    assert "not fetched from the web unless" in str(e), e

# Anthropic's Messages API: a base64 image block, counted like the chat's.
from anthropic import Anthropic, BadRequestError  # noqa: E402

claude = Anthropic(base_url=base.removesuffix("/v1"), api_key="unused", max_retries=0)
block = {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                     "data": base64.b64encode(png(112, 84)).decode()}}
content = [block, {"type": "text", "text": "What is in this picture?"}]
message = claude.messages.create(model=model, max_tokens=4, messages=[{"role": "user", "content": content}],
                                 extra_body={"ignore_eos": True})
# Anthropic counts the tokens read from the cache apart: here the same image's, from the turns above.
read = message.usage.input_tokens + (message.usage.cache_read_input_tokens or 0)
assert read == response.usage.prompt_tokens, (message.usage, response.usage)
counted = claude.messages.count_tokens(model=model, messages=[{"role": "user", "content": content}])
assert counted.input_tokens == read, (counted, message.usage)
noted = claude.messages.create(model=text_model, max_tokens=2, messages=[{"role": "user", "content": content}])
assert noted.usage.input_tokens > 0
try:
    claude.messages.create(model=model, max_tokens=2, messages=[{"role": "user", "content": [
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}]}])
    raise AssertionError("a web address was accepted")
except BadRequestError as e:
    assert "not fetched from the web unless" in str(e), e
print("all checks passed")
