"""Strimzi resources: the Kafka cluster (KRaft node pool), a KafkaTopic per declared
topic and a KafkaUser per principal with exactly the ACLs of `schemas.platform.grants()`.

The base is production-shaped (three nodes, three replicas, two in sync); the dev overlay
patches it down to one node. Clients connect over TLS with SCRAM (SASL_SSL), and only the
platform's pods, KEDA and pods labelled as outside systems' Kafka clients may connect at all.
"""

from __future__ import annotations

from itertools import groupby

from deploy.kubernetes import CLUSTER, KAFKA_PORT, PART_OF, secret_name
from schemas.platform import Platform, Topic, grants

API = "kafka.strimzi.io/v1"
LABELS = {"strimzi.io/cluster": CLUSTER}
REPLICAS = 3
MIN_IN_SYNC = 2  # with acks=all (idempotent producers), a write survives one broker down
# Pods of an outside system (hr, connector, partner …: ADR 0011) that log in to Kafka carry
# this label, in whichever namespace they run.
CLIENT_LABEL = {"advocacy.example.com/kafka-client": "true"}
KEDA_NAMESPACE = "keda"  # KEDA's operator reads consumer lag from there


def cluster() -> list[dict]:
    pool = {"apiVersion": API, "kind": "KafkaNodePool", "metadata": {"name": "combined", "labels": LABELS},
            "spec": {"replicas": REPLICAS, "roles": ["controller", "broker"],
                     "storage": {"type": "persistent-claim", "size": "50Gi", "deleteClaim": False},
                     "resources": {"requests": {"cpu": "500m", "memory": "2Gi"},
                                   "limits": {"cpu": "2", "memory": "2Gi"}}}}
    kafka = {"apiVersion": API, "kind": "Kafka", "metadata": {"name": CLUSTER},
             "spec": {"kafka": {
                 # TLS (certificates from Strimzi's cluster CA) and SCRAM: consent choices and
                 # post texts never cross the cluster network in clear (review S13). Strimzi
                 # turns networkPolicyPeers into the listener's NetworkPolicy.
                 "listeners": [{"name": "tls", "port": KAFKA_PORT, "type": "internal", "tls": True,
                                "authentication": {"type": "scram-sha-512"},
                                "networkPolicyPeers": [
                                    {"podSelector": {"matchLabels": PART_OF}},
                                    {"namespaceSelector": {"matchLabels": {
                                        "kubernetes.io/metadata.name": KEDA_NAMESPACE}}},
                                    {"namespaceSelector": {}, "podSelector": {"matchLabels": CLIENT_LABEL}}]}],
                 "authorization": {"type": "simple"},
                 "config": {"default.replication.factor": REPLICAS, "min.insync.replicas": MIN_IN_SYNC,
                            "offsets.topic.replication.factor": REPLICAS,
                            "transaction.state.log.replication.factor": REPLICAS,
                            "transaction.state.log.min.isr": MIN_IN_SYNC,
                            # Topics come from the declaration only (KafkaTopic resources).
                            "auto.create.topics.enable": False}},
                 "entityOperator": {"topicOperator": {}, "userOperator": {}}}}
    return [kafka, pool]


def topic(t: Topic) -> dict:
    # metadata.name may not hold every topic name Kafka allows; topicName is the real one.
    return {"apiVersion": API, "kind": "KafkaTopic", "metadata": {"name": t.name, "labels": LABELS},
            "spec": {"topicName": t.name, "partitions": t.partitions, "replicas": REPLICAS,
                     "config": {**t.kafka_configs, "min.insync.replicas": MIN_IN_SYNC}}}


def _acls(platform: Platform, principal: str) -> list[dict]:
    mine = [g for g in grants(platform) if g.principal == principal]
    resource = lambda g: (g.resource_type, g.resource)  # noqa: E731
    return [{"resource": {"type": kind, "name": name, "patternType": "prefix" if kind == "group" else "literal"},
             "operations": sorted({g.operation for g in same})}
            for (kind, name), same in groupby(sorted(mine, key=resource), key=resource)]


def user(platform: Platform, principal: str) -> dict:
    authentication: dict = {"type": "scram-sha-512"}
    if principal in platform.services:
        # The service's own Secret holds the password, so the Deployment, KEDA and this user
        # read one value; an outside principal gets a generated one in a Secret of its name.
        authentication["password"] = {"valueFrom": {"secretKeyRef": {
            "name": secret_name(principal), "key": "KAFKA_SASL_PASSWORD"}}}
    return {"apiVersion": API, "kind": "KafkaUser", "metadata": {"name": principal, "labels": LABELS},
            "spec": {"authentication": authentication,
                     "authorization": {"type": "simple", "acls": _acls(platform, principal)}}}


def topics(platform: Platform) -> list[dict]:
    return [topic(t) for t in platform.topics]


def users(platform: Platform) -> list[dict]:
    return [user(platform, p) for p in platform.kafka_principals]
