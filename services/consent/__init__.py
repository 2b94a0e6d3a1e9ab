"""The consent service: purpose-bound consent given, refused and withdrawn only by the person,
its hash-chained proof ledger, receipts, expiry and erasure (docs/architecture.md).

app.py wiring · handlers.py what each command, directory event and expiry pass does ·
domain.py the rules (pure) · store.py SQL · announce.py ledger entry + events per change ·
ledger.py the hash chain · receipts.py receipts · cli.py verify and receipt for operators ·
config.py settings and topics · migrations/
"""
