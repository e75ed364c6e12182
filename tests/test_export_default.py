"""Export on the real default model (slow): the GGUF continues like the merged model, and ends turns.

The quick-preset DPO run on the default model and the sample posts (``quick_runs``, shared with the
quick-pipeline test), exported as merged, GGUF f16 and Ollama (q8_0). For 3 chat-templated prompts, greedy:
llama.cpp's first 16 new tokens equal the merged transformers model's at f16; at q8_0 too, or they part
at a near-tie: llama.cpp picks the merged model's runner-up, within 0.25 of its top logit (Q8_0 rounds
weights and activations; measured on a quick DPO run: flips at gaps of 0.07 and 0.21, of logit ranges of
40 and 30, i.e. under 1%; a wrong weight or template moves logits by whole units). Where the two replies
agree to the end of the shorter, llama.cpp ends it on the end-of-turn token where the merged model does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from support.greedy import PROMPTS, agreement, assert_alike, chat_ids, hf_greedy

from pipeline.export import ExportSettings, export_run

# the first test to ask for quick_runs trains them (minutes on 2 cores) within its own timeout
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
MAX_NEW_TOKENS = 160


def test_default_model_gguf_continues_like_the_merged_model_and_stops(tmp_path, quick_runs):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from pipeline.export.llama_worker import greedy

    runs = quick_runs
    quiet = lambda *a, **k: None  # noqa: E731
    merged = export_run(runs["dpo"], ExportSettings(to="merged", out=tmp_path / "merged"), log=quiet)
    files = {quant: export_run(runs["dpo"], ExportSettings(to=to, quant=quant, lora_gguf=False, out=tmp_path / quant),
                               log=quiet)
             for to, quant in (("gguf", "f16"), ("ollama", "q8_0"))}
    model = AutoModelForCausalLM.from_pretrained(merged["out"], dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(merged["out"])
    end_of_turn = tokenizer.convert_tokens_to_ids(merged["end_tokens"][0])
    for prompt in PROMPTS[:3]:
        ids = chat_ids(tokenizer, prompt)
        expected = hf_greedy(model, ids, MAX_NEW_TOKENS, [end_of_turn])
        for quant, summary in files.items():
            got, _ = greedy(str(Path(summary["out"]) / summary["gguf"]), ids, MAX_NEW_TOKENS, [end_of_turn], threads=1)
            assert_alike(model, ids, expected, got, near_tie=0.25 if quant == "q8_0" else None)
            if agreement(expected, got) == min(len(expected), len(got)):  # after a flip the replies differ
                # it ends its reply where the merged model does (a quick run's reply may run to the cap in
                # both, which says nothing about the export)
                assert (got[-1] == end_of_turn) == (expected[-1] == end_of_turn), (quant, prompt, tokenizer.decode(got))
