"""log P(completion | prompt) under a causal LM, batched.

A pair or an SFT example is encoded once with the chat template: the prompt turns with the
generation prompt, then the rest of the rendered conversation as the completion (so the
end-of-turn token counts, as it does in training). Scoring batches sequences of similar length
(right padding, longest first so a memory problem shows at once) and runs the LM head only on
the positions that predict completion tokens, where a batch's logits cost the most memory.
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


def encode(tokenizer, prompt: list[dict], completion: list[dict], max_length: int) -> Encoded:
    """Token ids of ``prompt`` and of ``completion`` (assistant turn(s)) with the chat template.

    Longer than ``max_length``: the completion keeps at most 3/4 of it and the prompt keeps its
    last tokens, so the scored text is cut least.
    """
    prompt_text = render_prompt(tokenizer, prompt)
    if tokenizer.chat_template:
        full = tokenizer.apply_chat_template(prompt + completion, tokenize=False)
    else:
        full = prompt_text + "".join(m["content"] for m in completion) + (tokenizer.eos_token or "")
    completion_text = full[len(prompt_text):] if full.startswith(prompt_text) else \
        "".join(m["content"] for m in completion) + (tokenizer.eos_token or "")
    prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(completion_text, add_special_tokens=False)["input_ids"]
    truncated = len(prompt_ids) + len(completion_ids) > max_length
    if truncated:
        completion_ids = completion_ids[: max(1, max_length * 3 // 4)]
        keep = max_length - len(completion_ids)
        prompt_ids = prompt_ids[-keep:] if keep > 0 else []
    if not prompt_ids:  # the first completion token needs a position to be predicted from
        prompt_ids = [tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id]
    return Encoded(prompt_ids, completion_ids, truncated)


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
