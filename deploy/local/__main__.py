"""CLI: python -m deploy.local up|down|status|topics (see deploy/local/config.py for the env variables)."""

from __future__ import annotations

import argparse
import sys
import time

from . import stack
from .config import StackConfig, StackError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.local",
        description="Run the local Kafka + Postgres stack without Docker. "
        "Env: ADVOCACY_STACK_DIR, ADVOCACY_KAFKA_PORT, ADVOCACY_PG_PORT, ADVOCACY_PG_BIN.",
    )
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("run", help="`up`, then start the four services as processes and wait until they are ready")
    verbs.add_parser("up", help="start postgres and kafka, provision roles/schemas, create topics (idempotent)")
    down = verbs.add_parser("down", help="stop the services, kafka and postgres (data is kept)")
    down.add_argument("--purge", action="store_true", help="also delete kafka and postgres data")
    verbs.add_parser("status", help="health of broker, database and declared topics; exit 1 if unhealthy")
    verbs.add_parser("topics", help="create missing topics declared in schemas/platform.toml")
    args = parser.parse_args(argv)

    config = StackConfig.from_env()
    try:
        if args.verb == "run":
            stack.run(config)
        elif args.verb == "up":
            began = time.monotonic()
            stack.up(config)
            print(f"up: ready in {time.monotonic() - began:.1f}s (state in {config.state_dir})")
        elif args.verb == "down":
            stack.down(config, purge=args.purge)
        elif args.verb == "status":
            return 0 if stack.status(config) else 1
        elif args.verb == "topics":
            stack.topics(config)
    except StackError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
