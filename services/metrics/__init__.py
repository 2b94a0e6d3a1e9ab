"""The metrics service: shares, clicks and engagement counted exactly once; group figures
only for k people, personal figures only with consent; snapshots, and reports read over
HTTP (docs/architecture.md, ADR 0015).

app.py wiring · api.py the HTTP API (reports, "my impact", the leaderboard) · handlers.py
what each event, batch and schedule pass does · domain.py counting rules and who may see
what (pure) · store.py writes · queries.py reads · reports.py and charts.py rendering ·
config.py settings, topics and rate cards · migrations/
"""
