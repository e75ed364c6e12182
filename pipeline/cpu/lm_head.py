"""A CPU LM head for TRL's trainers that scores only the tokens that carry a loss.

TRL's SFT/DPO/KTO trainers call ``model(..., labels=labels, fused_lm_head=True)`` and read
per-token log-probabilities from a chunked LM head (``trl.trainer.utils.add_fused_lm_head``). On
CUDA its Triton kernel projects only the positions whose label is not -100. Elsewhere it projects
every position, prompt and padding included, through the full vocabulary in float32 tiles, which
on this project's CPU took a third of each SFT step.

:func:`add_compact_lm_head` wraps that forward on CPU: the backbone runs as before, then only the
labelled positions go through the LM head, as one matmul under the trainer's autocast (bf16 where
the CPU has native bf16), with log-softmax in float32. Label-free positions get zeros, as in
TRL's output, so the trainers' code downstream is unchanged. Above ``CHUNK_TOKENS`` labelled
positions the head runs in chunks that are recomputed in the backward pass, which bounds memory at
about ``CHUNK_TOKENS x vocab`` floats.
"""

from __future__ import annotations

import functools
import types

CHUNK_TOKENS = 2048
EXTRA_FIELDS = ("entropy", "mean_logits", "is_top1", "log_sum_sq_probs")


def _score(hidden, labels, lm_head, extras: tuple[str, ...]):
    """Per-token log P(label) for rows of ``hidden``, plus the metric fields in ``extras`` (no grad)."""
    import torch

    logits = lm_head(hidden).float()
    # cross_entropy's fused log-softmax: fewer passes over the (tokens x vocab) logits, forward and
    # backward, than logsumexp + gather (measured 180 vs 225 ms on 360 tokens x 49k vocab)
    out = {"log_probs": -torch.nn.functional.cross_entropy(logits, labels, reduction="none")}
    if extras:
        with torch.no_grad():
            if "entropy" in extras or "log_sum_sq_probs" in extras:
                log_p = logits.log_softmax(-1)
                p = log_p.exp()
                if "entropy" in extras:
                    out["entropy"] = -(p * log_p).sum(-1)
                if "log_sum_sq_probs" in extras:
                    out["log_sum_sq_probs"] = (2 * log_p).logsumexp(-1)
            if "mean_logits" in extras:
                out["mean_logits"] = logits.mean(-1)
            if "is_top1" in extras:  # the label's logit is the largest: a max is 4-8x faster than argmax on CPU
                out["is_top1"] = logits.gather(1, labels[:, None])[:, 0] >= logits.amax(-1)
    return out


def label_logprobs(hidden, labels, lm_head, extras: tuple[str, ...] = ()) -> dict:
    """``{"log_probs": log P(labels[k] | hidden[k]), ...extras}`` in float32, ``CHUNK_TOKENS`` rows of
    logits at a time (recomputed in the backward pass when gradients are on). Training's compact
    head and evaluation's scorer (:mod:`pipeline.scoring`) both project through it."""
    import torch
    from torch.utils.checkpoint import checkpoint

    if hidden.shape[0] <= CHUNK_TOKENS:
        return _score(hidden, labels, lm_head, extras)
    parts = [checkpoint(_score, h, y, lm_head, extras, use_reentrant=False)
             for h, y in zip(hidden.split(CHUNK_TOKENS), labels.split(CHUNK_TOKENS))]
    return {key: torch.cat([p[key] for p in parts]) for key in parts[0]}


def use_compact_lm_head(trainer, outputs: tuple[str, ...]) -> bool:
    """:func:`add_compact_lm_head` on the causal LM inside ``trainer`` (unwrapping PEFT)."""
    from ..models import unwrap_peft

    return add_compact_lm_head(unwrap_peft(trainer.model), outputs)


def add_compact_lm_head(model, outputs: tuple[str, ...] = ()) -> bool:
    """Make ``model``'s ``fused_lm_head=True`` forward score only labelled positions (CPU only).

    ``outputs`` names the metric fields to compute besides ``log_probs`` (see ``EXTRA_FIELDS``);
    the others come back as zeros, so a trainer that logs them still runs (and logs 0).
    ``model`` is the unwrapped causal LM that TRL patched (``get_base_model()`` of a PEFT model).
    Returns False, leaving TRL's head in place, where TRL's own head is already compact (CUDA/XPU
    with Triton) or the call needs what this head does not do (pre-shifted labels, MoE router loss).
    """
    import torch
    from trl.trainer.utils import FusedCausalLMOutput

    from ..models import compute_device, split_lm

    # "on CPU" is where the LM head computes, not the first parameter (Unsloth may offload the embeddings)
    if compute_device(model).type != "cpu" or split_lm(model) is None:
        return False  # TRL's Triton head is compact already; logits that need rescaling: TRL's head knows how
    trl_forward = model.forward
    extras = tuple(f for f in outputs if f in EXTRA_FIELDS)

    @functools.wraps(type(model).forward)
    def compact_forward(self, *args, fused_lm_head=False, labels=None, shift_labels=None, num_items_in_batch=None,
                        **kwargs):
        if not fused_lm_head or shift_labels is not None or kwargs.get("output_router_logits"):
            return trl_forward(*args, fused_lm_head=fused_lm_head, labels=labels, shift_labels=shift_labels,
                               num_items_in_batch=num_items_in_batch, **kwargs)
        kwargs["use_cache"] = False
        decoder, head = split_lm(self)  # looked up per call: PEFT and FSDP replace modules after patching
        hidden = decoder(*args, **kwargs).last_hidden_state[:, :-1]
        labels = labels[:, 1:].to(hidden.device)
        mask = labels != -100
        scored = label_logprobs(hidden[mask], labels[mask], head, extras)
        full = {key: torch.zeros(mask.shape, dtype=value.dtype, device=hidden.device).masked_scatter(mask, value)
                for key, value in scored.items()}
        log_probs = full["log_probs"]
        count = mask.sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
        for key in EXTRA_FIELDS:  # fields left out of ``outputs`` read as zeros (trainers that log them still run)
            full.setdefault(key, torch.zeros(mask.shape, dtype=torch.bool if key == "is_top1" else log_probs.dtype,
                                             device=hidden.device))
        return FusedCausalLMOutput(loss=-log_probs.sum() / count, label_mask=mask, **full)

    model.forward = types.MethodType(compact_forward, model)
    return True
