"""A unit of work's deferred writes (`Deferred`, group commit: ADR 0031): what a savepoint
rolled back takes with it (tests/integration/test_group_commit.py writes the rest)."""

from services.runtime.unit_of_work import Deferred, DeferredTable, KeyClaim

LEDGER = DeferredTable("ledger", (("seq", "bigint"), ("entry_hash", "text")))
NOTES = DeferredTable("notes", (("text", "text"),))


def claim(key: str) -> KeyClaim:
    return KeyClaim("/test/http", key, f"{key} request", ValueError("repeated"), ValueError("reused"))


def test_undo_takes_back_every_kind_of_write_made_after_the_mark():
    writes = Deferred()
    writes.rows.append(("e1", "t", "k", "type", b"{}"))
    writes.insert(LEDGER, [(1, "h1")])
    writes.claim(claim("key-1"))
    mark = writes.mark()
    writes.rows.append(("e2", "t", "k", "type", b"{}"))
    writes.insert(LEDGER, [(2, "h2"), (3, "h3")])
    writes.insert(NOTES, [("first seen after the mark",)])
    writes.claim(claim("key-2"))
    writes.undo(mark)
    assert [row[0] for row in writes.rows] == ["e1"]
    assert writes.inserts == {LEDGER: [(1, "h1")], NOTES: []}
    assert [c.key for c in writes.claims] == ["key-1"]
