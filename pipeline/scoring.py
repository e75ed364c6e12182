"""log P(completion | prompt) under a causal LM, batched.

A pair or an SFT example is encoded once with the chat template: the prompt turns with the
generation prompt, then the rest of the rendered conversation as the completion (so the
end-of-turn token counts, as it does in training).

* :func:`completion_logprobs` scores single sequences: batches of similar length (right padding,
  longest first so a memory problem shows at once).
* :func:`pair_logprobs` scores preference pairs with the prompt computed once per pair: a pair is
  one row ``[prompt | chosen | rejected]`` whose rejected tokens see the prompt but not the chosen
  ones (a 4D attention mask) and take the positions right after the prompt, so each completion
  is scored exactly as if it followed the prompt alone.

Both run the decoder once per batch and project through the LM head only the positions that
predict a completion token (:func:`token_logprobs`), with log-softmax in float32. ``precision``
``auto`` runs the matmuls in bf16 where the hardware has them natively (4.7x float32's matmul rate
on this project's CPU); on the sample data margins then moved by 0.3 nats per pair on average and
1.2 at most (``bench/bench_margins.py`` prints the largest difference). ``float32`` is exact.
A call that runs several bf16 batches on a CPU casts the weights to bf16 once, not once per batch.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Callable

PRECISIONS = ("auto", "float32", "bfloat16")


@dataclass(frozen=True)
class Encoded:
    """A tokenised (prompt, completion)."""

    prompt: list[int]
    completion: list[int]
    truncated: bool = False


def render_prompt(tokenizer, prompt: list[dict]) -> str:
    if tokenizer.chat_template:
        return tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
    return "\n\n".join(m["content"] for m in prompt) + "\n\n"


def _completion_ids(tokenizer, prompt_text: str, prompt: list[dict], completion: list[dict]) -> list[int]:
    if tokenizer.chat_template:
        full = tokenizer.apply_chat_template(prompt + completion, tokenize=False)
    else:
        full = prompt_text + "".join(m["content"] for m in completion) + (tokenizer.eos_token or "")
    text = full[len(prompt_text):] if full.startswith(prompt_text) else \
        "".join(m["content"] for m in completion) + (tokenizer.eos_token or "")
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def encode_shared(tokenizer, prompt: list[dict], completions: list[list[dict]], max_length: int) -> list[Encoded]:
    """Encodings of several completions of one prompt, all keeping the same prompt tokens.

    A sequence longer than ``max_length``: its completion keeps at most 3/4 of it and the prompt
    keeps its last tokens (as many as the longest completion leaves), so the scored text is cut least.
    """
    prompt_text = render_prompt(tokenizer, prompt)
    prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    completion_ids = [_completion_ids(tokenizer, prompt_text, prompt, c) for c in completions]
    truncated = [len(prompt_ids) + len(c) > max_length for c in completion_ids]
    if any(truncated):
        completion_ids = [c[: max(1, max_length * 3 // 4)] for c in completion_ids]
        keep = max_length - max(len(c) for c in completion_ids)
        prompt_ids = prompt_ids[-keep:] if keep > 0 else []
    if not prompt_ids:  # the first completion token needs a position to be predicted from
        prompt_ids = [tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id]
    return [Encoded(prompt_ids, c, t) for c, t in zip(completion_ids, truncated)]


def encode(tokenizer, prompt: list[dict], completion: list[dict], max_length: int) -> Encoded:
    """Token ids of ``prompt`` and of ``completion`` (assistant turn(s)) with the chat template."""
    return encode_shared(tokenizer, prompt, [completion], max_length)[0]


def resolve_precision(precision: str, device: str) -> str:
    """``float32`` or ``bfloat16``: what ``precision`` means on ``device`` (``auto``: bf16 where native)."""
    from .models import native_bf16

    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}: use {', '.join(PRECISIONS)}.")
    if precision == "auto":
        return "bfloat16" if native_bf16(device) else "float32"
    return precision


def scoring_precision(precision: str, device: str):
    """The autocast context that runs ``precision``'s matmuls on ``device``."""
    import torch

    if resolve_precision(precision, device) == "bfloat16":
        return torch.autocast(device_type=device, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _weights_cast_once(model, precision: str, device: str, batches: int):
    """bf16 copies of the weights for a whole call that runs several bf16 batches on a CPU
    (:func:`pipeline.cpu.frozen_bf16.bf16_weight_copies`); nothing otherwise."""
    from .cpu.frozen_bf16 import bf16_weight_copies

    if device == "cpu" and batches > 1 and resolve_precision(precision, device) == "bfloat16":
        return bf16_weight_copies(model)
    return contextlib.nullcontext()


def token_logprobs(model, ids, attention, rows, columns, targets, position_ids=None):
    """log P(``targets[k]`` | the sequence up to and including ``ids[rows[k], columns[k]]``), float32.

    The decoder runs once on the batch; only the ``(rows, columns)`` hidden states go through the
    LM head (:func:`pipeline.cpu.lm_head.label_logprobs`, chunked). Call it under
    ``torch.inference_mode()``.
    """
    import torch.nn.functional as F

    from .models import split_lm
    from .cpu.lm_head import label_logprobs

    parts = split_lm(model)
    if parts is None:
        logits = model(input_ids=ids, attention_mask=attention, position_ids=position_ids, use_cache=False).logits
        return -F.cross_entropy(logits[rows, columns].float(), targets, reduction="none")
    decoder, head = parts
    hidden = decoder(input_ids=ids, attention_mask=attention, position_ids=position_ids,
                     use_cache=False).last_hidden_state[rows, columns]
    return label_logprobs(hidden, targets, head)["log_probs"]


def completion_logprobs(model, sequences: list[Encoded], *, batch_size: int = 8, max_batch_tokens: int = 4096,
                        pad_id: int = 0, precision: str = "auto",
                        progress: Callable[[int], None] | None = None) -> list[tuple[float, int]]:
    """``(sum of log P(completion tokens | prompt), completion token count)`` per sequence.

    Sequences are grouped longest first into batches of at most ``batch_size`` sequences and
    ``max_batch_tokens`` padded tokens; ``batch_size=1`` scores one sequence at a time.
    ``progress(n)`` is called with the number of sequences scored after each batch.
    """
    import torch

    results: list[tuple[float, int]] = [(0.0, 0)] * len(sequences)
    for batch, rows_t, logps in _completion_batches(model, sequences, batch_size, max_batch_tokens, pad_id,
                                                    precision, progress):
        sums = torch.zeros(len(batch), dtype=torch.float64).index_add_(0, rows_t, logps.double().cpu())
        for row, index in enumerate(batch):
            results[index] = (float(sums[row]), len(sequences[index].completion))
    return results


def completion_token_logprobs(model, sequences: list[Encoded], *, batch_size: int = 8, max_batch_tokens: int = 4096,
                              pad_id: int = 0, precision: str = "auto",
                              progress: Callable[[int], None] | None = None) -> list[list[float]]:
    """log P of each completion token given everything before it, per sequence (batched as
    :func:`completion_logprobs`): what per-token surprisal statistics are computed from."""
    results: list[list[float]] = [[] for _ in sequences]
    for batch, rows_t, logps in _completion_batches(model, sequences, batch_size, max_batch_tokens, pad_id,
                                                    precision, progress):
        values, rows = logps.double().cpu().tolist(), rows_t.tolist()
        for row, value in zip(rows, values):  # rows are in order, so each sequence's tokens stay in order
            results[batch[row]].append(value)
    return results


def _completion_batches(model, sequences: list[Encoded], batch_size: int, max_batch_tokens: int, pad_id: int,
                        precision: str, progress: Callable[[int], None] | None):
    """Yields ``(sequence indices, row of each scored token, log-prob of each scored token)`` per batch."""
    import torch

    order = sorted(range(len(sequences)), key=lambda i: -(len(sequences[i].prompt) + len(sequences[i].completion)))
    device = next(model.parameters()).device
    start = 0
    with _weights_cast_once(model, precision, device.type, batches=math.ceil(len(order) / batch_size)):
        while start < len(order):
            longest = len(sequences[order[start]].prompt) + len(sequences[order[start]].completion)
            size = max(1, min(batch_size, max_batch_tokens // max(1, longest)))
            batch = order[start:start + size]
            start += len(batch)
            ids = torch.full((len(batch), longest), pad_id, dtype=torch.long)
            attention = torch.zeros_like(ids)
            rows, columns, targets = [], [], []
            for row, index in enumerate(batch):
                seq = sequences[index]
                tokens = seq.prompt + seq.completion
                ids[row, :len(tokens)] = torch.tensor(tokens)
                attention[row, :len(tokens)] = 1
                # position p predicts token p+1: the completion is predicted from the prompt's last token on
                p, c = len(seq.prompt), len(seq.completion)
                rows += [row] * c
                columns += range(p - 1, p + c - 1)
                targets += seq.completion
            rows_t = torch.tensor(rows, dtype=torch.long)
            with torch.inference_mode(), scoring_precision(precision, device.type):
                logps = token_logprobs(model, ids.to(device), attention.to(device), rows_t.to(device),
                                       torch.tensor(columns, dtype=torch.long).to(device),
                                       torch.tensor(targets, dtype=torch.long).to(device))
            yield batch, rows_t, logps
            if progress:
                progress(len(batch))


def pair_logprobs(model, pairs: list[tuple[Encoded, Encoded]], *, batch_size: int = 8, max_batch_tokens: int = 2048,
                  pad_id: int = 0, precision: str = "auto",
                  progress: Callable[[int], None] | None = None) -> list[tuple[float, float]]:
    """``(log P(chosen | prompt), log P(rejected | prompt))`` per pair (both share the prompt ids).

    Each pair is one row, so its prompt runs once; rows are batched longest first (at most
    ``batch_size`` rows and ``max_batch_tokens`` padded tokens). Models whose attention takes no
    custom 4D mask (e.g. flash-attention) are scored with :func:`completion_logprobs` instead.
    """
    import torch

    if getattr(model.config, "_attn_implementation", "sdpa") not in ("sdpa", "eager"):
        flat = completion_logprobs(model, [s for pair in pairs for s in pair], batch_size=batch_size,
                                   pad_id=pad_id, precision=precision, progress=progress)
        return [(flat[2 * i][0], flat[2 * i + 1][0]) for i in range(len(pairs))]
    for chosen, rejected in pairs:
        if chosen.prompt != rejected.prompt:
            raise ValueError("pair_logprobs needs both completions of a pair encoded with the same prompt "
                             "(use encode_shared).")
    lengths = [len(c.prompt) + len(c.completion) + len(r.completion) for c, r in pairs]
    order = sorted(range(len(pairs)), key=lambda i: -lengths[i])
    device = next(model.parameters()).device
    results: list[tuple[float, float]] = [(0.0, 0.0)] * len(pairs)
    start = 0
    with _weights_cast_once(model, precision, device.type, batches=math.ceil(len(order) / batch_size)):
        while start < len(order):
            longest = lengths[order[start]]
            batch = order[start:start + max(1, min(batch_size, max_batch_tokens // max(1, longest)))]
            start += len(batch)
            rows = len(batch)
            ids = torch.full((rows, longest), pad_id, dtype=torch.long)
            positions = torch.zeros((rows, longest), dtype=torch.long)
            segment = torch.full((rows, longest), -1, dtype=torch.long)  # 0 prompt, 1 chosen, 2 rejected, -1 pad
            row_of, column_of, targets, slot = [], [], [], []  # slot: 2*row for chosen, 2*row+1 for rejected
            for row, index in enumerate(batch):
                chosen, rejected = pairs[index]
                p, c, r = len(chosen.prompt), len(chosen.completion), len(rejected.completion)
                ids[row, :p + c + r] = torch.tensor(chosen.prompt + chosen.completion + rejected.completion)
                positions[row, :p + c + r] = torch.cat([torch.arange(p + c), torch.arange(p, p + r)])
                segment[row, :p], segment[row, p:p + c], segment[row, p + c:p + c + r] = 0, 1, 2
                # chosen[j] is predicted at position p-1+j; rejected[0] also at p-1 (the prompt's end),
                # rejected[j>0] at the position of rejected[j-1].
                row_of += [row] * (c + r)
                column_of += list(range(p - 1, p - 1 + c)) + [p - 1] + list(range(p + c, p + c + r - 1))
                targets += chosen.completion + rejected.completion
                slot += [2 * row] * c + [2 * row + 1] * r
            query, key = segment.unsqueeze(2), segment.unsqueeze(1)
            causal = torch.ones(longest, longest, dtype=torch.bool).tril()
            allowed = causal & (key >= 0) & ((key == 0) | (key == query))
            allowed |= torch.eye(longest, dtype=torch.bool)  # a pad position sees itself: no empty softmax row
            attention = allowed.unsqueeze(1)
            if model.config._attn_implementation == "eager":  # eager adds the mask to the scores; sdpa takes it as is
                attention = torch.zeros(attention.shape).masked_fill_(~attention, torch.finfo(torch.float32).min)
            with torch.inference_mode(), scoring_precision(precision, device.type):
                logps = token_logprobs(model, ids.to(device), attention.to(device),
                                       torch.tensor(row_of, dtype=torch.long).to(device),
                                       torch.tensor(column_of, dtype=torch.long).to(device),
                                       torch.tensor(targets, dtype=torch.long).to(device), position_ids=positions.to(device))
            sums = torch.zeros(2 * rows, dtype=torch.float64).index_add_(0, torch.tensor(slot, dtype=torch.long),
                                                                         logps.double().cpu())
            for row, index in enumerate(batch):
                results[index] = (float(sums[2 * row]), float(sums[2 * row + 1]))
            if progress:
                progress(2 * rows)
    return results
