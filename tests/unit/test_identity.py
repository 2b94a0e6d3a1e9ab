"""Who signed in: bearer JWTs verified against a test issuer's JWKS served over loopback HTTP."""

import asyncio
import time

import pytest
from pydantic import ValidationError

from harness.issuer import AUDIENCE, TestIssuer, ec_key, rsa_key
from services.runtime.identity import (
    Authenticator,
    InvalidToken,
    IssuerUnavailable,
    OidcSettings,
    Principal,
    SigningKeys,
    principal_from,
)


@pytest.fixture(scope="module")
def issuer():
    with TestIssuer() as running:
        yield running


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def authenticator(issuer: TestIssuer, clock: Clock | None = None, **settings) -> Authenticator:
    oidc = issuer.settings(**settings)
    return Authenticator(oidc, SigningKeys(oidc, clock=clock or time.monotonic))


async def test_a_token_signed_by_the_issuer_names_the_advocate_and_their_roles(issuer):
    auth = authenticator(issuer)
    assert await auth.principal(issuer.token("adv-000042", realm_roles=("editor", "advocate"))) == Principal(
        "adv-000042", frozenset({"editor", "advocate"}))
    assert await auth.principal(issuer.token("adv-000043", key=issuer.ec)) == Principal("adv-000043")
    await auth.aclose()


async def test_keys_are_fetched_once_and_then_answered_from_memory(issuer):
    auth = authenticator(issuer)
    before = issuer.jwks_requests
    for _ in range(20):
        await auth.principal(issuer.token())
    assert issuer.jwks_requests - before == 1
    await auth.aclose()


@pytest.fixture(scope="module")
def bad_tokens(issuer: TestIssuer) -> dict[str, tuple[str, str]]:
    """Each bad token and the reason it is refused for."""
    now = int(time.time())
    stranger = rsa_key(kid=issuer.rsa.kid)  # another issuer's key, under a kid ours publishes
    return {
        "expired": (issuer.token(exp=now - 120, iat=now - 600), "expired"),
        "not yet valid": (issuer.token(nbf=now + 600), "not_yet_valid"),
        "issued in the future": (issuer.token(iat=now + 600), "not_yet_valid"),
        "from another issuer": (issuer.token(iss="https://evil.example/realms/test"), "wrong_issuer"),
        "for another audience": (issuer.token(aud="another-platform"), "wrong_audience"),
        "without an expiry": (issuer.token(exp=None), "missing_claim"),
        "without an audience": (issuer.token(aud=None), "missing_claim"),
        "alg none": (issuer.unsigned_token(), "algorithm_not_allowed"),
        "HS256 signed with the public key": (issuer.hmac_with_public_key(), "algorithm_not_allowed"),
        "signed by a key the issuer never published": (issuer.token(key=rsa_key()), "unknown_key"),
        "signed by a stranger's key under a published kid": (issuer.token(key=stranger), "bad_signature"),
        "with a tampered payload": (issuer.tampered_token(sub="adv-000099", realm_access={"roles": ["admin"]}),
                                    "bad_signature"),
        "ES256 claimed for the RSA key": (issuer.token(key=ec_key(kid=issuer.rsa.kid)), "key_algorithm_mismatch"),
        "without a kid": (issuer.token(headers={"kid": None}), "missing_key_id"),
        "without the advocate's id": (issuer.token(sub=None), "missing_claim"),
        "naming somebody by e-mail": (issuer.token(sub="jane.doe@example.com"), "invalid_advocate_id"),
        "not a JWT at all": ("jane.doe@example.com", "malformed"),
        "far too long": ("a" * 20_000, "malformed"),
    }


CASES = [
    "expired", "not yet valid", "issued in the future", "from another issuer", "for another audience",
    "without an expiry", "without an audience", "alg none", "HS256 signed with the public key",
    "signed by a key the issuer never published", "signed by a stranger's key under a published kid",
    "with a tampered payload", "ES256 claimed for the RSA key", "without a kid", "without the advocate's id",
    "naming somebody by e-mail", "not a JWT at all", "far too long",
]


@pytest.mark.parametrize("case", CASES)
async def test_a_bad_token_is_refused_with_a_reason_that_quotes_nothing_of_it(issuer, bad_tokens, case):
    token, reason = bad_tokens[case]
    auth = authenticator(issuer)
    with pytest.raises(InvalidToken) as refused:
        await auth.principal(token)
    assert refused.value.reason == reason
    message = str(refused.value)
    assert token not in message and "jane.doe" not in message and "adv-0000" not in message
    error = refused.value  # no chained exception either (PyJWT's words) to end up in a traceback
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    await auth.aclose()


async def test_the_leeway_accepts_a_token_that_expired_a_moment_ago():
    with TestIssuer() as issuer:
        auth = authenticator(issuer, leeway_seconds=30)
        now = int(time.time())
        assert (await auth.principal(issuer.token(exp=now - 10, iat=now - 300))).advocate_id == "adv-000001"
        await auth.aclose()


async def test_keys_rotated_by_the_issuer_are_fetched_when_a_token_names_the_new_one():
    with TestIssuer() as issuer:
        clock = Clock()
        auth = authenticator(issuer, clock, jwks_min_refetch_seconds=10)
        await auth.principal(issuer.token())
        old = issuer.token()
        clock.now += 11
        issuer.rotate()
        assert (await auth.principal(issuer.token())).advocate_id == "adv-000001"
        assert issuer.jwks_requests == 2
        with pytest.raises(InvalidToken) as refused:  # the old key is no longer published: its tokens go
            await auth.principal(old)
        assert refused.value.reason == "unknown_key"
        await auth.aclose()


async def test_a_flood_of_made_up_kids_fetches_the_keys_at_most_once_per_interval():
    with TestIssuer() as issuer:
        clock = Clock()
        auth = authenticator(issuer, clock, jwks_min_refetch_seconds=10)
        await auth.principal(issuer.token())
        made_up = [issuer.token(key=rsa_key(kid=f"made-up-{n}")) for n in range(5)]
        for round_ in range(3):
            clock.now += 11 if round_ else 0
            results = await asyncio.gather(*(auth.principal(t) for t in made_up * 20), return_exceptions=True)
            assert all(isinstance(r, InvalidToken) and r.reason == "unknown_key" for r in results)
        assert issuer.jwks_requests == 3  # the first fetch, then one per interval that passed
        await auth.aclose()


async def test_requests_arriving_together_share_one_fetch():
    with TestIssuer() as issuer:
        auth = authenticator(issuer)
        tokens = [issuer.token(f"adv-{n:06d}") for n in range(50)]
        principals = await asyncio.gather(*(auth.principal(t) for t in tokens))
        assert [p.advocate_id for p in principals] == [f"adv-{n:06d}" for n in range(50)]
        assert issuer.jwks_requests == 1
        await auth.aclose()


async def test_an_issuer_that_cannot_be_reached_is_unavailable_not_a_refusal():
    with TestIssuer() as issuer:
        token = issuer.token()
        issuer.answering = False
        auth = authenticator(issuer)
        with pytest.raises(IssuerUnavailable):
            await auth.principal(token)
        await auth.aclose()
    closed = OidcSettings(issuer=issuer.url, audience=[AUDIENCE], http_timeout_seconds=1)  # nobody listens now
    with pytest.raises(IssuerUnavailable):
        await Authenticator(closed).principal(token)
    with pytest.raises(IssuerUnavailable) as unconfigured:
        await Authenticator(OidcSettings(issuer="")).principal(token)
    assert unconfigured.value.reason == "not_configured"


async def test_keys_in_hand_stay_in_use_while_the_issuer_is_away():
    with TestIssuer() as issuer:
        clock = Clock()
        auth = authenticator(issuer, clock, jwks_ttl_seconds=60)
        await auth.principal(issuer.token())
        issuer.answering = False
        clock.now += 3600  # long past the TTL: a refresh is due and fails
        assert (await auth.principal(issuer.token())).advocate_id == "adv-000001"
        with pytest.raises(IssuerUnavailable):  # a kid not in hand cannot be told from a rotation
            await auth.principal(issuer.token(key=rsa_key()))
        await auth.aclose()


async def test_a_discovery_document_naming_another_issuer_is_not_trusted():
    with TestIssuer() as issuer:
        auth = Authenticator(OidcSettings(issuer=issuer.url + "/", audience=[AUDIENCE]))
        with pytest.raises(IssuerUnavailable) as unavailable:
            await auth.principal(issuer.token())
        assert unavailable.value.reason == "discovery_mismatch"
        await auth.aclose()


async def test_a_key_that_names_no_algorithm_serves_any_allowed_one_of_its_type():
    with TestIssuer() as issuer:
        entra_like = rsa_key(alg="PS256")
        entra_like.names_alg = False
        issuer.published.append(entra_like)
        auth = authenticator(issuer, algorithms=["RS256", "PS256"], jwks_min_refetch_seconds=0)
        assert (await auth.principal(issuer.token(key=entra_like))).advocate_id == "adv-000001"
        named = rsa_key(alg="PS256")  # names PS256: a token claiming RS256 for it is refused
        issuer.published.append(named)
        named_as_rs = rsa_key(kid=named.kid, alg="RS256")
        named_as_rs.private = named.private
        with pytest.raises(InvalidToken) as refused:
            await auth.principal(issuer.token(key=named_as_rs))
        assert refused.value.reason == "key_algorithm_mismatch"
        await auth.aclose()


async def test_an_entra_id_style_token_names_the_advocate_by_oid_and_roles_by_roles():
    with TestIssuer() as issuer:
        auth = authenticator(issuer, advocate_claim="oid", roles_claim="roles")
        token = issuer.token(sub="something-else", oid="0f6c7e2a-1111-4b2e-9d3c-6a5e2f1a0b9c")
        token_with_roles = issuer.token(oid="0f6c7e2a-1111-4b2e-9d3c-6a5e2f1a0b9c", roles=["analyst"])
        assert (await auth.principal(token)).advocate_id == "0f6c7e2a-1111-4b2e-9d3c-6a5e2f1a0b9c"
        assert (await auth.principal(token_with_roles)).roles == {"analyst"}
        await auth.aclose()


@pytest.mark.parametrize(("claims", "roles"), [
    ({"realm_access": {"roles": ["editor", "advocate"]}}, {"editor", "advocate"}),
    ({"realm_access": {"roles": []}}, set()),
    ({}, set()),
    ({"realm_access": {}}, set()),
])
def test_roles_are_read_at_a_dotted_path_and_absent_roles_are_none(claims, roles):
    assert principal_from({"sub": "adv-000001", **claims}).roles == roles


def test_roles_may_be_one_space_separated_string_as_oauth_scopes_are():
    assert principal_from({"sub": "adv-000001", "scope": "read write"}, roles_claim="scope").roles == {"read", "write"}


@pytest.mark.parametrize("roles", [{"editor": True}, ["editor", 7], 42])
def test_a_roles_claim_of_another_shape_is_refused(roles):
    with pytest.raises(InvalidToken) as refused:
        principal_from({"sub": "adv-000001", "realm_access": {"roles": roles}})
    assert refused.value.reason == "invalid_roles_claim"


@pytest.mark.parametrize("advocate_id", [12345, "ab", "x" * 65, "jane doe", "jane@example.com"])
def test_an_advocate_id_that_is_not_a_pseudonymous_id_is_refused(advocate_id):
    with pytest.raises(InvalidToken) as refused:
        principal_from({"sub": advocate_id})
    assert refused.value.reason == "invalid_advocate_id"
    assert str(advocate_id) not in str(refused.value)


@pytest.mark.parametrize("algorithms", ["HS256", "RS256,HS512", "none", ""])
def test_the_settings_allow_only_asymmetric_algorithms(algorithms):
    with pytest.raises(ValidationError):
        OidcSettings(algorithms=algorithms)


def test_the_settings_read_the_environment(monkeypatch):
    monkeypatch.setenv("OIDC_ISSUER", "https://login.example.com/tenant/v2.0")
    monkeypatch.setenv("OIDC_AUDIENCE", "api://advocacy, 3f2a")
    monkeypatch.setenv("OIDC_ALGORITHMS", "RS256,ES256")
    monkeypatch.setenv("OIDC_ADVOCATE_CLAIM", "oid")
    settings = OidcSettings()
    assert settings.audience == ["api://advocacy", "3f2a"]
    assert settings.algorithms == ["RS256", "ES256"]
    assert settings.advocate_claim == "oid"
    assert settings.discovery_url == "https://login.example.com/tenant/v2.0/.well-known/openid-configuration"


# Verified tokens remembered (ADR 0027).

class Decodes:
    """Counts `jwt.decode`, which only a token not remembered goes through."""

    def __init__(self, monkeypatch) -> None:
        import jwt

        self.calls, real = 0, jwt.decode

        def counted(*args, **kwargs):
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(jwt, "decode", counted)


async def test_a_token_verified_once_is_taken_again_without_verifying_it_until_it_expires(issuer, monkeypatch):
    decodes, wall = Decodes(monkeypatch), Clock()
    wall.now = time.time()
    oidc = issuer.settings()
    auth = Authenticator(oidc, SigningKeys(oidc), clock=wall)
    token = issuer.token("adv-000042", realm_roles=("editor",), exp=int(wall.now) + 60)
    for _ in range(3):
        assert await auth.principal(token) == Principal("adv-000042", frozenset({"editor"}))
    assert decodes.calls == 1
    assert await auth.principal(issuer.token("adv-000042")) == Principal("adv-000042")  # another token
    assert decodes.calls == 2
    wall.now += 60  # its exp: never taken from memory from then on, leeway or not
    await auth.principal(token)  # still within PyJWT's leeway by the real clock: verified in full
    await auth.principal(token)
    assert decodes.calls == 4
    await auth.aclose()


async def test_a_remembered_token_whose_key_the_issuer_withdrew_is_refused_once_the_keys_are_fetched():
    with TestIssuer() as issuer:
        auth = authenticator(issuer)
        token = issuer.token()
        await auth.principal(token)
        issuer.rotate(keep_old=False)  # the old key withdrawn (compromised, say)
        await auth.principal(token)  # the key set in hand still has it
        await auth.keys.refresh()
        with pytest.raises(InvalidToken) as refused:
            await auth.principal(token)
        assert refused.value.reason == "unknown_key"
        await auth.aclose()


async def test_a_remembered_token_is_verified_again_once_the_key_set_is_older_than_its_ttl(issuer, monkeypatch):
    decodes, clock = Decodes(monkeypatch), Clock()
    auth = authenticator(issuer, clock=clock, jwks_ttl_seconds=300)
    token = issuer.token()
    await auth.principal(token)
    await auth.principal(token)
    assert decodes.calls == 1
    clock.now += 301  # the keys are fetched again by the verification, which a remembered token skips
    before = issuer.jwks_requests
    await auth.principal(token)
    assert (decodes.calls, issuer.jwks_requests - before) == (2, 1)
    await auth.aclose()


async def test_no_token_is_remembered_when_turned_off_and_at_most_as_many_as_allowed(issuer, monkeypatch):
    decodes = Decodes(monkeypatch)
    off = authenticator(issuer, verified_tokens=0)
    token = issuer.token()
    await off.principal(token)
    await off.principal(token)
    assert decodes.calls == 2
    small = authenticator(issuer, verified_tokens=2)
    tokens = [issuer.token(f"adv-{n:06d}") for n in range(3)]
    for token in tokens:
        await small.principal(token)
    assert len(small._verified) <= 2
    await off.aclose()
    await small.aclose()
