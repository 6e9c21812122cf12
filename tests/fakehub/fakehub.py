"""A fake Hugging Face Hub on 127.0.0.1 for tests: the API `hf-hub` uses, a separate "CDN"
host for LFS files, and injectable faults.

    python3 fakehub.py --repos repos.json [--port 0] [--cdn-port 0] [--forever] [--rate MB/s]
                       [--token hf_test]

prints one line `READY <api-url> <cdn-url>` on stdout when both servers listen.

repos.json: [{"id": "owner/name", "downloads": 1, "likes": 2, "lastModified": "...",
              "tags": [...], "gated": false, "readme": "...",
              "files": [{"path": "x.gguf", "source": "/abs/file"}]}]

Endpoints (shapes as the real Hub answers them):
  GET  /api/models?search=&author=&filter=&sort=&direction=&limit=&full=&cursor=   (Link: rel="next")
  GET  /api/models/{owner}/{name}[/revision/{rev}]      siblings, sha, gated, gguf
  GET  /api/models/{owner}/{name}/tree/{rev}[/{path}]   [{type, oid, size, path, lfs}]
  POST /api/models/{owner}/{name}/paths-info/{rev}      form paths=...
  HEAD/GET /{owner}/{name}/resolve/{rev}/{path}          LFS: 302 to the CDN with X-Repo-Commit,
                                                         X-Linked-Etag, X-Linked-Size; others: 200
  HEAD/GET <cdn>/lfs/{sha256}                            the bytes, with Range (206)
  GET  /api/whoami-v2                                    the account of `Authorization: Bearer
                                                         <--token>`; 401 without it or another
Gated repositories' files need that token (401 "GatedRepo" without one, 401 for another).
Control (tests only):
  POST /_faults   [{"file": "name or *", "kind": "...", "times": 1, ...}]   replaces the faults
  GET  /_log      the CDN requests served so far (method, file, range, status, bytes sent)
Fault kinds (on CDN GETs of a matching file; each fires `times` times, -1 = always):
  status (code, default 500) · reset (after_bytes: drop the connection mid-body) ·
  truncate (after_bytes: close early, headers promised more) · drip (delay seconds per 64 KiB) ·
  bad_length (Content-Length larger than the body) · bad_hash (one byte of the body flipped)
"""
import argparse
import hashlib
import json
import os
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 1 << 16


class Repo:
    def __init__(self, spec):
        self.id = spec["id"]
        self.author = self.id.split("/")[0]
        self.downloads = spec.get("downloads", 0)
        self.likes = spec.get("likes", 0)
        self.last_modified = spec.get("lastModified", "2024-07-18T12:00:00.000Z")
        self.created_at = spec.get("createdAt", "2024-07-01T12:00:00.000Z")
        self.tags = spec.get("tags", ["gguf"])
        self.gated = spec.get("gated", False)
        self.sha = hashlib.sha1(self.id.encode()).hexdigest()
        self.files = {}
        readme = spec.get("readme", f"# {self.id}\n")
        self.files["README.md"] = {"content": readme.encode(), "lfs": False}
        for f in spec.get("files", []):
            self.files[f["path"]] = {"source": f["source"], "lfs": True}

    def size(self, path):
        f = self.files[path]
        return len(f["content"]) if "content" in f else os.path.getsize(f["source"])

    def sha256(self, path):
        f = self.files[path]
        if "sha256" not in f:
            h = hashlib.sha256()
            with open(f["source"], "rb") as src:
                while chunk := src.read(1 << 20):
                    h.update(chunk)
            f["sha256"] = h.hexdigest()
        return f["sha256"]

    def git_oid(self, path):
        data = self.files[path]["content"]
        return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()

    def sibling(self, path, blobs):
        entry = {"rfilename": path}
        if blobs:
            entry["size"] = self.size(path)
            entry["blobId"] = self.git_oid(path) if not self.files[path]["lfs"] else self.sha256(path)[:40]
            if self.files[path]["lfs"]:
                entry["lfs"] = {"sha256": self.sha256(path), "size": self.size(path), "pointerSize": 135}
        return entry

    def tree_entry(self, path):
        if self.files[path]["lfs"]:
            sha = self.sha256(path)
            return {"type": "file", "oid": sha[:40], "size": self.size(path), "path": path,
                    "lfs": {"oid": sha, "size": self.size(path), "pointerSize": 135}}
        return {"type": "file", "oid": self.git_oid(path), "size": self.size(path), "path": path}

    def summary(self, full):
        out = {"_id": self.sha[:24], "id": self.id, "modelId": self.id, "likes": self.likes,
               "downloads": self.downloads, "trendingScore": 0, "private": False,
               "tags": self.tags, "library_name": "gguf", "createdAt": self.created_at,
               "lastModified": self.last_modified}
        if full:
            out.update({"author": self.author, "gated": self.gated, "sha": self.sha, "disabled": False,
                        "siblings": [{"rfilename": p} for p in self.files]})
        return out


class Hub:
    def __init__(self, repos):
        self.repos = {r.id: r for r in repos}
        self.faults = []
        self.log = []
        self.lock = threading.Lock()
        self.cdn_url = None
        self.rate = 0

    def by_sha(self, sha):
        for repo in self.repos.values():
            for path, f in repo.files.items():
                if f["lfs"] and repo.sha256(path) == sha:
                    return repo, path
        return None, None

    def take_fault(self, path):
        with self.lock:
            for fault in self.faults:
                if fault.get("file", "*") in ("*", path) and fault.get("times", 1) != 0:
                    if fault.get("times", 1) > 0:
                        fault["times"] = fault.get("times", 1) - 1
                    return dict(fault)
        return None


def make_handler(hub, is_cdn):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def send_json(self, obj, status=200, headers=None):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def error(self, status, code, message):
            self.send_json({"error": message}, status, {"X-Error-Code": code, "X-Error-Message": message})

        def do_HEAD(self):
            self.route()

        def do_GET(self):
            self.route()

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.body = self.rfile.read(length)
            self.route()

        def route(self):
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            path = urllib.parse.unquote(url.path)
            try:
                if is_cdn:
                    m = re.fullmatch(r"/lfs/([0-9a-f]{64})", path)
                    return self.serve_blob(m.group(1)) if m else self.error(404, "EntryNotFound", "no such blob")
                if path == "/_faults" and self.command == "POST":
                    with hub.lock:
                        hub.faults = json.loads(self.body or b"[]")
                        hub.log.clear()
                    return self.send_json({"ok": True})
                if path == "/_log":
                    with hub.lock:
                        return self.send_json(list(hub.log))
                if path == "/api/models":
                    return self.list_models(query)
                if path == "/api/whoami-v2":
                    return self.whoami()
                m = re.fullmatch(r"/api/models/([^/]+/[^/]+)/(tree|paths-info)/([^/]+)(?:/(.*))?", path)
                if m:
                    return self.tree(m.group(1), m.group(2), m.group(4) or "", query)
                m = re.fullmatch(r"/api/models/([^/]+/[^/]+)(?:/revision/([^/]+))?", path)
                if m:
                    return self.model_info(m.group(1), query)
                m = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
                if m:
                    return self.resolve(m.group(1), m.group(3))
                return self.error(404, "NotFound", "no such endpoint")
            except (BrokenPipeError, ConnectionResetError):
                pass

        def authorized(self):
            return self.headers.get("Authorization") == f"Bearer {hub.token}"

        def whoami(self):
            if not self.authorized():
                return self.error(401, "Unauthorized", "Invalid credentials in Authorization header")
            self.send_json({"type": "user", "name": "sirocco-tester", "fullname": "Sirocco Tester",
                            "auth": {"type": "access_token", "accessToken": {"role": "read"}}})

        def repo(self, repo_id):
            repo = hub.repos.get(repo_id)
            if repo is None:
                self.error(404, "RepoNotFound", f"Repository Not Found for url: {self.path}")
            return repo

        def list_models(self, query):
            q = lambda k, d=None: query.get(k, [d])[0]
            repos = list(hub.repos.values())
            if q("search"):
                s = q("search").lower()
                repos = [r for r in repos if s in r.id.lower()]
            if q("author"):
                repos = [r for r in repos if r.author == q("author")]
            if q("filter"):
                repos = [r for r in repos if q("filter") in r.tags]
            key = {"downloads": lambda r: r.downloads, "likes": lambda r: r.likes,
                   "lastModified": lambda r: r.last_modified, "createdAt": lambda r: r.created_at}.get(q("sort"))
            if key:
                repos.sort(key=key, reverse=q("direction", "-1") == "-1")
            limit = int(q("limit", "1000"))
            start = int(q("cursor", "0"))
            page = repos[start:start + limit]
            headers = {}
            if start + limit < len(repos):
                params = {k: v[0] for k, v in query.items()}
                params["cursor"] = str(start + limit)
                host = self.headers.get("Host")
                headers["Link"] = f'<http://{host}/api/models?{urllib.parse.urlencode(params)}>; rel="next"'
            full = q("full") in ("true", "1")
            self.send_json([r.summary(full) for r in page], headers=headers)

        def model_info(self, repo_id, query):
            repo = self.repo(repo_id)
            if repo is None:
                return
            blobs = query.get("blobs", ["false"])[0] in ("true", "1")
            info = repo.summary(True)
            info["siblings"] = [repo.sibling(p, blobs) for p in repo.files]
            info["cardData"] = {"license": "apache-2.0"}
            ggufs = [p for p in repo.files if p.endswith(".gguf")]
            if ggufs:
                info["gguf"] = {"total": 0, "architecture": "llama", "context_length": 0}
            info["usedStorage"] = sum(repo.size(p) for p in repo.files)
            self.send_json(info)

        def tree(self, repo_id, kind, prefix, query):
            repo = self.repo(repo_id)
            if repo is None:
                return
            if kind == "paths-info":
                wanted = urllib.parse.parse_qs((self.body or b"").decode()).get("paths", [])
                if not wanted and self.body:
                    try:
                        wanted = json.loads(self.body).get("paths", [])
                    except ValueError:
                        wanted = []
                entries = [repo.tree_entry(p) for p in wanted if p in repo.files]
            else:
                entries = [repo.tree_entry(p) for p in repo.files if p.startswith(prefix)]
            self.send_json(entries)

        def resolve(self, repo_id, path):
            repo = self.repo(repo_id)
            if repo is None:
                return
            if path not in repo.files:
                return self.error(404, "EntryNotFound", f"{path} does not exist")
            if repo.gated and not self.headers.get("Authorization"):
                return self.error(401, "GatedRepo", f"Access to model {repo_id} is restricted")
            if repo.gated and not self.authorized():
                return self.error(401, "Unauthorized", "Invalid credentials in Authorization header")
            f = repo.files[path]
            common = {"X-Repo-Commit": repo.sha, "Accept-Ranges": "bytes"}
            if f["lfs"]:
                sha = repo.sha256(path)
                self.send_response(302)
                for k, v in common.items():
                    self.send_header(k, v)
                self.send_header("X-Linked-Etag", f'"{sha}"')
                self.send_header("X-Linked-Size", str(repo.size(path)))
                self.send_header("ETag", f'"{sha}"')
                self.send_header("Location", f"{hub.cdn_url}/lfs/{sha}?file={urllib.parse.quote(path)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = f["content"]
            self.send_response(200)
            for k, v in common.items():
                self.send_header(k, v)
            self.send_header("ETag", f'"{repo.git_oid(path)}"')
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def serve_blob(self, sha):
            repo, path = hub.by_sha(sha)
            if repo is None:
                return self.error(404, "EntryNotFound", "no such blob")
            size = repo.size(path)
            start, end = 0, size - 1
            rng = self.headers.get("Range")
            if rng:
                m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
                if not m or int(m.group(1)) >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            fault = hub.take_fault(path) if self.command == "GET" else None
            entry = {"method": self.command, "file": path, "range": rng, "start": start, "end": end,
                     "fault": fault and fault["kind"], "status": None, "sent": 0}
            with hub.lock:
                hub.log.append(entry)
            if fault and fault["kind"] == "status":
                entry["status"] = fault.get("code", 500)
                return self.error(entry["status"], "ServerError", "injected failure")
            length = end - start + 1
            promised = length + (1000 if fault and fault["kind"] == "bad_length" else 0)
            entry["status"] = 206 if rng else 200
            self.send_response(entry["status"])
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(promised))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", f'"{sha}"')
            if rng:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if self.command == "HEAD":
                return
            limit = length
            if fault and fault["kind"] in ("reset", "truncate"):
                limit = min(length, fault.get("after_bytes", length // 2))
            flip_at = size // 2 if fault and fault["kind"] == "bad_hash" else -1
            began = time.monotonic()
            with open(repo.files[path]["source"], "rb") as src:
                src.seek(start)
                pos = start
                while entry["sent"] < limit:
                    chunk = src.read(min(CHUNK, limit - entry["sent"]))
                    if not chunk:
                        break
                    if start <= flip_at < pos + len(chunk) and flip_at >= pos:
                        b = bytearray(chunk)
                        b[flip_at - pos] ^= 0xFF
                        chunk = bytes(b)
                    self.wfile.write(chunk)
                    entry["sent"] += len(chunk)
                    pos += len(chunk)
                    if hub.rate:
                        ahead = entry["sent"] / hub.rate - (time.monotonic() - began)
                        if ahead > 0:
                            time.sleep(ahead)
                    if fault and fault["kind"] == "drip":
                        self.wfile.flush()
                        time.sleep(fault.get("delay", 0.05))
            if fault and fault["kind"] == "reset":
                # An abortive close: the client sees a connection reset mid-body.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
            elif fault and fault["kind"] in ("truncate", "bad_length"):
                self.close_connection = True
            self.wfile.flush()

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repos", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cdn-port", type=int, default=0)
    ap.add_argument("--forever", action="store_true", help="serve until killed (default: until stdin closes)")
    ap.add_argument("--rate", type=float, default=0, help="limit each CDN response to this many MB/s (a link)")
    ap.add_argument("--token", default="hf_test", help="the one access token this hub accepts")
    args = ap.parse_args()
    with open(args.repos) as f:
        hub = Hub([Repo(spec) for spec in json.load(f)])
    hub.rate = args.rate * 1e6
    hub.token = args.token
    api = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(hub, False))
    cdn = ThreadingHTTPServer(("127.0.0.1", args.cdn_port), make_handler(hub, True))
    api.daemon_threads = cdn.daemon_threads = True
    hub.cdn_url = f"http://127.0.0.1:{cdn.server_address[1]}"
    for server in (api, cdn):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"READY http://127.0.0.1:{api.server_address[1]} {hub.cdn_url}", flush=True)
    try:
        if args.forever:
            threading.Event().wait()
        # Until the test that started us closes our stdin (or dies).
        sys.stdin.read()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
