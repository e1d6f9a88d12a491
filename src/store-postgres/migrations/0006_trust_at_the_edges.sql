-- Tokens may expire: NULL means never. Checked at each request against the server's clock.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;

-- One row the readiness probe rewrites when the engine has written nothing lately: proves
-- the database still takes a write (not just a read) without touching real data.
CREATE TABLE write_probes (
  id INTEGER PRIMARY KEY,
  probed_at BIGINT NOT NULL
);
