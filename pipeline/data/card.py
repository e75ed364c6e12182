"""The data folder's README.md: a dataset card `datasets.load_dataset(folder, "sft" | "dpo")` reads."""

from __future__ import annotations

from ..cards import render_card

_SIZES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"))


def size_category(n: int) -> str:
    return next((label for limit, label in _SIZES if n < limit), "n>1M")


def render_dataset_card(report, settings) -> str:
    """Render ``datasets_cards/dataset_card.md`` from a build report and its settings."""
    splits = {config: [name for name, n in sizes.items() if n] for config, sizes in report.splits.items()}
    return render_card(
        "dataset_card.md",
        license=settings.license,
        language=settings.language,
        size_category=size_category(report.counts["sft_examples"] + report.counts["dpo_pairs"]),
        splits=splits,
        split_sizes=report.splits,
        counts=report.counts,
        steps=report.steps,
        semantic_clean=report.semantic_clean,
        per_source=report.per_source,
        quality=report.quality,
        engagement=report.engagement,
        teacher=report.teacher,
        settings=report.settings,
        notices=report.notices,
    )
