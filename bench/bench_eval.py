"""Evaluate: wall time of ``python -m pipeline eval`` with its defaults on an archive-sized data folder.

The data folder is generated (no real archive needed): ``POSTS`` posts recombined from the sample
posts (``bench_data.synthetic_corpus``), split 90/5/5 into train/validation/test, one brief and a
rule negative per post; the SFT and DPO columns are random, non-zero LoRA adapters on the default
model (``bench_compare.make_runs``), so the columns ramble to the length cap: the slowest case.
The goal is the whole command, model loading included, with the defaults a user gets.
``--quick``: 800 posts and a few briefs, pairs and tokens (a crash check, not the goal).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import Figure, emit, quick_flag

POSTS = 8000
GOAL_S = 300.0
QUICK_FLAGS = ["--limit", "6", "--max-pairs", "8", "--max-new-tokens", "32", "--bootstrap", "100"]


def write_data(root: Path, n: int) -> Path:
    """A data folder of ``n`` posts: posts.jsonl with splits, sft/ and dpo/ train/validation/test."""
    from bench.bench_data import synthetic_corpus
    from pipeline.data.negatives import rule_rewrite
    from pipeline.fsio import atomic_write_jsonl

    rows = {"train": [], "validation": [], "test": []}
    posts = []
    for i, post in enumerate(synthetic_corpus(n)):
        split = "test" if i % 20 == 0 else "validation" if i % 20 == 1 else "train"
        first = post.text.splitlines()[0][:60]
        brief = [{"role": "user", "content": f"Write a post that starts from this thought: {first}"}]
        rows[split].append((brief, post.text))
        posts.append({"text": post.text, "split": split, "score": 0.5 + (i % 7) / 20, "gold": i % 3 == 0})
    atomic_write_jsonl(root / "posts.jsonl", posts)
    for split, items in rows.items():
        atomic_write_jsonl(root / "sft" / f"{split}.jsonl",
                           [{"messages": [*b, {"role": "assistant", "content": t}]} for b, t in items])
        atomic_write_jsonl(root / "dpo" / f"{split}.jsonl",
                           [{"prompt": b, "chosen": [{"role": "assistant", "content": t}],
                             "rejected": [{"role": "assistant", "content": rule_rewrite(t)}]} for b, t in items])
    return root


def main() -> None:
    from bench.bench_compare import make_runs

    quick = quick_flag()
    root = Path(tempfile.mkdtemp(prefix="voicetune-bench-eval-"))
    posts = 800 if quick else POSTS
    data = write_data(root / "data", posts)
    _, dpo = make_runs(root / "runs")
    out = root / "eval.json"
    argv = [sys.executable, "-m", "pipeline", "eval", "--run", str(dpo), "--data", str(data), "--out", str(out),
            "--json", *(QUICK_FLAGS if quick else [])]
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"eval failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
    report = json.loads(out.read_text())
    settings = report["settings"]
    print(f"eval with {'--quick flags' if quick else 'defaults'} on {posts} posts: {seconds:.0f} s "
          f"(goal <= {GOAL_S:.0f} s on the full size); phases in eval.json elapsed_s {report['elapsed_s']}",
          file=sys.stderr)
    emit([Figure(f"eval wall time, {'quick flags' if quick else 'defaults'}, {posts} posts", seconds,
                 None if quick else GOAL_S, higher_is_better=False, unit="s",
                 details={"briefs": settings["limit"], "pairs": report["pairs"], "columns": list(report["voice"].get(
                     "columns", {})), "max_new_tokens": settings["max_new_tokens"], "eval_elapsed_s": report["elapsed_s"],
                          "verdict": report["voice"]["verdict"]})])


if __name__ == "__main__":
    main()
