"""The two embedded models side by side: SmolLM2-135M (49k vocabulary) and Gemma 3 270M (262k).

* SFT: real (non-pad) tokens/s of each with the quick preset on the same data and step count,
  and their ratio (Gemma / SmolLM2), reported for context (no goal: the models differ in size).
* The LM head's share of a forward + backward: on one batch of tokens, each model's decoder
  (frozen weights, gradient to its input, as LoRA needs) and its LM head (logits, cross-entropy,
  gradient to the hidden states) timed separately; share = head / (decoder + head). With the
  vocabulary 5.3x larger (and the hidden width about the same), the head's share grows from a
  minority of the step to most of it: what the compact LM head (:mod:`pipeline.cpu.lm_head`)
  saves grows with it.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.figures import Figure, emit, quick_flag
from bench.sample_data import sample_data_dir

MODELS = ("default", "gemma3-270m")


def best_time(fn, repeats: int) -> float:
    fn()  # warm-up (allocations, kernel choice)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def head_share(spec: str, tokens: int, repeats: int) -> dict:
    """Seconds of the decoder's and the LM head's forward + backward on ``tokens`` tokens, float32."""
    import torch

    from pipeline.models import LoadOptions, load_model, split_lm

    model, _, _, _ = load_model(spec, LoadOptions(device="cpu", dtype="float32"), log=lambda *a, **k: None)
    model.requires_grad_(False)
    decoder, head = split_lm(model)
    vocab = head.weight.shape[0]
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (1, tokens), generator=generator)
    embeds = model.get_input_embeddings()(ids).detach()
    labels = torch.randint(0, vocab, (tokens,), generator=generator)

    def decoder_step():
        inputs = embeds.clone().requires_grad_(True)
        decoder(inputs_embeds=inputs).last_hidden_state.sum().backward()

    with torch.no_grad():
        hidden = decoder(inputs_embeds=embeds).last_hidden_state[0].detach()

    def head_step():
        states = hidden.clone().requires_grad_(True)
        torch.nn.functional.cross_entropy(head(states).float(), labels).backward()

    decoder_s, head_s = best_time(decoder_step, repeats), best_time(head_step, repeats)
    return {"vocab": vocab, "hidden": hidden.shape[-1], "tokens": tokens, "decoder_s": round(decoder_s, 4),
            "head_s": round(head_s, 4), "head_share": round(head_s / (decoder_s + head_s), 3)}


def main() -> None:
    from bench.train_throughput import measure_sft_throughput
    from pipeline.train.settings import settings_for

    quick = quick_flag()
    steps, tokens, repeats = (2, 256, 2) if quick else (6, 1024, 5)
    data = sample_data_dir()
    quiet = lambda *a, **k: None  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        sft = {spec: measure_sft_throughput(data, settings_for("sft", "quick", model=spec), steps,
                                            Path(tmp) / spec, log=quiet) for spec in MODELS}
    shares = {spec: head_share(spec, tokens, repeats) for spec in MODELS}
    small, large = shares["default"], shares["gemma3-270m"]
    emit([
        Figure("SFT real tokens/s: Gemma 3 270M / SmolLM2-135M", sft["gemma3-270m"]["tokens_per_s"]
               / sft["default"]["tokens_per_s"], None, details=sft),
        Figure(f"LM head share of fwd+bwd, {small['vocab'] // 1000}k vocab (SmolLM2)", small["head_share"], None,
               unit="", details=small),
        Figure(f"LM head share of fwd+bwd, {large['vocab'] // 1000}k vocab (Gemma 3)", large["head_share"], None,
               unit="", details=large),
    ])


if __name__ == "__main__":
    main()
