"""Compare: base | SFT | DPO from one base model in memory, side by side, and the human picks.

variants.py  :class:`Variants`: the base and the columns' LoRA stacks on it; ``stream_columns``
batched.py   the three columns decoded as one batch, a row per column with its own LoRA delta
sources.py   what fills a column: run folders, adapter folders, Hub adapters (and the base they need)
picks.py     human picks -> preference pairs (``preferences.jsonl``), blind order, comparison export
cli.py       ``python -m pipeline compare`` (and the column flags ``eval`` shares)
"""
