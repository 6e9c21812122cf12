-- The MCP servers whose tools a conversation offers (their names in mcp.json), as a JSON array;
-- NULL for none (every conversation before this migration).
ALTER TABLE conversations ADD COLUMN tools TEXT;
