"""URL rules that curation (feed entries) and distribution (tracked links) share.

A URL's query is kept byte for byte: its own parameters are never decoded and encoded
again, since a server may read `?abc`, `?a=1&a=2`, `+` or `%20` in ways of its own
(RFC 3986 §3.4 leaves the query's syntax to the server). Only `utm_*` parameters, which
the platform owns on its links, are taken out or added. Hosts go out in ASCII by IDNA 2008
with UTS #46 mapping (the `idna` package, as browsers map hosts); anything else that is not
ASCII is percent-encoded as UTF-8, as the WHATWG URL standard does.
"""

from urllib.parse import quote, unquote_plus, urlencode, urlsplit, urlunsplit

import idna

TRACKING_PREFIX = "utm_"
# What RFC 3986 allows unencoded in a path, query or fragment, plus "%" so that escapes
# already there stay as they are: only what is outside this set gets encoded.
_KEEP = "!#$%&'()*+,/:;=?@[]~-._"


def _is_tracking(pair: str) -> bool:
    name = unquote_plus(pair.split("=", 1)[0])
    return name.lower().startswith(TRACKING_PREFIX)


def without_tracking(url: str) -> str:
    """`url` without `utm_*` parameters and without its fragment: the same article however
    it was linked. Other parameters keep their bytes and order. Raises ValueError for a
    malformed URL (e.g. an unbalanced IPv6 bracket)."""
    parts = urlsplit(url)
    query = "&".join(pair for pair in parts.query.split("&") if pair and not _is_tracking(pair))
    return urlunsplit(parts._replace(query=query, fragment=""))


def with_tracking(url: str, tags: dict[str, str]) -> str:
    """`url` with `tags` (utm_* names) appended to its query; `utm_*` already there are
    replaced, everything else in the query goes out as it came, and the fragment stays last.
    `https://example.com/?abc#123` → `https://example.com/?abc&utm_source=x#123`."""
    parts = urlsplit(url)
    kept = [pair for pair in parts.query.split("&") if pair and not _is_tracking(pair)]
    query = "&".join([*kept, urlencode(tags)])
    # urlunsplit drops a '?' before an empty query and '#' before an empty fragment; both are
    # unusual enough, and their meaning the same to any server.
    return urlunsplit(parts._replace(query=query))


def check_a_labels(host: str) -> None:
    """Raise ValueError if a label of `host` is an A-label (`xn--…`) whose Punycode (RFC 3492)
    does not decode, or decodes to nothing or to a character that cannot be shown (`xn--zz`,
    `xn--a` for U+0080): the WHATWG URL Standard's host parser refuses such a host, so no
    browser follows a link to it. What it accepts passes: emoji and symbols (`xn--ls8h`, 💩),
    which IDNA 2008 itself would refuse, and other ASCII labels (`my_host`)."""
    for label in host.split("."):
        if label[:4].lower() == "xn--":
            try:
                decoded = label[4:].encode("ascii").decode("punycode")
            except UnicodeError:
                raise ValueError("an A-label that is not Punycode") from None
            if not decoded or not decoded.isprintable():
                raise ValueError("an A-label of nothing or of a character that cannot be shown")


def to_ascii(url: str) -> str:
    """`url` as an ASCII URI (RFC 3986) for a `Location` header: the host by IDNA/UTS #46
    (`bücher.example` → `xn--bcher-kva.example`), the rest percent-encoded as UTF-8 where
    it is not ASCII. An ASCII URL comes back unchanged. Raises ValueError (idna.IDNAError
    is one) for a host IDNA refuses."""
    if url.isascii():
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host.isascii():
        host = idna.encode(host, uts46=True).decode("ascii")
    netloc = host if ":" not in host else f"[{host}]"
    if parts.port is not None:
        netloc += f":{parts.port}"
    if parts.username is not None:  # never from our own checks; kept rather than silently dropped
        userinfo = quote(parts.username, safe=_KEEP) + (
            f":{quote(parts.password, safe=_KEEP)}" if parts.password is not None else "")
        netloc = f"{userinfo}@{netloc}"
    return urlunsplit((parts.scheme, netloc, quote(parts.path, safe=_KEEP), quote(parts.query, safe=_KEEP),
                       quote(parts.fragment, safe=_KEEP)))
