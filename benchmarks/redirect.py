"""The tracked-link redirect under load: `python -m benchmarks.redirect [--seconds 10]`.

Needs the platform running with at least one share (`make run`) and `wrk` (Debian's
package: apt-get install wrk). Every request resolves a stored code, writes a click
event through the outbox and answers 302; wrk reports requests/s and latency.
Target (DESIGN.md): at least 2,000 requests/s with p99 within 50 ms.
"""

import argparse
import asyncio
import shutil
import subprocess
import sys

import asyncpg

from deploy.local.config import StackConfig
from deploy.platform import load_platform


async def a_code(admin_dsn: str) -> str:
    conn = await asyncpg.connect(admin_dsn)
    try:
        code = await conn.fetchval("""SELECT s.code FROM distribution.shares s JOIN distribution.items i USING (item_id)
                                      WHERE i.status = 'active' LIMIT 1""")
    finally:
        await conn.close()
    if code is None:
        sys.exit("no share to click: run `make run` first")
    return code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    config = StackConfig.from_env()
    url = f"http://127.0.0.1:{load_platform().services['distribution']}/r/{asyncio.run(a_code(config.admin_dsn))}"
    subprocess.run(["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--latency",
                    "-H", "User-Agent: Mozilla/5.0 (benchmark)", url], check=True)


if __name__ == "__main__":
    main()
