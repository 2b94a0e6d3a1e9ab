"""advocacy — the operator CLI.

  advocacy run [--size N] [--stop]          the stack, the four services as processes, the scenario
  advocacy up | down | status | topics      the local stack (Kafka, Postgres, Keycloak, topics, services)
  advocacy flow                              consumer lag, outbox backlog, dead letters
  advocacy dead-letters list|show|replay     what a service could not handle
  advocacy consent verify | receipt ID       the proof ledger's chain; an advocate's receipt
  advocacy report [--campaign ID] [--from D] [--to D] [--format F] [--output FILE]
                                             a report from the metrics service, read by an analyst
"""

import argparse
import asyncio
import getpass
import json
import os
import sys
from datetime import date, timedelta
from pathlib import Path

import httpx

from deploy.local import stack
from deploy.local.config import HOST, StackConfig, StackError
from deploy.local.keycloak import KeycloakError, Realm
from ops import dead_letters, overview
from ops import demo as demo_people
from ops import report as ops_report
from ops.scenario import summary
from ops.scenario.play import Endpoints, play
from schemas.platform import load_platform


def flow(config: StackConfig) -> None:
    services = list(load_platform().services)
    lag = asyncio.run(overview.consumer_lag(config.kafka_bootstrap, services))
    backlog = asyncio.run(overview.outbox_backlog(config.admin_dsn, services))
    dead = asyncio.run(overview.dead_letter_counts(config.kafka_bootstrap, services))
    print(f"{'service':<14}{'consumer lag':>14}{'outbox backlog':>16}{'dead letters':>14}")
    for s in services:
        print(f"{s:<14}{_show(lag[s]):>14}{_show(backlog[s]):>16}{dead[s]:>14}")


def demo(config: StackConfig, args: argparse.Namespace) -> None:
    stack.run(config)
    asyncio.run(demo_people.join(config.kafka_bootstrap))  # they can sign in at the portal and find themselves
    outcome = None
    if not args.no_scenario:
        outcome = asyncio.run(play(Endpoints.of(config), args.size, args.seed))
        summary.print_summary(config, outcome)
    if args.stop:
        stack.down(config)
    else:
        summary.print_where(config, outcome)


def _show(value: int | None) -> str:
    return "—" if value is None else str(value)


def letters(config: StackConfig, args: argparse.Namespace) -> None:
    if args.action == "replay":
        sent = asyncio.run(dead_letters.replay(config.kafka_bootstrap, args.service, args.offset))
        print(f"replayed {len(sent)} dead letter(s) of {args.service}")
        return
    found = asyncio.run(dead_letters.read(config.kafka_bootstrap, args.service))
    if args.action == "list":
        for d in found:
            print(f"{d.offset:>6}  {d.origin:<40}  {d.reason}")
        print(f"{len(found)} dead letter(s) in {dead_letters.topic_of(args.service)}")
    else:
        [letter] = [d for d in found if d.offset == args.offset] or [None]
        if letter is None:
            raise StackError(f"no dead letter at offset {args.offset} of {args.service}")
        print(json.dumps({"offset": letter.offset, "key": (letter.key or b"").decode(errors="replace"),
                          "headers": letter.headers,  # without a value: read at its origin (ADR 0018)
                          "value": None if letter.value_omitted else letter.value.decode(errors="replace")}, indent=2))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="advocacy", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = p.add_subparsers(dest="verb", required=True)
    run = verbs.add_parser("run", help="the platform and the scenario", description=(
        "Start Kafka, Postgres, Keycloak and the four services as processes (ports: README), then play the "
        "scenario: a directory from HR; people signed in at Keycloak answering consent, editors drafting and "
        "approving a campaign, advocates sharing, an analyst reading the report, all over the services' HTTP "
        "APIs; clicks through the redirect, engagement from a connector."))
    run.add_argument("--size", type=int, default=1000, help="people in the directory (default 1000)")
    run.add_argument("--seed", type=int, help="the same seed plays the same scenario")
    run.add_argument("--no-scenario", action="store_true", help="only start the platform")
    run.add_argument("--stop", action="store_true", help="stop the platform after the scenario")
    down = verbs.add_parser("down", help="stop services and stack (data is kept)",
                            description="Stop this stack's services, Keycloak, Kafka and Postgres.")
    down.add_argument("--purge", action="store_true", help="also delete Kafka's, Postgres's and Keycloak's data")
    for verb, text in (("up", "start Kafka, Postgres and Keycloak, provision roles, create topics"),
                       ("status", "health of broker, database, Keycloak, topics and this stack's services"),
                       ("topics", "create the topics declared in schemas/platform.toml"),
                       ("flow", "consumer lag per group, outbox backlog and dead letters per service")):
        verbs.add_parser(verb, help=text, description=text)
    dl = verbs.add_parser("dead-letters", help="list, show or replay dead letters",
                          description=dead_letters.__doc__)
    dl.add_argument("action", choices=["list", "show", "replay"])
    dl.add_argument("service", choices=list(load_platform().services))
    dl.add_argument("--offset", type=int, help="the dead letter's offset (show: required; replay: only this one)")
    proof = verbs.add_parser("consent", help="verify the proof ledger, export a receipt",
                             description="verify: recompute the ledger's hash chain (exit 1 naming the first "
                                         "broken entry); receipt: an advocate's consent history, JSON or --text")
    proof.add_argument("action", choices=["verify", "receipt"])
    proof.add_argument("advocate_id", nargs="?", help="receipt: whose")
    proof.add_argument("--text", action="store_true", help="receipt: the readable rendering")
    rep = verbs.add_parser("report", help="a campaign or period report (JSON, HTML with charts, or CSV)",
                           description=ops_report.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    rep.add_argument("--campaign", help="one campaign's report (default: everything in the period)")
    rep.add_argument("--from", dest="starts_on", type=date.fromisoformat, default=date.today() - timedelta(days=30),
                     help="first day of shares counted (default: 30 days ago)")
    rep.add_argument("--to", dest="ends_on", type=date.fromisoformat, default=date.today(),
                     help="last day (default: today)")
    rep.add_argument("--format", choices=ops_report.FORMATS, default="json", help="default: json")
    rep.add_argument("--output", type=Path, help="write it to this file (default: standard output)")
    rep.add_argument("--user", default=ops_report.DEMO_ANALYST,
                     help=f"who signs in, a user of the local realm with the role analyst (default: "
                          f"{ops_report.DEMO_ANALYST}, the demo analyst, adv-demo-0004)")
    return p


def report(config: StackConfig, args: argparse.Namespace) -> int:
    password = ops_report.demo_password(args.user) or os.environ.get("ADVOCACY_PASSWORD") \
        or getpass.getpass(f"password of {args.user}: ")
    metrics_url = f"http://{HOST}:{config.http_ports['metrics']}"
    try:
        answer = asyncio.run(ops_report.request(Realm.of(config), metrics_url, args.user, password, args.starts_on,
                                                args.ends_on, args.campaign, args.format))
    except KeycloakError as refused:
        raise StackError(f"{args.user} could not sign in at {Realm.of(config).issuer}: {refused}") from None
    except httpx.HTTPError as error:
        raise StackError(f"metrics did not answer on {metrics_url} ({type(error).__name__}): is it running? "
                         f"`advocacy run --no-scenario`") from None
    if answer.status != 200:
        print(f"refused: {answer.problem()}", file=sys.stderr)
        return 1
    if args.output:
        args.output.write_text(answer.body, encoding="utf-8")
        print(f"{args.format.upper()} report written to {args.output.resolve()}")
    else:
        sys.stdout.write(answer.body if answer.body.endswith("\n") else answer.body + "\n")
    return 0


def consent_proof(config: StackConfig, args: argparse.Namespace) -> int:
    from services.consent import cli

    os.environ.setdefault("DATABASE_URL", config.service_dsn("consent"))  # this stack's, not the default one's
    if args.action == "verify":
        return cli.main(["verify"])
    if not args.advocate_id:
        raise StackError("receipt needs the advocate's id")
    return cli.main(["receipt", args.advocate_id, *(["--text"] if args.text else [])])


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = StackConfig.from_env()
        if args.verb == "dead-letters":
            if args.action == "show" and args.offset is None:
                raise StackError("show needs --offset (see `advocacy dead-letters list SERVICE`)")
            letters(config, args)
        elif args.verb == "flow":
            flow(config)
        elif args.verb == "consent":
            return consent_proof(config, args)
        elif args.verb == "report":
            return report(config, args)
        elif args.verb == "run":
            demo(config, args)
        elif args.verb == "status":
            return 0 if stack.status(config) else 1
        elif args.verb == "down":
            stack.down(config, purge=args.purge)
        else:
            {"up": stack.up, "topics": stack.topics}[args.verb](config)
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {error} (is the stack up? `advocacy up`)", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
