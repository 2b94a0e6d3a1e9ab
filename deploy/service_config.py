"""Which of a service's settings are plain configuration and which are secrets, read from
its settings class (services/<name>/config.py), so the manifests follow the code.

A setting added to a service's config class appears in its ConfigMap (with the code's
default) or, if it is a SecretStr, among the keys its Secret must hold; nobody has to
remember to add it to three deployment files.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from services.runtime.settings import ServiceSettings

# Set in every container, not per service: the image listens on 8080 on all interfaces, and
# answers /health, /ready and /metrics on 8090 (MANAGEMENT_PORT, never exposed publicly).
HTTP_PORT = 8080
MANAGEMENT_PORT = 8090
# Secrets every service has: its database login and its Kafka principal. The username
# is no secret, but KEDA's TriggerAuthentication can read it only from a Secret.
COMMON_SECRETS = ("DATABASE_URL", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD")
# Common settings that differ by service (metrics' CPU_NICE, ADR 0029): in each service's own
# ConfigMap, with its class's default, rather than the platform-wide one.
PER_SERVICE = ("cpu_nice",)


@dataclass(frozen=True)
class ServiceConfig:
    service: str
    settings: dict[str, str]  # env var -> value (the code's default)
    secrets: tuple[str, ...]  # env vars the service's Secret must hold


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{service}.config")
    (cls,) = [c for c in vars(module).values()  # the one defined there, not a base it imports
              if isinstance(c, type) and issubclass(c, ServiceSettings) and c.__module__ == module.__name__]
    return cls


def _env_value(value: object) -> str:
    """How pydantic-settings reads the value back from an environment variable."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def service_config(service: str) -> ServiceConfig:
    cls = settings_class(service)
    settings, secrets = {}, list(COMMON_SECRETS)
    for name, field in cls.model_fields.items():
        env = name.upper()
        if name in ServiceSettings.model_fields and name not in PER_SERVICE:
            continue  # the common settings: platform-wide ConfigMap or COMMON_SECRETS
        if field.annotation is SecretStr:
            secrets.append(env)
        elif not isinstance(field.default, Path):  # a file inside the image (a rates file): the code's default
            settings[env] = _env_value(field.default)
    return ServiceConfig(service, settings, tuple(secrets))


def cpu_nice(service: str) -> int:
    """The CPU_NICE the service runs at by default (services/runtime/priority.py)."""
    return int(settings_class(service).model_fields["cpu_nice"].default)
