-- Documents attached to questions (`attachments` rows of a document type). Their text is read
-- once (`document_texts`, by the file's hash) and the vectors of their passages kept per
-- embedding model (`passage_vectors`: f32 little-endian, `dims` a vector). Both are caches:
-- a row missing is read or computed again; rows of removed attachments are removed with them.
CREATE TABLE document_texts (
    hash TEXT PRIMARY KEY NOT NULL,
    text TEXT NOT NULL,
    pages INTEGER,
    note TEXT
);
CREATE TABLE passage_vectors (
    hash TEXT NOT NULL,
    model TEXT NOT NULL,
    dims INTEGER NOT NULL,
    vectors BLOB NOT NULL,
    PRIMARY KEY (hash, model)
);
-- What of a question's documents the model was given (JSON: each document whole, or the
-- passages retrieved for the question), so later turns give it the same and the page shows it.
ALTER TABLE messages ADD COLUMN sources TEXT;
