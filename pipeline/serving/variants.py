"""``stream_chat`` renders the prompt with the model's chat template and yields text pieces as
they are produced; :class:`GenerationStats` (latency, tokens/s, token count) is updated while it
streams and is final when the generator ends (it is also its ``StopIteration.value``).

:class:`Variants` keeps ONE base model in memory with the SFT and DPO LoRA adapters loaded on it
(PEFT) and switches them per column: base = adapters off, SFT = the SFT adapter, DPO = the SFT and
DPO adapters together (a DPO run's adapter holds only the delta trained on top of base + SFT, and
LoRA deltas add). Switching either merges the column's adapters into the base weights in place
(``merge``: decoding runs at the plain model's speed; float32 only, where un-merging restores the
weights to within float rounding) or keeps them as side branches (``stack``: for 4-bit and
half-precision bases, where merging would round the base weights). ``stream_columns`` decodes
all columns at once instead, one batch row per column (:mod:`pipeline.serving.batched`).

The base is loaded as the runs trained on it: 4-bit NF4 when their first run had ``load_in_4bit``
(``LoadOptions(load_in_4bit=None)``, the default here), so the SFT column is exactly Q(W) + dSFT,
the policy DPO used as its reference; a base loaded otherwise is allowed and said in ``notices``.
Serving always uses transformers + PEFT (no Unsloth patching at inference: its Llama forward
rejects the 4-D masks of pair scoring).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from ..errors import UserError
from ..generation import GenerationStats, SamplingSettings, as_messages, chat_input_ids, context_length, stream_chat
from ..models import LoadOptions, unwrap_peft

# ----------------------------------------------------------------------------- base | SFT | DPO

SWITCH_MODES = ("auto", "merge", "stack")


@dataclass(frozen=True)
class Column:
    """One column of a comparison: the base model plus these adapters, active together."""

    name: str
    """``base``, ``sft`` or ``dpo``."""
    source: str
    """What filled it: the base model spec, a run folder, an adapter folder or a Hub id."""
    adapters: tuple[str, ...]
    """PEFT adapter names active in this column (empty for the base)."""


class Variants:
    """One base model in memory serving the base, SFT and DPO columns by switching LoRA adapters.

    Use :meth:`load` or :meth:`from_run`. ``use(column)`` yields the model with that column active
    (one caller at a time: a lock is held until the block ends); ``stream`` / ``generate`` /
    ``stream_columns`` generate with it.
    """

    def __init__(self, model, tokenizer, backend, base_spec: str, base_path: Path, columns: dict[str, Column],
                 adapter_paths: dict[str, str], switch: str, load_in_4bit: bool = False,
                 notices: tuple[str, ...] = ()):
        self.model = model
        """The PEFT model (or the plain model when no adapter is loaded)."""
        self.tokenizer = tokenizer
        self.backend = backend
        self.base_spec = base_spec
        self.base_path = base_path
        self.columns = columns
        self.adapter_paths = adapter_paths
        """PEFT adapter name -> the folder it was loaded from."""
        self.switch = switch
        """``merge`` or ``stack`` (how a column's adapters are applied; see the module doc)."""
        self.load_in_4bit = load_in_4bit
        """Whether the base is loaded in 4-bit NF4."""
        self.notices = list(notices)
        """What differs from the trained policy (a base loaded otherwise than in training)."""
        self._lock = threading.Lock()  # a plain Lock: a UI may resume a generator on another thread
        self._active: str | None = None
        self._inner = unwrap_peft(model)
        self._slots = _lora_slots(self._inner)
        self._activate("base")

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, base: str | None = None, *, sft: str | None = None, dpo: str | None = None,
             options: LoadOptions = LoadOptions(load_in_4bit=None), switch: str = "auto", log=print) -> "Variants":
        """Load the base once and the adapters of the ``sft`` and ``dpo`` columns on it.

        ``options.load_in_4bit=None`` loads the base as the runs trained on it (4-bit or not).

        ``sft`` / ``dpo``: a run folder, an adapter folder or a Hub adapter id (None leaves the
        column out). A DPO run stacks its parent SFT adapter under its own. ``base`` defaults to
        the base the runs were trained on, else ``default``.
        """
        from ..models import load_model, resolve_model_path
        from ..adapters import check_base, resolve_column

        if switch not in SWITCH_MODES:
            raise UserError(f"unknown switch mode {switch!r}: use {', '.join(SWITCH_MODES)}.")
        sources = {name: resolve_column(spec, log=log) for name, spec in (("sft", sft), ("dpo", dpo)) if spec}
        if sources.get("dpo") is not None and sources["dpo"].kind == "sft":
            log(f"notice: {dpo} is an SFT run; the DPO column serves it as is.")
        if base is None:
            recorded = [s.base_model or s.adapters[0].base_model for s in sources.values()]
            base = next((b for b in recorded if b), "default")
        base_path = resolve_model_path(base, log=log)
        for source in sources.values():
            for ref in source.adapters:
                check_base(ref, base, base_path)  # before the model loads: a wrong base fails fast
        options, notices = as_trained(options, sources)
        model, tokenizer, backend, _ = load_model(str(base_path), options, log=log, purpose="serve")
        for notice in notices:
            log(f"notice: {notice}")

        adapter_names: dict[Path, str] = {}  # one PEFT adapter per folder, shared by the columns using it
        columns = {"base": Column("base", base, ())}
        for name, source in sources.items():
            stack = []
            for depth, ref in enumerate(reversed(source.adapters)):
                if ref.path not in adapter_names:
                    adapter_name = name if depth == 0 else f"{name}_parent{depth}"
                    model = _load_adapter(model, ref, adapter_name, base, base_path)
                    adapter_names[ref.path] = adapter_name
                stack.insert(0, adapter_names[ref.path])
            columns[name] = Column(name, source.spec, tuple(stack))
        if switch == "auto":
            switch = "merge" if _mergeable(model) else "stack"
        elif switch == "merge" and not _mergeable(model):
            raise UserError("switch mode 'merge' needs float32, unquantised base weights (merging into 4-bit or "
                            "half-precision weights rounds them); use --switch stack or auto.")
        paths = {n: str(p) for p, n in adapter_names.items()}
        return cls(model, tokenizer, backend, base, base_path, columns, paths, switch,
                   load_in_4bit=bool(options.load_in_4bit), notices=tuple(notices))

    @classmethod
    def from_run(cls, run: str | Path, *, base: str | None = None, sft: str | None = None,
                 options: LoadOptions = LoadOptions(load_in_4bit=None), switch: str = "auto", log=print) -> "Variants":
        """The columns a run implies: a DPO or GRPO run fills the DPO column, the most trained one (its
        whole chain stacked: SFT + DPO, SFT + GRPO or SFT + DPO + GRPO), and SFT with its chain's SFT
        run, unless ``sft`` is given; an SFT run, an adapter folder or a Hub adapter fills SFT."""
        from ..adapters import resolve_column

        source = resolve_column(str(run), log=log)
        if source.kind in ("dpo", "grpo"):
            parent = source.adapters[0].label if len(source.adapters) > 1 else None
            return cls.load(base, sft=sft or parent, dpo=str(run), options=options, switch=switch, log=log)
        return cls.load(base, sft=str(run), options=options, switch=switch, log=log)

    @property
    def policy(self) -> str:
        """The most trained column (``dpo``, else ``sft``, else ``base``)."""
        return next(c for c in ("dpo", "sft", "base") if c in self.columns)

    # ------------------------------------------------------------------ switching

    @contextmanager
    def use(self, column: str):
        """The model with ``column`` active, for the duration of the block (exclusive)."""
        self._check_column(column)
        with self._lock:
            self._activate(column)
            yield self._inner

    def _check_column(self, column: str) -> None:
        if column not in self.columns:
            raise UserError(f"no {column!r} column: this comparison has {', '.join(self.columns)}.")

    def _activate(self, column: str) -> None:
        if self._active == column:
            return
        names = list(self.columns[column].adapters)
        self._wrap(True)
        for _, _, layer in self._slots:
            if layer.merged:
                layer.unmerge()
            if names:
                layer.enable_adapters(True)
                layer.set_adapter(names, inference_mode=True)
                if self.switch == "merge":
                    layer.merge(adapter_names=names)
            else:
                layer.enable_adapters(False)
        if self.switch == "merge":
            # The merged weights sit in the original Linear modules: putting those back in place of
            # the LoRA wrappers makes the model a plain one (no per-projection Python overhead).
            self._wrap(False)
        self._active = column

    def _wrap(self, wrapped: bool) -> None:
        """Put the LoRA wrapper modules in the model (True) or their base Linear modules (False)."""
        for parent, attribute, layer in self._slots:
            setattr(parent, attribute, layer if wrapped else layer.get_base_layer())

    # ------------------------------------------------------------------ generation

    def stream(self, column: str, prompt: str | list[dict], settings: SamplingSettings = SamplingSettings(),
               system: str | None = None, stats: GenerationStats | None = None) -> Iterator[str]:
        """:func:`stream_chat` with ``column`` active."""
        with self.use(column) as model:
            return (yield from stream_chat(model, self.tokenizer, prompt, settings, system, stats))

    def generate(self, column: str, prompt: str | list[dict], settings: SamplingSettings = SamplingSettings(),
                 system: str | None = None) -> tuple[str, GenerationStats]:
        stats = GenerationStats()
        text = "".join(self.stream(column, prompt, settings, system, stats))
        return text, stats

    def generate_columns(self, prompt: str | list[dict], settings: SamplingSettings = SamplingSettings(),
                         system: str | None = None) -> dict[str, str]:
        """Every column's whole reply to ``prompt``, decoded as one batch (:meth:`stream_columns`)."""
        texts = dict.fromkeys(self.columns, "")
        for column, piece, _ in self.stream_columns(prompt, settings, system):
            texts[column] += piece
        return texts

    def stream_columns(self, prompt: str | list[dict], settings: SamplingSettings = SamplingSettings(),
                       system: str | None = None, columns: tuple[str, ...] | None = None
                       ) -> Iterator[tuple[str, str, GenerationStats | None]]:
        """Every column at once, same prompt, settings and seed, decoded as one batch with a row per
        column (:mod:`pipeline.serving.batched`; each column's text is what :meth:`stream` gives for it
        alone): ``(column, piece, None)`` as pieces arrive, then ``(column, "", stats)`` once that
        column is finished."""
        from .batched import row_adapters, row_order, sample_rows, text_pieces

        messages = as_messages(prompt, system)  # an empty prompt fails before anything runs
        names = columns or tuple(self.columns)
        for column in names:
            self._check_column(column)
        order = row_order({c: self.columns[c].adapters for c in names})
        settings, notices = settings.clamped()
        with self.use("base") as model:  # unmerged base weights; each row adds its own adapters' deltas
            ids = chat_input_ids(self.tokenizer, messages, max(1, context_length(model) - settings.max_new_tokens),
                                 notices)
            stats = {c: GenerationStats(prompt_tokens=len(ids), notices=list(notices)) for c in order}
            pieces = {c: text_pieces(self.tokenizer) for c in order}
            eos = model.generation_config.eos_token_id
            stop_ids = set(eos if isinstance(eos, list) else [] if eos is None else [eos])
            start = time.perf_counter()
            with row_adapters(model, self._slots, [self.columns[c].adapters for c in order]):
                for step in sample_rows(model, ids, len(order), settings, stop_ids):
                    elapsed = time.perf_counter() - start
                    for column, row in zip(order, step):
                        if row is None:
                            continue
                        token, last = row
                        done = stats[column]
                        done.new_tokens += 1
                        done.first_token_s = done.first_token_s or elapsed
                        done.total_s = elapsed
                        for piece in pieces[column].add(token) + (pieces[column].finish() if last else []):
                            yield column, piece, None
                        if last:
                            done.finished = True
                            yield column, "", done

    # ------------------------------------------------------------------ facts

    def memory(self) -> dict:
        """Parameter counts and bytes: the base once, plus every adapter (no per-column copies)."""
        lora = [p for _, _, layer in self._slots for n, p in layer.named_parameters() if "lora_" in n]
        base = [p for n, p in self._inner.named_parameters() if "lora_" not in n]
        return {"base_parameters": sum(p.numel() for p in base), "adapter_parameters": sum(p.numel() for p in lora),
                "base_bytes": sum(p.numel() * p.element_size() for p in base),
                "adapter_bytes": sum(p.numel() * p.element_size() for p in lora)}

    def describe(self) -> dict:
        return {
            "base": self.base_spec,
            "base_path": str(self.base_path),
            "backend": self.backend.name,
            "switch": self.switch,
            "load_in_4bit": self.load_in_4bit,
            "notices": self.notices,
            "columns": {c.name: {"source": c.source, "adapters": [self.adapter_paths[a] for a in c.adapters]}
                        for c in self.columns.values()},
            **self.memory(),
        }


def as_trained(options: LoadOptions, sources: dict) -> tuple[LoadOptions, list[str]]:
    """``options`` with ``load_in_4bit`` filled from how the columns' runs trained (None = as trained),
    and a notice for each difference from the trained policy."""
    trained = [s.load_in_4bit for s in (sources.get("dpo"), sources.get("sft")) if s is not None
               and s.load_in_4bit is not None]
    notices = []
    if len(set(trained)) > 1:
        notices.append("the SFT and DPO columns were trained on bases loaded differently (4-bit and float); "
                       "the base is loaded as the DPO run's.")
    if options.load_in_4bit is None:
        return replace(options, load_in_4bit=bool(trained and trained[0])), notices
    if trained and options.load_in_4bit != trained[0]:
        how = "4-bit NF4" if trained[0] else "float"
        notices.append(f"the adapters were trained on a {how} base but it is loaded "
                       f"{'in 4-bit' if options.load_in_4bit else 'in float'}: margins and text differ slightly "
                       f"from the trained policy (load it {'with' if trained[0] else 'without'} --4bit for the exact one).")
    return options, notices


def _lora_slots(model) -> list[tuple]:
    """``(parent module, attribute, LoRA layer)`` for every LoRA-wrapped projection of ``model``."""
    from peft.tuners.lora import LoraLayer

    return [(parent, name, child) for parent in model.modules() for name, child in parent.named_children()
            if isinstance(child, LoraLayer)]


def _mergeable(model) -> bool:
    """Merging in place is exact enough only for float32, unquantised target weights."""
    import torch

    for _, _, layer in _lora_slots(model):
        weight = getattr(layer.get_base_layer(), "weight", None)
        if weight is None or weight.dtype != torch.float32:  # 4-bit weights are packed uint8
            return False
    return True


def _load_adapter(model, ref, adapter_name: str, base_spec: str, base_path: Path):
    """Load one adapter onto ``model`` (wrapping it in a PeftModel the first time)."""
    from peft import PeftModel

    try:
        if isinstance(model, PeftModel):
            model.load_adapter(str(ref.path), adapter_name=adapter_name, is_trainable=False)
            return model
        return PeftModel.from_pretrained(model, str(ref.path), adapter_name=adapter_name, is_trainable=False)
    except (RuntimeError, ValueError, KeyError) as e:
        detail = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise UserError(f"{ref.label}: its adapter does not fit the base model {base_spec!r} ({base_path}); it was "
                        f"trained on {ref.base_model!r} ({detail}). Pick the base it was trained on.") from None


# ----------------------------------------------------------------------------- for the app

_shared: dict = {}
_shared_lock = threading.Lock()


def shared_variants(base: str | None, sft: str | None = None, dpo: str | None = None,
                    options: LoadOptions = LoadOptions(load_in_4bit=None), log=print) -> Variants:
    """The app's one resident :class:`Variants`: reused while the sources are unchanged, replaced
    (the old one released) when they change or an adapter folder was rewritten."""
    from ..adapters import resolve_column

    stamps = []
    for spec in (sft, dpo):
        if spec:
            stamps += [(str(ref.path), (ref.path / "adapter_config.json").stat().st_mtime_ns)
                       for ref in resolve_column(spec, log=log).adapters]
    key = (base, sft, dpo, options, tuple(stamps))
    with _shared_lock:
        if _shared.get("key") != key:
            _shared.clear()  # drop the old model before loading the next one: one base in memory
            _shared["variants"] = Variants.load(base, sft=sft, dpo=dpo, options=options, log=log)
            _shared["key"] = key
        return _shared["variants"]


def stream_columns(base: str | None, sources: dict, prompt: str | list[dict],
                   settings: SamplingSettings = SamplingSettings(), system: str | None = None,
                   options: LoadOptions = LoadOptions(load_in_4bit=None), log=print
                   ) -> Iterator[tuple[str, str, GenerationStats | None]]:
    """:meth:`Variants.stream_columns` on the shared model; ``sources`` maps ``sft`` / ``dpo`` to a
    run folder, adapter folder, Hub id or None."""
    as_messages(prompt, system)
    variants = shared_variants(base, sources.get("sft"), sources.get("dpo"), options, log=log)
    yield from variants.stream_columns(prompt, settings, system)
