"""Reading RSS and Atom as real feeds send them: entries with id, link, title and plain-text
summary, whatever the format, the text construct's type, the character set, the entities
or the base URL. Nothing a feed declares is fetched or expanded out of bounds."""

import pytest

from services.curation import poller
from services.curation.feeds import Entry, _without_external_doctype, headline, parse

FEED_URL = "https://feeds.example/news.xml"

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


def atom(entry: str, feed_attributes: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" {feed_attributes}>'
            f"<title>T</title><entry><id>tag:example.com,2026:e</id>{entry}</entry></feed>").encode()


def rss(item: str, version: str = "2.0", prolog: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return f'{prolog}<rss version="{version}"><channel><title>T</title><item>{item}</item></channel></rss>'.encode()


def only(body: bytes, **headers: str) -> Entry:
    [entry] = parse(body, headers, FEED_URL)
    return entry


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


# --- text constructs -------------------------------------------------------------------

def test_an_atom_xhtml_title_and_summary_keep_their_text_without_the_markup():
    entry = only(atom('<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Hello <b>bold</b> world</div>'
                      '</title><summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>One &amp; two</p>'
                      "<p>three</p></div></summary><link href='https://example.com/x'/>"))
    assert (entry.title, entry.summary) == ("Hello bold world", "One & two three")


@pytest.mark.parametrize(("construct", "expected"), [
    ('<title type="text">Less &lt;b&gt; is more</title>', "Less <b> is more"),
    ('<title>Fish &amp; chips &lt; 5 €</title>', "Fish & chips < 5 €"),
    ('<title type="html">&lt;em&gt;Big&lt;/em&gt; news &amp;amp; more</title>', "Big news & more"),
    ('<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">A<br/>B &lt;3</div></title>', "A B <3"),
])
def test_a_text_construct_of_every_type_keeps_its_text_as_written(construct, expected):
    assert only(atom(construct + "<link href='https://example.com/x'/>")).title == expected


def test_an_rss_description_in_html_becomes_plain_text_and_cdata_is_read_the_same():
    entry = only(rss("<title>T</title><link>https://example.com/x</link>"
                     "<description><![CDATA[<p>Read <a href='/more'>more</a></p>]]></description>"))
    assert entry.summary == "Read more"


def test_a_nul_in_a_feeds_text_which_xml_forbids_and_feedparser_passes_on_is_left_out():
    entry = only(rss("<title>a&#0;b</title><link>https://example.com/x</link><description>c&#0;d</description>"))
    assert (entry.title, entry.summary) == ("ab", "cd")


@pytest.mark.parametrize("item", ["<guid>urn:a&#0;b</guid><title>T</title>",
                                  "<title>T</title><link>https://example.com/a&#0;b</link>"])  # the link as its id
def test_an_entrys_key_keeps_no_nul_whether_its_id_is_a_guid_or_its_link(item):
    assert "\x00" in only(rss(item)).entry_id and "\x00" not in poller.entry_key(only(rss(item)).entry_id)


# --- links -----------------------------------------------------------------------------

def test_an_rss_item_whose_only_url_is_a_permalink_guid_takes_it_as_its_link():
    entry = only(rss("<guid>https://example.com/2026/05/permalink.html</guid><title>P</title>"))
    assert entry.url == "https://example.com/2026/05/permalink.html"


def test_a_guid_that_is_not_a_permalink_is_no_link():
    assert only(rss('<guid isPermaLink="false">https://example.com/p</guid><title>P</title>')).url == ""


def test_relative_links_resolve_against_xml_base():
    entry = only(atom('<title>Hi</title><link href="/2026/05/hello.html"/>',
                      'xml:base="https://blog.example.com/"'))
    assert entry.url == "https://blog.example.com/2026/05/hello.html"


def test_an_entrys_own_xml_base_wins_over_the_feeds():
    body = (b'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.com/a/"><title>T</title>'
            b'<entry xml:base="https://other.example/b/"><id>e</id><title>X</title><link href="c.html"/></entry></feed>')
    assert only(body).url == "https://other.example/b/c.html"


def test_without_xml_base_relative_links_resolve_against_the_feeds_own_url():
    assert only(rss("<title>T</title><link>/2026/05/hello.html</link>")).url == "https://feeds.example/2026/05/hello.html"
    assert only(atom('<title>T</title><link href="item-7"/>')).url == "https://feeds.example/item-7"


# --- missing titles --------------------------------------------------------------------

def test_an_rss_item_with_a_description_and_no_title_gets_a_title_from_its_text_marked_as_such():
    text = "Our plant in Lyon now runs on solar power alone, two years ahead of plan, and the team is proud."
    entry = only(rss(f"<link>https://example.com/solar</link><description>{text}</description>"))
    assert entry.title_from_text and entry.summary == text
    assert entry.title == "Our plant in Lyon now runs on solar power alone, two years ahead of plan, and…"
    assert not only(rss("<title>T</title><link>https://example.com/x</link>")).title_from_text


def test_a_title_from_text_is_a_short_text_itself_or_whole_words_up_to_the_limit():
    assert headline("Short one") == "Short one"
    assert headline("word " * 40, 20) == "word word word word…"
    assert headline("x" * 200, 20) == "x" * 19 + "…"


# --- encodings, entities and prologs ---------------------------------------------------

def test_html_entities_in_a_feed_are_read_not_refused():
    entry = only(rss("<title>Caf&eacute; &amp; cr&egrave;me&nbsp;br&ucirc;l&eacute;e &hellip;</title>"
                     "<link>https://example.com/x</link>"))
    assert entry.title == "Café & crème brûlée …"


def test_blank_lines_before_the_xml_declaration_do_not_refuse_the_feed():
    assert only(rss("<title>T</title><link>https://example.com/x</link>",
                    prolog='\n\n  \n<?xml version="1.0" encoding="utf-8"?>')).title == "T"


def test_rss_091s_doctype_is_read():
    doctype = ('<?xml version="1.0" encoding="ISO-8859-1"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD '
               'RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">')
    entry = only(rss("<title>Caf&eacute;</title><link>https://example.com/x</link>", "0.91", doctype))
    assert entry.title == "Café"


@pytest.mark.parametrize("doctype", ['<!DOCTYPE rss SYSTEM "http://example.com/rss.dtd">',
                                     "<!DOCTYPE rss SYSTEM 'rss.dtd'   >", "<!doctype rss system>"])
def test_a_doctype_naming_only_an_external_dtd_is_left_out(doctype):
    body = f'<?xml version="1.0"?>{doctype}<rss version="2.0"/>'.encode()
    assert _without_external_doctype(body) == b'<?xml version="1.0"?><rss version="2.0"/>'


def test_a_doctype_that_does_not_close_is_left_as_it_is_however_long():
    """Read once, possessively: with backtracking, `SYSTEM` and 40,000 spaces took 3.6 s, and
    a 5 MB prolog (a feed's size limit) hours, holding the GIL for the whole of curation."""
    body = b"<!DOCTYPE rss SYSTEM" + b" " * 200_000 + b"<rss/>"
    assert _without_external_doctype(body) == body


def test_the_charset_the_http_header_names_is_used():
    body = rss("<title>Straße</title><link>https://example.com/x</link>", prolog="").decode().encode("iso-8859-1")
    assert only(body, **{"Content-Type": "application/rss+xml; charset=ISO-8859-1"}).title == "Straße"


def test_the_charset_the_xml_declaration_names_is_used_when_the_header_names_none():
    body = rss("<title>Ελλάδα</title><link>https://example.com/x</link>",
               prolog='<?xml version="1.0" encoding="windows-1253"?>').decode().encode("windows-1253")
    assert only(body, **{"Content-Type": "application/xml"}).title == "Ελλάδα"


def test_a_utf8_byte_order_mark_is_read_past():
    assert only(b"\xef\xbb\xbf" + rss("<title>T</title><link>https://example.com/x</link>")).title == "T"


# --- what is refused or never done ------------------------------------------------------

def test_a_dtds_entities_are_never_nested_out_of_bounds_nor_fetched():
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
              '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]>')
    assert len(only(rss("<title>&lol3;</title><link>https://example.com/x</link>", prolog=laughs)).title) < 100
    external = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    assert "root" not in only(rss("<title>a&x;b</title><link>https://example.com/x</link>", prolog=external)).title


@pytest.mark.parametrize("body", [b"not xml", b"<html><body/></html>", b"", b"/etc/passwd", b"https://example.com/"])
def test_what_is_not_a_feed_is_refused_and_a_body_naming_a_file_or_url_is_never_opened(body):
    with pytest.raises(ValueError, match="not an RSS or Atom document"):
        parse(body, {}, FEED_URL)


def test_an_entry_id_is_kept_as_a_key_of_at_most_1000_bytes_cut_at_a_characters_end():
    assert poller.entry_key("tag:example.com,2026:1") == "tag:example.com,2026:1"
    assert poller.entry_key("字" * 400) == "字" * 333  # 999 bytes: the 334th would end at 1,002
    assert poller.entry_key("a\ud83db") == "a?b"
