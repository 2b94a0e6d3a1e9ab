"""schemas/platform.toml is the one declaration of topics; the README must not drift from it."""

from pathlib import Path

from schemas.platform import load_platform

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_every_declared_topic_is_in_the_readme():
    for topic in load_platform().topics:
        listed = f"`{topic.name}`" in README or (
            topic.name.endswith(".deadletter.v1") and "`advocacy.<service>.deadletter.v1`" in README
        )
        assert listed, f"{topic.name} is missing from the README's topics table"


def test_each_service_has_a_dead_letter_topic_and_busy_topics_have_six_partitions():
    platform = load_platform()
    names = {t.name: t for t in platform.topics}
    for service in platform.services:
        assert f"advocacy.{service}.deadletter.v1" in names
    for topic in names.values():
        if topic.name.endswith((".events.v1", ".directory.v1", ".engagement.v1")):
            assert topic.partitions >= 6, topic.name


def test_acls_grant_exactly_what_the_declaration_says_and_nothing_more():
    from schemas.platform import Grant, grants

    platform = load_platform()
    acls = grants(platform)
    assert Grant("consent", "Write", "topic", "advocacy.consent.events.v1") in acls
    assert Grant("metrics", "Read", "topic", "advocacy.distribution.events.v1") in acls
    assert Grant("metrics", "Write", "topic", "advocacy.distribution.events.v1") not in acls
    assert Grant("curation", "Read", "group", "curation.") in acls
    # Every grant traces back to a writers/readers line (or the principal's own group prefix).
    declared = {(w, "Write", t.name) for t in platform.topics for w in t.writers}
    declared |= {(r, "Read", t.name) for t in platform.topics for r in t.readers}
    for acl in acls:
        if acl.resource_type == "topic":
            assert (acl.principal, acl.operation, acl.resource) in declared
        else:
            assert acl.resource == f"{acl.principal}."
