-- Other ways a persona can open a chat (SillyTavern's `alternate_greetings`): a JSON list of texts.
ALTER TABLE personas ADD COLUMN alternate_greetings TEXT NOT NULL DEFAULT '[]';
