"""The consent service's operator commands, against its own schema (DATABASE_URL):

    python -m services.consent.cli verify                 recompute the proof ledger's hash chain
    python -m services.consent.cli receipt ID [--text]    an advocate's consent receipt

`verify` exits 0 when the chain is intact, 1 naming the first entry (by seq) that does not
verify. (`advocacy consent verify|receipt` runs the same against the local stack.)
"""

import argparse
import asyncio
import sys
from datetime import UTC, datetime

import asyncpg

from services.consent import ledger, receipts
from services.consent.config import ConsentSettings


async def verify_ledger() -> ledger.Verification:
    """The whole chain, read in one snapshot (REPEATABLE READ), so appends meanwhile do not
    show up half-way."""
    conn = await asyncpg.connect(ConsentSettings().database_url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            return await ledger.verify(conn)
    finally:
        await conn.close()


async def export_receipt(advocate_id: str, as_text: bool) -> str:
    """The receipt as JSON, or its text rendering."""
    settings = ConsentSettings()
    conn = await asyncpg.connect(settings.database_url)
    try:
        receipt = await receipts.build(conn, settings, advocate_id, datetime.now(UTC))
    finally:
        await conn.close()
    return receipts.render_text(receipt) if as_text else receipt.model_dump_json(indent=2) + "\n"


def print_verification(result: ledger.Verification) -> int:
    if result.intact:
        print(f"ledger intact: {result.entries} entries, head {result.head_hash}")
        return 0
    print(f"ledger broken: entry {result.first_broken_seq} does not verify ({result.entries} entries)")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("verify", help="recompute the proof ledger's hash chain")
    receipt = verbs.add_parser("receipt", help="an advocate's consent receipt")
    receipt.add_argument("advocate_id")
    receipt.add_argument("--text", action="store_true", help="the readable rendering instead of JSON")
    args = parser.parse_args(argv)
    if args.verb == "verify":
        return print_verification(asyncio.run(verify_ledger()))
    print(asyncio.run(export_receipt(args.advocate_id, args.text)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
