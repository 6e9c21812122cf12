-- A reasoning model's thought, kept apart from its answer, and how long it took (ms). Both stay
-- NULL for answers without one (every answer saved before this migration).
ALTER TABLE messages ADD COLUMN reasoning TEXT;
ALTER TABLE messages ADD COLUMN reasoning_ms INTEGER;
