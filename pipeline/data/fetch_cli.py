"""``python -m pipeline data-fetch TARGET... --out posts.jsonl``: the user's public posts as a posts file."""

from __future__ import annotations

import argparse
import typing
from dataclasses import fields
from pathlib import Path

from ..cli import add_command
from ..train.flags import field_docs
from .fetch import FetchSettings


def register(subparsers) -> None:
    p = add_command(subparsers, "data-fetch", run_fetch, "fetch your public posts (blog, Bluesky, Mastodon) to JSONL",
                    description="Fetch public posts of your own blog or open-platform profile: bsky:HANDLE and "
                                "mastodon:@user@host (and their profile URLs) through the platforms' open APIs, any "
                                "other URL rendered in headless Chromium. Respects robots.txt, rate-limits, caches "
                                "pages. The JSONL it writes is an input of `data build`.")
    p.add_argument("targets", nargs="+", metavar="TARGET",
                   help="a page URL, bsky:HANDLE, mastodon:@user@host, https://bsky.app/profile/HANDLE or "
                        "https://SERVER/@user")
    p.add_argument("--out", required=True, type=Path, help="the posts file to write (.jsonl, replaced atomically)")
    docs, hints = field_docs(FetchSettings), typing.get_type_hints(FetchSettings)
    for f in fields(FetchSettings):
        value_type = next((a for a in typing.get_args(hints[f.name]) if a is not type(None)), hints[f.name])
        shown = ("on" if f.default else "off") if value_type is bool else f.default
        help_text = docs.get(f.name, "") + ("" if shown is None else f" [{shown}]")
        help_text = help_text.replace("%", "%%")
        flag = "--" + f.name.replace("_", "-")
        if value_type is bool:
            p.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=f.default, help=help_text)
        else:
            p.add_argument(flag, dest=f.name, type=value_type, default=f.default, help=help_text)

def run_fetch(args, log) -> dict:
    from .fetch import fetch_posts

    settings = FetchSettings(**{f.name: getattr(args, f.name) for f in fields(FetchSettings)})
    report = fetch_posts(args.targets, args.out, settings, log=log)
    log(f"{report.posts} posts -> {report.out}")
    return report.summary()
