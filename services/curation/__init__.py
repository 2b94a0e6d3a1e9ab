"""The curation service: items from draft through four-eyes review to publication,
expiry and retraction; campaigns; RSS/Atom sources turned into drafts (docs/architecture.md).

app.py wiring · handlers.py what each command, erasure and schedule pass does ·
domain.py the workflow (pure) · validation.py and share_texts.py content rules (pure) ·
store.py SQL · poller.py, fetching.py (SSRF-safe), feeds.py (parsing) the feed sources ·
config.py settings and topics · migrations/
"""
