-- The user's own chat template for a model, kept by the model file's name (the same file in
-- another folder keeps it). No row: the model's own template.
CREATE TABLE model_templates (
    model       TEXT    PRIMARY KEY,
    template    TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);
