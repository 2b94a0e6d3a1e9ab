"""`python -m services.consent.receipt ADVOCATE_ID [--text]`: an advocate's consent receipt."""

import argparse
import asyncio
from datetime import UTC, datetime

import asyncpg

from services.consent import receipts
from services.consent.config import ConsentSettings


async def export(advocate_id: str, as_text: bool) -> str:
    settings = ConsentSettings()
    conn = await asyncpg.connect(settings.database_url)
    try:
        receipt = await receipts.build(conn, settings, advocate_id, datetime.now(UTC))
    finally:
        await conn.close()
    return receipts.render_text(receipt) if as_text else receipt.model_dump_json(indent=2) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("advocate_id")
    parser.add_argument("--text", action="store_true", help="the readable rendering instead of JSON")
    args = parser.parse_args()
    print(asyncio.run(export(args.advocate_id, args.text)), end="")


if __name__ == "__main__":
    main()
