"""A tab's boxes, bound to its step's settings dataclass by field name (as LLaMA-Factory's element
manager binds its page).

A tab makes each box with :meth:`Knobs.add`: the settings field it edits and its label. The box's
starting value comes from the preset and a number box's precision from the field's type. Event
handlers take the boxes' values in the registry's order (:attr:`Knobs.components`) and name them
with :meth:`Knobs.named`; :func:`settings_from_boxes` turns them into the settings object the tab
runs (values cast to the field's type; a box left at its preset's value, or emptied, is no
override), so the command the tab shows (``SettingsFlags.argv``) holds only what the user changed.

A handler takes the boxes' values last, as ``*values``: Gradio fills a ``gr.Progress`` or
``gr.OAuthToken`` parameter only where it comes before them.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from pipeline.flags import SettingsFlags


class Knobs:
    """The boxes of one tab, by settings field name."""

    def __init__(self, flags: SettingsFlags, preset: str | None = None):
        self.flags, self.preset = flags, preset
        self.boxes: dict[str, Any] = {}

    def add(self, name: str, make: Callable, **options):
        """``make(**options)`` as the box of field ``name`` (its value: the preset's, unless given)."""
        import gradio as gr

        options.setdefault("value", getattr(self.flags.base(self.preset), name))
        if make is gr.Number and self.flags.value_type(name) is int:
            options.setdefault("precision", 0)
        self.boxes[name] = make(**options)
        return self.boxes[name]

    @property
    def components(self) -> list:
        return list(self.boxes.values())

    def named(self, values: Sequence) -> dict[str, Any]:
        """Box values (in :attr:`components` order) by field name."""
        return dict(zip(self.boxes, values, strict=True))

    def fill(self, preset: str) -> list:
        """Each box's value under ``preset`` (the outputs of the preset radio's change)."""
        base = self.flags.base(preset)
        return [getattr(base, name) for name in self.boxes]


def settings_from_boxes(flags: SettingsFlags, preset: str | None, values: Mapping[str, Any], **fixed):
    """The settings ``preset`` gives with the boxes' ``values`` on top (cast to each field's type; an
    empty box or one at the preset's value changes nothing) and ``fixed`` (values the tab sets itself)."""
    base = flags.base(preset)
    changed = {}
    for name, value in values.items():
        if value is None or value == "":
            continue
        typed = flags.cast(name, value)
        if typed != getattr(base, name):
            changed[name] = typed
    return flags.cls(**{**(flags.presets[preset] if preset else {}), **changed, **fixed})
