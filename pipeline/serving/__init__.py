"""Serving base | SFT | DPO from one base model in memory: what Compare, Evaluate and generation share.

variants.py  :class:`Variants`: the base and the columns' LoRA stacks on it; ``stream_columns``
batched.py   several columns decoded as one batch, a row per column with its own LoRA delta
columns.py   the column flags (``--run``, ``--base``, ``--sft``, ``--dpo``) and loading them
"""
