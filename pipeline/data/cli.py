"""``python -m pipeline data build`` and ``python -m pipeline data convert``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..cli import add_command
from .formats import FORMATS


def register(subparsers) -> None:
    data = subparsers.add_parser("data", help="build a dataset from posts; convert between data formats",
                                 description="Dataset builder commands.")
    commands = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)

    p = add_command(commands, "build", run_build, "posts (CSV/JSONL/tweets.js/Shares.csv) -> SFT + DPO data folder",
                    description="Ingest, clean, filter, dedupe, score engagement, write briefs, make SFT examples "
                                "and preference pairs, check quality, split, and write a data folder with a card.")
    p.add_argument("--input", action="append", required=True, type=Path, metavar="FILE",
                   help="a posts file (repeat for several): CSV, JSONL/JSON (posts or an instruction data set), "
                        "an X archive tweets.js or a LinkedIn Shares.csv")
    p.add_argument("--out", required=True, type=Path, help="the data folder to write (replaced atomically)")
    p.add_argument("--teacher", default="none", help="none | local | http(s)://HOST:PORT (OpenAI-compatible) [none]")
    p.add_argument("--teacher-model", default=None, help="model name for an HTTP teacher")
    p.add_argument("--teacher-key-env", default="OPENAI_API_KEY",
                   help="environment variable holding the HTTP teacher's key [OPENAI_API_KEY]")
    p.add_argument("--negatives", default="rule", choices=["rule", "teacher", "base"], help="rejected answers [rule]")
    gold = p.add_mutually_exclusive_group()
    gold.add_argument("--top-k", type=int, default=None, help="gold set = top N posts by engagement score")
    gold.add_argument("--top-frac", type=float, default=0.5, help="gold set = top fraction by score [0.5]")
    p.add_argument("--min-chars", type=int, default=30, help="[30]")
    p.add_argument("--max-chars", type=int, default=3000, help="[3000; 250 for an X archive]")
    p.add_argument("--keep-replies", action="store_true", help="keep replies (dropped by default)")
    p.add_argument("--keep-retweets", action="store_true", help="keep retweets (dropped by default)")
    p.add_argument("--remove-emoji", action="store_true", help="strip emoji while cleaning")
    p.add_argument("--dedupe-threshold", type=float, default=0.8, help="near-duplicate Jaccard threshold [0.8]")
    p.add_argument("--weights", default="1,2,3", help="engagement weights likes,comments,reposts [1,2,3]")
    p.add_argument("--quote-hook", action="store_true",
                   help="template briefs quote the post's first line as the angle (off: the brief would hold the answer)")
    p.add_argument("--system", default=None, help="system prompt describing the voice, added to every example")
    p.add_argument("--format", default="messages", choices=FORMATS,
                   help="also export the SFT splits in this format under exports/ [messages]")
    p.add_argument("--model", default="default", help="model spec: tokenizer for checks, local teacher, base negatives")
    p.add_argument("--max-tokens", type=int, default=1024, help="token limit to check examples against [1024]")
    p.add_argument("--seed", type=int, default=0, help="[0]")
    p.add_argument("--batch-size", type=int, default=16, help="teacher batch size [16]")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="teacher reply cache [$VOICETUNE_HOME/cache/teacher]")
    p.add_argument("--license", default="cc-by-4.0", help="dataset card license [cc-by-4.0]")

    p = add_command(commands, "convert", run_convert, "convert SFT data between formats (input auto-detected)")
    p.add_argument("--input", required=True, type=Path, help=".jsonl or .json (array) file")
    p.add_argument("--to", required=True, choices=FORMATS, help="output format")
    p.add_argument("--out", required=True, type=Path, help="output file (.json writes an array, else JSONL)")


def settings_from_args(args):
    from ..errors import UserError
    from .build import BuildSettings
    from .engagement import EngagementWeights

    try:
        likes, comments, reposts = (float(x) for x in args.weights.split(","))
    except ValueError:
        raise UserError(f"--weights {args.weights!r}: give three numbers likes,comments,reposts, e.g. 1,2,3.") from None
    defaults = BuildSettings()
    return BuildSettings(
        teacher=args.teacher, teacher_model=args.teacher_model, teacher_key_env=args.teacher_key_env,
        negatives=args.negatives, top_k=args.top_k, top_frac=args.top_frac, min_chars=args.min_chars,
        max_chars=args.max_chars, drop_replies=not args.keep_replies, drop_retweets=not args.keep_retweets,
        clean=replace(defaults.clean, remove_emoji=args.remove_emoji), dedupe_threshold=args.dedupe_threshold,
        weights=EngagementWeights(likes, comments, reposts), system_prompt=args.system, quote_hook=args.quote_hook,
        format=args.format,
        model=args.model, max_tokens=args.max_tokens, seed=args.seed, teacher_batch_size=args.batch_size,
        cache_dir=args.cache_dir,
        license=args.license,
    )


def run_build(args, log) -> dict:
    from tqdm import tqdm

    from .build import build_dataset

    settings = settings_from_args(args)
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


def run_convert(args, log) -> dict:
    from .formats import convert_file

    return convert_file(args.input, args.to, args.out)
