-- The worker applies each batch's writes as one statement (data-modifying CTEs), so
-- a batch costs one round trip and commits atomically without BEGIN/COMMIT. This lets
-- that statement abort itself when its version-guarded UPDATE/DELETE touched fewer
-- todos than it read: another writer got there first. SQLSTATE 40001
-- (serialization_failure) marks it as retriable, which is exactly what it is.
CREATE FUNCTION worker_expect(ok boolean, what text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT ok THEN
    RAISE EXCEPTION 'concurrent write: %', what USING ERRCODE = '40001';
  END IF;
  RETURN true;
END
$$;
