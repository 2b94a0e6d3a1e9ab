"""German and English: every message of the portal's code and templates has its German
translation, the language follows Accept-Language, dates and numbers follow the locale."""

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from services.portal import i18n, texts

ROOT = Path(i18n.__file__).parent


def messages_in_the_portal() -> set[str | tuple[str, ...]]:
    return {message for _f, _l, message, _c, _ctx in extract_from_dir(
        ROOT, method_map=i18n.METHOD_MAP, options_map=i18n.OPTIONS_MAP, keywords=i18n.KEYWORDS)}


def test_every_message_of_the_code_and_the_templates_has_a_german_translation():
    with (i18n.LOCALE_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalogue = {m.id: m.string for m in read_po(source, locale="de") if m.id}
    found = messages_in_the_portal()
    assert len(found) > 250
    untranslated = [m for m in found if not catalogue.get(m) or not all(catalogue[m])]
    assert untranslated == []


def test_every_refusal_reason_a_service_documents_has_a_sentence():
    readme = (ROOT.parents[1] / "README.md").read_text()
    table = readme[readme.index("<!-- rejection reasons"):readme.index("<!-- end of rejection reasons")]
    documented = {line.split("`")[1] for line in table.splitlines() if line.startswith("| ") and "`" in line}
    on_kafka_only = {"sign_in_required", "key_not_subject", "command_not_fresh"}  # the portal never sends on Kafka
    assert documented - on_kafka_only <= set(texts.REASONS)


def test_the_language_is_the_best_of_accept_language_that_the_portal_speaks():
    assert i18n.negotiate(None, "fr-CH, fr;q=0.9, de;q=0.8, en;q=0.7") == "de"
    assert i18n.negotiate(None, "en-GB;q=0.5, de-AT;q=0.6") == "de"
    assert i18n.negotiate(None, "de;q=0, en") == "en"
    assert i18n.negotiate(None, "") == "en" and i18n.negotiate(None, "q=;;,;") == "en"
    assert i18n.negotiate("en", "de") == "en" and i18n.negotiate("xx", "de") == "de"


def test_dates_and_numbers_are_written_as_each_language_writes_them():
    moment = datetime(2026, 11, 30, 17, 5, tzinfo=UTC)
    with i18n.language("de", ZoneInfo("Europe/Berlin")):
        assert i18n.format_number(1234567) == "1.234.567"
        assert i18n.format_datetime(moment) == "30.11.2026, 18:05:00"
        assert i18n.gettext("Withdraw") == "Widerrufen"
    with i18n.language("en", ZoneInfo("Europe/Berlin")):
        assert i18n.format_number(1234567) == "1,234,567"
        assert i18n.format_date("2026-11-30") == "Nov 30, 2026"
        assert i18n.format_percent(0.1234) == "12.3%"
