"""What a person sees at the end: the figures, and where the platform can be reached."""

from collections import Counter

from deploy.local.config import StackConfig
from schemas.platform import load_platform
from ops.scenario.play import Outcome


def print_summary(config: StackConfig, outcome: Outcome) -> None:
    print(f"\n== Run {outcome.tag}: the figures")
    for item_id, audience in sorted(outcome.audience.items()):
        print(f"  {item_id:<28} in {audience:>5} feeds")
    networks = Counter(s["data"]["network"] for s in outcome.shares)
    print(f"  shares {len(outcome.shares)} ({', '.join(f'{n} {c}' for n, c in networks.most_common())})")
    print(f"  clicks through the redirect {outcome.clicks}")
    for rejection in outcome.rejections:
        print(f"  rejected, as it must be: {rejection}")
    if outcome.report:
        _print_report(outcome.report)


def _print_report(report: dict) -> None:
    t = report["totals"]
    print(f"\n== Campaign report ({report['scope']['campaign_id']})")
    print(f"  shares {t['shares']}  clicks {t['clicks']} (unique {t['unique_clicks']}; bots not counted)  "
          f"impressions {t['impressions']}")
    print(f"  reactions {t['reactions']}  comments {t['comments']}  reshares {t['reshares']}  "
          f"potential reach {t['potential_reach']}")
    print(f"  engagement rate {t['engagement_rate']:.2%}  earned media value {t['emv']:,.2f} {t['currency']}")
    for row in report["by_network"]:
        print(f"    {row['network']:<10} shares {row['shares']:>4}  clicks {row['clicks']:>5}  "
              f"EMV {row['emv']:>10,.2f}")
    shown = [g["org_unit"] for g in report.get("by_org_unit", [])]
    print(f"  org units shown (at least {report.get('k_anonymity')} people took part): {', '.join(shown) or 'none'}")
    print(f"  report: {report['html_path']}")


def print_where(config: StackConfig) -> None:
    print("\n== The platform keeps running")
    for name in load_platform().services:
        log = config.state_dir / "logs" / f"{name}.log"
        print(f"  {name:<13} http://127.0.0.1:{config.http_ports[name]}  "
              f"(/ready, /metrics on {config.management_ports[name]})   log {log}")
    print(f"  tracked links http://127.0.0.1:{config.http_ports['distribution']}/r/<code>")
    print(f"  Kafka {config.kafka_bootstrap}   Postgres {config.admin_dsn.rsplit('@', 1)[1]}   "
          f"Keycloak {config.keycloak_url}/realms/advocacy (demo users: README)")
    print("  `make status` or `.venv/bin/advocacy flow` to look inside; `make down` to stop it all")
