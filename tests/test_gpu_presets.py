"""The GPU presets table (pipeline/gpu_fit.py) against the real configs of the models it names.

The configs cannot be downloaded here. The values below were read from copies of each model's
``config.json`` (or its model card's architecture list) in public repositories, and for Gemma 3
270M from the metadata of the GGUF the embedded model is built from. Fields marked None could not
be verified that way and are not checked: SmolLM2-360M's MLP width and tied embeddings, and all of
SmolLM2-1.7B.
"""

from __future__ import annotations

import pytest

from pipeline.gpu_fit import GPU_PRESETS, Arch

# hub id -> (layers, hidden, intermediate, vocab, heads, kv_heads, tied); None: not verified
REAL_CONFIGS = {
    # a copy of the instruct model's config (entropix) lists 32 layers, 960 wide, 15/5 heads, 49152 tokens
    "HuggingFaceTB/SmolLM2-360M-Instruct": (32, 960, None, 49152, 15, 5, None),
    # copies of Qwen/Qwen2.5-0.5B's config.json: 24 x 896, MLP 4864, 14/2 heads, tied
    "Qwen/Qwen2.5-0.5B-Instruct": (24, 896, 4864, 151936, 14, 2, True),
    "unsloth/Qwen2.5-0.5B-Instruct-bnb-4bit": (24, 896, 4864, 151936, 14, 2, True),
    # meta-llama/Llama-3.2-1B-Instruct's config.json (thunder_model_blocks copy): 16 x 2048, MLP 8192, 32/8, tied
    "unsloth/Llama-3.2-1B-Instruct-bnb-4bit": (16, 2048, 8192, 128256, 32, 8, True),
    # Qwen2.5-1.5B: 28 x 1536, MLP 8960, 12/2 heads; the model card says tied word embeddings
    "Qwen/Qwen2.5-1.5B-Instruct": (28, 1536, 8960, 151936, 12, 2, True),
    "unsloth/Qwen2.5-1.5B-Instruct-bnb-4bit": (28, 1536, 8960, 151936, 12, 2, True),
    "HuggingFaceTB/SmolLM2-1.7B-Instruct": (None, None, None, None, None, None, None),
    # Qwen2.5-3B: 36 layers, 16/2 heads, tied (model card); 2048 wide, MLP 11008 (the Omni-3B thinker's config)
    "unsloth/Qwen2.5-3B-Instruct-bnb-4bit": (36, 2048, 11008, 151936, 16, 2, True),
    # meta-llama/Llama-3.2-3B's config.json (LLM-Prof copy): 28 x 3072, MLP 8192, 24/8 heads, tied
    "unsloth/Llama-3.2-3B-Instruct-bnb-4bit": (28, 3072, 8192, 128256, 24, 8, True),
}
FIELDS = ("layers", "hidden", "intermediate", "vocab", "heads", "kv_heads", "tied")

GEMMA3_270M_GGUF = {"gemma3.block_count": 18, "gemma3.embedding_length": 640, "gemma3.feed_forward_length": 2048,
                    "gemma3.attention.head_count": 4, "gemma3.attention.head_count_kv": 1,
                    "gemma3.attention.key_length": 256, "vocab": 262144, "output.weight": False}
"""Read from gemma-3-270m-q4_k_m.gguf (the tokens array's length is the vocabulary; no output.weight
tensor: the LM head is the tied embedding)."""
GEMMA3_270M = Arch(layers=18, hidden=640, intermediate=2048, vocab=262144, heads=4, kv_heads=1, tied=True,
                   head_dim=256)


def test_every_preset_is_checked():
    assert {p.hub_id for p in GPU_PRESETS} == set(REAL_CONFIGS)


@pytest.mark.parametrize("preset", GPU_PRESETS, ids=lambda p: p.hub_id)
def test_preset_matches_the_real_config(preset):
    for field, real in zip(FIELDS, REAL_CONFIGS[preset.hub_id]):
        if real is not None:
            assert getattr(preset.arch, field) == real, (preset.hub_id, field)


def test_gemma_shapes_count_its_real_parameters(tmp_path):
    """Gemma 3's heads are 256 wide at any hidden size (4 x 256 = 1024 > 640): the estimate's
    projections follow head_dim; the 270M model is 268.1M parameters (170M of them the embedding)."""
    from transformers import Gemma3TextConfig

    config = Gemma3TextConfig(num_hidden_layers=18, hidden_size=640, intermediate_size=2048, vocab_size=262144,
                              num_attention_heads=4, num_key_value_heads=1, head_dim=256, tie_word_embeddings=True)
    config.save_pretrained(tmp_path)
    import json

    arch = Arch.from_config(json.loads((tmp_path / "config.json").read_text()))
    assert arch == GEMMA3_270M
    assert arch.projections()["q_proj"] == (640, 1024) and arch.projections()["k_proj"] == (640, 256)
    assert arch.embedding_parameters() == 167_772_160
    assert arch.parameters() == 268_042_240  # + 18 layers' norms (55k) = the model's 268,098,176


@pytest.mark.slow
def test_gemma_numbers_are_the_ggufs(tmp_path):
    from gguf import GGUFReader

    from pipeline.models import EMBEDDED, embedded_gguf_path

    reader = GGUFReader(str(embedded_gguf_path(EMBEDDED["gemma3-270m"], tmp_path)))
    for key, value in GEMMA3_270M_GGUF.items():
        if key == "vocab":
            assert len(reader.fields["tokenizer.ggml.tokens"].data) == value
        elif key == "output.weight":
            assert any(t.name == key for t in reader.tensors) is value
        else:
            assert reader.fields[key].contents() == value, key
