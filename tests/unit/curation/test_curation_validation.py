"""Validation with a reason code: URLs, lengths, required fields per step, periods."""

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from schemas import curation as c
from schemas.commands import Rejected
from schemas.curation import ItemContent
from services.curation import validation

T = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LINK = "https://go.example.com/r/" + "x" * 16  # as long as a tracked link


def content(**changes: object) -> ItemContent:
    fields = dict(source_url="https://example.com/a", title="Title", language="en")
    return ItemContent(**{**fields, **changes})


def reason_of(check, *args, **kwargs) -> str | None:
    try:
        check(*args, **kwargs)
    except Rejected as refused:
        return refused.reason
    return None


@pytest.mark.parametrize("url", [
    "https://example.com", "http://example.com/path?q=1#frag", "HTTPS://EXAMPLE.COM/", "https://127.0.0.1:8080/feed",
    "https://xn--bcher-kva.example/", "https://XN--BCHER-KVA.example/", "https://my_host.example.com/",
    "https://xn--ls8h.la/", "https://xn--i-7iq.ws/", "https://xn--l-fda.com/", "https://shop.xn--p1ai/",  # as browsers
])
def test_http_and_https_urls_with_a_host_are_accepted(url):
    assert reason_of(validation.check_url, "source_url", url) is None


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "data:text/html,<script>x</script>",
    "file:///etc/passwd", "ftp://example.com/x", "https://", "https:///path", "//example.com/a", "example.com",
    "https://trusted.example@evil.example/", "https://exa mple.com/", "https://example.com/\x00", "http://[::1",
    "https://example.com:0/", "",
    "https://xn--zz.com/a", "https://news.XN--ZZ.example/", "https://xn--a.com/", "https://xn--.com/",  # bad A-labels
])
def test_other_urls_are_rejected_as_invalid(url):
    assert reason_of(validation.check_url, "source_url", url) == "invalid_url"


def test_a_draft_needs_a_valid_source_url_and_a_title_but_nothing_more():
    assert reason_of(validation.check_content, content(), LINK) is None
    assert reason_of(validation.check_content, content(title=" "), LINK) == "missing_field"
    assert reason_of(validation.check_content, content(title="\u202e\u200b\u2800"), LINK) == "missing_field"
    assert reason_of(validation.check_content, content(source_url="javascript:void(0)"), LINK) == "invalid_url"
    assert reason_of(validation.check_content, content(image_url="data:image/png;base64,AAAA"), LINK) == "invalid_url"


@pytest.mark.parametrize(("field", "limit"), [("title", 300), ("summary", 3000), ("disclosure", 200)])
def test_texts_longer_than_their_limit_are_rejected(field, limit):
    assert reason_of(validation.check_content, content(**{field: "x" * limit}), LINK) is None
    assert reason_of(validation.check_content, content(**{field: "x" * (limit + 1)}), LINK) == "too_long"


def test_a_url_longer_than_2048_characters_is_rejected():
    assert reason_of(validation.check_url, "u", "https://example.com/" + "a" * 2029) == "too_long"


def test_a_url_longer_than_2048_bytes_in_utf8_is_rejected_as_an_index_entry_could_not_hold_it():
    assert reason_of(validation.check_url, "u", "https://example.com/" + "字" * 676) is None  # 2,048 bytes
    assert reason_of(validation.check_url, "u", "https://example.com/" + "字" * 677) == "too_long"


def test_submission_needs_a_summary_share_texts_and_where_required_a_disclosure():
    bare = content()
    with pytest.raises(Rejected) as refused:
        validation.check_ready_for_review(bare, disclosure_required=True)
    assert refused.value.reason == "missing_field"
    assert refused.value.detail == "required: disclosure, share_texts, summary"
    ready = content(summary="S", share_texts={"x": "Look"})
    assert reason_of(validation.check_ready_for_review, ready, disclosure_required=False) is None
    assert reason_of(validation.check_ready_for_review, ready, disclosure_required=True) == "missing_field"


def test_expiry_must_come_after_publication():
    assert reason_of(validation.check_content, content(publish_at=T, expire_at=T), LINK) == "invalid_period"
    assert reason_of(validation.check_content, content(publish_at=T, expire_at=T + timedelta(seconds=1)), LINK) is None


def test_a_campaign_needs_a_name_and_a_period_that_does_not_end_before_it_starts():
    assert reason_of(validation.check_campaign, "Launch", "", date(2026, 1, 1), date(2026, 1, 1)) is None
    assert reason_of(validation.check_campaign, "", "", date(2026, 1, 1), date(2026, 2, 1)) == "missing_field"
    assert reason_of(validation.check_campaign, "Launch", "", date(2026, 2, 1), date(2026, 1, 1)) == "invalid_period"
    assert reason_of(validation.check_campaign, "x" * 201, "", date(2026, 1, 1), date(2026, 1, 1)) == "too_long"


def test_a_share_text_that_does_not_fit_its_network_is_rejected_with_the_network_named():
    with pytest.raises(Rejected) as refused:
        validation.check_content(content(share_texts={"bluesky": "b" * 300}), LINK)
    assert refused.value.reason == "share_text_too_long"
    assert refused.value.detail.startswith("bluesky:")


@pytest.mark.parametrize("data", [
    lambda nul: c.SendBack(actor="editor-a", note=nul),
    lambda nul: c.Retraction(actor="editor-a", reason=nul),
    lambda nul: c.WriteItem(actor="editor-a", content=content(title=nul)),
    lambda nul: c.WriteItem(actor="editor-a", content=content(share_texts={"linkedin": nul})),
    lambda nul: c.WriteItem(actor="editor-a", content=content(audience=c.Audience(topics=[nul]))),
    lambda nul: c.SourceDetails(actor="editor-a", url="https://example.com/feed", language="en", topics=[nul]),
])
def test_a_command_on_kafka_with_a_nul_in_any_text_fails_validation_and_one_without_passes(data):
    data("ab")
    with pytest.raises(ValidationError, match="U\\+0000"):
        data("a\x00b")


@pytest.mark.parametrize("when", [1893456000, "1893456000"])
def test_a_publication_or_expiry_time_is_rfc_3339_not_seconds_since_1970(when):
    for field in ("publish_at", "expire_at"):
        with pytest.raises(ValidationError, match="RFC 3339"):
            content(**{field: when})
