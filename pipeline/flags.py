"""A step's settings dataclass <-> its command-line flags <-> the argv that rebuilds it.

Every field of a settings dataclass is a flag named after it (``learning_rate`` -> ``--learning-rate``),
typed from its annotation (``int``, ``float``, ``str``, ``Path``, ``X | None``, ``Literal[...]``), with
the field's docstring as its help; a bool is ``--x/--no-x``. Named presets (``--preset``) give
groups of field values. :meth:`SettingsFlags.argv` turns settings back into the fewest flags that
rebuild them (the closest preset plus every field that differs from it): the command a tab shows,
and the one the job runner launches, parse back to the settings that ran.

Adding a knob to a step is adding a documented field to its settings dataclass: the flag, its help
and the tab's box (see ``ui/knobs.py``) follow from it.
"""

from __future__ import annotations

import argparse
import ast
import functools
import inspect
import textwrap
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from .errors import UserError

METAVARS = {int: "N", float: "X", str: "TEXT", Path: "PATH"}


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


@functools.lru_cache(maxsize=None)
def field_types(cls: type) -> dict[str, tuple[type, tuple | None]]:
    """Each field's value type and its allowed values: ``int | None`` -> ``(int, None)``,
    ``Literal["a", "b"]`` -> ``(str, ("a", "b"))``; a ``list[Path]`` field -> ``(Path, None)`` (see :func:`is_list`)."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in fields(cls):
        hint, choices = hints[f.name], None
        if typing.get_origin(hint) is list:
            hint = typing.get_args(hint)[0]
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        if typing.get_origin(hint) is typing.Literal:
            choices = typing.get_args(hint)
            hint = type(choices[0])
        out[f.name] = (hint, choices)
    return out


def is_list(cls: type, name: str) -> bool:
    """Whether field ``name`` of ``cls`` is a list (a repeatable flag, one value each time)."""
    return typing.get_origin(typing.get_type_hints(cls)[name]) is list


@dataclass(frozen=True)
class SettingsFlags:
    """How one settings dataclass appears on a command line."""

    cls: type
    """The settings dataclass (every field has a default)."""
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Preset name -> the field values it sets (empty: no ``--preset`` flag)."""
    default_preset: str | None = None
    """The preset a command line without ``--preset`` gets."""
    preset_help: str = ""
    """What the presets are (the ``--preset`` help)."""
    names: Mapping[str, str] = field(default_factory=dict)
    """Fields whose flag is not the field name with dashes (``{"load_in_4bit": "4bit"}``)."""
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """More flags for a field (``{"learning_rate": ("--lr",)}``)."""
    off_names: Mapping[str, str] = field(default_factory=dict)
    """Bool fields whose off flag is not ``--no-FLAG`` (``{"private": "public"}``)."""
    choices: Mapping[str, tuple] = field(default_factory=dict)
    """Allowed values of ``str`` fields that are not typed ``Literal``."""

    def flag(self, name: str) -> str:
        """The ``--flag`` of field ``name``."""
        return "--" + self.names.get(name, name.replace("_", "-"))

    def off_flag(self, name: str) -> str:
        """The flag that sets bool field ``name`` to False."""
        return "--" + self.off_names.get(name, "no-" + self.flag(name)[2:])

    def value_type(self, name: str) -> type:
        return field_types(self.cls)[name][0]

    def base(self, preset: str | None = None):
        """The settings of ``preset`` (the defaults without one)."""
        return self.cls(**self.presets[preset]) if preset else self.cls()

    def cast(self, name: str, value):
        """``value`` (from a text box, a number box, a JSON file) as field ``name``'s type; None stays None."""
        if value is None:
            return None
        kind = self.value_type(name)
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise UserError(f"{name} must be a whole number (got {value}).")
        try:
            return kind(value)
        except ValueError:
            raise UserError(f"{name}: {value!r} is not a {kind.__name__}.") from None

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        """``--preset`` (with presets) and one flag per field. Unset flags stay None: the preset decides."""
        if self.presets:
            parser.add_argument("--preset", default=self.default_preset, choices=list(self.presets),
                                help=f"{self.preset_help} [{self.default_preset}]".replace("%", "%%"))
        defaults = self.base(self.default_preset)
        docs = field_docs(self.cls)
        for f in fields(self.cls):
            kind, choices = field_types(self.cls)[f.name]
            default = getattr(defaults, f.name)
            shown = ("on" if default else "off") if isinstance(default, bool) else default
            help_text = (docs.get(f.name, "") + ("" if default is None else f" [{shown}]")).replace("%", "%%")
            names = [self.flag(f.name), *self.aliases.get(f.name, ())]
            if kind is bool and f.name in self.off_names:
                parser.add_argument(*names, dest=f.name, action="store_const", const=True, default=None, help=help_text)
                parser.add_argument(self.off_flag(f.name), dest=f.name, action="store_const", const=False,
                                    help=f"the opposite of {self.flag(f.name)}")
            elif kind is bool:
                parser.add_argument(*names, dest=f.name, action=argparse.BooleanOptionalAction, default=None,
                                    help=help_text)
            elif is_list(self.cls, f.name):
                parser.add_argument(*names, dest=f.name, type=kind, action="append", default=None,
                                    help=f"{docs.get(f.name, '')} (repeatable)".replace("%", "%%"),
                                    metavar=METAVARS.get(kind))
            else:
                choices = self.choices.get(f.name, choices)
                parser.add_argument(*names, dest=f.name, type=kind, default=None, help=help_text, choices=choices,
                                    metavar=None if choices else METAVARS.get(kind))

    def overrides(self, args: argparse.Namespace) -> dict:
        """The fields a parsed command line sets (flags not given are left out)."""
        return {f.name: getattr(args, f.name) for f in fields(self.cls) if getattr(args, f.name, None) is not None}

    def from_args(self, args: argparse.Namespace):
        """The settings a parsed command line asks for: its preset with every flag given on top."""
        preset = getattr(args, "preset", None) if self.presets else None
        return self.cls(**{**(self.presets[preset] if preset else {}), **self.overrides(args)})

    def argv(self, settings) -> list[str]:
        """Flags that rebuild ``settings`` exactly: ``--preset P`` (the preset closest to them) and
        every field that differs from it. :meth:`from_args` of these flags equals ``settings``."""

        def differing(preset: str | None) -> list:
            base = self.base(preset)
            return [f.name for f in fields(self.cls) if getattr(settings, f.name) != getattr(base, f.name)]

        preset = min(self.presets, key=lambda p: len(differing(p))) if self.presets else None
        argv = ["--preset", preset] if preset else []
        for name in differing(preset):
            value = getattr(settings, name)
            if isinstance(value, bool):
                argv.append(self.flag(name) if value else self.off_flag(name))
            elif isinstance(value, list):
                argv += [part for item in value for part in (self.flag(name), str(item))]
            elif value is None:
                raise ValueError(f"setting {name} cannot be set back to None from the command line")
            else:
                argv += [self.flag(name), repr(value) if isinstance(value, float) else str(value)]
        return argv

