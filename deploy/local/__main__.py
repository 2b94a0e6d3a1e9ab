"""CLI: python -m deploy.local [--tests] run|up|down|status|topics (env variables: deploy/local/config.py, README)."""

from __future__ import annotations

import argparse
import sys
import time

from . import stack
from .config import StackConfig, StackError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.local",
        description="Run the local stack (Kafka, Postgres, Keycloak; the services with `run`) without Docker. "
        "Env: ADVOCACY_STACK_DIR, ADVOCACY_KAFKA_PORT, ADVOCACY_KAFKA_CONTROLLER_PORT, ADVOCACY_PG_PORT, "
        "ADVOCACY_KEYCLOAK_PORT, ADVOCACY_KEYCLOAK_MANAGEMENT_PORT, ADVOCACY_HTTP_PORT_BASE, ADVOCACY_PG_BIN.",
    )
    parser.add_argument("--tests", action="store_true",
                        help="the test stack instead (what `make test` and pytest use): state in <stack dir>-test, "
                             "every port + 50")
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("run", help="`up`, then start the four services as processes and wait until they are ready")
    verbs.add_parser("up", help="start postgres, kafka and keycloak, provision roles/schemas, create topics "
                                "(idempotent)")
    down = verbs.add_parser("down", help="stop the services, keycloak, kafka and postgres (data is kept)")
    down.add_argument("--purge", action="store_true", help="also delete kafka's, postgres's and keycloak's data")
    verbs.add_parser("status", help="health of broker, database, keycloak, declared topics and this stack's "
                                    "services; exit 1 if unhealthy")
    verbs.add_parser("topics", help="create missing topics declared in schemas/platform.toml")
    args = parser.parse_args(argv)

    try:
        config = StackConfig.from_env()
        config = config.for_tests() if args.tests else config
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
