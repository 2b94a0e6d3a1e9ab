"""The distribution service: consent-aware audiences and feeds, notifications, share requests
with tracked links, scheduled posts, and the `/r/{code}` redirect (docs/architecture.md).

app.py wiring · handlers.py what each command, event and schedule pass does · domain.py
share and notification rules (pure) · store.py SQL of projections, feeds, notifications ·
share_store.py SQL of shares and tracked links · links.py codes, UTM targets, share intents ·
redirect.py the redirect · config.py settings and topics · migrations/
"""
