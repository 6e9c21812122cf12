"""Images named by a web address, on a server whose owner allows fetching them (`fetch_images`):
the official `openai` and `anthropic` clients link to images on a small HTTP server this script
runs, and each image reaches the model exactly as the same image sent as a data URL does (the
prompt counts the same). What cannot be an image — a 404, a text file, a file over 20 MB, more
than 8 images at once — is a clear 400 naming the address, without the remote's own words.

The script runs on another host (a network namespace at a public TEST-NET address, where the
server's guarded fetcher may go; it refuses loopback and private addresses) and reaches the
server over the network, with its key.

Usage: openai_remote_images.py <base_url> <vision model> <api key> <this host's address>.
"""
import base64
import http.server
import io
import sys
import threading

import openai
from openai import OpenAI
from PIL import Image

base, model, key, address = sys.argv[1:5]
client = OpenAI(base_url=base, api_key=key, max_retries=0)

image = Image.frombytes("RGB", (112, 84), bytes(i % 251 for i in range(112 * 84 * 3)))
buffer = io.BytesIO()
image.save(buffer, format="PNG")
PNG = buffer.getvalue()
fetched = []


class Files(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        fetched.append(self.path)
        if self.path == "/harbour.png":
            body, kind = PNG, "image/png"
        elif self.path == "/notes.txt":
            body, kind = b"not an image", "text/plain"
        elif self.path == "/huge.png":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            try:
                for _ in range(25):  # 25 MB, sent without a length
                    self.wfile.write(b"\0" * (1 << 20))
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        elif self.path == "/moved.png":
            self.send_response(302)
            self.send_header("Location", "/harbour.png")
            self.end_headers()
            return
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


files = http.server.ThreadingHTTPServer((address, 0), Files)
threading.Thread(target=files.serve_forever, daemon=True).start()
web = f"http://{address}:{files.server_address[1]}"


def ask(*urls, **extra):
    content = [{"type": "text", "text": "What is in this picture?"}]
    content += [{"type": "image_url", "image_url": {"url": url}} for url in urls]
    return client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": content}], max_tokens=2, temperature=0,
        extra_body={"ignore_eos": True}, **extra)


def refused(words, *urls):
    try:
        ask(*urls)
    except openai.BadRequestError as e:
        assert words in str(e), f"{words!r} not in {e}"
        return
    raise AssertionError(f"{urls} was accepted")


inline = ask(f"data:image/png;base64,{base64.b64encode(PNG).decode()}")
linked = ask(f"{web}/harbour.png")
assert "/harbour.png" in fetched
assert linked.usage.prompt_tokens == inline.usage.prompt_tokens, (linked.usage, inline.usage)
assert ask(f"{web}/moved.png").usage.prompt_tokens == inline.usage.prompt_tokens, "a redirect is followed"
refused(f"The image at {web}/missing.png could not be fetched.", f"{web}/missing.png")
refused("not an image", f"{web}/notes.txt")
refused("larger than 20 MB", f"{web}/huge.png")
refused("At most 8 images", *[f"{web}/harbour.png"] * 9)

# The Responses API's input_image and Anthropic's url source are fetched the same way.
answer = client.responses.create(model=model, max_output_tokens=2, temperature=0, extra_body={"ignore_eos": True},
                                 input=[{"role": "user", "content": [
                                     {"type": "input_text", "text": "What is in this picture?"},
                                     {"type": "input_image", "image_url": f"{web}/harbour.png"}]}])
assert answer.usage.input_tokens == inline.usage.prompt_tokens, (answer.usage, inline.usage)

from anthropic import Anthropic  # noqa: E402

claude = Anthropic(base_url=base.removesuffix("/v1"), api_key=key, max_retries=0)
block = {"type": "image", "source": {"type": "url", "url": f"{web}/harbour.png"}}
counted = claude.messages.count_tokens(model=model, messages=[{"role": "user", "content": [
    block, {"type": "text", "text": "What is in this picture?"}]}])
assert counted.input_tokens == inline.usage.prompt_tokens, (counted, inline.usage)
files.shutdown()
print("all checks passed")
