"""The source registry: one module per place posts come from, so a new source is one new file.

A source module defines::

    NAME: str                 # registry name, also Post.platform: "x", "linkedin", "mastodon", ...
    LABEL: str                # human name: "X (Twitter) archive"
    MAX_CHARS: int | None     # the platform's post limit (the filters use it); None: no limit
    def detect(files: SourceFiles) -> bool
    def read(files: SourceFiles) -> IngestResult

and may define ``EXPECTS`` (the files it looks for, shown when an input is none of the exports) and
``BRIEF_WORD`` (what a template brief calls a post: "tweet", "LinkedIn post"; default "post").

Every module in this package with a ``NAME`` is a source. Detection asks the platform exports first
(in name order: each looks for its own files) and the generic files last, in :data:`GENERIC` order.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType

from .base import IngestResult, SourceFiles

GENERIC = ("feed", "csv", "jsonl", "instructions", "text-files")
"""Sources that take any file of their type (a WordPress export is a feed too); asked after every platform export."""


@cache
def sources() -> tuple[ModuleType, ...]:
    """Every source module, in detection order."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if isinstance(getattr(module, "NAME", None), str) and callable(getattr(module, "detect", None)):
            found.append(module)
    specific = sorted((m for m in found if m.NAME not in GENERIC), key=lambda m: m.NAME)
    generic = sorted((m for m in found if m.NAME in GENERIC), key=lambda m: GENERIC.index(m.NAME))
    return tuple(specific + generic)


@cache
def source(name: str) -> ModuleType | None:
    """The source module registered as ``name`` (None for an unknown name)."""
    return next((m for m in sources() if m.NAME == name), None)


def detect(files: SourceFiles) -> ModuleType | None:
    """The first source that recognises ``files``."""
    return next((m for m in sources() if m.detect(files)), None)


def max_chars(platform: str) -> int | None:
    """The post limit of ``platform`` (None: none known)."""
    module = source(platform)
    return getattr(module, "MAX_CHARS", None)


def brief_word(platform: str) -> str:
    """What a brief calls a post from ``platform``: "tweet", "LinkedIn post", ... ("post" by default)."""
    return getattr(source(platform), "BRIEF_WORD", "post")


def expected() -> str:
    """The exports an input may be, with the files each holds, for a message."""
    return "; ".join(f"{m.LABEL} ({getattr(m, 'EXPECTS', m.NAME)})" for m in sources())


__all__ = ["IngestResult", "SourceFiles", "brief_word", "detect", "expected", "max_chars", "source", "sources"]
