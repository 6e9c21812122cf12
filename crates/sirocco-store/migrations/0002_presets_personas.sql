-- Presets: saved parameter bundles (load + sampling + system prompt + overflow policy) as JSON.
-- Built-ins are written by the app on open (`builtin_key` set) and are read-only; users
-- duplicate them to change them.
CREATE TABLE presets (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    builtin_key TEXT    UNIQUE,
    params_json TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- The preset a model starts with (keyed by the model file's path).
CREATE TABLE model_presets (
    model_path TEXT    PRIMARY KEY,
    preset_id  INTEGER NOT NULL REFERENCES presets(id) ON DELETE CASCADE
);

-- Personas: who the assistant is. `{{char}}` and `{{user}}` in the texts are expanded when sent.
CREATE TABLE personas (
    id               INTEGER PRIMARY KEY,
    name             TEXT    NOT NULL,
    avatar           TEXT    NOT NULL DEFAULT '',
    description      TEXT    NOT NULL DEFAULT '',
    system_prompt    TEXT    NOT NULL DEFAULT '',
    greeting         TEXT    NOT NULL DEFAULT '',
    example_dialogue TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

ALTER TABLE conversations ADD COLUMN preset_id  INTEGER REFERENCES presets(id)  ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN persona_id INTEGER REFERENCES personas(id) ON DELETE SET NULL;

-- Walking down a branch (latest child of a message) and the sibling counts.
CREATE INDEX messages_by_parent_only ON messages(parent_id, id);

-- Why an answer failed (shown under it), when it did.
ALTER TABLE messages ADD COLUMN error TEXT;
