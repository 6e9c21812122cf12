-- A persona's lorebook (SillyTavern's `character_book`): a JSON list of entries (keywords, text).
ALTER TABLE personas ADD COLUMN lorebook TEXT NOT NULL DEFAULT '[]';
