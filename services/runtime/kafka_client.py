"""How every Kafka client of a service connects and authenticates, from its settings.

One place turns KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME,
KAFKA_SASL_PASSWORD and KAFKA_SSL_CAFILE into what the clients take: FastStream's `KafkaBroker(security=...)`
and aiokafka's keyword options (the relay's producer, admin clients). The aiokafka options
are derived from the FastStream object by FastStream's own mapping, so both always agree.
"""

import ssl
from typing import Any

from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from services.runtime.settings import ServiceSettings

_SASL = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}


def broker_security(settings: ServiceSettings) -> BaseSecurity | None:
    """What `KafkaBroker(security=...)` takes; None on a PLAINTEXT listener."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    # TLS, verifying the broker's certificate and host name against the system's trusted CAs
    # (managed Kafka services) or KAFKA_SSL_CAFILE (Strimzi's cluster CA); aiokafka needs a context.
    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None) \
        if protocol.endswith("SSL") else None
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context)
    sasl = _SASL[settings.kafka_sasl_mechanism]
    return sasl(settings.kafka_sasl_username, settings.kafka_sasl_password.get_secret_value(), ssl_context=context)


def security_options(settings: ServiceSettings) -> dict[str, Any]:
    """The security keyword options of any aiokafka client (producer, consumer, admin);
    empty on a PLAINTEXT listener."""
    return parse_security(broker_security(settings))
