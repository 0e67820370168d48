-- The read model and the worker's record of applied commands.
CREATE TABLE todos (
  id          uuid        PRIMARY KEY,
  title       text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  description text        NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
  completed   boolean     NOT NULL DEFAULT false,
  user_id     text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  version     bigint      NOT NULL DEFAULT 1
);

-- Keyset pagination: GET /todos walks (created_at DESC, id DESC).
CREATE INDEX todos_keyset_idx ON todos (created_at DESC, id DESC);

-- Effectively-once: a command id is recorded in the same transaction that applies it,
-- so a redelivered command is recognised and skipped. GET /commands/:id reads it.
CREATE TABLE commands (
  command_id  uuid        PRIMARY KEY,
  todo_id     uuid        NOT NULL,
  actor       text        NOT NULL,
  type        text        NOT NULL CHECK (type IN ('create', 'update', 'delete')),
  status      text        NOT NULL CHECK (status IN ('applied', 'rejected')),
  reason      text        CHECK (reason IN ('forbidden', 'not_found')),
  issued_at   timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  CHECK ((status = 'rejected') = (reason IS NOT NULL))
);
