"""HTML -> plain text with the standard library, keeping what makes the layout: paragraphs become
blank-line-separated, ``<br>`` a line break, list items ``- item`` lines, headings their own
paragraph. Scripts, styles and comments are dropped; entities decoded."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = {"p", "div", "section", "article", "header", "footer", "blockquote", "pre", "figure", "figcaption",
           "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "tr", "hr", "aside", "main", "nav"}
_SKIPPED = {"script", "style", "head", "title", "noscript", "template", "svg"}


class _Text(HTMLParser):
    def __init__(self, drop_classes: tuple[str, ...]):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.stack: list[str] = []
        self.drop_classes = drop_classes

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "hr", "img", "meta", "link", "input", "source", "wbr"):  # void elements have no end tag
            if tag == "br" and not self.skip_depth:
                self.parts.append("\n")
            return
        self.stack.append(tag)
        classes = (dict(attrs).get("class") or "").split()
        if self.skip_depth or tag in _SKIPPED or any(c in self.drop_classes for c in classes):
            self.skip_depth += 1
            return
        if tag in _BLOCKS and "li" not in self.stack[:-1]:  # a <p> inside a list item stays on its line
            self.parts.append("\n\n")
        elif tag == "li":
            self.parts.append("\n- ")

    def handle_endtag(self, tag):
        if tag not in self.stack:
            return
        while self.stack:  # close whatever was left open inside it
            open_tag = self.stack.pop()
            if self.skip_depth:
                self.skip_depth -= 1
            elif open_tag in _BLOCKS and "li" not in self.stack:
                self.parts.append("\n\n")
            if open_tag == tag:
                break

    def handle_data(self, data):
        if not self.skip_depth:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str, drop_classes: tuple[str, ...] = ()) -> str:
    """The text of ``html`` with its paragraphs and line breaks (elements with a class in
    ``drop_classes`` are left out, e.g. a title repeated in the body)."""
    parser = _Text(drop_classes)
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
