"""Fetching a feed: only from public addresses, checked again on every redirect, and within
a deadline for the whole download; conditional on the last fetch's validators, and
decompressed whether gzip was asked for or not. A local HTTP server plays the feed (and
the attacker)."""

import gzip
import ipaddress
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.curation import fetching
from services.curation.fetching import Fetched, RefusedAddress, fetch, is_public

FEED = b"<rss version='2.0'><channel/></rss>"


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.1.2.3", "10.0.0.8", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.251", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.10", "198.18.0.1",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
    "2002:a9fe:a9fe::1", "64:ff9b::a9fe:a9fe", "2001:db8::1",
])
def test_loopback_private_link_local_reserved_and_multicast_addresses_are_not_public(address):
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "2a00:1450:4001::200e"])
def test_globally_routable_unicast_addresses_are_public(address):
    assert is_public(ipaddress.ip_address(address))


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    """/feed is a feed, /to-metadata redirects to the cloud metadata service, /drip trickles
    a byte every 50 ms, /gzip and /deflate answer compressed whatever was asked, /bomb is
    a small gzip body that grows past any cap, /validated answers 304 to its own ETag;
    yields (base URL, paths requested)."""
    requested: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requested.append(self.path)
            coded = {"/gzip": ("gzip", gzip.compress(FEED)), "/deflate": ("deflate", zlib.compress(FEED)),
                     "/raw-deflate": ("deflate", zlib.compress(FEED, wbits=-15)),
                     "/bomb": ("gzip", gzip.compress(b" " * 1_000_000)), "/brotli": ("br", b"\x0b\x01\x80")}
            if self.path in coded:
                coding, body = coded[self.path]
                self.send_response(200)
                self.send_header("Content-Encoding", coding)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if self.path == "/validated":
                unchanged = self.headers.get("If-None-Match") == '"v1"'
                self.send_response(304 if unchanged else 200)
                self.send_header("ETag", '"v1"')
                self.send_header("Last-Modified", "Wed, 27 May 2026 10:00:00 GMT")
                self.send_header("Content-Length", "0" if unchanged else str(len(FEED)))
                self.end_headers()
                self.wfile.write(b"" if unchanged else FEED)
                return
            if self.path == "/to-metadata":
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.end_headers()
                return
            trickle = self.path == "/drip"
            body = b"x" * 1000 if trickle else FEED
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for byte in (body[i:i + 1] for i in range(len(body))) if trickle else [body]:
                self.wfile.write(byte)
                self.wfile.flush()
                time.sleep(0.05 if trickle else 0)

        def log_message(self, *_: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", requested
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_a_feed_on_loopback_is_refused_before_connecting_unless_private_addresses_are_allowed(server):
    base, requested = server
    with pytest.raises(RefusedAddress, match=r"127\.0\.0\.1"):
        fetch(f"{base}/feed", timeout=2, max_bytes=10_000)
    assert requested == []
    assert fetch(f"{base}/feed", timeout=2, max_bytes=10_000, allow_private=True).body == FEED


def test_a_redirect_to_a_private_address_is_refused(server, monkeypatch):
    base, requested = server
    # Let the test server count as public, so that only the redirect's target is judged.
    monkeypatch.setattr(fetching, "is_public", lambda address: str(address) == "127.0.0.1")
    assert fetch(f"{base}/feed", timeout=2, max_bytes=10_000).body == FEED
    with pytest.raises(RefusedAddress, match=r"169\.254\.169\.254"):
        fetch(f"{base}/to-metadata", timeout=2, max_bytes=10_000)
    assert requested == ["/feed", "/to-metadata"]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/feed", "gopher://127.0.0.1:6379/_x"])
def test_what_is_not_http_is_refused(url):
    with pytest.raises(RefusedAddress, match="http"):
        fetch(url, timeout=2, max_bytes=10_000, allow_private=True)


def test_a_server_trickling_bytes_is_cut_off_at_the_deadline(server):
    base, _ = server
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        fetch(f"{base}/drip", timeout=0.5, max_bytes=10_000, allow_private=True)
    assert time.monotonic() - started < 2  # each byte comes within the socket timeout: only the deadline stops it


@pytest.mark.parametrize("path", ["/gzip", "/deflate", "/raw-deflate"])
def test_a_compressed_body_is_decompressed_whether_or_not_it_was_asked_for(server, path):
    base, _ = server
    fetched = fetch(f"{base}{path}", timeout=2, max_bytes=10_000, allow_private=True)
    assert fetched.body == FEED


def test_a_compressed_body_that_grows_past_the_cap_is_refused(server):
    base, _ = server
    with pytest.raises(ValueError, match="decompressed"):
        fetch(f"{base}/bomb", timeout=2, max_bytes=100_000, allow_private=True)


def test_a_content_coding_we_cannot_read_is_refused_by_name(server):
    base, _ = server
    with pytest.raises(ValueError, match="br"):
        fetch(f"{base}/brotli", timeout=2, max_bytes=10_000, allow_private=True)


def test_a_fetch_with_the_last_validators_learns_that_nothing_changed(server):
    base, _ = server
    first = fetch(f"{base}/validated", timeout=2, max_bytes=10_000, allow_private=True)
    assert (first.body, first.etag, first.last_modified) == (FEED, '"v1"', "Wed, 27 May 2026 10:00:00 GMT")
    again = fetch(f"{base}/validated", timeout=2, max_bytes=10_000, allow_private=True,
                  etag=first.etag, last_modified=first.last_modified)
    assert again.body is None
    changed = fetch(f"{base}/validated", timeout=2, max_bytes=10_000, allow_private=True, etag='"v0"')
    assert changed.body == FEED


def test_a_validator_holding_a_nul_is_not_kept_and_the_next_fetch_is_unconditional():
    fetched = Fetched("https://feeds.example/f", b"", {"etag": '"a\x00b"', "last-modified": "Wed\x00"})
    assert (fetched.etag, fetched.last_modified) == (None, None)
    assert Fetched("https://feeds.example/f", b"", {"etag": '"v1"'}).etag == '"v1"'
