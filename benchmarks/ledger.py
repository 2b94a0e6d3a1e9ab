"""Consent's proof ledger after years of use: `python -m benchmarks.ledger [--entries 10000000]
[--people 1000000] [--receipts 200]`.

Consent runs as its own process on a scratch schema. The benchmark writes a valid hash chain
of `entries` ledger entries straight into the schema (COPY, in chunks; `people` people with
`entries / people` changes each, spread over five purposes: given, withdrawn, given again …),
as years of consent changes would have left it. Then, over consent's HTTP API, signed in:

- `POST /api/ledger/verification` as the privacy office: the whole chain recomputed; its
  time, and the service's peak resident memory before and after (VmHWM, MiB);
- `GET /api/me/receipt` as `receipts` different people, one after the other: p50 and p99.

Targets (issue #19): a receipt ≤ 50 ms; the verification is reported (time, memory).
"""

import argparse
import asyncio
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from benchmarks.front_door import TOKEN_SECONDS
from benchmarks.scratch import scratch, served
from harness.issuer import TestIssuer
from services.consent import domain, ledger
from services.consent.config import ConsentSettings, ConsentTopics

PURPOSES = ("receive_content", "share_attribution", "network_reach", "leaderboard", "scheduled_sharing")
CHANGES = ("given", "withdrawn")
CHUNK = 100_000
START = datetime(2024, 1, 1, tzinfo=UTC)
_COLUMNS = ["seq", "subject_ref", "purpose", "change", "policy_version", "policy_hash", "method", "changed_by",
            "occurred_at", "prev_hash", "entry_hash"]


def person(n: int) -> str:
    return f"adv-{n:08d}"


# A row of the ledger table, in COPY's column order: seq, subject_ref, purpose, change,
# policy_version, policy_hash, method, changed_by, occurred_at, prev_hash, entry_hash.
LedgerRow = tuple[int, str | None, str | None, str, int | None, str | None, str | None, str, datetime, str, str]


def chain(entries: int, people: int, key: bytes) -> Iterator[list[LedgerRow]]:
    """The ledger's rows in seq order, in chunks: person n's k-th change is entry
    k * people + n, so each person's history is spread over the whole chain, as in life."""
    refs = [domain.pseudonym(key, person(n)) for n in range(people)]
    prev, rows = ledger.GENESIS, list[LedgerRow]()
    for seq in range(1, entries + 1):
        who, k = (seq - 1) % people, (seq - 1) // people
        entry = ledger.Entry(refs[who], PURPOSES[k % 5], CHANGES[(k // 5) % 2], 1, "0" * 64, "web_form",
                             "subject", START + timedelta(seconds=seq))
        entry_hash = ledger.chain_hash(prev, entry)
        rows.append((seq, entry.subject_ref, entry.purpose, entry.change, entry.policy_version, entry.policy_hash,
                     entry.method, entry.changed_by, entry.occurred_at, prev, entry_hash))
        prev = entry_hash
        if len(rows) == CHUNK:
            yield rows
            rows = []
    if rows:
        yield rows


async def fill(conn: asyncpg.Connection, entries: int, people: int, key: bytes, sampled: list[str]) -> None:
    for rows in chain(entries, people, key):
        await conn.copy_records_to_table("ledger", columns=_COLUMNS, records=rows)
    # The sampled people's current standing, as the changes above leave it (receipts read both).
    await conn.executemany(
        "INSERT INTO consents (advocate_id, purpose, status, policy_version, policy_hash, collection_method, "
        "changed_by, changed_at) VALUES ($1, $2, 'given', 1, $3, 'web_form', 'subject', $4) ON CONFLICT DO NOTHING",
        [(who, purpose, "0" * 64, START) for who in sampled for purpose in PURPOSES])
    await conn.execute("ANALYZE ledger")


async def measure(entries: int = 10_000_000, people: int = 1_000_000, receipts: int = 200) -> dict[str, float]:
    key = ConsentSettings().consent_pseudonym_key.get_secret_value().encode()
    sampled = [person(n) for n in range(0, people, max(1, people // receipts))][:receipts]
    with TestIssuer() as issuer:
        async with scratch(ConsentTopics) as bench, served(bench, "consent", identity=issuer.settings()) as process:
            conn = await asyncpg.connect(bench.config.service_dsn(bench.name))
            try:
                began = time.perf_counter()
                await fill(conn, entries, people, key, sampled)
                filled_s = time.perf_counter() - began
                ledger_mb = await conn.fetchval("SELECT pg_total_relation_size('ledger')") / 2**20
            finally:
                await conn.close()
            expires = int(time.time()) + TOKEN_SECONDS
            officer = issuer.token("officer-00000001", realm_roles=("privacy_officer",), exp=expires)
            tokens = {who: issuer.token(who, exp=expires) for who in sampled}
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{process.port}", timeout=3600) as client:
                rss_before = process.peak_rss_mb()
                began = time.perf_counter()
                verified = await client.post("/api/ledger/verification",
                                             headers={"Authorization": f"Bearer {officer}"})
                verify_s = time.perf_counter() - began
                rss_after = process.peak_rss_mb()
                assert verified.status_code == 200, verified.text
                result = verified.json()
                assert (result["entries"], result["intact"]) == (entries, True), result
                latencies = []
                for who in sampled:
                    began = time.perf_counter()
                    receipt = await client.get("/api/me/receipt", headers={"Authorization": f"Bearer {tokens[who]}"})
                    latencies.append(time.perf_counter() - began)
                    assert receipt.status_code == 200, receipt.text
    q = statistics.quantiles(latencies, n=100)
    return {"ledger_entries": entries, "ledger_people": people, "ledger_fill_s": round(filled_s, 1),
            "ledger_mb": round(ledger_mb), "ledger_verify_s": round(verify_s, 1),
            "ledger_verify_entries_per_s": round(entries / verify_s),
            "ledger_verify_rss_mb": {"before": rss_before, "peak": rss_after},
            "receipt_p50_ms": round(q[49] * 1000, 1), "receipt_p99_ms": round(q[98] * 1000, 1)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--receipts", type=int, default=200)
    args = parser.parse_args()
    for key, value in asyncio.run(measure(args.entries, args.people, args.receipts)).items():
        print(f"{key:<32} {value}")
