"""What a service refuses to start with (services/runtime/settings.py `refusals`): outside
local mode, any key or password this repository ships, or none; always, the management
endpoints on the public port, and (metrics) K_ANONYMITY below its floor."""

import pytest

from services.consent.config import ConsentSettings
from services.distribution.config import DistributionSettings
from services.metrics.config import MetricsSettings
from services.runtime.settings import DEVELOPMENT_SECRET, K_ANONYMITY_FLOOR, ServiceSettings

KEY = "k" * 32
DSN = "postgresql://distribution:Zq7-not-a-default-9@db.internal:5432/advocacy"


def deployed(settings_type=DistributionSettings, **values):
    """Settings as a deployment has them: not local mode, a real password, a key of its own."""
    defaults = {"advocacy_env": "", "database_url": DSN, "click_secret": KEY}
    return settings_type(**{**defaults, **values})


def test_a_deployment_with_its_own_keys_and_passwords_may_start():
    assert deployed().refusals() == []
    assert ConsentSettings(advocacy_env="production", consent_pseudonym_key=KEY,
                           database_url=DSN.replace("distribution", "consent")).refusals() == []


@pytest.mark.parametrize(("values", "refusal"), [
    ({"click_secret": DEVELOPMENT_SECRET}, "CLICK_SECRET is the development default"),
    ({"click_secret": ""}, "CLICK_SECRET is not set"),
    ({"click_secret": "k" * 31}, "CLICK_SECRET is shorter than 32 characters"),
    ({"database_url": "postgresql://distribution:distribution@db:5432/advocacy"},
     "DATABASE_URL's password is a development password"),
    ({"database_url": "postgresql://distribution:distribution-local@db:5432/advocacy"},
     "DATABASE_URL's password is a development password"),
    ({"database_url": "postgresql://distribution:distribution-dev@db:5432/advocacy"},
     "DATABASE_URL's password is a development password"),
    ({"database_url": "postgresql://distribution@db:5432/advocacy"}, "DATABASE_URL has no password"),
    ({"database_url": ""}, "DATABASE_URL is not set (the default is the local stack's)"),
    ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_username": "distribution",
      "kafka_sasl_password": "distribution-local"}, "KAFKA_SASL_PASSWORD is a development password"),
])
def test_outside_local_mode_each_development_value_is_refused_by_name(values, refusal):
    assert deployed(**values).refusals() == [refusal]


def test_a_key_left_to_its_default_is_not_set_whatever_the_default_is():
    settings = DistributionSettings(advocacy_env="", database_url=DSN)
    assert settings.refusals() == ["CLICK_SECRET is not set"]


def test_refusals_name_variables_never_values():
    secret = "s3cr3t-but-far-too-short"
    refusals = deployed(click_secret=secret, database_url=DSN.replace("Zq7-not-a-default-9", "distribution")).refusals()
    assert len(refusals) == 2 and not any(secret in r or ":distribution@" in r for r in refusals)


def test_libpq_may_bring_the_password_itself(monkeypatch):
    no_password = "postgresql://distribution@db:5432/advocacy"
    assert deployed(database_url=no_password + "?sslcert=/etc/tls/client.crt&sslkey=/etc/tls/client.key").refusals() == []
    monkeypatch.setenv("PGPASSWORD", "Zq7-not-a-default-9")
    assert deployed(database_url=no_password).refusals() == []


def test_local_mode_allows_development_values_and_nothing_else_is_local():
    local = DistributionSettings(advocacy_env="local")
    assert local.local and local.refusals() == [] and local.secrets_left_at_default() == ["CLICK_SECRET"]
    for value in ("", "production", "Local", "local "):
        assert not DistributionSettings(advocacy_env=value).local, value


def test_the_environment_sets_local_mode(monkeypatch):
    monkeypatch.setenv("ADVOCACY_ENV", "local")
    assert ServiceSettings(service="consent").local
    monkeypatch.delenv("ADVOCACY_ENV")
    assert not ServiceSettings(service="consent").local


def test_the_management_port_is_apart_from_the_public_one_by_default_and_must_stay_so():
    settings = ServiceSettings(service="distribution", advocacy_env="local")
    assert (settings.http_port, settings.management_port) == (8083, 8093)
    assert ServiceSettings(service="x", http_port=8080).management_port == 8090
    same = ServiceSettings(service="x", advocacy_env="local", http_port=8080, management_port=8080)
    assert same.refusals() == ["MANAGEMENT_PORT is HTTP_PORT (8080): /metrics and /ready would be public"]


@pytest.mark.parametrize("settings", [MetricsSettings, DistributionSettings])  # distribution: audience sizes
@pytest.mark.parametrize("k", [K_ANONYMITY_FLOOR - 1, 1, 0, -5])
def test_k_anonymity_below_the_floor_is_refused_even_in_local_mode(k, settings):
    (refusal,) = settings(advocacy_env="local", k_anonymity=k).refusals()
    assert refusal.startswith(f"K_ANONYMITY is {k}, below the floor of {K_ANONYMITY_FLOOR}")


@pytest.mark.parametrize("settings", [MetricsSettings, DistributionSettings])
def test_k_anonymity_at_the_floor_or_above_is_accepted(settings):
    assert K_ANONYMITY_FLOOR == 3
    for k in (3, 5, 10):
        assert settings(advocacy_env="local", k_anonymity=k).refusals() == []
