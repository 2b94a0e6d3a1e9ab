"""What every service needs, written once: settings, database and migrations, the
transactional outbox and its relay, the idempotent inbox, dead letters, retries,
logs, metrics and the HTTP health endpoints."""
