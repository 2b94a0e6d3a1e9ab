"""What a test does as a person on the platform's public interfaces: commands that act for a
person go over the services' HTTP APIs, signed in with a token of the test issuer (on Kafka
they are refused `sign_in_required`)."""

from typing import Any

import httpx

from harness.issuer import TestIssuer


class SignedIn:
    """HTTP calls to the services as processes (`ports`: service -> HTTP port), each as the
    person `who` with realm roles `roles`."""

    def __init__(self, issuer: TestIssuer, ports: dict[str, int]) -> None:
        self.issuer, self.ports = issuer, ports

    async def call(self, service: str, method: str, path: str, who: str, body: dict[str, Any] | None = None,
                   roles: tuple[str, ...] = (), expect: int = 200) -> Any:
        """The answer's JSON; AssertionError for any status but `expect`."""
        headers = {"Authorization": f"Bearer {self.issuer.token(who, realm_roles=roles)}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.ports[service]}", timeout=30) as client:
            response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == expect, f"{method} {path} as {who}: {response.status_code} {response.text}"
        return response.json()
