"""Streaming text generation through a model's chat template (the foundation Compare, Evaluate,
the teacher and ``generate`` share).

``stream_chat`` renders the prompt with the model's chat template and yields text pieces as
they are produced; :class:`GenerationStats` (latency, tokens/s, token count) is updated while it
streams and is final when the generator ends (it is also its ``StopIteration.value``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import Iterator

from .errors import UserError
from .flags import SettingsFlags


@dataclass(frozen=True)
class SamplingSettings:
    """Sampling knobs, shared by every column of a comparison so they stay comparable."""

    max_new_tokens: int = 160
    """Upper bound on generated tokens (1-4096)."""
    temperature: float = 0.7
    """Sampling temperature, 0 = greedy decoding; clamped to 0-2."""
    top_p: float = 0.9
    """Nucleus sampling mass, clamped to 0.05-1."""
    top_k: int = 50
    """Sample only among the k most likely tokens (0 = off), clamped to 0-1000."""
    repetition_penalty: float = 1.1
    """>1 discourages repeating tokens; clamped to 1-2."""
    seed: int = 0
    """Random seed, so the same settings give the same text."""

    _BOUNDS = {
        "max_new_tokens": (1, 4096),
        "temperature": (0.0, 2.0),
        "top_p": (0.05, 1.0),
        "top_k": (0, 1000),
        "repetition_penalty": (1.0, 2.0),
    }

    def clamped(self) -> tuple["SamplingSettings", list[str]]:
        """Settings moved into range, and a notice for each value that was moved."""
        changes, notices = {}, []
        for name, (low, high) in self._BOUNDS.items():
            value = getattr(self, name)
            fixed = min(max(value, low), high)
            if fixed != value:
                changes[name] = type(low)(fixed)  # the bound's type is the field's (7 -> 7.0 for floats)
                notices.append(f"{name}={value} is out of range {low}..{high}; using {changes[name]}.")
        return replace(self, **changes), notices


SAMPLING_FLAGS = SettingsFlags(SamplingSettings)
"""The sampling flags of ``generate`` and ``compare`` (and the Compare tab's command)."""


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    new_tokens: int = 0
    first_token_s: float = 0.0
    total_s: float = 0.0
    notices: list[str] = field(default_factory=list)
    finished: bool = False
    """True once the reply is complete (the numbers above are final)."""

    @property
    def tokens_per_s(self) -> float:
        return self.new_tokens / self.total_s if self.total_s > 0 else 0.0

    def as_dict(self) -> dict:
        return {
            "prompt_tokens": self.prompt_tokens,
            "new_tokens": self.new_tokens,
            "first_token_s": round(self.first_token_s, 4),
            "total_s": round(self.total_s, 4),
            "tokens_per_s": round(self.tokens_per_s, 2),
            "notices": self.notices,
        }


def chat_input_ids(tokenizer, messages: list[dict], max_prompt_tokens: int, notices: list[str]):
    """Tokenise ``messages`` with the chat template, keeping the *last* ``max_prompt_tokens`` tokens."""
    if tokenizer.chat_template:
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=False)
    else:
        ids = tokenizer("\n\n".join(m["content"] for m in messages))["input_ids"]
    if len(ids) > max_prompt_tokens:
        notices.append(f"the prompt has {len(ids)} tokens, more than the {max_prompt_tokens} that fit; "
                       "its start was cut.")
        ids = ids[-max_prompt_tokens:]
    return ids


def as_messages(prompt: str | list[dict], system: str | None = None) -> list[dict]:
    if isinstance(prompt, list):
        return prompt
    if not prompt or not prompt.strip():
        raise UserError("the prompt is empty; type what the model should write.")
    messages = [{"role": "system", "content": system}] if system else []
    return messages + [{"role": "user", "content": prompt}]


def context_length(model) -> int:
    return int(getattr(model.config, "max_position_embeddings", None) or 2048)


def stream_chat(model, tokenizer, prompt: str | list[dict], settings: SamplingSettings = SamplingSettings(),
                system: str | None = None, stats: GenerationStats | None = None) -> Iterator[str]:
    """Yield the reply to ``prompt`` piece by piece; ``stats`` is updated live and final at the end.

    Closing the generator early (a UI's Stop) stops the generation thread before it returns, so
    the model is free again when the generator is gone.
    """
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

    stats = stats if stats is not None else GenerationStats()
    settings, stats.notices[:] = settings.clamped()
    stats.finished = False
    messages = as_messages(prompt, system)
    max_prompt = max(1, context_length(model) - settings.max_new_tokens)
    ids = chat_input_ids(tokenizer, messages, max_prompt, stats.notices)
    input_ids = torch.tensor([ids], device=model.device)
    stats.prompt_tokens = len(ids)
    stats.new_tokens = 0

    class CountingStreamer(TextIteratorStreamer):
        def put(self, value):
            if not self.next_tokens_are_prompt:
                stats.new_tokens += int(value.numel())
            super().put(value)

    stop = threading.Event()

    class StopWhenClosed(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)

    streamer = CountingStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    kwargs = dict(
        input_ids=input_ids,
        attention_mask=torch.ones_like(input_ids),
        max_new_tokens=settings.max_new_tokens,
        repetition_penalty=settings.repetition_penalty,
        pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
        streamer=streamer,
        stopping_criteria=StoppingCriteriaList([StopWhenClosed()]),
    )
    if settings.temperature > 0:
        kwargs.update(do_sample=True, temperature=settings.temperature, top_p=settings.top_p, top_k=settings.top_k)
    else:
        kwargs.update(do_sample=False)

    result: dict = {}

    def run():
        try:
            torch.manual_seed(settings.seed)
            with torch.no_grad():
                result["output"] = model.generate(**kwargs)
        except BaseException as e:  # re-raised in the caller's thread below
            result["error"] = e
            streamer.end()

    start = time.perf_counter()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        for piece in streamer:
            if not stats.first_token_s:
                stats.first_token_s = time.perf_counter() - start
            stats.total_s = time.perf_counter() - start
            if piece:
                yield piece
    finally:
        stop.set()  # a closed generator must not leave generate() running on a shared model
        thread.join()
    stats.total_s = time.perf_counter() - start
    if "error" in result:
        raise result["error"]
    stats.new_tokens = int(result["output"].shape[1] - input_ids.shape[1])
    stats.finished = True
    return stats


def generate_text(model, tokenizer, prompt: str | list[dict], settings: SamplingSettings = SamplingSettings(),
                  system: str | None = None) -> tuple[str, GenerationStats]:
    """The whole reply at once."""
    stats = GenerationStats()
    text = "".join(stream_chat(model, tokenizer, prompt, settings, system, stats))
    return text, stats
