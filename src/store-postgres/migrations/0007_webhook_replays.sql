-- Webhook signatures already accepted, kept until their timestamp leaves the hook's window:
-- every server process on this database refuses a replayed delivery, also after a restart.
CREATE TABLE webhook_replays (
  key TEXT PRIMARY KEY,
  expires_at BIGINT NOT NULL
);
CREATE INDEX webhook_replays_expiry ON webhook_replays (expires_at);
