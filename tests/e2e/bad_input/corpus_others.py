"""The hand-written corpus, part three: consent, distribution and metrics commands, the
directory, and the events topics one service reads from another (or from connectors)."""

from datetime import datetime, timedelta

from schemas import consent, curation, directory, distribution, engagement, metrics
from tests.e2e.bad_input import factories as f
from tests.e2e.bad_input.corpus_content import CANARY, IMG, NUL, SCRIPT, SURROGATE, with_value
from tests.e2e.bad_input.inputs import DEAD_LETTERED, HANDLED, REJECTED, Input, document, from_doc, from_event

SIGN_IN_REQUIRED = "sign_in_required"  # each service's Reason.SIGN_IN_REQUIRED


def _doc_case(topic, event, path, value, category, label, expected=DEAD_LETTERED, **more) -> Input:
    return from_doc(topic, with_value(document(event), path, value), category, label=label, expected=expected, **more)


def consent_commands(ids: f.Ids) -> list[Input]:
    """A give, refusal or withdrawal on Kafka is refused `sign_in_required` before any rule
    is looked at (who the actor is, whether the person is in the directory): only the person,
    signed in over HTTP, answers for themself. What the contract refuses is dead-lettered first."""
    t, refused = consent.COMMANDS_TOPIC, {"expected": REJECTED, "reason": SIGN_IN_REQUIRED}
    someone = ids.new("adv")
    return [
        from_event(t, f.give(ids, actor=ids.new("manager")), "valid", label="opt-in by a manager", **refused),
        from_event(t, f.give(ids), "valid", label="give, not in the directory", **refused),
        from_event(t, f.give(ids, advocate=someone), "valid", label="give on Kafka, in their own name", **refused),
        from_event(t, f.refuse(ids), "valid", label="refusal on Kafka", **refused),
        from_event(t, f.withdraw(ids), "valid", label="withdrawal on Kafka", **refused),
        _doc_case(t, f.give(ids), "data.policy_version", "one", "wrong_types", "policy version in words"),
        _doc_case(t, f.give(ids), "data.policy_version", 0, "wrong_types", "policy version 0"),
        _doc_case(t, f.give(ids), "data.purpose", "everything", "wrong_types", "bundled purpose"),
        _doc_case(t, f.withdraw(ids), "data.advocate_id", f"adv{NUL}0001", "unicode_edge_cases", "NUL in an id"),
        _doc_case(t, f.give(ids), "data.advocate_id", "adv-\u0661\u0662\u0663-0001", "unicode_edge_cases",
                  "Arabic-Indic digits in an id"),
    ]


def distribution_commands(ids: f.Ids) -> list[Input]:
    """Share requests and cancellations act for a person: `sign_in_required` on Kafka,
    whatever their text says (script, NUL) and whoever they name."""
    t, refused = distribution.COMMANDS_TOPIC, {"expected": REJECTED, "reason": SIGN_IN_REQUIRED}
    someone = ids.new("adv")
    return [
        from_event(t, f.share_request(ids, text=SCRIPT), "script_in_text", label="script in share text", **refused),
        from_event(t, f.share_request(ids, text=f"{NUL}{CANARY}"), "unicode_edge_cases", label="NUL in share text",
                   **refused),
        from_event(t, f.share_request(ids, actor=someone), "valid", label="share in somebody else's name", **refused),
        from_event(t, f.cancel_share(ids), "valid", label="cancellation on Kafka", **refused),
        _doc_case(t, f.share_request(ids), "data.scheduled_at", "2030-01-01T09:00:00", "wrong_types",
                  "schedule without time zone"),
        _doc_case(t, f.share_request(ids), "data.text", "x" * 70_001, "wrong_types", "share text over 70,000"),
        _doc_case(t, f.share_request(ids), "data.network", "myspace", "wrong_types", "unknown network"),
        _doc_case(t, f.cancel_share(ids), "data.share_id", "../../etc", "wrong_types", "share id as a path"),
    ]


def metrics_commands(ids: f.Ids) -> list[Input]:
    """Reports are an analyst's and "my impact" the person's, read over HTTP: on Kafka both
    are refused `sign_in_required`, a bad period or currency included; the rules on them
    are the API's (tests/integration/metrics). A report id written as a path is refused by
    the contract before that."""
    t, today = metrics.COMMANDS_TOPIC, f.TODAY
    refused = {"expected": REJECTED, "reason": SIGN_IN_REQUIRED}
    advocate = ids.new("adv")
    return [
        from_event(t, f.report(ids, starts_on=today, ends_on=today - timedelta(days=1)), "valid",
                   label="period ends before it starts", **refused),
        from_event(t, f.report(ids, currency="XYZ"), "valid", label="unknown currency", **refused),
        from_event(t, f.report(ids), "valid", label="report on Kafka", **refused),
        from_event(t, f.impact(ids, advocate, ids.new("adv")), "valid", label="somebody else's impact", **refused),
        from_event(t, f.impact(ids, advocate, advocate), "valid", label="own impact on Kafka", **refused),
        _doc_case(t, f.report(ids), "data.currency", "usd", "wrong_types", "currency in lower case"),
        # The report id names the report's files: a path must not get through.
        _doc_case(t, f.report(ids), "data.report_id", "../../../etc/passwd", "wrong_types", "report id as a path"),
    ]


def directory_events(ids: f.Ids) -> list[Input]:
    t = directory.TOPIC
    return [
        from_event(t, f.person(ids, org_unit=f"{SCRIPT}"), "script_in_text", label="script in org unit",
                   expected=HANDLED),
        _doc_case(t, f.person(ids), "data.org_unit", f"{CANARY}{NUL}", "unicode_edge_cases", "NUL in org unit"),
        _doc_case(t, f.person(ids), "data.org_unit", f"{CANARY}{SURROGATE}", "unicode_edge_cases",
                  "lone surrogate in org unit"),
        _doc_case(t, f.person(ids), "data.languages", "de", "wrong_types", "languages is a string"),
        _doc_case(t, f.person(ids), "data.role", "ceo", "wrong_types", "unknown role"),
        _doc_case(t, f.person(ids), "data.org_unit", "x" * 81, "wrong_types", "org unit too long"),
        _doc_case(t, f.person(ids), "subject", ids.new("adv"), "wrong_types", "subject is somebody else"),
        _doc_case(t, f.person(ids), "time", "2099-12-31T23:59:59Z", "wrong_types",
                  "profile dated decades ahead"),  # ordered by its time: it would freeze the profile
    ]


def events_read_by_others(ids: f.Ids, script_item: str, script_campaign: str) -> list[Input]:
    """Curation's, consent's and distribution's events and connectors' reports, as their
    readers get them: a publisher's bug must not stop a reader."""
    ce, ke, de, en = curation.EVENTS_TOPIC, consent.EVENTS_TOPIC, distribution.EVENTS_TOPIC, engagement.TOPIC
    campaign = curation.CampaignCreated(source=f.SOURCE, subject=ids.new("campaign"), data=curation.Campaign(
        campaign_id=ids.new("campaign"), name="n", goal="", starts_on=f.TODAY, ends_on=f.TODAY, topics=[],
        owner=ids.new("editor")))
    huge = 2**53  # beyond the contract's 2**53 - 1 (I-JSON, ADR 0037): every reader refuses it
    return [
        from_event(ce, f.published(ids, script_item, title=SCRIPT, topics=[IMG], campaign_id=script_campaign),
                   "script_in_text", label="script in a published item", expected=HANDLED),
        from_event(ce, f.published(ids, source_url="javascript:alert(1)"), "invalid_urls",
                   label="published item with a javascript: URL", expected=HANDLED),  # the redirect refuses it
        _doc_case(ce, f.published(ids), "data.content.title", f"{CANARY}{NUL}", "unicode_edge_cases",
                  "NUL in a published title"),
        _doc_case(ce, f.published(ids), "data.content.title", f"{CANARY}{SURROGATE}", "unicode_edge_cases",
                  "lone surrogate in a published title"),
        _doc_case(ce, campaign, "data.name", f"{CANARY}{NUL}", "unicode_edge_cases", "NUL in a campaign name",
                  expected_by={"distribution": HANDLED}),  # distribution does not keep campaigns
        from_event(ke, f.consent_given(ids), "valid", label="consent given", expected=HANDLED),
        _doc_case(ke, f.consent_given(ids), "data.status", "maybe", "wrong_types", "unknown consent status"),
        from_event(de, f.share_created(ids, script_item, script_campaign), "script_in_text",
                   label="share of the script item", expected=HANDLED),
        _doc_case(de, f.share_created(ids, ids.new("item")), "data.network", "myspace", "wrong_types",
                  "share on an unknown network"),
        from_event(en, f.observed(ids, impressions=10), "valid", label="engagement observed", expected=HANDLED),
        _doc_case(en, f.observed(ids), "data.impressions", -1, "wrong_types", "negative impressions"),
        _doc_case(en, f.observed(ids), "data.impressions", huge, "wrong_types", "impressions beyond 2**53 - 1"),
        _doc_case(en, f.observed(ids), "data.observed_at", "9999-12-31T23:00:00-05:00", "wrong_types",
                  "observation in year 10000 in UTC"),
        _doc_case(de, f.share_created(ids, ids.new("item")), "data.created_at", "0001-01-01T00:00:00Z", "wrong_types",
                  "share made in year 1"),
        _doc_case(en, f.observed(ids), "data.observed_at", datetime(2030, 1, 1).isoformat(), "wrong_types",
                  "observation without time zone"),
    ]
