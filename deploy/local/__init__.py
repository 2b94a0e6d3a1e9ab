"""Local development stack: Kafka (KRaft, single node), Postgres and Keycloak as plain processes, no Docker.

Run it with ``python -m deploy.local [--tests] run|up|down|status|topics`` (`--tests`: the test stack).
"""
