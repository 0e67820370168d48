-- Leave 15% of each todos page free, so an update can usually put the new row version
-- on the same page and skip both index inserts: a HOT update, possible because an
-- update changes neither id nor created_at, the only indexed columns. About a third of
-- the worker's commands are updates; with full pages each one wrote a new entry into
-- todos_pkey and todos_keyset_idx. Applies to pages written from now on; existing
-- pages fill up as before until they are rewritten.
ALTER TABLE todos SET (fillfactor = 85);
