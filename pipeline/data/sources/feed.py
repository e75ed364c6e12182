"""An RSS 2.0 or Atom feed saved as a file (a blog's ``/feed``, a Mastodon ``@you.rss``, ...): each
``<item>``/``<entry>`` is a post, its HTML (``content:encoded``, ``description``, ``content`` or
``summary``) turned into text. A file that is an HTML page rather than a feed is refused."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ...errors import UserError
from ..post import Post
from .base import IngestResult, SourceFiles
from .fields import dated
from .html_text import html_to_text

NAME = "feed"
LABEL = "RSS/Atom feed"
MAX_CHARS = None
EXPECTS = "an .xml/.rss/.atom feed file"
SUFFIXES = (".xml", ".rss", ".atom")
ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"


def xml_members(files: SourceFiles) -> list[str]:
    """The XML files of the input (the plain file when its suffix is a feed's)."""
    if files.kind == "file":
        return [files.name] if files.suffix in SUFFIXES else []
    return [m for m in files.list() if m.lower().endswith(SUFFIXES)]


def detect(files: SourceFiles) -> bool:
    """A plain feed file (even one that turns out to be HTML, so that it gets its own message), or a
    folder/zip holding a file whose root is ``<rss>`` or ``<feed>``."""
    if files.kind == "file":
        return bool(xml_members(files))
    return any(_looks_like_feed(files.peek(m, 2048)) for m in xml_members(files))


def _looks_like_feed(start: str) -> bool:
    return "<rss" in start or "<feed" in start


def parse_xml(files: SourceFiles, member: str, what: str) -> ET.Element:
    where = files.where(member)
    text = files.read_text(member)
    head = text.lstrip()[:1024].lower()
    if head.startswith(("<!doctype html", "<html")) or ("<html" in head and "<rss" not in head):
        raise UserError(f"{where}: an HTML page, not a {what}; save the feed itself (its address usually ends in "
                        "/feed, /rss or .xml) or give the export file.")
    try:
        return ET.fromstring(files.read_bytes(member))  # bytes: the XML declaration names the encoding
    except ET.ParseError as e:
        raise UserError(f"{where}:{e.position[0]}: bad XML in the {what} ({e}); save or export it again.") from None


def read(files: SourceFiles) -> IngestResult:
    result = IngestResult(files.path, NAME)
    for member in xml_members(files):
        root = parse_xml(files, member, "feed")
        if root.tag not in ("rss", f"{ATOM}feed", "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"):
            raise UserError(f"{files.where(member)}: the root element is <{root.tag.split('}')[-1]}>, not <rss> or "
                            "<feed>; give an RSS or Atom feed.")
        entries = list(root.iter("item")) or list(root.iter("{http://purl.org/rss/1.0/}item")) or \
            list(root.iter(f"{ATOM}entry"))
        for number, entry in enumerate(entries, start=1):
            post = _post(entry, files.name, number, result)
            if post is not None:
                result.posts.append(post)
    return result


def _atom_html(content: ET.Element | None) -> str | None:
    """An Atom content element as HTML (None when it is plain text, ``type="text"``)."""
    if content is None:
        return ""
    kind = content.get("type", "text")
    if kind == "xhtml":
        return "".join(ET.tostring(child, encoding="unicode") for child in content)
    return content.text or "" if kind in ("html", "text/html") else None


def _post(entry: ET.Element, source: str, number: int, result: IngestResult) -> Post | None:
    if entry.tag == f"{ATOM}entry":
        content = entry.find(f"{ATOM}content")
        if content is None:
            content = entry.find(f"{ATOM}summary")
        html = _atom_html(content)
        link = next((e.get("href") for e in entry.findall(f"{ATOM}link") if e.get("rel", "alternate") == "alternate"), None)
        date = entry.findtext(f"{ATOM}published") or entry.findtext(f"{ATOM}updated")
    else:
        html = entry.findtext(CONTENT) or entry.findtext("description") or \
            entry.findtext("{http://purl.org/rss/1.0/}description") or ""
        link = entry.findtext("link") or entry.findtext("{http://purl.org/rss/1.0/}link")
        date = entry.findtext("pubDate") or entry.findtext("{http://purl.org/dc/elements/1.1/}date")
    text = html_to_text(html) if html is not None else (content.text or "").strip()
    if not text:
        result.skipped["empty text"] += 1
        return None
    return Post(text=text, source=source, platform=NAME, line=number, posted_at=dated(result, date),
                url=(link or "").strip() or None)
