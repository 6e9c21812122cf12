// MCP servers and their tools (src-tauri/src/commands/tools.rs): the app's mcp.json on the
// Tools page (each server checked, switched on or off, added, removed, another app's file
// imported), the user's answer to a call waiting in the chat, and the tools allowed always.
import { invoke } from '@tauri-apps/api/core';
export type { AllowedTool, Approval, McpServerView, McpTool, ServerEntry } from '../bindings';
import type { AllowedTool, Approval, McpServerView, McpTool, ServerEntry } from '../bindings';

export const mcpServers = () => invoke<McpServerView[]>('mcp_servers');
/** The server's tools: started if it is not running (rejects with why it did not start). */
export const mcpCheck = (name: string) => invoke<McpTool[]>('mcp_check', { name });
export const mcpAdd = (name: string, entry: ServerEntry) => invoke<McpServerView[]>('mcp_add', { name, entry });
export const mcpRemove = (name: string) => invoke<McpServerView[]>('mcp_remove', { name });
export const mcpImport = (file: string) => invoke<McpServerView[]>('mcp_import', { file });
export const mcpSetEnabled = (name: string, enabled: boolean) =>
  invoke<McpServerView[]>('mcp_set_enabled', { name, enabled });
/** Answers a call waiting for approval in the chat. */
export const toolApprove = (callId: string, approval: Approval) => invoke<void>('tool_approve', { callId, approval });
export const toolsAllowed = () => invoke<AllowedTool[]>('tools_allowed');
export const toolDisallow = (server: string, tool: string) => invoke<AllowedTool[]>('tool_disallow', { server, tool });
