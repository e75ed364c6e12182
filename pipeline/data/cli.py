"""``python -m pipeline data build``, ``data fetch`` and ``data convert``."""

from __future__ import annotations

from pathlib import Path

from ..cli import add_command
from .build import BUILD_FLAGS
from .formats import FORMATS
from .remote.fetch import FETCH_FLAGS


def register(subparsers) -> None:
    data = subparsers.add_parser("data", help="build a dataset from posts; convert between data formats",
                                 description="Dataset builder commands.")
    commands = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)

    p = add_command(commands, "build", run_build, "posts (platform exports as downloaded, feeds, CSV/JSONL) -> SFT + DPO data folder",
                    description="Ingest, clean, filter, dedupe, score engagement, write briefs, make SFT examples "
                                "and preference pairs, check quality, split, and write a data folder with a card.")
    p.add_argument("--input", action="append", required=True, type=Path, metavar="FILE",
                   help="posts to import (repeat for several): a platform export as downloaded (zip or unpacked "
                        "folder: X, LinkedIn, Mastodon, Bluesky .car, Threads/Instagram, Substack, Medium, "
                        "WordPress), an RSS/Atom feed, a folder or zip of .md/.txt, CSV, JSONL/JSON (posts or "
                        "an instruction data set)")
    p.add_argument("--out", required=True, type=Path, help="the data folder to write (replaced atomically)")
    BUILD_FLAGS.add_to(p)

    p = add_command(commands, "fetch", run_fetch, "your public posts (blog, Bluesky, Mastodon) -> a posts JSONL",
                    description="Fetch the public posts of your own blog or open-platform profile: bsky:HANDLE and "
                                "mastodon:@user@host (and their profile URLs) through the platforms' open APIs, any "
                                "other URL rendered in headless Chromium. Obeys robots.txt, rate-limits, caches "
                                "pages. The JSONL it writes is an input of `data build`.")
    p.add_argument("targets", nargs="+", metavar="TARGET",
                   help="a page URL, bsky:HANDLE, mastodon:@user@host, https://bsky.app/profile/HANDLE or "
                        "https://SERVER/@user")
    p.add_argument("--out", required=True, type=Path, help="the posts file to write (.jsonl, replaced atomically)")
    FETCH_FLAGS.add_to(p)

    p = add_command(commands, "convert", run_convert, "convert SFT data between formats (input auto-detected)")
    p.add_argument("--input", required=True, type=Path, help=".jsonl or .json (array) file")
    p.add_argument("--to", required=True, choices=FORMATS, help="output format")
    p.add_argument("--out", required=True, type=Path, help="output file (.json writes an array, else JSONL)")


def run_build(args, log) -> dict:
    from tqdm import tqdm

    from .build import build_dataset

    settings = BUILD_FLAGS.from_args(args)
    with tqdm(total=100, desc="data build", unit="%", disable=None) as bar:
        def progress(fraction: float, message: str) -> None:
            bar.set_postfix_str(message)
            bar.update(max(0, round(fraction * 100) - bar.n))

        report = build_dataset(args.input, args.out, settings, progress)
    if not args.json:
        for line in report.summary_lines():
            log(line)
    return {"out": report.out_dir, **report.counts, "splits": report.splits, "warnings": report.quality["warnings"],
            "timings_s": report.timings_s}


def run_fetch(args, log) -> dict:
    from .remote.fetch import fetch_posts

    report = fetch_posts(args.targets, args.out, FETCH_FLAGS.from_args(args), log=log)
    log(f"{report.posts} posts -> {report.out}")
    return report.summary()


def run_convert(args, log) -> dict:
    from .formats import convert_file

    return convert_file(args.input, args.to, args.out)
