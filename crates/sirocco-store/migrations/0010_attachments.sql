-- Files attached to messages (images), each kept once by its content: `hash` is the SHA-256 of
-- `bytes`. A message lists its attachments in `messages.attachments` (a JSON array of
-- references: hash, name, type, size), never in its text. Rows no message lists any more are
-- removed when messages or conversations are deleted.
CREATE TABLE attachments (
    hash TEXT PRIMARY KEY NOT NULL,
    mime TEXT NOT NULL,
    bytes BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
ALTER TABLE messages ADD COLUMN attachments TEXT;
