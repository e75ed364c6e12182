"""log P(completion | prompt) under a causal LM, batched.

A pair or an SFT example is encoded once with the chat template: the prompt turns with the
generation prompt, then the rest of the rendered conversation as the completion (so the
end-of-turn token counts, as it does in training).

* :func:`completion_logprobs` scores single sequences: batches of similar length (right padding,
  longest first so a memory problem shows at once), the LM head run only from the first
  position that predicts a completion token.
* :func:`pair_logprobs` scores preference pairs with the prompt computed once per pair: a pair is
  one row ``[prompt | chosen | rejected]`` whose rejected tokens see the prompt but not the chosen
  ones (a 4D attention mask) and take the positions right after the prompt, so each completion
  is scored exactly as if it followed the prompt alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


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


def completion_logprobs(model, sequences: list[Encoded], *, batch_size: int = 8, max_batch_tokens: int = 4096,
                        pad_id: int = 0, progress: Callable[[int], None] | None = None) -> list[tuple[float, int]]:
    """``(sum of log P(completion tokens | prompt), completion token count)`` per sequence.

    Sequences are grouped longest first into batches of at most ``batch_size`` sequences and
    ``max_batch_tokens`` padded tokens; ``batch_size=1`` scores one sequence at a time.
    ``progress(n)`` is called with the number of sequences scored after each batch.
    """
    import torch

    order = sorted(range(len(sequences)), key=lambda i: -(len(sequences[i].prompt) + len(sequences[i].completion)))
    results: list[tuple[float, int]] = [(0.0, 0)] * len(sequences)
    device = next(model.parameters()).device
    start = 0
    while start < len(order):
        longest = len(sequences[order[start]].prompt) + len(sequences[order[start]].completion)
        size = max(1, min(batch_size, max_batch_tokens // max(1, longest)))
        batch = order[start:start + size]
        start += len(batch)
        ids = torch.full((len(batch), longest), pad_id, dtype=torch.long)
        attention = torch.zeros_like(ids)
        targets = torch.zeros_like(ids, dtype=torch.bool)  # True where a completion token is predicted
        for row, index in enumerate(batch):
            seq = sequences[index]
            tokens = seq.prompt + seq.completion
            ids[row, :len(tokens)] = torch.tensor(tokens)
            attention[row, :len(tokens)] = 1
            targets[row, len(seq.prompt):len(tokens)] = True
        # Position p predicts token p+1: keep the logits from the earliest completion start on.
        first = min(len(sequences[i].prompt) for i in batch) - 1
        keep = torch.arange(first, longest - 1)
        with torch.no_grad():
            logits = model(input_ids=ids.to(device), attention_mask=attention.to(device), logits_to_keep=keep.to(device),
                           use_cache=False).logits.float()
        labels = ids[:, first + 1:].to(device)
        mask = targets[:, first + 1:].to(device)
        token_logp = logits.gather(-1, labels.unsqueeze(-1)).squeeze(-1) - logits.logsumexp(-1)
        sums = torch.where(mask, token_logp, 0.0).sum(-1).tolist()
        counts = mask.sum(-1).tolist()
        for row, index in enumerate(batch):
            results[index] = (float(sums[row]), int(counts[row]))
        if progress:
            progress(len(batch))
    return results


def pair_logprobs(model, pairs: list[tuple[Encoded, Encoded]], *, batch_size: int = 8, max_batch_tokens: int = 2048,
                  pad_id: int = 0, progress: Callable[[int], None] | None = None) -> list[tuple[float, float]]:
    """``(log P(chosen | prompt), log P(rejected | prompt))`` per pair (both share the prompt ids).

    Each pair is one row, so its prompt runs once; rows are batched longest first (at most
    ``batch_size`` rows and ``max_batch_tokens`` padded tokens). Models whose attention takes no
    custom 4D mask (e.g. flash-attention) are scored with :func:`completion_logprobs` instead.
    """
    import torch

    if getattr(model.config, "_attn_implementation", "sdpa") not in ("sdpa", "eager"):
        flat = completion_logprobs(model, [s for pair in pairs for s in pair], batch_size=batch_size,
                                   pad_id=pad_id, progress=progress)
        return [(flat[2 * i][0], flat[2 * i + 1][0]) for i in range(len(pairs))]
    for chosen, rejected in pairs:
        if chosen.prompt != rejected.prompt:
            raise ValueError("pair_logprobs needs both completions of a pair encoded with the same prompt "
                             "(use encode_shared).")
    lengths = [len(c.prompt) + len(c.completion) + len(r.completion) for c, r in pairs]
    order = sorted(range(len(pairs)), key=lambda i: -lengths[i])
    parameter = next(model.parameters())
    device, dtype = parameter.device, parameter.dtype if parameter.is_floating_point() else torch.float32
    results: list[tuple[float, float]] = [(0.0, 0.0)] * len(pairs)
    start = 0
    while start < len(order):
        longest = lengths[order[start]]
        batch = order[start:start + max(1, min(batch_size, max_batch_tokens // max(1, longest)))]
        start += len(batch)
        rows = len(batch)
        ids = torch.full((rows, longest), pad_id, dtype=torch.long)
        positions = torch.zeros((rows, longest), dtype=torch.long)
        segment = torch.full((rows, longest), -1, dtype=torch.long)  # 0 prompt, 1 chosen, 2 rejected, -1 pad
        targets = max(len(pairs[i][0].completion) + len(pairs[i][1].completion) for i in batch)
        predict_from = torch.zeros((rows, targets), dtype=torch.long)  # the position whose logits predict it
        target_ids = torch.zeros((rows, targets), dtype=torch.long)
        which = torch.zeros((rows, targets), dtype=torch.long)  # 1 chosen, 2 rejected, 0 pad
        for row, index in enumerate(batch):
            chosen, rejected = pairs[index]
            p, c, r = len(chosen.prompt), len(chosen.completion), len(rejected.completion)
            ids[row, :p + c + r] = torch.tensor(chosen.prompt + chosen.completion + rejected.completion)
            positions[row, :p + c + r] = torch.cat([torch.arange(p + c), torch.arange(p, p + r)])
            segment[row, :p], segment[row, p:p + c], segment[row, p + c:p + c + r] = 0, 1, 2
            # chosen[j] is predicted at position p-1+j; rejected[0] also at p-1 (the prompt's end),
            # rejected[j>0] at the position of rejected[j-1].
            predict_from[row, :c] = torch.arange(p - 1, p - 1 + c)
            predict_from[row, c:c + r] = torch.cat([torch.tensor([p - 1]), torch.arange(p + c, p + c + r - 1)])
            target_ids[row, :c + r] = torch.tensor(chosen.completion + rejected.completion)
            which[row, :c], which[row, c:c + r] = 1, 2
        query, key = segment.unsqueeze(2), segment.unsqueeze(1)
        causal = torch.ones(longest, longest, dtype=torch.bool).tril()
        allowed = causal & (key >= 0) & ((key == 0) | (key == query))
        allowed |= torch.eye(longest, dtype=torch.bool)  # a pad position sees itself: no empty softmax row
        mask = torch.zeros((rows, 1, longest, longest), dtype=dtype)
        mask.masked_fill_(~allowed.unsqueeze(1), torch.finfo(dtype).min)
        first = int(predict_from[which > 0].min())
        keep = torch.arange(first, longest)
        with torch.no_grad():
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=positions.to(device),
                           logits_to_keep=keep.to(device), use_cache=False).logits.float()
        row_index = torch.arange(rows).unsqueeze(1).expand_as(predict_from)
        at = (predict_from - first).clamp(min=0).to(device)
        picked = logits[row_index.to(device), at, target_ids.to(device)] - logits.logsumexp(-1)[row_index.to(device), at]
        which = which.to(device)
        chosen_sum = torch.where(which == 1, picked, 0.0).sum(-1).tolist()
        rejected_sum = torch.where(which == 2, picked, 0.0).sum(-1).tolist()
        for row, index in enumerate(batch):
            results[index] = (float(chosen_sum[row]), float(rejected_sum[row]))
        if progress:
            progress(2 * rows)
    return results
