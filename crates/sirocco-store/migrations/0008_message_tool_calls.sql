-- The tools an answer called (MCP servers' tools in the chat), each with its arguments and,
-- once it ran (or the user denied it), its result: a JSON array, NULL for answers that called
-- none (every answer saved before this migration). The model's next words after the results
-- are the next answer, a child of this one, so regenerating and editing still branch.
ALTER TABLE messages ADD COLUMN tool_calls TEXT;
