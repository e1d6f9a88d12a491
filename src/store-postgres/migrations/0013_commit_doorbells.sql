-- Commit doorbells: nothing to create here. PostgreSQL tells listening processes of commits
-- with NOTIFY; the SQLite store's 0013 adds the table of loopback ports through which its
-- processes tell each other. The number keeps both stores' migrations in step.
SELECT 1;
