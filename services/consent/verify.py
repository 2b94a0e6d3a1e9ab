"""`python -m services.consent.verify`: recompute the proof ledger's hash chain.

Exits 0 when intact, 1 naming the first entry (by seq) that does not verify.
"""

import asyncio
import sys

import asyncpg

from services.consent import ledger
from services.consent.config import ConsentSettings


async def check() -> ledger.Verification:
    conn = await asyncpg.connect(ConsentSettings().database_url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            return await ledger.verify(conn)
    finally:
        await conn.close()


def main() -> int:
    result = asyncio.run(check())
    if result.intact:
        print(f"ledger intact: {result.entries} entries, head {result.head_hash}")
        return 0
    print(f"ledger broken: entry {result.first_broken_seq} does not verify ({result.entries} entries)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
