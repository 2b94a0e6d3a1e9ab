"""The contracts: exported files are current, and the directory contract keeps people pseudonymous."""

import json
import re
from collections.abc import Callable

import jsonschema
import pytest
from pydantic import TypeAdapter, ValidationError

from schemas import directory
from schemas.catalog import CONTRACTS
from schemas.compatibility import breaking_changes, check
from schemas.envelope import REQUIRED_ON_RECEIPT, check_received, event_type_of
from schemas.export import json_schemas
from services.export import stale_files, topic_key

DirectoryEvent = TypeAdapter(directory.DirectoryEvent)


def joined(**profile: object) -> dict:
    data = {"advocate_id": "adv-00000001", "role": "employee", **profile}
    return {"specversion": "1.0", "id": "e-1", "source": "/hr", "type": "advocacy.directory.person.joined.v1",
            "subject": "adv-00000001", "time": "2026-11-27T10:00:00Z", "data": data}


def test_exported_json_schemas_and_asyncapi_documents_are_current():
    assert stale_files() == [], "run `make contracts` and commit the result"


def test_a_directory_event_is_decoded_by_its_type():
    event = DirectoryEvent.validate_python(joined(org_unit="Sales", languages=["de", "fr"]))
    assert isinstance(event, directory.PersonJoined)
    assert event.data.languages == ["de", "fr"]


@pytest.mark.parametrize("field", ["name", "email", "phone"])
def test_a_directory_event_carrying_contact_data_is_rejected(field):
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        DirectoryEvent.validate_python(joined(**{field: "Jane Doe <jane@example.com>"}))


@pytest.mark.parametrize("field, value", [("org_unit", "Sa\x00les"), ("location", "\x00"), ("interests", ["ai", "a\x00i"])])
def test_a_directory_event_with_a_nul_in_a_label_is_rejected_saying_so(field, value):
    # Postgres text cannot keep U+0000: the projection's store failed on it, and the dead
    # letter said only that.
    with pytest.raises(ValidationError, match=r"U\+0000 \(NUL\)"):
        DirectoryEvent.validate_python(joined(**{field: value}))


def test_a_directory_event_about_someone_other_than_its_subject_is_rejected():
    event = joined()
    event["subject"] = "adv-00000002"
    with pytest.raises(ValidationError, match="subject must equal"):
        DirectoryEvent.validate_python(event)


def test_an_unknown_role_or_event_type_is_rejected():
    with pytest.raises(ValidationError):
        DirectoryEvent.validate_python(joined(role="manager"))
    with pytest.raises(ValidationError):
        DirectoryEvent.validate_python({**joined(), "type": "advocacy.directory.person.promoted.v1"})


def test_contracts_stay_backward_compatible_with_the_released_version():
    assert check() == [], "a released contract broke: add a new versioned type instead"


def test_the_compatibility_check_catches_removed_retyped_and_newly_required_fields():
    released = {"properties": {"a": {"type": "string"}, "b": {"type": "integer"}, "c": {"enum": ["x", "y"]}},
                "required": ["a"]}
    current = {"properties": {"a": {"type": "integer"}, "c": {"enum": ["x"]}, "d": {"type": "string"}},
               "required": ["a", "d"]}
    assert sorted(breaking_changes(released, current)) == [
        "a: type string became integer", "b: removed", "c: enum values removed", "d: newly required",
    ]
    assert breaking_changes(released, {**released, "properties": {**released["properties"], "e": {}}}) == []
    closed = {**released, "additionalProperties": False}
    assert breaking_changes(closed, {**closed, "properties": {**released["properties"], "e": {}}}) == [
        "e: added to a closed model"]


def test_the_compatibility_check_catches_bounds_that_refuse_what_the_release_accepted():
    released = {"properties": {
        "count": {"type": "integer", "minimum": 0}, "id": {"type": "string", "maxLength": 64},
        "version": {"anyOf": [{"type": "integer", "exclusiveMinimum": 0}, {"type": "null"}]},
        "media": {"type": "string", "const": "application/json"}, "name": {"type": "string"}}}
    looser = {"properties": {
        "count": {"type": "integer"}, "id": {"type": "string", "maxLength": 200},
        "version": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]},  # the same integers
        "media": {"type": "string", "pattern": "^application/(.+\\+)?json"}, "name": {"type": "string"}}}
    tighter = {"properties": {
        "count": {"type": "integer", "minimum": 0, "maximum": 10}, "id": {"type": "string", "maxLength": 32},
        "version": {"anyOf": [{"type": "integer", "minimum": 2}, {"type": "null"}]},
        "media": {"type": "string", "pattern": "^text/"}, "name": {"type": "string", "pattern": "^[a-z]+$"}}}
    assert breaking_changes(released, looser) == []
    assert sorted(breaking_changes(released, tighter)) == [
        "count: maximum narrowed", "id: maxLength narrowed", "media: pattern narrowed", "name: pattern narrowed",
        "version: minimum narrowed"]


def test_a_received_event_must_carry_its_id_and_specversion_while_code_may_leave_them_out():
    from pydantic import TypeAdapter

    from schemas import directory
    from schemas.envelope import check_received

    built = directory.PersonLeft(source="/hr", subject="adv-000001", data=directory.Departure(advocate_id="adv-000001"))
    adapter = TypeAdapter(directory.DirectoryEvent)
    check_received(adapter.validate_json(built.to_bytes()))  # a whole one passes
    for attribute in ("id", "specversion"):
        received = built.model_dump(mode="json", exclude={attribute})
        with pytest.raises(ValueError, match=attribute):
            check_received(received)
        with pytest.raises(ValueError, match=attribute):
            check_received(adapter.validate_python(received))


def test_asyncapi_documents_resolve_every_reference_and_batch_subscribers_name_their_contracts():
    import json
    import re
    from pathlib import Path

    for path in (Path(__file__).parents[2] / "schemas" / "asyncapi").glob("*.json"):
        text = path.read_text()
        document = json.loads(text)
        for ref in set(re.findall(r'"\$ref": "#/([^"]+)"', text)):
            node = document
            for part in ref.split("/"):
                assert part in node, f"{path.name}: #/{ref} does not resolve"
                node = node[part]
        for name, schema in document["components"]["schemas"].items():
            assert schema.get("items") != {"format": "binary", "type": "string"}, f"{path.name}: {name} says raw bytes"


SCHEMAS = json_schemas()
MODELS = {f"json/{event_type_of(m)}.json": m for models in CONTRACTS.values() for m in models}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_schema_requires_what_the_services_require_on_receipt(name):
    schema = SCHEMAS[name]
    assert schema["required"][:3] == list(REQUIRED_ON_RECEIPT)
    assert {"source", "subject", "data"} <= set(schema["required"])
    assert schema["x-kafka-key"] == "subject"
    assert schema["properties"]["source"]["examples"]


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_schema_carries_an_example_its_schema_and_its_model_accept(name):
    [instance] = SCHEMAS[name]["examples"]
    jsonschema.validate(instance, SCHEMAS[name])
    MODELS[name].model_validate(instance)
    check_received(instance)


@pytest.mark.parametrize("attribute", REQUIRED_ON_RECEIPT)
def test_an_event_without_a_required_attribute_fails_the_schema_and_the_service_alike(attribute):
    schema = SCHEMAS["json/advocacy.directory.person.joined.v1.json"]
    jsonschema.validate(joined(), schema)  # the whole event is valid
    lacking = {k: v for k, v in joined().items() if k != attribute}
    with pytest.raises(jsonschema.ValidationError, match=attribute):
        jsonschema.validate(lacking, schema)
    with pytest.raises(ValueError, match=attribute):
        check_received(lacking)


def test_a_schema_names_the_data_field_its_subject_must_equal():
    assert SCHEMAS["json/advocacy.directory.person.joined.v1.json"]["x-subject-equals"] == "data.advocate_id"
    assert SCHEMAS["json/advocacy.consent.policy.publish.v1.json"]["x-subject-equals"] == "data.purpose"


def test_sources_are_examples_of_the_topics_writers():
    assert SCHEMAS["json/advocacy.directory.person.joined.v1.json"]["properties"]["source"]["examples"][0] \
        == "/hr/directory"
    assert SCHEMAS["json/advocacy.consent.given.v1.json"]["properties"]["source"]["examples"] == ["/advocacy/consent"]


def test_requiring_what_was_required_on_receipt_already_is_no_breaking_change():
    released = {"properties": {"id": {"type": "string"}}, "required": ["source"]}
    current = {"properties": {"id": {"type": "string"}}, "required": ["id", "source"]}
    assert breaking_changes(released, current) == ["id: newly required"]
    assert breaking_changes(released, current, required_before=("id",)) == []


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_a_subject_made_of_data_fields_names_fields_the_data_has(name):
    """`subject_is` documents the Kafka key; where it names fields, the example's subject is
    made of them, so a field that does not exist would fail here."""
    said = SCHEMAS[name]["x-subject-is"]
    assert said, "every contract says what its subject is"
    [instance] = SCHEMAS[name]["examples"]
    if re.fullmatch(r"data\.\w+(:data\.\w+)*", said):
        assert instance["subject"] == ":".join(str(instance["data"][f.removeprefix("data.")]) for f in said.split(":"))


def test_the_readme_key_column_comes_from_the_contracts():
    assert topic_key("advocacy.distribution.events.v1") == (
        "data.item_id: item.distributed (no longer emitted); data.advocate_id: notification.requested; "
        "data.share_id: link.clicked, share.*; the refused command's subject: command.rejected")
    assert topic_key("advocacy.consent.state.v1") == "data.advocate_id:data.purpose"


def _model(spec: dict, defs: dict) -> dict:
    """The model a property holds (itself, or the one its reference or optional choice names)."""
    ref = spec.get("$ref") or next((c["$ref"] for c in spec.get("anyOf", ()) if "$ref" in c), None)
    return defs[ref.rsplit("/", 1)[1]] if ref else spec


def _data_fields(matches: Callable[[dict], bool]) -> list[tuple[str, str]]:
    """(schema, "field" or "model.field") for every field of every contract's data whose
    schema `matches`, optional ones too, and those of a model the data holds (an item's
    content)."""
    found = []
    for name, schema in SCHEMAS.items():
        defs = schema.get("$defs", {})
        for field, spec in _model(schema["properties"]["data"], defs).get("properties", {}).items():
            if matches(spec):
                found.append((name, field))
            inner_model = _model(spec, defs)
            for inner, inner_spec in inner_model.get("properties", {}).items() if inner_model is not spec else ():
                if matches(inner_spec):
                    found.append((name, f"{field}.{inner}"))
    return found


def _data_instants() -> list[tuple[str, str]]:
    return _data_fields(lambda spec: "date-time" in json.dumps(spec))


def _with(instance: dict, field: str, value: object) -> dict:
    outer, _, inner = field.partition(".")
    data = instance["data"]
    return {**instance, "data": {**data, outer: {**data[outer], inner: value} if inner else value}}


@pytest.mark.parametrize(("name", "field"), _data_instants())
def test_every_instant_in_an_event_is_an_rfc3339_time_with_an_offset_from_1970_to_before_2100(name, field):
    """Year 1 put a share in the week of date.min, which asyncpg writes as -infinity (the
    week-release job then failed at every pass); 9999-12-31T23:00-05:00 is in year 10000 in
    UTC, which no Python reader can hold. Compared as instants, whatever the offset."""
    [instance] = SCHEMAS[name]["examples"]
    for time in ("1970-01-01T00:00:00Z", "1970-01-01T05:00:00+05:00", "2099-12-31T23:59:59.999999Z"):
        MODELS[name].model_validate(_with(instance, field, time))
    for time in ("0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "1970-01-01T04:59:59+05:00",
                 "2099-12-31T23:00:00-05:00", "9999-12-31T23:00:00-05:00", "2026-11-30T09:00:00"):
        with pytest.raises(ValidationError, match=field.rsplit(".", 1)[-1]):
            MODELS[name].model_validate(_with(instance, field, time))


def test_the_instants_checked_include_an_items_content():
    assert ("json/advocacy.curation.item.published.v1.json", "content.expire_at") in _data_instants()


@pytest.mark.parametrize(("name", "field", "largest"), [
    ("json/advocacy.engagement.observed.v1.json", "impressions", 2**53 - 1),  # I-JSON, RFC 7493 §2.2
    ("json/advocacy.engagement.observed.v1.json", "reshares", 2**53 - 1),
    ("json/advocacy.engagement.followers.reported.v1.json", "followers", 2**31 - 1),
])
def test_counters_are_bounded_in_the_schema_and_the_model_alike(name, field, largest):
    [instance] = SCHEMAS[name]["examples"]
    good = {**instance, "data": {**instance["data"], field: largest}}
    jsonschema.validate(good, SCHEMAS[name])
    MODELS[name].model_validate(good)
    bad = {**instance, "data": {**instance["data"], field: largest + 1}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMAS[name])
    with pytest.raises(ValidationError, match=field):
        MODELS[name].model_validate(bad)


@pytest.mark.parametrize(("field", "value"), [("visitor", "v" * 65), ("visitor", ""), ("campaign_id", "c" * 65),
                                              ("campaign_id", "campaign 2026"), ("campaign_id", "short")])
def test_a_click_names_its_visitor_and_campaign_in_at_most_64_characters(field, value):
    """Both are in the primary key or an index of metrics' click table: 3,000 characters
    exceeded Postgres's btree row limit and came back as Postgres's long message."""
    name = "json/advocacy.distribution.link.clicked.v1.json"
    [instance] = SCHEMAS[name]["examples"]
    bad = {**instance, "data": {**instance["data"], field: value}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMAS[name])
    with pytest.raises(ValidationError, match=field):
        MODELS[name].model_validate(bad)


@pytest.mark.parametrize("value", [True, "5", 1.5])
def test_a_counter_is_a_json_integer_not_a_boolean_or_a_string(value):
    for name, field in (("json/advocacy.engagement.observed.v1.json", "impressions"),
                        ("json/advocacy.engagement.followers.reported.v1.json", "followers")):
        [instance] = SCHEMAS[name]["examples"]
        with pytest.raises(ValidationError, match=field):
            MODELS[name].model_validate_json(json.dumps(_with(instance, field, value)))


def _data_flags() -> list[tuple[str, str]]:
    return _data_fields(lambda spec: spec.get("type") == "boolean")


@pytest.mark.parametrize(("name", "field"), _data_flags())
def test_every_boolean_in_an_event_is_a_json_boolean(name, field):
    """`type: boolean`, as the schema says: pydantic's lax mode took `"bot": 1` as a bot and
    `"valid": "yes"` as a yes."""
    [instance] = SCHEMAS[name]["examples"]
    for value in (True, False):
        MODELS[name].model_validate_json(json.dumps(_with(instance, field, value)))
    for value in (1, 0, "true", "yes", "on", None):
        with pytest.raises(ValidationError, match=field.rsplit(".", 1)[-1]):
            MODELS[name].model_validate_json(json.dumps(_with(instance, field, value)))


def test_the_booleans_checked_include_a_clicks_bot_and_an_items_editable():
    assert {("json/advocacy.distribution.link.clicked.v1.json", "bot"),
            ("json/advocacy.curation.item.published.v1.json", "content.editable")} <= set(_data_flags())
