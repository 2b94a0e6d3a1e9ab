"""What a person sees at the end: the figures, and where the platform can be reached."""

from collections import Counter

from deploy.local.config import StackConfig
from deploy.local.keycloak import Realm, demo_users
from deploy.local.services import portal_url
from ops.scenario.play import Outcome
from schemas.platform import load_platform


def print_summary(config: StackConfig, outcome: Outcome) -> None:
    print(f"\n== Run {outcome.tag}: the figures ({outcome.seconds:.0f} s; {outcome.sign_ins} people signed in, "
          f"{outcome.commands} commands over HTTP)")
    for item_id, audience in sorted(outcome.audience.items()):
        print(f"  {item_id:<28} in {audience:>5} feeds")
    networks = Counter(s["network"] for s in outcome.shares)
    print(f"  shares {len(outcome.shares)} ({', '.join(f'{n} {c}' for n, c in networks.most_common())})")
    print(f"  clicks through the redirect {outcome.clicks}")
    for rejection in outcome.rejections:
        print(f"  rejected, as it must be: {rejection}")
    if outcome.report:
        _print_report(config, outcome)


def _print_report(config: StackConfig, outcome: Outcome) -> None:
    report = outcome.report
    t = report["totals"]
    print(f"\n== Campaign report ({report['scope']['campaign_id']}), as the analyst read it")
    print(f"  whole weeks from {report['scope']['starts_on']}, counted up to {report['closed_through']}: "
          "this week's shares come in once the week is over (ADR 0020)")
    if t is None:
        print("  totals withheld: with the figures shown, they would tell those of fewer than k people")
    else:
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
    if outcome.impact:
        who, impact = outcome.impact
        mine = impact["totals"]
        print(f"  {who}'s own impact (GET /api/me/impact, only theirs to see): shares {mine['shares']}  "
              f"clicks {mine['clicks']}  impressions {mine['impressions']}")
    if outcome.report_html:
        print(f"  the page the analyst got: {outcome.report_html}")
    print(f"  over HTTP, signed in as an analyst: GET http://127.0.0.1:{config.http_ports['metrics']}"
          f"{outcome.report_query}&format=html (or `advocacy report --campaign {report['scope']['campaign_id']}`)")


def print_where(config: StackConfig, outcome: Outcome | None = None) -> None:
    realm = Realm.of(config)
    print("\n== The platform keeps running")
    print(f"  portal        {portal_url(config)}  (the people's pages: sign in as a demo user below)")
    for name in load_platform().services:
        log = config.state_dir / "logs" / f"{name}.log"
        print(f"  {name:<13} http://127.0.0.1:{config.http_ports[name]}/api/ (openapi.json)  "
              f"/ready, /metrics on {config.management_ports[name]}   log {log}")
    print(f"  tracked links http://127.0.0.1:{config.http_ports['distribution']}/r/<code>")
    print(f"  Kafka {config.kafka_bootstrap}   Postgres {config.admin_dsn.rsplit('@', 1)[1]}")
    print(f"  Keycloak {realm.issuer} (token endpoint …/protocol/openid-connect/token; "
          f"admin console {config.keycloak_url}/admin/, admin/admin)")
    print("  demo users (local only): username / password, advocate id, realm roles")
    for user in demo_users():
        print(f"    {user.username + ' / ' + user.password:<22} {user.advocate_id:<14} {', '.join(user.roles)}")
    if outcome is not None:
        print(f"  this run's people sign in as their advocate id (adv-{outcome.tag}-0000 …, staff-{outcome.tag}-ada …) "
              f"with the password {outcome.password}")
    print("  `make status` or `.venv/bin/advocacy flow` to look inside; `make down` to stop it all")
