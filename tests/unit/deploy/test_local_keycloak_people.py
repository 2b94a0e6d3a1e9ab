"""Who may be created in the local Keycloak realm: advocate ids as the contracts define them,
short enough for Keycloak, and roles the realm has."""

import pytest

from deploy.local.keycloak import ADVOCATE_ID, ROLES, Person, demo_users


def test_the_demo_users_cover_every_role_with_pseudonymous_ids():
    people = demo_users()
    assert {role for p in people for role in p.roles} == set(ROLES)
    assert all(ADVOCATE_ID.fullmatch(p.advocate_id) and p.username not in p.advocate_id for p in people)
    assert next(p for p in people if p.username == "manager").roles == ("editor", "advocate")
    assert len({p.advocate_id for p in people}) == len(people)


@pytest.mark.parametrize("advocate_id", ["short", "ada@example.com", "adv demo 0001", "a" * 37, "ümlaut-0001"])
def test_an_id_that_is_no_advocate_id_keycloak_can_keep_is_refused(advocate_id: str):
    with pytest.raises(ValueError, match="not an advocate id"):
        Person(advocate_id, "someone", "pw")


def test_a_role_the_realm_does_not_have_is_refused():
    with pytest.raises(ValueError, match="unknown realm roles \\['admin'\\]"):
        Person("adv-demo-0100", "someone", "pw", ("advocate", "admin"))


def test_a_person_becomes_a_user_whose_id_is_the_advocate_id():
    assert Person("adv-1a2b3c-0001", "p-0001", "pw", ("advocate",)).representation() == {
        "id": "adv-1a2b3c-0001", "username": "p-0001", "enabled": True,
        "credentials": [{"type": "password", "value": "pw", "temporary": False}], "realmRoles": ["advocate"]}
