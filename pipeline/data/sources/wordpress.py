"""A WordPress export (Tools, Export, "All content" or "Posts"): one WXR ``.xml`` file, RSS with the
``wp:`` namespace; each published ``<item>`` of ``wp:post_type`` ``post`` is a post, its HTML in
``content:encoded`` (block-editor comments dropped; classic-editor text, which has no ``<p>``, split
into paragraphs at blank lines as WordPress renders it), its date ``wp:post_date_gmt`` (``0000-...``
for a draft: ``wp:post_date``), its link ``<link>``. Pages, attachments and drafts are not posts."""

from __future__ import annotations

import re

from ..post import Post
from .base import IngestResult, SourceFiles
from .feed import parse_xml, xml_members
from .fields import dated
from .html_text import html_to_text

NAME = "wordpress"
LABEL = "WordPress export"
MAX_CHARS = None
BRIEF_WORD = "blog post"
EXPECTS = "a WXR .xml file"
WP = "{http://wordpress.org/export/"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
_SHORTCODE = re.compile(r"\[/?(?:caption|gallery|embed|video|audio|playlist)\b[^\]]*\]")


def members(files: SourceFiles) -> list[str]:
    return [m for m in xml_members(files) if "wordpress.org/export/" in files.peek(m, 4096)]


def detect(files: SourceFiles) -> bool:
    return bool(members(files))


def autop(content: str) -> str:
    """Classic-editor content as the site renders it: without ``<p>`` tags, a blank line is a paragraph
    and a line break a ``<br>`` (WordPress's ``wpautop``); its layout shortcodes are dropped."""
    content = _SHORTCODE.sub("", content)
    if re.search(r"<p[\s>]", content, re.IGNORECASE):
        return content
    return "".join(f"<p>{p.strip()}</p>".replace("\n", "<br>") for p in re.split(r"\n\s*\n", content) if p.strip())


def read(files: SourceFiles) -> IngestResult:
    result = IngestResult(files.path, NAME)
    for member in members(files):
        root = parse_xml(files, member, "WordPress export")
        for number, item in enumerate(root.iter("item"), start=1):
            wp = {child.tag.split("}", 1)[1]: (child.text or "") for child in item if child.tag.startswith(WP)}
            if wp.get("post_type", "post") != "post":
                continue  # pages, attachments, menu items
            if wp.get("status", "publish") != "publish":
                result.skipped["draft"] += 1
                continue
            text = html_to_text(autop(item.findtext(CONTENT) or ""))
            if not text:
                result.skipped["empty text"] += 1
                continue
            gmt = wp.get("post_date_gmt")
            result.posts.append(Post(text=text, source=files.name, platform=NAME, line=number,
                                     posted_at=dated(result, gmt if gmt and not gmt.startswith("0000") else wp.get("post_date")),
                                     url=item.findtext("link") or None))
    return result
