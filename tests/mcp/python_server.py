"""An MCP server written with PyPI's `mcp` SDK, for the MCP tests: `add` and `whoami` (the
Authorization header it was sent, over HTTP).

    python python_server.py http     Streamable HTTP on 127.0.0.1, a free port; prints
                                     "listening on PORT" once it accepts connections
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
config = uvicorn.Config(server.streamable_http_app(), log_level="warning")
print(f"listening on {port}", flush=True)
uvicorn.Server(config).run(sockets=[sock])
