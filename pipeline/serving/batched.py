"""Several answers to one prompt decoded as one batch: one row per column, each row with its own
LoRA adapters and its own random generator.

Compare's base | SFT | DPO columns answer the same prompt, so their rows have the same length
and need no padding. :func:`row_adapters` puts, in every LoRA-targeted projection, a module that
runs the base weight once for the whole batch and adds each adapter's delta to the rows that use
it (a DPO column's row gets the SFT and the DPO deltas, which is what stacking them means); the
adapter weights are PEFT's own tensors, nothing is copied or merged. Decoding a row of a batch
costs little more than decoding it alone on a CPU, where each step is bound by reading the
weights, so three columns take about the time of one; for that, where this CPU multiplies a few
rows faster weight-major (timed once per process, :func:`weight_major_is_faster`), every float
projection and the LM head compute a decode step's few rows as ``(W x^T)^T`` (:func:`few_rows_linear`).

:func:`sample_rows` is the decode loop: the logits processors ``model.generate`` builds for these
settings (repetition penalty, then temperature, top-k, top-p), greedy or multinomial sampling with
one ``torch.Generator`` per row seeded with the settings' seed, so each row draws exactly what
``generate`` draws for that column alone after ``torch.manual_seed(seed)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import UserError


FEW_ROWS = 16
"""Up to this many rows a projection runs weight-major (:func:`few_rows_linear`); prompts run as usual."""


def few_rows_linear(linear, x):
    """``linear(x)`` for a plain ``torch.nn.Linear``, computed as ``(W x^T)^T`` when ``x`` has at
    most :data:`FEW_ROWS` rows.

    Why: on the project's AMD EPYC CPU, MKL's sgemm for 2-16 rows in ``F.linear``'s order ran 1.4-6x
    slower than the same product weight-major (all 30 layers' projections of the default model,
    3 rows: 59 ms vs 21 ms; the LM head 35 ms vs 6 ms), so three columns decoded in one batch took
    twice one column's time. Weight-major, 3 rows cost what 1 row costs (one row runs MKL's gemv
    either way). Same values up to float rounding (the summation order differs).
    """
    import torch

    rows = x.reshape(-1, x.shape[-1])
    if rows.shape[0] > FEW_ROWS:
        return linear(x)
    out = torch.mm(linear.weight, rows.t()).t()
    if linear.bias is not None:
        out = out + linear.bias
    return out.contiguous().view(*x.shape[:-1], out.shape[-1])


_ORDER_CHOICE: dict[tuple, bool] = {}


def weight_major_is_faster(weights: list, rows: int) -> bool:
    """Whether ``rows`` rows times each of ``weights`` run faster as ``(W x^T)^T`` than in
    ``F.linear``'s order on this machine: both timed on these weights (best of 3 passes after a
    warm-up, about 0.3 s for the default model), once per process for a given set of shapes, dtype
    and row count. It depends on the CPU's BLAS: on an AMD EPYC weight-major was 1.4-6x faster for
    2-16 float32 rows; on an Intel Xeon with AMX, 3 float32 rows took 52 ms weight-major against
    25 ms in ``F.linear``'s order over the default model's projections and LM head."""
    import time

    import torch

    key = (tuple(tuple(w.shape) for w in weights), weights[0].dtype, weights[0].device.type, rows)
    if key not in _ORDER_CHOICE:
        inputs = {n: torch.randn(rows, n, dtype=weights[0].dtype, device=weights[0].device)
                  for n in {w.shape[1] for w in weights}}

        def best_of_3(product) -> float:
            times = []
            for _ in range(4):  # the first pass warms the kernels up and is not counted
                start = time.perf_counter()
                for w in weights:
                    product(w, inputs[w.shape[1]])
                times.append(time.perf_counter() - start)
            return min(times[1:])

        with torch.no_grad():
            major = best_of_3(lambda w, x: torch.mm(w, x.t()))
            linear = best_of_3(lambda w, x: torch.nn.functional.linear(x, w))
        _ORDER_CHOICE[key] = major < linear
    return _ORDER_CHOICE[key]


def _row_modules():
    import torch

    class FewRowsLinear(torch.nn.Module):
        """A plain Linear whose decode steps run weight-major (:func:`few_rows_linear`)."""

        def __init__(self, linear):
            super().__init__()
            self.linear = linear

        def forward(self, x):
            return few_rows_linear(self.linear, x)

    class RowLoRA(torch.nn.Module):
        """A base projection plus LoRA deltas that apply to some batch rows only.

        The adapters of rows ``start:stop`` are concatenated along their rank (PEFT's exact ``cat``
        combination): ``out[rows] += ((x[rows] A^T) * mask) B^T``, where ``A`` stacks every
        adapter's ``lora_A``, ``B`` every ``scaling x lora_B``, and ``mask`` zeroes, per row, the
        rank slices of the adapters that row does not use. Two matmuls per projection and token,
        whatever the number of adapters.
        """

        def __init__(self, base, start: int, stop: int, a_t, b_t, mask):
            super().__init__()
            self.base, self.start, self.stop, self.a_t, self.b_t, self.mask = base, start, stop, a_t, b_t, mask

        def forward(self, x):
            out = self.base(x)
            per_row = x.shape[1] if x.dim() == 3 else 1  # positions per batch row
            rows = x.reshape(-1, x.shape[-1])[self.start * per_row:self.stop * per_row]
            low_rank = torch.mm(rows.to(self.a_t.dtype), self.a_t)
            if self.mask is not None:
                low_rank = low_rank.view(self.stop - self.start, per_row, -1).mul_(self.mask).view(low_rank.shape)
            out.view(-1, out.shape[-1])[self.start * per_row:self.stop * per_row].addmm_(
                low_rank.to(out.dtype), self.b_t)
            return out

    return FewRowsLinear, RowLoRA


def _plain_linears(module, lora_layer) -> list[tuple]:
    """``(parent, attribute, Linear)`` for every plain ``torch.nn.Linear`` in ``module`` outside LoRA layers."""
    import torch

    found = []
    for name, child in module.named_children():
        if type(child) is torch.nn.Linear:
            found.append((module, name, child))
        elif not isinstance(child, lora_layer):
            found += _plain_linears(child, lora_layer)
    return found


def row_order(adapters: dict[str, tuple[str, ...]]) -> list[str]:
    """The batch rows for ``{row name: its adapters}``: rows without adapters first, so every
    adapter's rows are one contiguous range (with at most two adapter rows, as in Compare)."""
    order = sorted(adapters, key=lambda name: bool(adapters[name]))
    for name in {a for stack in adapters.values() for a in stack}:
        rows = [i for i, row in enumerate(order) if name in adapters[row]]
        if rows[-1] - rows[0] + 1 != len(rows):
            raise UserError(f"adapter {name!r} is used by rows that are not next to each other: "
                            "compare at most two adapter columns at a time.")
    return order


@contextmanager
def row_adapters(model, slots: list[tuple], rows: list[tuple[str, ...]]):
    """Within the block, batch row ``i`` of ``model`` runs with the LoRA adapters ``rows[i]``, and
    its float projections and LM head run decode steps weight-major where that is faster here.

    ``slots`` are ``(parent module, attribute, PEFT LoRA layer)`` for every LoRA-wrapped projection;
    their base weights must be unmerged. Rows with adapters must be one contiguous range (see
    :func:`row_order`). Each slot's attribute is replaced for the block and put back after it,
    whatever it held (the LoRA layer or, in merge mode, its base layer). The concatenated adapter
    weights live only as long as the block (about one more copy of the adapters).
    """
    import torch
    from peft.tuners.lora import Linear as LoraLinear
    from peft.tuners.lora import LoraLayer

    FewRowsLinear, RowLoRA = _row_modules()
    used = [i for i, stack in enumerate(rows) if stack]
    start, stop = (used[0], used[-1] + 1) if used else (0, 0)
    slot_keys = {(id(parent), attribute) for parent, attribute, _ in slots}
    others = [(parent, attribute, linear) for parent, attribute, linear in _plain_linears(model, LoraLayer)
              if (id(parent), attribute) not in slot_keys]  # in merge mode a slot holds its plain base Linear
    bases = [layer.get_base_layer() for _, _, layer in slots if isinstance(layer, LoraLayer)]
    floats = [m.weight for m in bases + [linear for _, _, linear in others] if type(m) is torch.nn.Linear]
    weight_major = 1 < len(rows) <= FEW_ROWS and bool(floats) and weight_major_is_faster(floats, len(rows))
    previous = []
    try:
        for parent, attribute, layer in slots:
            if not isinstance(layer, LoraLinear) or any(layer.use_dora.values()):
                kind = "DoRA" if isinstance(layer, LoraLinear) else type(layer).__name__
                raise UserError(f"{attribute}: Compare decodes plain LoRA on Linear layers only; this adapter uses "
                                f"{kind}. Merge it into a model first.")
            names = [n for n in dict.fromkeys(a for stack in rows for a in stack) if n in layer.lora_A]
            module = layer.get_base_layer()
            if weight_major and type(module) is torch.nn.Linear:  # not a 4-bit layer
                module = FewRowsLinear(module)
            if names:
                with torch.no_grad():
                    a_t = torch.cat([layer.lora_A[n].weight for n in names]).t()
                    b_t = torch.cat([layer.lora_B[n].weight * layer.scaling[n] for n in names], dim=1).t()
                    mask = torch.tensor([[float(n in rows[i]) for n in names for _ in range(layer.r[n])]
                                         for i in range(start, stop)], dtype=a_t.dtype, device=a_t.device)
                module = RowLoRA(module, start, stop, a_t, b_t, None if bool(mask.all()) else mask[:, None, :])
            previous.append((parent, attribute, getattr(parent, attribute)))
            setattr(parent, attribute, module)
        for parent, attribute, linear in others if weight_major else ():
            previous.append((parent, attribute, linear))
            setattr(parent, attribute, FewRowsLinear(linear))
        yield
    finally:
        for parent, attribute, module in previous:
            setattr(parent, attribute, module)


def logits_processors(repetition_penalty: float, temperature: float, top_k: int, top_p: float):
    """The processors ``generate`` applies for these settings, in its order (temperature 0 = greedy)."""
    from transformers import (
        LogitsProcessorList,
        RepetitionPenaltyLogitsProcessor,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    processors = LogitsProcessorList()
    if repetition_penalty != 1.0:
        processors.append(RepetitionPenaltyLogitsProcessor(penalty=repetition_penalty))
    if temperature > 0:
        if temperature != 1.0:
            processors.append(TemperatureLogitsWarper(temperature))
        if top_k:
            processors.append(TopKLogitsWarper(top_k=top_k))
        if top_p < 1.0:
            processors.append(TopPLogitsWarper(top_p=top_p))
    return processors


def sample_rows(model, prompt_ids: list[int], rows: int, settings, stop_ids: set[int]
                ) -> Iterator[list[tuple[int, bool] | None]]:
    """Decode ``rows`` continuations of ``prompt_ids`` at once with ``settings`` (SamplingSettings,
    already clamped). Yields, per step, ``(token, is_last)`` for each row still running and None
    for rows that have stopped (a row stops after a token in ``stop_ids`` or ``max_new_tokens``)."""
    import torch
    from transformers import DynamicCache

    processors = logits_processors(settings.repetition_penalty, settings.temperature, settings.top_k, settings.top_p)
    generators = [torch.Generator(model.device).manual_seed(settings.seed) for _ in range(rows)]
    sequences = torch.tensor([prompt_ids] * rows, device=model.device)
    cache = DynamicCache(config=model.config)
    inputs, running = sequences, [True] * rows
    with torch.no_grad():
        for step in range(settings.max_new_tokens):
            logits = model(input_ids=inputs, past_key_values=cache, use_cache=True, logits_to_keep=1).logits
            scores = processors(sequences, logits[:, -1].to(dtype=torch.float32))
            if settings.temperature > 0:
                probs = torch.nn.functional.softmax(scores, dim=-1)
                # a stopped row is fed token 0: its output is never read again
                tokens = [int(torch.multinomial(probs[i:i + 1], 1, generator=generators[i])) if running[i] else 0
                          for i in range(rows)]
            else:
                tokens = scores.argmax(-1).tolist()
            last = step + 1 == settings.max_new_tokens
            yield [(token, last or token in stop_ids) if run else None for token, run in zip(tokens, running)]
            running = [run and token not in stop_ids for token, run in zip(tokens, running)]
            if not any(running):
                return
            inputs = torch.tensor(tokens, device=model.device)[:, None]
            sequences = torch.cat([sequences, inputs], dim=1)


def text_pieces(tokenizer):
    """A per-row detokeniser that cuts text where ``model.generate``'s streamer does:
    ``add(token)`` and ``end()`` return the pieces that became printable."""
    import torch
    from transformers import TextStreamer

    class Pieces(TextStreamer):
        def __init__(self):
            super().__init__(tokenizer, skip_prompt=False, skip_special_tokens=True)
            self.ready: list[str] = []

        def on_finalized_text(self, text: str, stream_end: bool = False):
            if text:
                self.ready.append(text)

        def add(self, token: int) -> list[str]:
            self.put(torch.tensor([token]))
            return self._take()

        def finish(self) -> list[str]:
            self.end()
            return self._take()

        def _take(self) -> list[str]:
            ready, self.ready = self.ready, []
            return ready

    return Pieces()
