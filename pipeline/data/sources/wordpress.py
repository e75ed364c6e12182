"""A WordPress export (Tools, Export, "All content" or "Posts"): one WXR ``.xml`` file, RSS with the
``wp:`` namespace; each published ``<item>`` of ``wp:post_type`` ``post`` is a post, its HTML in
``content:encoded`` (block comments dropped), its date ``wp:post_date_gmt``, its link ``<link>``."""

from __future__ import annotations

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


def members(files: SourceFiles) -> list[str]:
    return [m for m in xml_members(files) if "wordpress.org/export/" in files.peek(m, 4096)]


def detect(files: SourceFiles) -> bool:
    return bool(members(files))


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
            text = html_to_text(item.findtext(CONTENT) or "")
            if not text:
                result.skipped["empty text"] += 1
                continue
            gmt = wp.get("post_date_gmt")
            result.posts.append(Post(text=text, source=files.name, platform=NAME, line=number,
                                     posted_at=dated(result, gmt if gmt and not gmt.startswith("0000") else wp.get("post_date")),
                                     url=item.findtext("link") or None))
    return result
