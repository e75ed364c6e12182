"""``python -m pipeline compare`` and ``python -m pipeline eval``.

Both take the columns from ``--run`` (a DPO run knows its SFT parent and its base) or explicitly
with ``--base SPEC --sft RUN_OR_REPO --dpo RUN_OR_REPO``.
"""

from __future__ import annotations

import argparse
from dataclasses import fields

from pathlib import Path

from ..cli import add_command, add_model_flags, load_options
from ..errors import UserError
from .report import EvalSettings


def register(subparsers) -> None:
    p = add_command(subparsers, "compare", run_compare,
                    "base | SFT | DPO answering the same brief with the same settings and seed, streamed")
    _column_flags(p)
    p.add_argument("--prompt", action="append", default=[], help="a brief (repeat for several)")
    p.add_argument("--data", default=None, help="a data folder: also compare on briefs of its held-out split")
    p.add_argument("--split", default="test", help="held-out split used with --data [test]")
    p.add_argument("--limit", type=int, default=5, help="briefs taken from --data [5]")
    p.add_argument("--system", default=None, help="optional system prompt")
    p.add_argument("--max-new-tokens", type=int, default=160, help="[160]")
    p.add_argument("--temperature", type=float, default=0.7, help="0 = greedy [0.7]")
    p.add_argument("--top-p", type=float, default=0.9, help="[0.9]")
    p.add_argument("--top-k", type=int, default=50, help="[50]")
    p.add_argument("--repetition-penalty", type=float, default=1.1, help="[1.1]")
    p.add_argument("--seed", type=int, default=0, help="[0]")
    p.add_argument("--export", default=None, metavar="PATH.jsonl",
                   help="write the comparison as JSONL and Markdown (same name, .md)")

    p = add_command(subparsers, "eval", run_eval,
                    "evaluate base | SFT | DPO on held-out data: reward margins, perplexity, style, similarity, "
                    "judge, See More; writes the run's eval.json")
    _column_flags(p)
    p.add_argument("--data", default=None, help="data folder with dpo/{split}.jsonl [the run's training data]")
    p.add_argument("--out", default=None, help="where to write eval.json [RUN_DIR/eval.json]")
    d = EvalSettings()
    p.add_argument("--split", default=d.split, help=f"held-out split; a missing one falls back to validation, "
                   f"else one is carved from train (and the report says so) [{d.split}]")
    p.add_argument("--judge", default=d.judge, help=f"rule (rubric scorer), none, local, or the URL of an "
                   f"OpenAI-compatible server [{d.judge}]")
    p.add_argument("--judge-model", default=d.judge_model, help="model name sent to a judge URL")
    p.add_argument("--limit", type=int, default=d.limit,
                   help=f"held-out briefs each variant writes a post for (style, similarity, judge) [{d.limit}]")
    p.add_argument("--max-pairs", type=int, default=d.max_pairs,
                   help=f"held-out pairs / posts scored for margins and perplexity, 0 = all [{d.max_pairs}]")
    p.add_argument("--max-new-tokens", type=int, default=d.max_new_tokens, help=f"[{d.max_new_tokens}]")
    p.add_argument("--temperature", type=float, default=d.temperature, help=f"0 = greedy [{d.temperature}]")
    p.add_argument("--seed", type=int, default=d.seed, help=f"[{d.seed}]")
    p.add_argument("--batch-size", type=int, default=d.batch_size,
                   help=f"pairs or sequences per scoring batch [{d.batch_size}]")
    p.add_argument("--precision", default=d.precision, choices=["auto", "float32", "bfloat16"],
                   help=f"matmul precision of margins and perplexity; auto = bf16 where native, float32 = exact "
                   f"[{d.precision}]")
    p.add_argument("--max-length", type=int, default=d.max_length,
                   help=f"longest scored sequence in tokens [{d.max_length}]")
    p.add_argument("--authorship-answers", type=int, default=d.authorship_answers,
                   help="base-model answers to training briefs added to the authorship test's generic "
                        f"training texts [{d.authorship_answers}]")


def _column_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run", dest="run_dir", default=None, help="a DPO run folder (fills all three columns) or an SFT run folder")
    add_model_flags(p)
    p.set_defaults(model=None, load_in_4bit=None)  # the base comes from the run, loaded as it trained, unless given
    p.add_argument("--base", dest="model", help="base model spec (same as --model) [the run's base, else default]")
    p.add_argument("--sft", default=None, help="SFT column: a run folder, an adapter folder or a Hub adapter id")
    p.add_argument("--dpo", default=None, help="DPO column: a run folder, an adapter folder or a Hub adapter id")
    p.add_argument("--switch", default="auto", choices=["auto", "merge", "stack"],
                   help="apply a column's adapters merged into the base weights in place (fast decoding, "
                        "float32) or stacked beside them (4-bit / half precision) [auto]")


def load_variants(args, log):
    from ..infer import Variants

    options = load_options(args)
    if args.run_dir:
        return Variants.from_run(args.run_dir, base=args.model, sft=args.sft, options=options, switch=args.switch, log=log)
    if not (args.sft or args.dpo):
        raise UserError("no columns to fill: give --run DPO_RUN_DIR, or --sft and/or --dpo (run folder, adapter "
                        "folder or Hub adapter id).")
    return Variants.load(args.model, sft=args.sft, dpo=args.dpo, options=options, switch=args.switch, log=log)


def run_compare(args, log) -> dict:
    from ..infer import SamplingSettings, as_messages
    from ..data.folder import DataFolder
    from ..preferences import export_comparison

    prompts = list(args.prompt)
    for prompt in prompts:
        as_messages(prompt)  # an empty brief fails before the model loads
    notices: list[str] = []
    if args.data:
        rows, _ = DataFolder(Path(args.data)).held_out_pairs(args.split, args.seed, notices)
        prompts += [next(m["content"] for m in reversed(r["prompt"]) if m["role"] == "user") for r in rows[:args.limit]]
    if not prompts:
        raise UserError("no brief: give --prompt TEXT (or --data DIR for briefs from its held-out split).")
    settings, clamped = SamplingSettings(max_new_tokens=args.max_new_tokens, temperature=args.temperature,
                                         top_p=args.top_p, top_k=args.top_k,
                                         repetition_penalty=args.repetition_penalty, seed=args.seed).clamped()
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
               "settings": {k: getattr(settings, k) for k in ("max_new_tokens", "temperature", "top_p", "top_k",
                                                               "repetition_penalty", "seed")},
               "notices": notices + clamped, "rows": rows}
    if args.export:
        summary["export"] = export_comparison(rows, args.export, None, tuple(variants.columns))
        log(f"exported {summary['export']['jsonl']} and {summary['export']['markdown']}")
    return summary


def run_eval(args, log) -> dict:
    from tqdm import tqdm

    from .judge import make_judge
    from .report import evaluate_run, load_held_out

    settings = EvalSettings(**{f.name: getattr(args, f.name) for f in fields(EvalSettings)})
    if (settings.limit < 0 or settings.max_pairs < 0 or settings.authorship_answers < 0 or settings.batch_size < 1
            or settings.max_new_tokens < 1):
        raise UserError("--limit, --max-pairs and --authorship-answers must be >= 0, --batch-size and --max-new-tokens >= 1.")
    if args.run_dir is None and args.out is None:
        raise UserError("nowhere to write eval.json: give --run RUN_DIR or --out PATH.")
    make_judge(settings.judge, settings.judge_model, log=log)  # bad input fails before a model loads
    held_out = load_held_out(args.run_dir, args.data, settings)
    variants = load_variants(args, log)
    bar = tqdm(total=100, desc="eval", unit="%", disable=None)

    def progress(message: str, fraction: float) -> None:
        bar.set_description(message[:60])
        bar.update(max(0, round(fraction * 100) - bar.n))

    try:
        report = evaluate_run(args.run_dir, args.data, settings, variants=variants, held_out=held_out,
                              out_path=args.out, progress=progress, log=log)
    finally:
        bar.close()
    if not args.json:
        for key in ("margins", "chosen_win_rate", "perplexity"):
            log(f"{key}: " + ", ".join(f"{c} {v}" for c, v in report[key].items()))
        if report["voice_rate"]:
            log("voice_rate: " + ", ".join(f"{c} {v['mean']} [{v['low']}, {v['high']}]"
                                           for c, v in report["voice_rate"].items())
                + f" (authorship test AUC {report['authorship']['auc']})")
        for note in report["notices"]:
            log(f"notice: {note}")
        log(f"wrote {report['eval_path']}")
        return {}
    return {k: report[k] for k in ("margins", "chosen_win_rate", "margins_detail", "margins_other_generator",
                                   "rejected_generators", "voice_rate", "authorship", "burrows_delta", "human_picks", "perplexity",
                                   "style", "similarity", "judge", "see_more", "split", "pairs",
                                   "briefs_quoting_answer", "scoring_precision", "notices", "eval_path")}
