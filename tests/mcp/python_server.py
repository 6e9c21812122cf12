"""An MCP server written with PyPI's `mcp` SDK, for the MCP tests: `add` and `whoami` (the
Authorization header it was sent, over HTTP).

    python python_server.py http [--require-auth VALUE]
                                     Streamable HTTP on 127.0.0.1, a free port; prints
                                     "listening on PORT" once it accepts connections; with
                                     --require-auth, a request without that Authorization
                                     header is answered 401
    python python_server.py stdio    over stdin and stdout
"""
import socket
import sys

import uvicorn
from mcp.server.mcpserver import Context, MCPServer

server = MCPServer("sirocco-test-http")


@server.tool()
def add(a: int, b: int) -> int:
    """Adds two integers."""
    return a + b


@server.tool()
def whoami(ctx: Context) -> str:
    """Says which Authorization header the request carried."""
    headers = ctx.headers or {}
    return headers.get("authorization", "nobody")


if sys.argv[1:] == ["stdio"]:
    server.run("stdio")
    sys.exit(0)

sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen(16)
port = sock.getsockname()[1]
app = server.streamable_http_app()
if "--require-auth" in sys.argv:
    expected = sys.argv[sys.argv.index("--require-auth") + 1].encode()
    inner = app

    async def app(scope, receive, send):
        if scope["type"] == "http" and dict(scope["headers"]).get(b"authorization") != expected:
            await send({"type": "http.response.start", "status": 401, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"unauthorized"})
            return
        await inner(scope, receive, send)

config = uvicorn.Config(app, log_level="warning")
print(f"listening on {port}", flush=True)
uvicorn.Server(config).run(sockets=[sock])
