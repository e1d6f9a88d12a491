-- Whether a listener admits runs (it runs a worker): a ring for a commit that only inserted
-- runs awaiting admission goes to those alone. Sent to every process, it woke a server or a
-- process waiting for a result for nothing, and each datagram cost the ringing process
-- about 0.1 ms, the worker's datagram waiting behind theirs. A process from
-- before this column registers without it: it ignores admission rings anyway.
ALTER TABLE commit_doorbells ADD COLUMN admits INTEGER NOT NULL DEFAULT 0;
