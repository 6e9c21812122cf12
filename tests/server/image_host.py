"""A web server for the guarded fetcher's tests, run on another host (a network namespace at a
public-looking TEST-NET address): images, a text file, a redirect anywhere, slow images, and
how many transfers it served at once.

Usage: image_host.py <address> <port>; prints "ready" once it listens.

  /png/<kib>           an image/png body of that many KiB (a real PNG header, then padding)
  /slow/<kib>          the same, sent 16 KiB at a time, 20 ms apart
  /text                text/plain
  /redirect?to=<url>   302 to the URL
  /stats               {"max_concurrent": n, "started": n} as JSON (images started)
  /reset               clears the stats
"""
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PNG_HEADER = bytes.fromhex("89504e470d0a1a0a")
lock = threading.Lock()
stats = {"now": 0, "max_concurrent": 0, "started": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def send(self, status, kind, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        parts = url.path.strip("/").split("/")
        if parts[0] == "stats":
            with lock:
                body = json.dumps({"max_concurrent": stats["max_concurrent"], "started": stats["started"]})
            return self.send(200, "application/json", body.encode())
        if parts[0] == "reset":
            with lock:
                stats.update(now=0, max_concurrent=0, started=0)
            return self.send(200, "text/plain", b"ok")
        if parts[0] == "text":
            return self.send(200, "text/plain", b"not an image")
        if parts[0] == "redirect":
            to = urllib.parse.parse_qs(url.query)["to"][0]
            return self.send(302, "text/plain", b"", [("Location", to)])
        if parts[0] in ("png", "slow") and len(parts) == 2 and parts[1].isdigit():
            size = int(parts[1]) * 1024
            body = (PNG_HEADER + b"\0" * size)[:size]
            with lock:
                stats["now"] += 1
                stats["started"] += 1
                stats["max_concurrent"] = max(stats["max_concurrent"], stats["now"])
            try:
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                step = 16 * 1024 if parts[0] == "slow" else size or 1
                for at in range(0, size, step):
                    self.wfile.write(body[at : at + step])
                    if parts[0] == "slow":
                        self.wfile.flush()
                        time.sleep(0.02)
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                with lock:
                    stats["now"] -= 1
            return
        self.send(404, "text/plain", b"no such file")

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler)
print("ready", flush=True)
server.serve_forever()
