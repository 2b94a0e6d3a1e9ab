"""deploy/compose/compose.yaml, generated from the declaration (`python -m deploy.generate`).

A laptop's platform as production runs it: Kafka (KRaft, one node) with SASL/SCRAM and
the authorizer on, one principal per service with the least-privilege ACLs, Postgres
with one login role per service, then the four services from the one image. The
one-shot jobs run in order: `kafka-users` (SCRAM credentials, with Kafka's own tool),
then `provision` (python -m deploy.provision all: roles, topics, ACLs, migrations).

No password or key has a default: each is a compose variable that must be set (in
deploy/compose/.env; `required_variables` lists them), else compose refuses to start, and
the services refuse development values (services/runtime/settings.py). Kafka, Postgres and
the services are published on 127.0.0.1 only: nothing of the laptop's platform is reachable
from the network it is on (review S13).
"""

from __future__ import annotations

from deploy.images import POSTGRES_IMAGE, app_image, kafka_image
from deploy.service_config import COMMON_SECRETS, HTTP_PORT, MANAGEMENT_PORT, cpu_nice, service_config
from schemas.platform import Platform
from services.runtime.priority import weight
from services.runtime.settings import MANAGEMENT_PORT_OFFSET  # as on the local stack: 8081 -> 8091

ADMIN = "admin"  # the broker's super user; logs in with PLAIN on the admin listener only
ADMIN_PROPERTIES = "/opt/advocacy/admin.properties"
DATABASE = "advocacy"
CLUSTER_ID = "advocacy-compose-0001"  # any 16+ chars; fixed so a restart keeps the data
LOOPBACK = "127.0.0.1"  # where the laptop publishes ports: never on the networks it joins


def var(name: str, default: str) -> str:
    """A compose variable: from the environment or deploy/compose/.env, else `default`."""
    return f"${{{name}:-{default}}}"


def required(name: str) -> str:
    """A compose variable without a default: compose refuses to start while it is unset."""
    return f"${{{name}:?set it in deploy/compose/.env}}"


def kafka_password_variable(principal: str) -> str:
    return f"{principal.upper().replace('-', '_')}_KAFKA_PASSWORD"  # privacy-office: PRIVACY_OFFICE_…


def kafka_password(principal: str) -> str:
    return required(kafka_password_variable(principal))


def database_password_variable(service: str) -> str:
    return f"{service.upper()}_DATABASE_PASSWORD"


def required_variables(platform: Platform) -> list[str]:
    """Every password and key compose needs, in the order docs/operators.md lists them."""
    keys = sorted({key for name in platform.services for key in service_config(name).secrets} - set(COMMON_SECRETS))
    return ["POSTGRES_PASSWORD", "KAFKA_ADMIN_PASSWORD",
            *(database_password_variable(s) for s in platform.services),
            *(kafka_password_variable(p) for p in platform.kafka_principals), *keys]


def published(host_port: int, container_port: int) -> str:
    return f"{LOOPBACK}:{host_port}:{container_port}"


def database_url(role: str, password: str) -> str:
    return f"postgresql://{role}:{password}@postgres:5432/{DATABASE}"


def _jaas_plain() -> str:
    password = required("KAFKA_ADMIN_PASSWORD")
    return ('org.apache.kafka.common.security.plain.PlainLoginModule required '
            f'username="{ADMIN}" password="{password}" user_{ADMIN}="{password}";')


def kafka() -> dict:
    # apache/kafka maps KAFKA_X_Y to x.y (`__` to `_`, `___` to `-`). Listeners: CLIENT for the
    # services and HOST for the laptop (SCRAM), ADMIN for the super user and the broker itself,
    # CONTROLLER for KRaft (both PLAIN: SCRAM users live in the metadata KRaft serves).
    scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    env = {
        "CLUSTER_ID": CLUSTER_ID, "KAFKA_NODE_ID": "1", "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@kafka:9093", "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_LISTENERS": "CLIENT://:9092,CONTROLLER://:9093,ADMIN://:9094,HOST://:29092",
        "KAFKA_ADVERTISED_LISTENERS": "CLIENT://kafka:9092,ADMIN://kafka:9094,HOST://localhost:29092",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP":
            "CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT,ADMIN:SASL_PLAINTEXT,HOST:SASL_PLAINTEXT",
        "KAFKA_INTER_BROKER_LISTENER_NAME": "ADMIN",
        "KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL": "PLAIN",
        "KAFKA_SASL_MECHANISM_CONTROLLER_PROTOCOL": "PLAIN",
        "KAFKA_LISTENER_NAME_CLIENT_SASL_ENABLED_MECHANISMS": "SCRAM-SHA-512",
        "KAFKA_LISTENER_NAME_HOST_SASL_ENABLED_MECHANISMS": "SCRAM-SHA-512",
        "KAFKA_LISTENER_NAME_ADMIN_SASL_ENABLED_MECHANISMS": "PLAIN",
        "KAFKA_LISTENER_NAME_CONTROLLER_SASL_ENABLED_MECHANISMS": "PLAIN",
        "KAFKA_LISTENER_NAME_CLIENT_SCRAM___SHA___512_SASL_JAAS_CONFIG": scram,
        "KAFKA_LISTENER_NAME_HOST_SCRAM___SHA___512_SASL_JAAS_CONFIG": scram,
        "KAFKA_LISTENER_NAME_ADMIN_PLAIN_SASL_JAAS_CONFIG": _jaas_plain(),
        "KAFKA_LISTENER_NAME_CONTROLLER_PLAIN_SASL_JAAS_CONFIG": _jaas_plain(),
        "KAFKA_AUTHORIZER_CLASS_NAME": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND": "false", "KAFKA_SUPER_USERS": f"User:{ADMIN}",
        # One node: internal topics with one replica; topics only from the declaration.
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1", "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1", "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false", "KAFKA_LOG_DIRS": "/var/lib/kafka/data",
    }
    return {
        "image": kafka_image(), "environment": env, "ports": [published(29092, 29092)],
        "volumes": ["kafka-data:/var/lib/kafka/data"],
        "configs": [{"source": "kafka-admin", "target": ADMIN_PROPERTIES}],
        "healthcheck": {"test": ["CMD", "/opt/kafka/bin/kafka-broker-api-versions.sh", "--bootstrap-server",
                                 "kafka:9094", "--command-config", ADMIN_PROPERTIES],
                        "interval": "10s", "timeout": "10s", "retries": 12, "start_period": "20s"},
        "restart": "unless-stopped",
    }


def kafka_users(platform: Platform) -> dict:
    """SCRAM credentials for each service and outside principal (aiokafka cannot create them)."""
    commands = [
        f"/opt/kafka/bin/kafka-configs.sh --bootstrap-server kafka:9094 --command-config {ADMIN_PROPERTIES} "
        f"--alter --entity-type users --entity-name {principal} "
        f"--add-config 'SCRAM-SHA-512=[password={kafka_password(principal)}]'"
        for principal in platform.kafka_principals]
    return {"image": kafka_image(), "entrypoint": ["/bin/sh", "-c"], "command": [" && ".join(commands)],
            "configs": [{"source": "kafka-admin", "target": ADMIN_PROPERTIES}],
            "depends_on": {"kafka": {"condition": "service_healthy"}}}


def postgres() -> dict:
    return {"image": POSTGRES_IMAGE,
            "environment": {"POSTGRES_PASSWORD": required("POSTGRES_PASSWORD"), "POSTGRES_DB": DATABASE},
            "ports": [published(25432, 5432)], "volumes": ["postgres-data:/var/lib/postgresql/data"],
            "healthcheck": {"test": ["CMD", "pg_isready", "-U", "postgres", "-d", DATABASE],
                            "interval": "5s", "timeout": "5s", "retries": 12},
            "restart": "unless-stopped"}


def _app(command: list[str]) -> dict:
    return {"image": app_image(), "build": {"context": "../..", "dockerfile": "deploy/Dockerfile"}, "command": command}


def _service_database_url(service: str) -> str:
    return database_url(service, required(database_password_variable(service)))


def provision(platform: Platform) -> dict:
    env = {"KAFKA_BOOTSTRAP_SERVERS": "kafka:9094", "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
           "KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": ADMIN,
           "KAFKA_SASL_PASSWORD": required("KAFKA_ADMIN_PASSWORD"),
           "ADMIN_DATABASE_URL": database_url("postgres", required("POSTGRES_PASSWORD"))}
    env |= {f"{s.upper()}_DATABASE_URL": _service_database_url(s) for s in platform.services}
    return {**_app(["python", "-m", "deploy.provision", "all"]), "environment": env,
            "healthcheck": {"disable": True},  # a one-shot job: nothing to probe
            "depends_on": {"kafka-users": {"condition": "service_completed_successfully"},
                           "postgres": {"condition": "service_healthy"}}}


def service(name: str, http_port: int, links_port: int | None = None) -> dict:
    """`links_port`: the published port of the service that answers tracked links (distribution)."""
    config = service_config(name)
    env = {"KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
           "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": name,
           "KAFKA_SASL_PASSWORD": kafka_password(name), "DATABASE_URL": _service_database_url(name),
           "MANAGEMENT_PORT": str(MANAGEMENT_PORT), "LOG_LEVEL": var("LOG_LEVEL", "INFO")}
    # Keys (CLICK_SECRET, CONSENT_PSEUDONYM_KEY): no default, 32 characters at least.
    env |= {key: required(key) for key in config.secrets if key not in env}
    if "PUBLIC_BASE_URL" in config.settings:  # tracked links must open from the laptop's browser
        # Distribution serves them; curation counts share texts with a link of that length.
        env["PUBLIC_BASE_URL"] = f"http://localhost:{links_port or http_port}"
    # Liveness on the management port, as the image's own HEALTHCHECK (deploy/Dockerfile).
    health = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{MANAGEMENT_PORT}/health', timeout=2)"
    # A container's weight beside the others when the laptop's cores are short: what its
    # CPU_NICE weighs (ADR 0029); the nice inside the container orders only its own threads.
    shares = {"cpu_shares": weight(cpu_nice(name))} if cpu_nice(name) else {}
    return {**_app(["python", "-m", f"services.{name}"]), "environment": env, **shares,
            "ports": [published(http_port, HTTP_PORT), published(http_port + MANAGEMENT_PORT_OFFSET, MANAGEMENT_PORT)],
            "healthcheck": {"test": ["CMD", "python", "-c", health], "interval": "15s", "timeout": "3s",
                            "retries": 3, "start_period": "30s"},
            "depends_on": {"provision": {"condition": "service_completed_successfully"}},
            "restart": "unless-stopped"}


def compose(platform: Platform) -> dict:
    admin_properties = ("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
                        f"sasl.jaas.config={_jaas_plain()}\n")
    return {
        "name": "advocacy",
        "services": {"kafka": kafka(), "postgres": postgres(), "kafka-users": kafka_users(platform),
                     "provision": provision(platform),
                     **{name: service(name, port, platform.services.get("distribution"))
                        for name, port in platform.services.items()}},
        "volumes": {"kafka-data": {}, "postgres-data": {}},
        "configs": {"kafka-admin": {"content": admin_properties}},
    }
