-- Flow documents (YAML/JSON DAGs), one row per deployed version. A flow's latest version is
-- its highest; runs pin the version they started with in their journal.
CREATE TABLE flow_versions (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  hash TEXT NOT NULL,
  format TEXT NOT NULL CHECK (format IN ('yaml', 'json')),
  source TEXT NOT NULL,
  document TEXT NOT NULL,
  description TEXT,
  author TEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (name, version)
);
