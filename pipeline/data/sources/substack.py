"""A Substack export (Settings, "Export your data"): ``posts.csv`` (``post_id, post_date,
is_published, ..., title, subtitle``) and each post's body as ``posts/<post_id>.html``. Drafts
(``is_published`` false) and pages are skipped; the body's HTML becomes text with its paragraphs,
without Substack's subscribe buttons, embeds and image captions. A row whose body file is missing
is counted (Substack leaves out some, often the newest)."""

from __future__ import annotations

from posixpath import dirname, join

from ...errors import UserError
from ..post import Post
from .base import IngestResult, SourceFiles
from .csv_file import rows
from .fields import dated
from .html_text import html_to_text
from .medium import stories

NAME = "substack"
LABEL = "Substack export"
MAX_CHARS = None
BRIEF_WORD = "newsletter post"
EXPECTS = "posts.csv + posts/*.html"
WIDGETS = ("button-wrapper", "subscription-widget-wrap", "subscribe-widget", "captioned-image-container",
           "footnote-anchor", "tweet", "embedded-post-wrap", "youtube-wrap")
"""Substack's blocks inside a body that are not the author's words: buttons, embeds, images."""


def index(files: SourceFiles) -> str | None:
    """The ``posts.csv`` that sits beside a ``posts/`` folder of HTML bodies."""
    html = {dirname(dirname(m)) for m in stories(files)}
    return next((m for m in files.find("posts.csv") if dirname(m) in html), None)


def detect(files: SourceFiles) -> bool:
    return files.kind != "file" and index(files) is not None


def read(files: SourceFiles) -> IngestResult:
    result = IngestResult(files.path, NAME)
    csv_member = index(files)
    header, reader = rows(files, csv_member)
    if "post_id" not in header:
        raise UserError(f"{files.where(csv_member)}: no post_id column (columns found: {', '.join(header)}); "
                        "export the Substack data again.")
    bodies = set(files.list())
    for row in reader:
        if str(row.get("is_published", "true")).strip().lower() != "true":
            result.skipped["draft"] += 1
            continue
        if row.get("type") == "page":
            result.skipped["page (not a post)"] += 1
            continue
        member = join(dirname(csv_member), "posts", f"{row['post_id']}.html")
        if member not in bodies:
            result.skipped["no body file"] += 1
            continue
        text = html_to_text(files.read_text(member), drop_classes=WIDGETS)
        if not text:
            result.skipped["empty text"] += 1
            continue
        result.posts.append(Post(text=text, source=files.name, platform=NAME, line=reader.line_num,
                                 posted_at=dated(result, row.get("post_date"))))
    return result
