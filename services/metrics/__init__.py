"""The metrics service: shares, clicks and engagement counted exactly once; group figures
only for k people, personal figures only with consent; snapshots and reports
(docs/architecture.md).

app.py wiring · handlers.py what each event, batch, command and schedule pass does ·
domain.py counting rules (pure) · store.py writes · queries.py reads · reports.py and
charts.py rendering · config.py settings, topics and rate cards · migrations/
"""
