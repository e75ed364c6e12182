"""Training settings <-> command-line flags, in one place (as TRL's parser derives its CLI from its configs).

Every field of :class:`~pipeline.train.settings.SFTSettings` / ``DPOSettings`` is a flag named after
it (``learning_rate`` -> ``--learning-rate``, booleans as ``--x/--no-x``), with the field's docstring
as its help. :func:`settings_argv` turns settings back into flags: the job runner launches exactly
that command line, and each tab's "Same thing from a terminal" box shows it, so what a user copies
is what ran.
"""

from __future__ import annotations

import argparse
import ast
import functools
import inspect
import textwrap
import types
import typing
from dataclasses import MISSING, fields

from .settings import DPO_LOSSES, PRESETS, CommonSettings, settings_for, settings_class

FLAG_NAMES = {"load_in_4bit": "4bit", "loss_type": "loss"}
"""Fields whose flag is not simply the field name with dashes (kept short: they are typed a lot)."""
ALIASES = {"learning_rate": ["--lr"]}
CHOICES = {
    "dtype": ("auto", "float32", "bfloat16", "float16"),
    "device": ("auto", "cpu", "cuda"),
    "backend": ("auto", "hf", "unsloth"),
    "loss_type": DPO_LOSSES,
}


def flag(name: str) -> str:
    """The ``--flag`` of settings field ``name``."""
    return "--" + FLAG_NAMES.get(name, name.replace("_", "-"))


@functools.lru_cache(maxsize=None)
def field_docs(cls: type) -> dict[str, str]:
    """Each dataclass field's docstring (the string literal under it), through the class's bases."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__[:-1]):  # bases first, so a subclass's own text wins
        body = ast.parse(textwrap.dedent(inspect.getsource(klass))).body[0].body
        for node, after in zip(body, body[1:]):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(after, ast.Expr)
                    and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str)):
                docs[node.target.id] = " ".join(after.value.value.split())
    return docs


def _value_type(annotation) -> type:
    """``int`` for ``int | None`` and friends; the annotation itself otherwise."""
    hint = eval(annotation, {}) if isinstance(annotation, str) else annotation  # noqa: S307 (our own source)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


def add_settings_flags(parser: argparse.ArgumentParser, kind: str) -> None:
    """``--preset`` plus one flag per settings field of ``kind``; unset flags stay None (the preset decides)."""
    cls = settings_class(kind)
    docs = field_docs(cls)
    parser.add_argument("--preset", default="standard", choices=list(PRESETS),
                        help="quick = minutes on a CPU with the default model; standard = the full recipe [standard]")
    for f in fields(cls):
        value_type = _value_type(f.type)
        default = f.default if f.default is not MISSING else None
        shown = ("on" if default else "off") if isinstance(default, bool) else default
        help_text = f"{docs.get(f.name, '')} [{shown}]".replace("%", "%%")
        names = [flag(f.name), *ALIASES.get(f.name, [])]
        if value_type is bool:
            parser.add_argument(*names, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            parser.add_argument(*names, dest=f.name, type=value_type, default=None, choices=CHOICES.get(f.name),
                                help=help_text)


def settings_from_args(kind: str, args: argparse.Namespace):
    """The settings a parsed command line asks for: its preset with every flag given on top."""
    overrides = {f.name: getattr(args, f.name) for f in fields(settings_class(kind)) if hasattr(args, f.name)}
    return settings_for(kind, args.preset, **overrides)


def settings_argv(kind: str, settings: CommonSettings) -> list[str]:
    """Flags that rebuild ``settings`` exactly: ``--preset P`` (the preset closest to them) and every
    field that differs from it. ``settings_from_args`` of these flags equals ``settings``."""
    cls = settings_class(kind)

    def differing(preset: str) -> list:
        base = cls(**PRESETS[preset][kind])
        return [f for f in fields(cls) if getattr(settings, f.name) != getattr(base, f.name)]

    preset = min(PRESETS, key=lambda p: len(differing(p)))
    argv = ["--preset", preset]
    for f in differing(preset):
        value = getattr(settings, f.name)
        if isinstance(value, bool):
            argv.append(flag(f.name) if value else "--no-" + flag(f.name)[2:])
        elif value is None:
            raise ValueError(f"setting {f.name} cannot be set back to None from the command line")
        else:
            argv += [flag(f.name), repr(value) if isinstance(value, float) else str(value)]
    return argv
