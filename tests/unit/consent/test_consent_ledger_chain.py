"""The proof ledger's hash chain: any change to an entry, a removal or a reordering breaks it."""

from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta, timezone

from services.consent.ledger import GENESIS, ChainCheck, Entry, chain_hash

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def entries(n: int) -> list[Entry]:
    return [Entry(f"{i:064x}", "leaderboard", "given", 1, "b" * 64, "web_form", "subject", T0 + timedelta(minutes=i))
            for i in range(n)]


def rows(chain: list[Entry]) -> list[dict]:
    out, prev = [], GENESIS
    for seq, entry in enumerate(chain, start=1):
        h = chain_hash(prev, entry)
        out.append({**asdict(entry), "seq": seq, "prev_hash": prev, "entry_hash": h})
        prev = h
    return out


def check(rows_: list[dict]) -> ChainCheck:
    c = ChainCheck()
    for row in rows_:
        c.feed(row)
    return c


def test_an_untouched_chain_verifies_and_reports_its_head():
    good = rows(entries(5))
    result = check(good).result()
    assert (result.entries, result.intact, result.head_hash) == (5, True, good[-1]["entry_hash"])


def test_an_empty_ledger_is_intact_with_no_head():
    result = check([]).result()
    assert (result.entries, result.intact, result.head_hash) == (0, True, None)


def test_a_changed_field_names_that_entry():
    tampered = rows(entries(5))
    tampered[2]["change"] = "withdrawn"
    result = check(tampered).result()
    assert (result.first_broken_seq, result.entries, result.intact) == (3, 5, False)


def test_a_changed_entry_with_a_recomputed_hash_breaks_the_next_link():
    tampered = rows(entries(5))
    tampered[2]["occurred_at"] = T0 - timedelta(days=1)
    tampered[2]["entry_hash"] = chain_hash(tampered[2]["prev_hash"], Entry(**{
        k: tampered[2][k] for k in Entry.__dataclass_fields__}))
    assert check(tampered).result().first_broken_seq == 4


def test_a_removed_entry_is_found():
    chain = rows(entries(5))
    del chain[1]
    assert check(chain).result().first_broken_seq == 3


def test_the_hash_covers_every_field_and_the_time_in_utc():
    entry = entries(1)[0]
    same_instant = replace(entry, occurred_at=entry.occurred_at.astimezone(timezone(timedelta(hours=2))))
    assert chain_hash(GENESIS, same_instant) == chain_hash(GENESIS, entry)
    for field, other in [("subject_ref", "c" * 64), ("purpose", "network_reach"), ("policy_version", 2),
                         ("changed_by", "controller"), ("method", "api")]:
        assert chain_hash(GENESIS, replace(entry, **{field: other})) != chain_hash(GENESIS, entry)
    assert chain_hash("1" * 64, entry) != chain_hash(GENESIS, entry)



def test_an_entrys_hash_is_the_one_every_ledger_written_so_far_holds():
    """The canonical form is what every stored hash covers: a change to how it is made
    (faster, say) must give the same bytes, or every existing ledger stops verifying."""
    person = Entry("ab" * 32, "leaderboard", "given", 3, "cd" * 32, "web_form", "subject",
                          datetime(2026, 11, 30, 9, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1))))
    policy = Entry(None, "leaderboard", "policy_published", None, None, None, "controller",
                          datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC))

    assert chain_hash(GENESIS, person) == \
        "41be105d21f694474a76080c4c2617026f012d7757bad7c06ab18ef71579b0e5"
    assert chain_hash(GENESIS, policy) == \
        "a0351c8d90db7b00e989c88e0b1f105d4bba2e4d7584c0cc592fc1365d448f0c"
