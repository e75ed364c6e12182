"""The generic settings <-> flags <-> argv route, on a dataclass with every kind of field it takes."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Literal

import pytest

from pipeline.errors import UserError
from pipeline.flags import SettingsFlags, field_docs


@dataclass
class Knobs:
    """Every kind of field a settings dataclass may hold."""

    name: str = "plain"
    """A string."""
    count: int = 3
    """A whole number."""
    rate: float = 0.25
    """A real number."""
    enabled: bool = True
    """A switch that starts on."""
    verbose: bool = False
    """A switch that starts off."""
    private: bool = True
    """A switch whose off flag has its own name."""
    limit: int | None = None
    """An optional number."""
    note: str | None = None
    """An optional text."""
    folder: Path = Path("out")
    """A path."""
    cache: Path | None = None
    """An optional path."""
    mode: Literal["fast", "exact"] = "fast"
    """A choice typed as a Literal."""
    style: str = "a"
    """A choice listed beside the dataclass."""


FLAGS = SettingsFlags(Knobs, presets={"small": {"count": 1, "rate": 0.5}, "large": {"count": 100, "enabled": False}},
                      default_preset="small", preset_help="how big", names={"note": "message"},
                      aliases={"rate": ("-r",)}, off_names={"private": "public"}, choices={"style": ("a", "b")})


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="test")
    FLAGS.add_to(parser)
    return parser.parse_args(argv)


@pytest.mark.parametrize("changes", [
    {},
    {"name": "with space and 'quotes'", "rate": 1.234e-7, "verbose": True, "private": False, "limit": 7},
    {"note": "hello", "folder": Path("a/b"), "cache": Path("/tmp/c"), "mode": "exact", "style": "b", "enabled": False},
    {"count": 100, "enabled": False, "rate": 0.1},  # closest to "large"
])
def test_argv_parses_back_to_equal_settings_with_the_closest_preset(changes):
    for preset in FLAGS.presets:
        settings = replace(FLAGS.base(preset), **changes)
        argv = FLAGS.argv(settings)
        assert FLAGS.from_args(parse(argv)) == settings, argv
        chosen = argv[1]
        assert len(_diff(settings, chosen)) == min(len(_diff(settings, p)) for p in FLAGS.presets)
        assert len(argv) == 2 + sum(1 if isinstance(getattr(settings, n), bool) else 2 for n in _diff(settings, chosen))


def _diff(settings, preset) -> list[str]:
    base = FLAGS.base(preset)
    return [f.name for f in fields(Knobs) if getattr(settings, f.name) != getattr(base, f.name)]


def test_only_changed_fields_are_sent_and_unset_flags_keep_the_preset():
    assert FLAGS.argv(FLAGS.base("small")) == ["--preset", "small"]
    assert FLAGS.argv(replace(FLAGS.base("small"), private=False, verbose=True)) == [
        "--preset", "small", "--verbose", "--public"]
    args = parse(["--preset", "large", "-r", "0.75", "--no-enabled", "--message", "hi", "--cache", "/x"])
    assert FLAGS.from_args(args) == Knobs(count=100, rate=0.75, enabled=False, note="hi", cache=Path("/x"))
    assert FLAGS.from_args(parse([])) == Knobs(count=1, rate=0.5)  # the default preset
    with pytest.raises(ValueError, match="limit cannot be set back to None"):
        SettingsFlags(Knobs, presets={"p": {"limit": 3}}).argv(Knobs())


def test_flags_are_typed_checked_and_documented(capsys):
    for bad in (["--count", "2.5"], ["--mode", "slow"], ["--style", "c"], ["--rate", "x"]):
        with pytest.raises(SystemExit):
            parse(bad)
    args = parse(["--count", "4", "--rate", "2", "--folder", "f"])
    assert (args.count, args.rate, args.folder) == (4, 2.0, Path("f"))
    assert isinstance(args.rate, float)
    with pytest.raises(SystemExit):
        parse(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    docs = field_docs(Knobs)
    assert set(docs) == {f.name for f in fields(Knobs)}
    for f in fields(Knobs):
        assert docs[f.name] in help_text and FLAGS.flag(f.name) in help_text
    assert "A whole number. [1]" in help_text and "A switch that starts off. [off]" in help_text  # the preset's value
    assert "--no-verbose" in help_text and "--public" in help_text and "how big [small]" in help_text


def test_cast_takes_box_values_to_the_field_type():
    assert FLAGS.cast("count", 3.0) == 3 and isinstance(FLAGS.cast("count", 3.0), int)
    assert FLAGS.cast("rate", 3) == 3.0 and isinstance(FLAGS.cast("rate", 3), float)
    assert FLAGS.cast("folder", "a") == Path("a") and FLAGS.cast("limit", None) is None
    with pytest.raises(UserError, match="count must be a whole number"):
        FLAGS.cast("count", 2.5)
    with pytest.raises(UserError, match="rate: 'fast' is not a float"):
        FLAGS.cast("rate", "fast")
