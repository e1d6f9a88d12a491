-- An announced end carries how the run ended: the payload is the run's id, a newline, its
-- status, a newline and its serialized output (completed) or error (failed), so a `result()`
-- waiting in another process returns without reading the run, a round trip after the
-- notice. Ids hold no control characters (names.ts), so the first two newlines split it.
-- Only the id, as before, for a cancelled run, a run that continued as new (its result is
-- its successor's) and an outcome too large for a notification (PostgreSQL's limit is
-- 8,000 bytes; 7,000 leaves room for the id): the waiter reads those. A process of an
-- earlier version takes the longer payload for an id it does not await, and polls.
CREATE OR REPLACE FUNCTION cairn_announce_run_end() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  outcome text;
BEGIN
  IF NEW.continued_to IS NULL THEN
    outcome := CASE NEW.status WHEN 'completed' THEN NEW.output WHEN 'failed' THEN NEW.error END;
  END IF;
  IF outcome IS NOT NULL AND octet_length(outcome) <= 7000 THEN
    PERFORM pg_notify('cairn_ended_' || md5(TG_TABLE_SCHEMA),
      NEW.id || E'\n' || NEW.status || E'\n' || outcome);
  ELSE
    PERFORM pg_notify('cairn_ended_' || md5(TG_TABLE_SCHEMA), NEW.id);
  END IF;
  RETURN NULL;
END $$;
