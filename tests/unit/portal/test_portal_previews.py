"""The editors' preview counts a post as the network counts it, with a link as long as
distribution's, and an item's content is read from the draft form as curation takes it."""

from starlette.datastructures import FormData

from schemas.networks import tracked_link
from services.portal.pages.editor import content_of, previews

BASE = "https://go.example.com"  # X counts a link to a domain as 23 (an address like 127.0.0.1 in full)


def test_x_counts_the_link_as_23_and_other_networks_count_every_character():
    shown = {p["network"]: p for p in previews(
        {"share_texts": {"x": "Grüße 👋", "linkedin": "Grüße 👋"}, "disclosure": "#employee"}, BASE)}
    link = tracked_link(BASE)
    assert shown["x"]["post"] == f"Grüße 👋\n#employee\n{link}"
    assert shown["x"]["length"] == 5 + 1 + 2 + 1 + 9 + 1 + 23 and shown["x"]["max_length"] == 280
    assert shown["linkedin"]["length"] == len(shown["linkedin"]["post"]) and shown["linkedin"]["fits"]


def test_a_post_over_the_limit_is_shown_as_not_fitting():
    [shown] = previews({"share_texts": {"bluesky": "a" * 300}, "disclosure": None}, BASE)
    assert shown["length"] > shown["max_length"] == 300 and not shown["fits"]


def test_the_draft_form_becomes_content_with_only_the_texts_written():
    form = FormData([("title", " Canteen "), ("source_url", "https://example.com/a"), ("language", "de"),
                     ("topics", "food, site,\n  campus"), ("disclosure", ""), ("editable", "yes"),
                     ("text_x", "Open now\r\n"), ("text_linkedin", "  ")])
    content = content_of(form)
    assert content["title"] == "Canteen" and content["topics"] == ["food", "site", "campus"]
    assert content["share_texts"] == {"x": "Open now"} and content["disclosure"] is None and content["editable"]
    assert "campaign_id" not in content
