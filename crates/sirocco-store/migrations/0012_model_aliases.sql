-- Names clients may use for a model besides its own (Ollama's `copy`: `gpt-4o` for a local
-- Mistral, say). `model` is the library id it stands for; names compare without case.
CREATE TABLE model_aliases (
    alias TEXT PRIMARY KEY NOT NULL COLLATE NOCASE,
    model TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
