"""Which columns to serve (base | SFT | DPO): the flags ``compare`` and ``eval`` share, and loading them."""

from __future__ import annotations

import argparse

from ..cli import add_model_flags, load_options
from ..errors import UserError


def column_flags(p: argparse.ArgumentParser) -> None:
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
    from .variants import Variants

    options = load_options(args)
    if args.run_dir:
        return Variants.from_run(args.run_dir, base=args.model, sft=args.sft, options=options, switch=args.switch, log=log)
    if not (args.sft or args.dpo):
        raise UserError("no columns to fill: give --run DPO_RUN_DIR, or --sft and/or --dpo (run folder, adapter "
                        "folder or Hub adapter id).")
    return Variants.load(args.model, sft=args.sft, dpo=args.dpo, options=options, switch=args.switch, log=log)
