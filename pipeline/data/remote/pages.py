"""Posts out of a rendered public page: a site adapter where the page's shape is known, else its readable content.

Adapters, first match wins:

- ``h-entry``: microformats2 entries (many blogs, Mastodon, Micro.blog, WordPress themes): the
  ``e-content`` text, ``dt-published`` date and ``u-url`` link of each ``h-entry``;
- ``articles``: a page of several ``<article>`` elements (a profile or a blog index): one post each;
- ``readable``: the page's one ``<article>``, else ``<main>``, else ``<body>``, its text split into
  posts at ``<hr>`` separators.

Engagement counts are kept where the page shows them: schema.org ``interactionStatistic``, or an
element whose class, ``aria-label``, ``title`` or ``data-*`` name says likes / comments / reposts next
to a number (``<span class="like-count">12</span>``, ``aria-label="3 replies"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from ..post import Post
from ..sources.fields import parse_count, parse_date
from ..sources.html_text import Element, parse_html, text_of

PLATFORM = "web"
COUNT_WORDS = {
    "likes": ("like", "favourite", "favorite", "heart", "kudos", "clap", "reaction"),
    "comments": ("comment", "repl", "response"),
    "reposts": ("repost", "reblog", "boost", "share", "retweet", "restack"),
}
SCHEMA_ACTIONS = {"LikeAction": "likes", "CommentAction": "comments", "ShareAction": "reposts"}
LOGIN_PATH = re.compile(r"/(login|log-in|signin|sign-in|sign_in|sessions?|auth|i/flow/login)\b", re.IGNORECASE)
LOGIN_PAGE_MAX_CHARS = 600
"""A page with a password field and less readable text than this is a login wall, not a post."""
COUNT_MAX_CHARS = 40
"""An element showing a count holds a short text ("12", "3 replies"; a button's too); a longer one is content."""
_NUMBER = re.compile(r"(\d[\d,.]*\s*[KkMmBb]?)(?![\w])")


@dataclass
class PageExtract:
    posts: list[Post]
    adapter: str
    next_url: str | None = None
    login_wall: bool = False
    """The page shows a sign-in form instead of posts."""


def needs_login(root: Element, url: str) -> bool:
    """A sign-in form in place of content, or a redirect to a login path."""
    if LOGIN_PATH.search(urlsplit(url).path):
        return True
    has_password = any(e.tag == "input" and e.attrs.get("type", "").lower() == "password" for e in root.iter())
    return has_password and len(text_of(_body(root))) < LOGIN_PAGE_MAX_CHARS


def extract_page(html: str, url: str, source: str) -> PageExtract:
    """The posts of one rendered page at ``url`` (``source``: what the user asked for, for the report)."""
    root = parse_html(html)
    if needs_login(root, url):
        return PageExtract([], "login", login_wall=True)
    for name, adapter in (("h-entry", _h_entries), ("articles", _articles), ("readable", _readable)):
        posts = adapter(root, url, source)
        if posts:
            return PageExtract(posts, name, _next_link(root, url))
    return PageExtract([], "none", _next_link(root, url))


def _h_entries(root: Element, url: str, source: str) -> list[Post]:
    posts = []
    for entry in root.find_all(lambda e: "h-entry" in e.classes):
        content = entry.find(lambda e: "e-content" in e.classes) or entry
        published = entry.find(lambda e: "dt-published" in e.classes)
        link = entry.find(lambda e: "u-url" in e.classes and "href" in e.attrs)
        post = _post(text_of(content), entry, url, source, len(posts) + 1)
        if post:
            if published is not None:
                post.posted_at = parse_date(published.attrs.get("datetime") or text_of(published))
            if link is not None:
                post.url = urljoin(url, link.attrs["href"])
            posts.append(post)
    return posts


def _articles(root: Element, url: str, source: str) -> list[Post]:
    articles = _outermost(root, "article")
    if len(articles) < 2:
        return []
    posts = []
    for article in articles:
        post = _post(text_of(article), article, url, source, len(posts) + 1)
        if post:
            time_tag = article.find(lambda e: e.tag == "time")
            if time_tag is not None:
                post.posted_at = parse_date(time_tag.attrs.get("datetime") or text_of(time_tag))
            bookmark = article.find(lambda e: e.tag == "a" and "href" in e.attrs
                                    and "bookmark" in e.attrs.get("rel", "").split())
            heading = article.find(lambda e: e.tag in ("h1", "h2", "h3"))
            href = bookmark.attrs["href"] if bookmark is not None else _first_href(heading)
            if href:
                post.url = urljoin(url, href)
            posts.append(post)
    return posts


def _readable(root: Element, url: str, source: str) -> list[Post]:
    container = (root.find(lambda e: e.tag == "article")
                 or root.find(lambda e: e.tag == "main") or _body(root))
    sections, current = [], Element("section")
    for child in container.children:  # split at the container's own <hr> separators
        if isinstance(child, Element) and child.tag == "hr":
            sections.append(current)
            current = Element("section")
        else:
            current.children.append(child)
    sections.append(current)
    posts = []
    for section in sections:
        post = _post(text_of(section), section, url, source, len(posts) + 1)
        if post:
            post.url = url if len(sections) == 1 else None
            posts.append(post)
    time_tag = container.find(lambda e: e.tag == "time" and "datetime" in e.attrs)
    if len(posts) == 1 and time_tag is not None:
        posts[0].posted_at = parse_date(time_tag.attrs["datetime"])
    return posts


def _post(text: str, element: Element, url: str, source: str, line: int) -> Post | None:
    if not text.strip():
        return None
    post = Post(text=text, source=source, platform=PLATFORM, line=line)
    for name, value in engagement_counts(element).items():
        setattr(post, name, value)
    return post


def engagement_counts(element: Element) -> dict[str, float]:
    """likes / comments / reposts shown under ``element`` (only those found)."""
    counts: dict[str, float] = {}
    for stat in element.find_all(lambda e: e.attrs.get("itemprop") == "interactionStatistic"):
        action = _itemprop(stat, "interactionType")
        name = next((n for a, n in SCHEMA_ACTIONS.items() if a in action), None)
        value = _number(_itemprop(stat, "userInteractionCount"))
        if name and value is not None:
            counts.setdefault(name, value)
    for candidate in element.iter():
        if candidate is element:
            continue
        label = " ".join([candidate.attrs.get("class", ""), candidate.attrs.get("aria-label", ""),
                          candidate.attrs.get("title", ""), *(k for k in candidate.attrs if k.startswith("data-"))])
        names = [n for n, words in COUNT_WORDS.items() if n not in counts and any(w in label.lower() for w in words)]
        if not names:
            continue
        shown = " ".join(" ".join(t for e in candidate.iter() for t in e.children if isinstance(t, str)).split())
        if len(shown) > COUNT_MAX_CHARS:
            continue
        for name in names:
            data_value = next((v for k, v in candidate.attrs.items()
                               if k.startswith("data-") and any(w in k for w in COUNT_WORDS[name])), None)
            value = _number(data_value or candidate.attrs.get("aria-label", "") or shown)
            if value is not None:
                counts[name] = value
    return counts


def _number(text: str | None) -> float | None:
    match = _NUMBER.search(text or "")
    if not match:
        return None
    try:
        return parse_count(match.group(1).replace(" ", ""))
    except ValueError:
        return None


def _next_link(root: Element, url: str) -> str | None:
    link = root.find(lambda e: e.tag in ("a", "link") and "next" in e.attrs.get("rel", "").split()
                     and e.attrs.get("href"))
    return urljoin(url, link.attrs["href"]) if link is not None else None


def _body(root: Element) -> Element:
    return root.find(lambda e: e.tag == "body") or root


def _outermost(root: Element, tag: str) -> list[Element]:
    """``tag`` elements under ``root`` that are not inside another one."""
    found = []

    def walk(element: Element) -> None:
        for child in element.children:
            if isinstance(child, Element):
                if child.tag == tag:
                    found.append(child)
                else:
                    walk(child)

    walk(root)
    return found


def _first_href(element: Element | None) -> str | None:
    link = element.find(lambda e: e.tag == "a" and "href" in e.attrs) if element is not None else None
    return link.attrs["href"] if link is not None else None


def _itemprop(element: Element, name: str) -> str:
    """The value of the schema.org property ``name`` under ``element`` (its content, href or text)."""
    found = element.find(lambda e: e.attrs.get("itemprop") == name)
    return "" if found is None else found.attrs.get("content") or found.attrs.get("href") or text_of(found)
