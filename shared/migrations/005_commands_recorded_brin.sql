-- The worker prunes command records older than COMMAND_RETENTION_HOURS in small
-- batches. Rows arrive in recorded_at order, so a BRIN index (a few pages for
-- millions of rows, next to nothing per insert) finds the oldest ones without a scan
-- of the whole table and without slowing the inserts of the apply path.
CREATE INDEX commands_recorded_at_brin ON commands USING brin (recorded_at);
