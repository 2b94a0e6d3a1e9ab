"""The hand-written corpus, part two: content each service must judge — invalid URLs,
script in texts, Unicode edge cases, wrong types, rule breaches — each with the outcome it
must get. `CANARY` marks values that must never be echoed in a dead letter's headers."""

from typing import Any

from schemas import curation
from schemas.directory import Network
from tests.e2e.bad_input import factories as f
from tests.e2e.bad_input.inputs import DEAD_LETTERED, HANDLED, REJECTED, Input, document, from_doc, from_event
from tests.e2e.bad_input.mutations import set_at

CANARY = "canary-7c1e"
SCRIPT = "<script>alert('xss')</script>"
IMG = '<img src=x onerror="alert(1)">'
NUL, SURROGATE, RTL = "\x00", "\ud800", "\u202e"
FAMILY = "👩\u200d👩\u200d👧\u200d👦"


def with_value(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """`doc` with the value at dotted `path` replaced (the doc is a fresh copy from document())."""
    set_at(doc, tuple(path.split(".")), value)
    return doc


def curation_commands(ids: f.Ids, script_campaign: str) -> list[Input]:
    topic = curation.COMMANDS_TOPIC
    rejected = [  # (label, category, content changes, reason)
        ("javascript: URL", "invalid_urls", {"source_url": "javascript:alert(1)"}, "invalid_url"),
        ("mixed-case javascript: URL", "invalid_urls", {"source_url": "JaVaScRiPt:alert(1)"}, "invalid_url"),
        ("data: image URL", "invalid_urls", {"image_url": "data:image/png;base64,AAAA"}, "invalid_url"),
        ("file: URL", "invalid_urls", {"source_url": "file:///etc/passwd"}, "invalid_url"),
        ("ftp: URL", "invalid_urls", {"source_url": "ftp://example.com/file"}, "invalid_url"),
        ("URL without host", "invalid_urls", {"source_url": "https://"}, "invalid_url"),
        ("scheme-relative URL", "invalid_urls", {"source_url": "//example.com/news"}, "invalid_url"),
        ("URL with credentials", "invalid_urls", {"source_url": "https://trusted.example@evil.example/"}, "invalid_url"),
        ("URL with a space", "invalid_urls", {"source_url": "https://exa mple.com/"}, "invalid_url"),
        ("URL with a header break", "invalid_urls", {"source_url": "https://example.com/\r\nLocation: x"}, "invalid_url"),
        ("unbalanced IPv6 URL", "invalid_urls", {"source_url": "http://[::1/news"}, "invalid_url"),
        ("URL with port 0", "invalid_urls", {"source_url": "https://example.com:0/"}, "invalid_url"),
        ("over-long URL", "invalid_urls", {"source_url": "https://example.com/" + "a" * 2048}, "too_long"),
        ("100,000-character title", "unicode_edge_cases", {"title": "A" * 100_000}, "too_long"),
        # X counts an emoji sequence as 2 (twitter-text): 140 families fill the 280 before disclosure and link.
        ("X text of emoji over the limit", "unicode_edge_cases", {"share_texts": {Network.X: FAMILY * 140}},
         "share_text_too_long"),
        ("blank share text", "wrong_types", {"share_texts": {Network.LINKEDIN: " "}}, "share_text_empty"),
    ]
    handled = [  # accepted as text: escaping is the business of whoever renders it
        ("script in title and share text", "script_in_text",
         {"title": SCRIPT, "share_texts": {Network.LINKEDIN: IMG}, "summary": SCRIPT}),
        ("right-to-left override in title", "unicode_edge_cases", {"title": f"{RTL}gnp.exe news"}),
        ("200 combining marks in title", "unicode_edge_cases", {"title": "e" + "\u0301" * 200}),
        ("emoji sequences in texts", "unicode_edge_cases", {"title": FAMILY * 10, "share_texts": {Network.X: FAMILY}}),
        ("internationalised URL", "invalid_urls", {"source_url": "https://bücher.example/straße?q=ä"}),
        # An item's URL is only linked to, never fetched by the platform: no SSRF to guard against.
        ("loopback URL of an item", "invalid_urls", {"source_url": "https://127.0.0.1/internal"}),
    ]
    dead = [  # valid JSON and contract, but no database stores it
        ("NUL in title", "unicode_edge_cases", {"title": f"News{NUL}{CANARY}"}),
        ("lone surrogate in title", "unicode_edge_cases", {"title": f"{CANARY}{SURROGATE}"}),
    ]
    cases = [from_event(topic, f.draft(ids, **changes), category, label=label, expected=REJECTED, reason=reason)
             for label, category, changes, reason in rejected]
    cases += [from_event(topic, f.draft(ids, **changes), category, label=label, expected=HANDLED)
              for label, category, changes in handled]
    for label, category, changes in dead:
        doc = with_value(document(f.draft(ids)), "data.content.title", changes["title"])
        cases.append(from_doc(topic, doc, category, label=label, expected=DEAD_LETTERED))
    for url in ("file:///etc/passwd", "javascript:alert(1)", "http://[::1"):
        source = curation.RegisterSource(source=f.SOURCE, subject=ids.new("source"), data=curation.SourceDetails(
            actor=ids.new("editor"), url=url, language="en"))
        cases.append(from_event(topic, source, "invalid_urls", label=f"feed source {url}", expected=REJECTED,
                                reason="invalid_url"))
    script_campaign_command = f.campaign(ids, f"{SCRIPT} {IMG}").model_copy(update={"subject": script_campaign})
    cases.append(from_event(topic, script_campaign_command, "script_in_text", label="script in campaign name",
                            expected=HANDLED))
    wrong = [("language is a number", "data.content.language", 5), ("title is a list", "data.content.title", ["a"]),
             ("actor is missing", "data.actor", None)]
    for label, path, value in wrong:
        doc = document(f.draft(ids))
        if value is None:
            del doc["data"]["actor"]
        else:
            with_value(doc, path, value)
        cases.append(from_doc(topic, doc, "missing_fields" if value is None else "wrong_types", label=label,
                              expected=DEAD_LETTERED))
    unknown = curation.SubmitItem(source=f.SOURCE, subject=ids.new("item"),
                                  data=curation.ItemAction(actor=ids.new("editor")))
    return [*cases, from_event(topic, unknown, "valid", label="submit an unknown item", expected=REJECTED,
                               reason="unknown_item")]
