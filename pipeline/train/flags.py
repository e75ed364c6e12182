"""Training settings <-> command-line flags (as TRL's parser derives its CLI from its configs).

Every field of each kind's settings (``SFTSettings``, ``DPOSettings``, ``GRPOSettings``) is a flag (see
:mod:`pipeline.flags`). :func:`settings_argv` turns settings back into flags: the job runner launches
exactly that command line, and each tab's "Same thing from a terminal" box shows it, so what a user
copies is what ran.
"""

from __future__ import annotations

import argparse

from ..flags import SettingsFlags, field_docs
from .settings import DPO_LOSSES, KINDS, PRESETS, CommonSettings, settings_class, settings_for

__all__ = ["FLAGS", "add_settings_flags", "field_docs", "flag", "settings_argv", "settings_from_args"]

FLAGS = {
    kind: SettingsFlags(
        settings_class(kind), presets={name: values[kind] for name, values in PRESETS.items()},
        default_preset="standard",
        preset_help="quick = minutes on a CPU with the default model; standard = the full recipe",
        names={"load_in_4bit": "4bit", "loss_type": "loss"},  # short: they are typed a lot
        aliases={"learning_rate": ("--lr",)},
        choices={"dtype": ("auto", "float32", "bfloat16", "float16"), "device": ("auto", "cpu", "cuda"),
                 "backend": ("auto", "hf", "unsloth"), "loss_type": DPO_LOSSES})
    for kind in KINDS
}


def flag(name: str) -> str:
    """The ``--flag`` of training settings field ``name``."""
    return FLAGS["dpo"].flag(name)


def add_settings_flags(parser: argparse.ArgumentParser, kind: str) -> None:
    """``--preset`` plus one flag per settings field of ``kind``; unset flags stay None (the preset decides)."""
    FLAGS[kind].add_to(parser)


def settings_from_args(kind: str, args: argparse.Namespace):
    """The settings a parsed command line asks for (checked): its preset with every flag given on top."""
    return settings_for(kind, args.preset, **FLAGS[kind].overrides(args))


def settings_argv(kind: str, settings: CommonSettings) -> list[str]:
    """Flags that rebuild ``settings`` exactly (``settings_from_args`` of them equals ``settings``)."""
    return FLAGS[kind].argv(settings)
