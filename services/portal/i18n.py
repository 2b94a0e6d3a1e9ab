"""German and English: every string through gettext, the language from the request.

Messages are written in English in the code and templates (`_("…")`, `ngettext`) and
translated in `locale/<lang>/LC_MESSAGES/messages.po`, which Babel reads at start (no
compiled catalogues in the repository, no build step). The language of a request is the
`lang` cookie the page's switch sets, else the best of `Accept-Language` (RFC 9110
§12.5.4, q-values honoured), else English. Dates, times and numbers are formatted per
locale by Babel (CLDR), times in the portal's time zone.

    with language("de"):
        _("Consent centre")                 # "Einwilligungen"
        format_number(1234.5)               # "1.234,5"

`python -m services.portal.i18n` extracts the messages into `locale/messages.pot` and
updates the German catalogue (Babel's extract and update), for translating what is new.
"""

import contextlib
import io
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("en", "de")  # the first is the source language and the fallback
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("portal_locale", default=LOCALES[0])
_zone: ContextVar[tzinfo] = ContextVar("portal_zone", default=UTC)


def _load(lang: str) -> NullTranslations:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


_TRANSLATIONS: dict[str, NullTranslations] = {lang: _load(lang) for lang in LOCALES}


def current() -> str:
    return _current.get()


@contextlib.contextmanager
def language(lang: str, zone: tzinfo | None = None) -> Iterator[None]:
    token = _current.set(lang if lang in LOCALES else LOCALES[0])
    zone_token = _zone.set(zone) if zone is not None else None
    try:
        yield
    finally:
        _current.reset(token)
        if zone_token is not None:
            _zone.reset(zone_token)


def use(lang: str, zone: tzinfo | None = None) -> None:
    """Set the language (and zone) for the rest of this request's task."""
    _current.set(lang if lang in LOCALES else LOCALES[0])
    if zone is not None:
        _zone.set(zone)


def gettext(message: str, **variables: Any) -> str:
    text = _TRANSLATIONS[_current.get()].ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for `n`, not yet formatted (Jinja's newstyle gettext fills `%(num)s` in)."""
    return _TRANSLATIONS[_current.get()].ungettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    return message


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The request's language: a known `lang` cookie, else Accept-Language's best, else English."""
    if cookie in LOCALES:
        return cookie
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    for _q, _p, tag in sorted(ranked):
        if tag == "*":
            return LOCALES[0]
        primary = tag.split("-")[0]
        if primary in LOCALES:
            return primary
    return LOCALES[0]


_LOCALE_DATA = {lang: Locale.parse(lang) for lang in LOCALES}


def _locale() -> Locale:
    return _LOCALE_DATA[_current.get()]


def format_datetime(value: datetime | str | None, form: str = "medium") -> str:
    if value in (None, ""):
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return dates.format_datetime(moment, form, tzinfo=_zone.get(), locale=_locale())


def format_date(value: date | datetime | str | None, form: str = "medium") -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(_zone.get()).date()
    return dates.format_date(value, form, locale=_locale())


def format_number(value: float | int | None, decimals: int | None = None) -> str:
    if value is None:
        return ""
    if decimals is not None:
        return numbers.format_decimal(value, format=f"#,##0.{'0' * decimals}" if decimals else "#,##0",
                                      locale=_locale())
    return numbers.format_decimal(value, locale=_locale())


def format_percent(value: float | None) -> str:
    return "" if value is None else numbers.format_percent(value, format="#,##0.0%", locale=_locale())


def format_currency(value: float | None, currency: str) -> str:
    return "" if value is None else numbers.format_currency(value, currency, locale=_locale())


def zone() -> tzinfo:
    return _zone.get()


def main() -> None:
    """Extract messages from the portal's code and templates, update the catalogues."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import write_po

    root = Path(__file__).parent
    catalog = Catalog(project="advocacy portal", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            root, method_map=METHOD_MAP, options_map=OPTIONS_MAP, keywords=KEYWORDS):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    with (LOCALE_DIR / "messages.pot").open("wb") as target:
        write_po(target, catalog, width=100, omit_header=False)
    for lang in LOCALES[1:]:
        po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        with po.open("rb") as source:
            existing = read_po(source, locale=lang)
        existing.update(catalog, no_fuzzy_matching=True)
        with po.open("wb") as target:
            write_po(target, existing, width=100, ignore_obsolete=True)
        untranslated = [m.id for m in existing if m.id and not m.string]
        print(f"{lang}: {len(untranslated)} untranslated")


METHOD_MAP = [("**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS_MAP = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}

if __name__ == "__main__":
    main()
