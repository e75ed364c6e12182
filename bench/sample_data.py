"""The sample corpus built into a data folder once per benchmark process (rule negatives, no teacher)."""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "posts.csv"


@lru_cache(maxsize=1)
def sample_data_dir() -> Path:
    from pipeline.data.build import BuildSettings, build_dataset

    out = Path(tempfile.mkdtemp(prefix="voicetune-bench-")) / "data"
    build_dataset([SAMPLE], out, BuildSettings(teacher="none", negatives="rule"))
    return out
