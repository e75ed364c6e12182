"""``python -m pipeline eval``: the columns as Compare takes them (:mod:`pipeline.compare.cli`), scored
on held-out data into the run's eval.json."""

from __future__ import annotations

from dataclasses import fields


from ..cli import add_command
from ..errors import UserError
from ..serving.columns import column_flags, load_variants
from .report import EvalSettings


def register(subparsers) -> None:
    p = add_command(subparsers, "eval", run_eval,
                    "evaluate base | SFT | DPO on held-out data: reward margins, perplexity, style, similarity, "
                    "judge, See More; writes the run's eval.json")
    column_flags(p)
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
