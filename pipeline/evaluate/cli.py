"""``python -m pipeline eval``: the columns as Compare takes them (:mod:`pipeline.compare.cli`), scored
on held-out data into the run's eval.json. With ``--run``, its progress and end state go to the run's
eval-status.json (:mod:`pipeline.evaluate.job`), so the page follows it however it was started."""

from __future__ import annotations

from ..cli import add_command
from ..errors import UserError
from ..flags import SettingsFlags
from ..serving.columns import column_flags, load_variants
from .report import EvalSettings

EVAL_FLAGS = SettingsFlags(EvalSettings, choices={"precision": ("auto", "float32", "bfloat16")})
"""``python -m pipeline eval``'s settings flags (and the Evaluate tab's command)."""


def register(subparsers) -> None:
    p = add_command(subparsers, "eval", run_eval,
                    "evaluate base | few-shot | SFT | DPO on a sample of held-out data: the voice scorecard "
                    "(detector AUC, calibrated score, fluency), reward margins, perplexity, style, similarity, "
                    "judge, See More; writes the run's eval.json")
    column_flags(p)
    p.add_argument("--data", default=None, help="data folder with dpo/{split}.jsonl [the run's training data]")
    p.add_argument("--out", default=None, help="where to write eval.json [RUN_DIR/eval.json]")
    EVAL_FLAGS.add_to(p)


def run_eval(args, log) -> dict:
    from tqdm import tqdm

    from ..voice.detector import MIN_PER_SIDE
    from .job import recording
    from .judge import make_judge
    from .report import evaluate_run, load_held_out

    settings = EVAL_FLAGS.from_args(args)
    if (settings.limit < 0 or settings.max_pairs < 0 or settings.few_shot < 0 or settings.bootstrap < 0
            or settings.batch_size < 1 or settings.max_new_tokens < 1 or settings.max_per_side < MIN_PER_SIDE):
        raise UserError("--limit, --max-pairs, --few-shot and --bootstrap must be >= 0, --batch-size and "
                        f"--max-new-tokens >= 1, --max-per-side >= {MIN_PER_SIDE}.")
    if args.run_dir is None and args.out is None:
        raise UserError("nowhere to write eval.json: give --run RUN_DIR or --out PATH.")
    with recording(args.run_dir) as record:
        make_judge(settings.judge, settings.judge_model, log=log)  # bad input fails before a model loads
        held_out = load_held_out(args.run_dir, args.data, settings)
        record("loading the base model and adapters", 0.0)
        variants = load_variants(args, log)
        bar = tqdm(total=100, desc="eval", unit="%", disable=None,
                   bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]")

        def progress(message: str, fraction: float) -> None:
            bar.set_description(message[:60])
            bar.update(max(0, round(fraction * 100) - bar.n))
            record(message, fraction)

        try:
            report = evaluate_run(args.run_dir, args.data, settings, variants=variants, held_out=held_out,
                                  out_path=args.out, progress=progress, log=log)
        finally:
            bar.close()
    if not args.json:
        for line in report_lines(report):
            log(line)
        log(f"wrote {report['eval_path']}")
        return {}
    return {k: report[k] for k in ("voice", "margins", "chosen_win_rate", "margins_detail", "margins_other_generator",
                                   "rejected_generators", "burrows_delta", "human_picks", "perplexity",
                                   "style", "similarity", "judge", "see_more", "split", "pairs",
                                   "scoring_precision", "notices", "eval_path")}


def report_lines(report: dict) -> list[str]:
    """eval.json for a terminal: the verdict and scorecard first, then the other figures."""
    voice = report["voice"]
    lines = [voice["verdict"]]
    if "skipped" not in voice:
        lines += [f"ceiling (your held-out vs training posts): AUC {_interval(voice['ceiling'])}"]
        lines += [f"floor ({name}): AUC {_interval(d)}" for name, d in voice["floors"].items()]
        for name, column in voice["columns"].items():
            score = "n/a" if column["score"] is None else column["score"]
            lines.append(f"{name}: AUC {_interval(column['detection'])}, voice score {score}, "
                         f"fluency {column['fluency_ratio']}x{' GARBLED' if column['garbled'] else ''}")
        lines += [f"contradiction: {c}" for c in voice["contradictions"]]
    for key in ("margins", "chosen_win_rate", "perplexity"):
        lines.append(f"{key}: " + ", ".join(f"{c} {v}" for c, v in report[key].items()))
    return lines + [f"notice: {note}" for note in report["notices"]]


def _interval(detection: dict) -> str:
    return f"{detection['auc']:.2f} [{detection['low']:.2f}, {detection['high']:.2f}] (n={detection['n_other']})"
