"""``python -m bench [--quick] [--only NAME ...]``: run every benchmark, write bench/results.json.

Each benchmark is a module ``bench/bench_*.py`` run in its own child process (so peak memory is
its own and a crash stops only that one); it prints its figures as a JSON list on its last line.
The table shows each figure's measured value, its goal and pass/fail. ``--quick`` shrinks every
benchmark so the whole run takes a few minutes (CI uses it and fails only on a crash, not a figure).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))

from pipeline.fsio import atomic_write_json  # noqa: E402


def discover() -> list[str]:
    return sorted(p.stem for p in BENCH_DIR.glob("bench_*.py"))


def run_one(name: str, quick: bool, timeout_s: float) -> dict:
    argv = [sys.executable, "-m", f"bench.{name}"] + (["--quick"] if quick else [])
    start = time.perf_counter()
    try:
        proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s,
                              env={**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"})
    except subprocess.TimeoutExpired:
        return {"bench": name, "ok": False, "error": f"timed out after {timeout_s:.0f}s", "figures": []}
    elapsed = round(time.perf_counter() - start, 1)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        return {"bench": name, "ok": False, "seconds": elapsed, "error": "\n".join(tail), "figures": []}
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"bench": name, "ok": True, "seconds": elapsed, "figures": figures}


def table(results: list[dict]) -> str:
    rows = [("figure", "measured", "goal", "result")]
    for result in results:
        if not result["ok"]:
            rows.append((result["bench"], "CRASHED", "", "fail"))
        for f in result["figures"]:
            if f["goal"] is None:
                rows.append((f["name"], f"{f['value']:.3g}{f['unit']}", "-", "(reported)"))
                continue
            goal = f"{'>=' if f['higher_is_better'] else '<='} {f['goal']:g}{f['unit']}"
            rows.append((f["name"], f"{f['value']:.3g}{f['unit']}", goal, "pass" if f["passed"] else "FAIL"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: the whole run in a few minutes")
    parser.add_argument("--only", nargs="*", default=None, help="benchmark names (e.g. bench_data)")
    parser.add_argument("--timeout", type=float, default=1800, help="per benchmark, seconds [1800]")
    parser.add_argument("--out", default=str(BENCH_DIR / "results.json"))
    args = parser.parse_args()
    names = args.only or discover()
    results = []
    for name in names:
        print(f"running {name}{' (quick)' if args.quick else ''} ...", flush=True)
        results.append(run_one(name, args.quick, args.timeout))
        if not results[-1]["ok"]:
            print(f"  {name} crashed:\n{results[-1]['error']}", flush=True)
    atomic_write_json(args.out, {"quick": args.quick, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                 "results": results})
    print(table(results))
    print(f"results: {args.out}")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
