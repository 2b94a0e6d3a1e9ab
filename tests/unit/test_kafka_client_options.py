"""The KAFKA_* environment variables become the same security options for every Kafka client
of a service (services/runtime/kafka_client.py)."""

import ssl

import pytest
from faststream.security import SASLScram512

from services.runtime.kafka_client import broker_security, security_options
from services.runtime.settings import ServiceSettings

SASL = {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_USERNAME": "consent",
        "KAFKA_SASL_PASSWORD": "s3cret"}


def settings_from(monkeypatch, **env: str) -> ServiceSettings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return ServiceSettings(service="consent")


def test_plaintext_by_default_adds_nothing(monkeypatch):
    settings = settings_from(monkeypatch)
    assert broker_security(settings) is None and security_options(settings) == {}


def test_sasl_scram_from_the_environment(monkeypatch):
    settings = settings_from(monkeypatch, **SASL)
    assert isinstance(broker_security(settings), SASLScram512)
    assert security_options(settings) == {
        "security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512", "ssl_context": None,
        "sasl_plain_username": "consent", "sasl_plain_password": "s3cret"}
    assert "s3cret" not in repr(settings)  # a SecretStr: never in logs or tracebacks


def test_sasl_over_tls_verifies_the_broker(monkeypatch):
    options = security_options(settings_from(monkeypatch, **{**SASL, "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                                                             "KAFKA_SASL_MECHANISM": "SCRAM-SHA-256"}))
    assert (options["security_protocol"], options["sasl_mechanism"]) == ("SASL_SSL", "SCRAM-SHA-256")
    assert options["ssl_context"].verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize("missing", ["KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"])
def test_sasl_without_credentials_fails_at_start(monkeypatch, missing):
    with pytest.raises(ValueError, match="KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        settings_from(monkeypatch, **{k: v for k, v in SASL.items() if k != missing})


def test_unknown_protocols_are_refused(monkeypatch):
    with pytest.raises(ValueError):
        settings_from(monkeypatch, KAFKA_SECURITY_PROTOCOL="SASL_PLAIN")
