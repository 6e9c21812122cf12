-- Answers of the server's Responses API, kept so a later request can continue from one
-- (`previous_response_id`). Each row holds only what its request added: its new input and its
-- answer as chat messages; a conversation is the chain of rows through `previous_id`. Only the
-- newest rows are kept (see responses.rs).
CREATE TABLE api_responses (
    id           TEXT    PRIMARY KEY,
    previous_id  TEXT,
    created_at   INTEGER NOT NULL,
    messages     TEXT    NOT NULL,
    response     TEXT    NOT NULL
);
CREATE INDEX api_responses_created ON api_responses (created_at);
