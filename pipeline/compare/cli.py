"""``python -m pipeline compare``: base | SFT | DPO answering the same briefs with the same settings.

The columns come from ``--run`` (a DPO run knows its SFT parent and its base) or explicitly with
``--base SPEC --sft RUN_OR_REPO --dpo RUN_OR_REPO``; ``eval`` takes its columns the same way.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from ..cli import add_command
from ..errors import UserError
from ..generation import SAMPLING_FLAGS
from ..serving.columns import column_flags, load_variants


def register(subparsers) -> None:
    p = add_command(subparsers, "compare", run_compare,
                    "base | SFT | DPO answering the same brief with the same settings and seed, streamed")
    column_flags(p)
    p.add_argument("--prompt", action="append", default=[], help="a brief (repeat for several)")
    p.add_argument("--data", default=None, help="a data folder: also compare on briefs of its held-out split")
    p.add_argument("--split", default="test", help="held-out split used with --data [test]")
    p.add_argument("--limit", type=int, default=5, help="briefs taken from --data [5]")
    p.add_argument("--system", default=None, help="optional system prompt")
    SAMPLING_FLAGS.add_to(p)
    p.add_argument("--export", default=None, metavar="PATH.jsonl",
                   help="write the comparison as JSONL and Markdown (same name, .md)")


def run_compare(args, log) -> dict:
    from ..data.folder import DataFolder
    from ..generation import as_messages
    from ..picks import export_comparison

    prompts = list(args.prompt)
    for prompt in prompts:
        as_messages(prompt)  # an empty brief fails before the model loads
    notices: list[str] = []
    if args.data:
        rows, _ = DataFolder(Path(args.data)).held_out_pairs(args.split, args.seed, notices)
        prompts += [next(m["content"] for m in reversed(r["prompt"]) if m["role"] == "user") for r in rows[:args.limit]]
    if not prompts:
        raise UserError("no brief: give --prompt TEXT (or --data DIR for briefs from its held-out split).")
    settings, clamped = SAMPLING_FLAGS.from_args(args).clamped()
    for notice in notices + clamped:
        log(f"notice: {notice}")
    variants = load_variants(args, log)
    rows = []
    for prompt in prompts:
        row: dict = {"prompt": prompt, "stats": {}}
        # the columns decode together (one batch); each is printed whole when it is finished
        for column, piece, stats in variants.stream_columns(prompt, settings, args.system):
            row[column] = row.get(column, "") + piece
            if stats is not None:
                row["stats"][column] = stats.as_dict()
                log(f"\n=== {column} ===\n{row[column]}")
                log(f"[{column}: {stats.new_tokens} tokens, {stats.tokens_per_s:.1f} tok/s, "
                    f"{stats.first_token_s:.2f} s to first token]")
                for notice in stats.notices:
                    log(f"notice: {notice}")
        rows.append(row)
    summary = {"base": variants.base_spec, "switch": variants.switch, "columns": variants.describe()["columns"],
               "settings": asdict(settings),
               "notices": notices + clamped, "rows": rows}
    if args.export:
        summary["export"] = export_comparison(rows, args.export, None, tuple(variants.columns))
        log(f"exported {summary['export']['jsonl']} and {summary['export']['markdown']}")
    return summary
