"""The curation service: items from draft through four-eyes review to publication,
expiry and retraction, and revisions of published items; campaigns; RSS/Atom sources
turned into drafts; the editors' and approvers' HTTP API and audit trail
(docs/architecture.md, ADR 0007, ADR 0013).

app.py wiring · api.py the HTTP API · handlers.py what each command, erasure and schedule
pass does · domain.py the workflow (pure) · audit.py the audit trail's vocabulary (pure) ·
validation.py and share_texts.py content rules (pure) · store.py SQL the handlers use ·
queries.py what the API reads · poller.py, fetching.py (SSRF-safe), feeds.py (parsing) the
feed sources · config.py settings and topics · migrations/
"""
