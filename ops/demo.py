"""The demo users of the local realm join the directory, so that they can sign in at the
portal and find themselves there (consent is theirs to give, on the portal's pages).

HR would do this for real people; here the demo users (deploy/keycloak/realm-advocacy.json)
join as employees of the communications org unit, with a few networks each. Joining again
is harmless: the directory is keyed by advocate id and compacted.
"""

from deploy.local.keycloak import demo_users
from ops.bus import publish
from schemas import directory
from schemas.directory import Profile

NETWORKS = ["linkedin", "x", "xing", "bluesky"]


async def join(bootstrap: str) -> list[str]:
    """Publish `person.joined` for every demo user; returns their advocate ids."""
    people = demo_users()
    await publish(bootstrap, directory.TOPIC, [directory.PersonJoined(
        source="/hr/demo", subject=p.advocate_id, data=Profile(
            advocate_id=p.advocate_id, role="employee", org_unit="Communications", location="Berlin",
            languages=["de", "en"], networks=NETWORKS)) for p in people])
    return [p.advocate_id for p in people]
