"""HTML -> a small element tree and readable text, with the standard library only.

One reader for every place posts arrive as HTML: Mastodon's post ``content`` (archive and API),
feeds, Substack, Medium and WordPress bodies, and pages rendered by the browser for ``data fetch``
(whose extractor walks the tree: :func:`parse_html`, :meth:`Element.find`). The text keeps what
makes the layout: paragraphs become blank-line-separated, ``<br>`` a line break, list items
``- item`` lines (a ``<p>`` inside an item stays on its line), headings their own paragraph.
Scripts, styles, navigation, forms and comments are not the author's words and are left out, and
so is Mastodon's ``quote-inline`` "RE: link" line. CSS is not applied, so Mastodon's ``invisible``
parts of a shortened link are kept and the full URL comes back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SKIP = {"script", "style", "noscript", "template", "svg", "nav", "header", "footer", "aside", "form", "button",
        "select", "textarea", "iframe", "head", "title"}
BLOCK = {"address", "article", "blockquote", "dd", "div", "dl", "dt", "figcaption", "figure", "h1", "h2", "h3",
         "h4", "h5", "h6", "hr", "main", "ol", "p", "pre", "section", "table", "tr", "ul", "body", "html"}
SKIP_CLASSES = {"quote-inline"}
"""Mastodon's "RE: link" line in a quote post, written for apps that cannot show the quote: not the author's words."""
_PARAGRAPH, _LINE = "\x00", "\x01"


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Element | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def iter(self) -> Iterator[Element]:
        """This element and every element under it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, predicate) -> list[Element]:
        """Elements under this one (not itself) for which ``predicate(element)`` is true."""
        return [e for e in self.iter() if e is not self and predicate(e)]

    def find(self, predicate) -> Element | None:
        """The first element under this one for which ``predicate(element)`` is true."""
        return next((e for e in self.iter() if e is not self and predicate(e)), None)


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):  # close up to the matching open element, if any
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse_html(html: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def _pieces(node: Element | str, in_pre: bool, in_item: bool, drop: frozenset[str]) -> Iterator[str]:
    if isinstance(node, str):
        yield node.replace("\n", _LINE) if in_pre else re.sub(r"\s+", " ", node)
        return
    if node.tag in SKIP or node.classes & (SKIP_CLASSES | drop):
        return
    if node.tag == "br":
        yield _LINE
        return
    if node.tag == "li":
        yield _LINE + "- "
    block = node.tag in BLOCK and not in_item
    if block:
        yield _PARAGRAPH
    for child in node.children:
        yield from _pieces(child, in_pre or node.tag == "pre", in_item or node.tag == "li", drop)
    if block:
        yield _PARAGRAPH


def text_of(node: Element, drop_classes: tuple[str, ...] = ()) -> str:
    """The readable text under ``node``: paragraphs separated by a blank line, line breaks kept
    (elements with a class in ``drop_classes`` left out, e.g. a title repeated in the body)."""
    paragraphs = []
    for chunk in "".join(_pieces(node, False, False, frozenset(drop_classes))).split(_PARAGRAPH):
        lines = [line.strip() for line in chunk.split(_LINE)]
        if any(lines):
            paragraphs.append(re.sub(r"\n{3,}", "\n\n", "\n".join(lines).strip("\n")))
    return "\n\n".join(paragraphs)


def html_to_text(html: str, drop_classes: tuple[str, ...] = ()) -> str:
    """An HTML fragment or page (a Mastodon status's ``content``, a blog post's body) -> its text."""
    return text_of(parse_html(html), drop_classes)
