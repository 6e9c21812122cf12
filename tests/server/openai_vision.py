"""Images through the official `openai` client: an `image_url` part as a data URL reaches a
model loaded with its vision projector (the prompt counts the image's positions), whole and
streamed; a web address, broken base64, a damaged image and an image for a model that does not
see are each a clear 400.

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

refused("https://example.com/cat.png", "not fetched from the web")
refused("data:image/png;base64,%%%not-base64", "not valid base64")
refused("data:text/plain;base64,aGVsbG8=", "not an image")
refused(data_url(png(112, 84)[:200]), "damaged or incomplete")
refused(data_url(png(112, 84)), "does not see images", model=text_model)
print("all checks passed")
