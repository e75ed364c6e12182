"""A Medium export (Settings, Security and apps, "Download your information"): ``posts/*.html``,
one page per story, ``<article class="h-entry">`` with the title (``h1.p-name``), the body
(``section[data-field=body]``, whose first heading repeats the title), the date (``time.dt-published``)
and the link (``a.p-canonical``). Drafts (``draft_*.html``) are skipped; responses (comments on
other stories, exported as stories too) are kind ``reply``."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from ..post import Post
from .base import IngestResult, SourceFiles
from .fields import dated
from .html_text import html_to_text

NAME = "medium"
LABEL = "Medium export"
MAX_CHARS = None
BRIEF_WORD = "blog post"
EXPECTS = "posts/*.html"


_STORY = re.compile(r"(?:^|/)posts/[^/]+\.html$", re.IGNORECASE)


def stories(files: SourceFiles) -> list[str]:
    return [m for m in files.list() if _STORY.search(m)]


def detect(files: SourceFiles) -> bool:
    if files.kind == "file":
        return False
    found = stories(files)
    return bool(found) and 'class="h-entry"' in files.peek(found[0], 2048)


def read(files: SourceFiles) -> IngestResult:
    result = IngestResult(files.path, NAME)
    for number, member in enumerate(stories(files), start=1):
        if member.rsplit("/", 1)[-1].startswith("draft_"):
            result.skipped["draft"] += 1
            continue
        page = files.read_text(member)
        fields = _Fields()
        fields.feed(page)
        body = re.search(r'<section[^>]*data-field="body"[^>]*>(.*)</section>', page, re.DOTALL)
        body_html = body.group(1) if body else page
        text = html_to_text(body_html, drop_classes=("graf--title",))
        if not text:
            result.skipped["empty text"] += 1
            continue
        # A response (a comment on someone's story) is exported as a story: no title heading in its
        # body, and its "title" is the start of its own text.
        response = "graf--title" not in body_html and " ".join(text.split()).startswith(" ".join(fields.title.split()))
        result.posts.append(Post(text=text, source=files.name, platform=NAME, line=number,
                                 kind="reply" if response else "post",
                                 posted_at=dated(result, fields.published), url=fields.canonical))
    return result


class _Fields(HTMLParser):
    """The story's title, date and canonical link."""

    def __init__(self):
        super().__init__()
        self.title = ""
        self.published: str | None = None
        self.canonical: str | None = None
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "time" and "dt-published" in classes:
            self.published = attrs.get("datetime")
        elif tag == "a" and "p-canonical" in classes:
            self.canonical = attrs.get("href")
        self._in_title = tag == "h1" and "p-name" in classes

    def handle_endtag(self, tag):
        if tag == "h1":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
