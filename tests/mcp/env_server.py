"""An MCP server (PyPI's `mcp` SDK, over stdio) that reports what it was started with, for the
test that a server gets a cleared environment and its secrets put back in its arguments.

    python env_server.py [ARG…]

`environment`: its environment variables, as a JSON object. `arguments`: its command-line
arguments after the script's path, as a JSON list.
"""
import json
import os
import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer("sirocco-test-env")


@server.tool()
def environment() -> str:
    """The server's environment variables, as a JSON object."""
    return json.dumps(dict(os.environ))


@server.tool()
def arguments() -> str:
    """The server's command-line arguments, as a JSON list."""
    return json.dumps(sys.argv[1:])


server.run("stdio")
