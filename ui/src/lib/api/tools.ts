// MCP servers on the Tools page: the app's mcp.json, each server checked, added, removed,
// another app's file imported (src-tauri/src/commands/tools.rs).
import { invoke } from '@tauri-apps/api/core';
export type { McpServerView, McpTool, ServerEntry } from '../bindings';
import type { McpServerView, McpTool, ServerEntry } from '../bindings';

export const mcpServers = () => invoke<McpServerView[]>('mcp_servers');
/** Starts the server, lists its tools and stops it (rejects with why it did not start). */
export const mcpCheck = (name: string) => invoke<McpTool[]>('mcp_check', { name });
export const mcpAdd = (name: string, entry: ServerEntry) => invoke<McpServerView[]>('mcp_add', { name, entry });
export const mcpRemove = (name: string) => invoke<McpServerView[]>('mcp_remove', { name });
export const mcpImport = (file: string) => invoke<McpServerView[]>('mcp_import', { file });
