-- A valid command whose data the database refused is dead-lettered and recorded too,
-- as rejected with reason 'invalid', so GET /commands/:id ends instead of answering
-- "pending" forever. When Postgres refuses even the command's own fields in this row
-- (a NUL in actor), the worker records the id alone: what it cannot store stays NULL.
-- Every other outcome still records the whole command.
ALTER TABLE commands
  ALTER COLUMN todo_id DROP NOT NULL,
  ALTER COLUMN actor DROP NOT NULL,
  ALTER COLUMN type DROP NOT NULL,
  ALTER COLUMN issued_at DROP NOT NULL,
  DROP CONSTRAINT commands_reason_check;

-- NOT VALID skips scanning the rows already there: 001 made every one of them satisfy
-- both checks (NOT NULL columns, reasons forbidden or not_found), and a scan would hold
-- this migration's exclusive lock, which stalls the worker, for the whole table. New and
-- updated rows are checked all the same.
ALTER TABLE commands
  ADD CONSTRAINT commands_reason_check
    CHECK (reason IN ('forbidden', 'not_found', 'invalid')) NOT VALID,
  ADD CONSTRAINT commands_known_unless_invalid
    CHECK (
      (todo_id IS NOT NULL AND actor IS NOT NULL AND type IS NOT NULL AND issued_at IS NOT NULL)
      OR reason IS NOT DISTINCT FROM 'invalid'
    ) NOT VALID;
