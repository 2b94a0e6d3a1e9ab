"""Fetching a feed without letting its URL reach into our own network (SSRF).

A source URL comes from an editor, and a feed can redirect anywhere, so every hop is
checked: http(s) only, and the host must resolve to public addresses only — no loopback,
private, shared (CGNAT), link-local (169.254.169.254 is the cloud metadata service),
reserved, unspecified or multicast address. The check happens where the socket is
opened, on the addresses actually connected to, so a DNS answer that changes between
check and connect (rebinding) gains nothing. TLS still verifies the host name.

A fetch is conditional when the last one left validators (`ETag`, `Last-Modified`;
RFC 9110 §13.1): a feed that has not changed answers 304 and costs no parsing. A body
in gzip or deflate is decompressed, asked for or not, within the same size cap.
"""

import functools
import http.client
import ipaddress
import socket
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_CHUNK = 65536


class RefusedAddress(ValueError):
    """The URL is not http(s), or its host resolves to an address we do not fetch from."""


def is_public(address: IPAddress) -> bool:
    """True for a globally routable unicast address; IPv4 embedded in IPv6 is judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not is_public(embedded):
            return False
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_link_local
                                      or address.is_loopback or address.is_private or address.is_unspecified)


def resolve(host: str, port: int, allow_private: bool) -> list[tuple[Any, ...]]:
    """getaddrinfo's answers for `host`; refused if any of them is not public (unless allowed)."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for *_, sockaddr in answers:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
        if not allow_private and not is_public(address):
            raise RefusedAddress(f"{host} resolves to {address}, which is not a public address")
    return answers


@dataclass(frozen=True)
class Fetched:
    """What a fetch brought: the body (None when the server says it has not changed), the
    URL it came from after redirects, and the response headers (lower-case names)."""

    url: str
    body: bytes | None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def etag(self) -> str | None:
        return _storable(self.headers.get("etag"))

    @property
    def last_modified(self) -> str | None:
        return _storable(self.headers.get("last-modified"))


def _storable(validator: str | None) -> str | None:
    """A validator to send back next time, or None for one holding a NUL: no header value may
    (RFC 9110 §5.5), and no Postgres text keeps one; the next fetch is then unconditional."""
    return None if validator is None or "\x00" in validator else validator


def fetch(url: str, timeout: float, max_bytes: int, allow_private: bool = False,
          etag: str | None = None, last_modified: str | None = None) -> Fetched:
    """The feed (blocking: run it in a thread). Raises OSError, ValueError or
    http.client.HTTPException. `timeout` bounds each socket operation and, checked between
    reads, the whole download; the caller bounds DNS and connecting with its own deadline.
    `etag` and `last_modified` are the validators of the last fetch, if any."""
    check_url(url)
    deadline = time.monotonic() + timeout
    opener = urllib.request.OpenerDirector()  # no ProxyHandler: a proxy would connect for us, unchecked
    for handler in (_PublicHTTPHandler(allow_private), _PublicHTTPSHandler(allow_private),
                    _CheckedRedirectHandler(allow_private), urllib.request.HTTPDefaultErrorHandler(),
                    urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8",
               "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    body = bytearray()
    try:
        response = opener.open(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as answer:
        if answer.code != 304:
            raise
        answer.close()
        return Fetched(answer.url or url, None, _lower(answer.headers))
    with response:
        # read1: at most one read from the socket, so the deadline is checked as bytes trickle in.
        while chunk := response.read1(min(_CHUNK, max_bytes + 1 - len(body))):
            body += chunk
            if len(body) > max_bytes:
                raise ValueError(f"feed larger than {max_bytes} bytes")
            if time.monotonic() > deadline:  # a server dripping bytes would reset the socket timeout forever
                raise TimeoutError(f"feed not read within {timeout} seconds")
        received = _lower(response.headers)
        return Fetched(response.url or url, decode_content(bytes(body), received.get("content-encoding"), max_bytes),
                       received)


def decode_content(body: bytes, encoding: str | None, max_bytes: int) -> bytes:
    """`body` without its content coding (RFC 9110 §8.4): gzip and deflate (zlib-wrapped or,
    as some servers send it, raw), at most `max_bytes` once decompressed. Raises ValueError
    for another coding, a corrupt body, or one that would grow past the cap."""
    coding = (encoding or "identity").strip().lower()
    if coding == "identity":
        return body
    if coding in ("gzip", "x-gzip"):
        modes = [zlib.MAX_WBITS | 16]
    elif coding == "deflate":
        modes = [zlib.MAX_WBITS, -zlib.MAX_WBITS]
    else:
        raise ValueError(f"unsupported Content-Encoding: {coding[:40]}")
    for wbits in modes:
        decompressor = zlib.decompressobj(wbits)
        try:
            plain = decompressor.decompress(body, max_bytes + 1)
        except zlib.error:
            continue
        if len(plain) > max_bytes:
            raise ValueError(f"feed larger than {max_bytes} bytes once decompressed")
        return plain
    raise ValueError(f"the {coding} body does not decompress")


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()} if headers else {}


def check_url(url: str) -> None:
    if urlsplit(url).scheme.lower() not in {"http", "https"}:
        raise RefusedAddress(f"not an http(s) URL: {url[:200]}")


# socket.create_connection's "no timeout given" marker (not in typeshed: a private name).
_NO_TIMEOUT: Any = getattr(socket, "_GLOBAL_DEFAULT_TIMEOUT")  # noqa: B009


def _connect_public(allow_private: bool, address: tuple[str, int], timeout: Any = _NO_TIMEOUT,
                    source_address: Any = None) -> socket.socket:
    """socket.create_connection, but only to addresses `resolve` let through."""
    host, port = address
    failure: OSError | None = None
    for family, kind, protocol, _, sockaddr in resolve(host, port, allow_private):
        sock = socket.socket(family, kind, protocol)
        try:
            if timeout is not _NO_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as error:
            sock.close()
            failure = error
    raise failure or OSError(f"{host} has no address")


def _public_only(connection_class: type[http.client.HTTPConnection], allow_private: bool) -> Any:
    """A factory of `connection_class` whose socket is opened by `_connect_public`."""
    def connection(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
        made = connection_class(*args, **kwargs)
        # http.client opens its socket through this attribute; HTTPSConnection then wraps that
        # socket in TLS for the host name, so certificates are still checked against the name.
        made._create_connection = functools.partial(_connect_public, allow_private)  # type: ignore[attr-defined]
        return made
    return connection


class _PublicHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        self.allow_private = allow_private

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_public_only(http.client.HTTPConnection, self.allow_private), req)


class _PublicHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        self.allow_private = allow_private

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_public_only(http.client.HTTPSConnection, self.allow_private), req,
                            context=self._context)  # type: ignore[attr-defined]


class _CheckedRedirectHandler(urllib.request.HTTPRedirectHandler):
    """Each hop is checked before it is followed (the connection checks it again)."""

    max_redirections = 5

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        try:
            check_url(newurl)
            parts = urlsplit(newurl)
            resolve(parts.hostname or "", parts.port or (443 if parts.scheme.lower() == "https" else 80),
                    self.allow_private)
        except Exception:
            fp.close()  # the redirect response is abandoned: free its socket now
            raise
        return super().redirect_request(req, fp, code, msg, headers, newurl)
