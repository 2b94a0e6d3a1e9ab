"""Reading RSS and Atom: entries with id, link, title and plain-text summary; no DTDs."""

import pytest

from services.curation.feeds import Entry, parse

RSS2 = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>News</title>
  <item><guid>urn:news:1</guid><link>https://example.com/1</link><title>First</title>
        <description>&lt;p&gt;Hello &amp;amp; &lt;b&gt;welcome&lt;/b&gt;&lt;/p&gt;</description></item>
  <item><link> https://example.com/2 </link><title>Second</title></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>News</title>
  <entry><id>tag:example.com,2026:1</id><title>One</title>
    <link rel="self" href="https://example.com/api/1"/><link href="https://example.com/1"/>
    <summary>Short</summary></entry>
  <entry><id>tag:example.com,2026:2</id><title>Two</title><link rel="alternate" href="https://example.com/2"/>
    <content type="html">&lt;i&gt;Long&lt;/i&gt; text</content></entry>
</feed>"""

RSS1 = b"""<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
  <item rdf:about="https://example.com/1"><title>One</title><link>https://example.com/1</link></item>
</rdf:RDF>"""


def test_rss2_items_become_entries_with_the_link_as_id_when_there_is_no_guid():
    assert parse(RSS2) == [
        Entry("urn:news:1", "https://example.com/1", "First", "Hello & welcome"),
        Entry("https://example.com/2", "https://example.com/2", "Second", ""),
    ]


def test_atom_entries_take_the_alternate_link_and_the_summary_or_content():
    assert parse(ATOM) == [
        Entry("tag:example.com,2026:1", "https://example.com/1", "One", "Short"),
        Entry("tag:example.com,2026:2", "https://example.com/2", "Two", "Long text"),
    ]


def test_rss1_items_are_read_too():
    assert parse(RSS1) == [Entry("https://example.com/1", "https://example.com/1", "One", "")]


@pytest.mark.parametrize("body", [
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
    b"<rss><channel><item><title>&lol2;</title></item></channel></rss>",
    b'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "http://127.0.0.1:9/evil.dtd"><rss/>',
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss>&x;</rss>',
])
def test_a_document_declaring_a_dtd_or_entities_is_refused(body):
    with pytest.raises(ValueError, match="DTD"):
        parse(body)


@pytest.mark.parametrize("body", [b"not xml", b"<html><body/></html>", b""])
def test_what_is_not_a_feed_is_refused(body):
    with pytest.raises(ValueError):
        parse(body)
