"""`advocacy report`: a period's or a campaign's report, read from the metrics service over
HTTP (GET /api/reports) by an analyst signed in at the local realm, as an analyst's tool would.

By default the realm's demo analyst (`analyst`, adv-demo-0004) signs in; another user of the
realm gives their password in ADVOCACY_PASSWORD or at the prompt. The password grant is the
local realm's shortcut for tools (client `advocacy-scenario`, deploy/keycloak/README.md).
"""

import json
from dataclasses import dataclass
from datetime import date

import httpx

from deploy.local.keycloak import Realm, demo_users, password_token

DEMO_ANALYST = "analyst"
FORMATS = ("json", "html", "csv")


@dataclass(frozen=True)
class Answer:
    status: int
    body: str  # the report as rendered, or the problem document (RFC 9457) explaining a refusal
    content_type: str

    def problem(self) -> str:
        """A refusal in one line: status, reason, detail and the fields at fault."""
        try:
            problem = json.loads(self.body)
        except ValueError:
            return f"HTTP {self.status}"
        fields = [".".join(str(part) for part in e.get("location", [])[1:]) for e in problem.get("errors", [])]
        return (f"HTTP {self.status} {problem.get('reason', '')} ({problem.get('detail', '')})"
                + (f": {', '.join(fields)}" if fields else ""))


def demo_password(username: str) -> str | None:
    """The password of one of the local realm's demo users, else None."""
    return next((u.password for u in demo_users() if u.username == username), None)


async def request(realm: Realm, metrics_url: str, username: str, password: str, starts_on: date, ends_on: date,
                  campaign_id: str | None, output: str = "json", timeout: float = 120.0) -> Answer:
    """Sign `username` in, then GET the report in `output` format (json, html, csv).
    KeycloakError if the realm refuses the sign-in; httpx.HTTPError if metrics cannot be reached."""
    params = {"from": starts_on.isoformat(), "to": ends_on.isoformat(), "format": output}
    if campaign_id:
        params["campaign_id"] = campaign_id
    async with httpx.AsyncClient(timeout=timeout) as http:
        token = (await password_token(realm, username, password, http=http))["access_token"]
        response = await http.get(f"{metrics_url}/api/reports", params=params,
                                  headers={"Authorization": f"Bearer {token}"})
    return Answer(response.status_code, response.text, response.headers.get("content-type", ""))
