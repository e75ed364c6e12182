"""The steps where model families differ, on both embedded families: Llama (SmolLM2's ChatML
template, a system turn of its own) and Gemma 3 (Gemma's turns, no system role: the system prompt
is folded into the first user turn, replies end with ``<end_of_turn>``).

Fast tests use tiny random models built from configs with each family's real tokenizer; the slow
one loads the real Gemma 3 270M.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.ada_data import SYSTEM, write_data

from pipeline.chat_template import GEMMA_TURNS, folds_system, has_system_role, template_note
from pipeline.workspace import Run

FAMILIES = ("llama", "gemma")
END_OF_TURN = {"llama": "<|im_end|>", "gemma": "<end_of_turn>"}
quiet = lambda *a, **k: None  # noqa: E731


@pytest.fixture(scope="module")
def family_dirs(tiny_model_dir, tiny_gemma_dir) -> dict:
    return {"llama": tiny_model_dir, "gemma": tiny_gemma_dir}


def conversation(system: bool = True) -> list[dict]:
    return (([{"role": "system", "content": "Be Ada."}] if system else [])
            + [{"role": "user", "content": "Write a post."}, {"role": "assistant", "content": "Small fix.\n\n- Big week."},
               {"role": "user", "content": "Another."}])


EXPECTED = {
    "llama": "<|im_start|>system\nBe Ada.<|im_end|>\n<|im_start|>user\nWrite a post.<|im_end|>\n<|im_start|>assistant\n"
             "Small fix.\n\n- Big week.<|im_end|>\n<|im_start|>user\nAnother.<|im_end|>\n<|im_start|>assistant\n",
    "gemma": "<bos><start_of_turn>user\nBe Ada.\n\nWrite a post.<end_of_turn>\n<start_of_turn>model\n"
             "Small fix.\n\n- Big week.<end_of_turn>\n<start_of_turn>user\nAnother.<end_of_turn>\n<start_of_turn>model\n",
}


@pytest.mark.parametrize("family", FAMILIES)
def test_template_renders_each_family_with_its_system_prompt(family, family_dirs):
    from pipeline.models import load_tokenizer

    tokenizer = load_tokenizer(family_dirs[family])
    assert tokenizer.apply_chat_template(conversation(), tokenize=False, add_generation_prompt=True) == EXPECTED[family]
    assert folds_system(tokenizer) is (family == "gemma")
    assert ("folded into the first user turn" in template_note(tokenizer)) is (family == "gemma")
    ids = tokenizer.apply_chat_template(conversation(), add_generation_prompt=True, return_dict=False)
    if family == "gemma":  # Gemma needs its <bos>, once (the template writes it; tokenising adds none)
        assert ids[0] == tokenizer.bos_token_id and ids.count(tokenizer.bos_token_id) == 1
    assert tokenizer.convert_tokens_to_ids(END_OF_TURN[family]) in ids  # one special token, not split


def test_a_template_without_a_system_role_gets_the_system_prompt_folded(tmp_path, gemma_tokenizer_dir):
    """A template that raises on a system message (as Gemma 2's does) is given the fold on load."""
    from transformers import AutoTokenizer

    from pipeline.models import load_tokenizer

    tokenizer = AutoTokenizer.from_pretrained(gemma_tokenizer_dir)
    tokenizer.chat_template = GEMMA_TURNS
    assert not has_system_role(tokenizer)
    tokenizer.save_pretrained(tmp_path)
    loaded = load_tokenizer(tmp_path)
    assert folds_system(loaded)
    assert loaded.apply_chat_template(conversation(), tokenize=False, add_generation_prompt=True) == EXPECTED["gemma"]


def test_gemma_tokenizer_matches_gemmas_own_ids(gemma_tokenizer_dir):
    """Ids of Google's Gemma 3 tokenizer (BPE): transformers' GGUF reader (Unigram) splits "user" and "the"."""
    from pipeline.models import load_tokenizer

    tokenizer = load_tokenizer(gemma_tokenizer_dir)
    assert tokenizer("<start_of_turn>user\nThe quick brown fox", add_special_tokens=False)["input_ids"] == \
        [105, 2364, 107, 818, 3823, 8864, 37423]
    assert tokenizer("hi")["input_ids"][0] == tokenizer.bos_token_id == 2
    assert tokenizer.decode(tokenizer("tabs\tand  two  spaces, café 🚀")["input_ids"], skip_special_tokens=True) == \
        "tabs\tand  two  spaces, café 🚀"


@pytest.mark.parametrize("family", FAMILIES)
def test_lora_targets_are_found_for_each_family(family, family_dirs):
    from pipeline.models import ALL_PROJECTIONS, LoadOptions, load_model, lora_targets

    model, *_ = load_model(str(family_dirs[family]), LoadOptions(device="cpu"), log=quiet)
    assert lora_targets(model) == list(ALL_PROJECTIONS)


@pytest.mark.parametrize("family", FAMILIES)
def test_sft_labels_train_the_end_of_turn_token(family, family_dirs, tmp_path):
    """The reply's end-of-turn token carries loss (a masked stop token makes a model that never stops);
    the system prompt and the brief do not."""
    from pipeline.train.settings import settings_for
    from pipeline.train.sft import build_sft_trainer

    data = write_data(tmp_path / "data")
    settings = settings_for("sft", "quick", model=str(family_dirs[family]), load_in_4bit=False, max_steps=1,
                            batch_size=2, max_length=256, dtype="float32")
    built = build_sft_trainer(data, Run(tmp_path / "run"), settings, log=quiet)
    trainer, tokenizer = built.trainer, built.tokenizer
    batch = next(iter(trainer.get_train_dataloader()))
    ids, labels = batch["input_ids"].flatten(), batch["labels"].flatten()
    end = tokenizer.convert_tokens_to_ids(END_OF_TURN[family])
    trained, ignored = ids[labels != -100].tolist(), ids[labels == -100].tolist()
    assert trained.count(end) >= 2  # one per packed reply
    assert ignored.count(end) >= 2  # the user turns' ends are prompt
    assert SYSTEM not in tokenizer.decode(trained) and "Write a post about" not in tokenizer.decode(trained)
    assert SYSTEM in tokenizer.decode(ignored)  # folded or not, the system prompt is in the input


@pytest.mark.parametrize("family", FAMILIES)
def test_stops_and_ollama_template_match_each_family(family, family_dirs):
    """The end tokens (end-of-turn first), and the Modelfile's Go TEMPLATE rendering what the Jinja
    template renders, with and without a system prompt (Ollama puts SYSTEM first when a request has none)."""
    import shutil

    from support.export_checks import go_render

    from pipeline.export.ollama import go_template
    from pipeline.chat_template import end_tokens, turn_format
    from pipeline.models import load_tokenizer

    tokenizer = load_tokenizer(family_dirs[family])
    config = json.loads((Path(family_dirs[family]) / "generation_config.json").read_text())
    stops = end_tokens(tokenizer, config.get("eos_token_id"))
    assert stops[0] == END_OF_TURN[family]
    fmt = turn_format(tokenizer)
    assert fmt.system_folded is (family == "gemma")
    if shutil.which("go") is None:
        pytest.skip("Go is not installed (make go)")
    template = go_template(fmt)
    for messages in (conversation(), conversation(system=False)):
        assert go_render(template, messages) == tokenizer.apply_chat_template(messages, tokenize=False,
                                                                               add_generation_prompt=True)
    assert go_render(template, conversation(system=False), "Be Ada.") == EXPECTED[family]


def test_unknown_embedded_model_lists_the_known_ones():
    from pipeline.errors import UserError
    from pipeline.models import resolve_model_path

    with pytest.raises(UserError, match=r"^unknown model 'gemma3': the embedded models are default, gemma3-270m; "):
        resolve_model_path("gemma3")


@pytest.fixture(scope="module")
def gemma_run(tmp_path_factory, tiny_gemma_dir) -> Path:
    """An SFT run on the tiny Gemma: 30 LoRA steps on the training posts, so greedy decoding has clear winners."""
    import torch
    from support.peft_runs import train_lora, write_run
    from transformers import AutoModelForCausalLM

    from pipeline.models import load_tokenizer

    root = tmp_path_factory.mktemp("gemma-project")
    data = write_data(root / "data")
    rows = [json.loads(line) for line in (data / "dpo" / "train.jsonl").read_text().splitlines()]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = AutoModelForCausalLM.from_pretrained(tiny_gemma_dir, dtype=torch.float32)
        sft = train_lora(model, load_tokenizer(tiny_gemma_dir), rows, kind="sft", steps=30, seed=1, lr=1e-2)
    finally:
        torch.set_num_threads(threads)
    return write_run(root / "runs" / "sft-1", "sft", sft, tiny_gemma_dir, None, data)


def test_gemma_gguf_and_ollama_export_continue_like_the_merged_model(gemma_run, tiny_gemma_dir, tmp_path, one_thread):
    """llama.cpp's own gemma3 converter: the f16 GGUF continues two chat prompts as base + adapter merged
    does (greedy, 16 tokens, or parting only at a near-tie), stops on <end_of_turn>, and so does the Modelfile.
    Measured: the first prompt agreed on 6 tokens, then parted where the merged model's two logits were
    0.0116 apart (this random model's logits span about +-0.75; f16 rounds its weights), so the tie
    allowed is 0.02: a converter that got Gemma wrong (norm shift, embedding scale) parts at token 0."""
    from peft import PeftModel
    from support.export_checks import modelfile
    from support.greedy import assert_alike, chat_ids, hf_greedy
    from transformers import AutoModelForCausalLM

    from pipeline.export import ExportSettings, export_run
    from pipeline.export.llama_worker import greedy
    from pipeline.models import load_tokenizer

    summary = export_run(gemma_run, ExportSettings(to="ollama", quant="f16", out=tmp_path / "ollama"), log=quiet)
    assert summary["llama_cpp"]["architecture"] == "gemma3"
    assert summary["end_tokens"][0] == "<end_of_turn>"
    found = modelfile(tmp_path / "ollama")
    assert found["PARAMETER"][0] == 'stop "<end_of_turn>"' and found["SYSTEM"] == SYSTEM
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_gemma_dir),
                                      str(gemma_run / "adapter")).merge_and_unload()
    tokenizer = load_tokenizer(tiny_gemma_dir)
    end_ids = tokenizer.convert_tokens_to_ids(summary["end_tokens"])
    gguf = str(tmp_path / "ollama" / summary["gguf"])
    for prompt in ("Write a post about hiring.", "Write a post about pricing."):
        ids = chat_ids(tokenizer, prompt)
        expected = hf_greedy(model, ids, 20, end_ids)
        got, _ = greedy(gguf, ids, 20, end_ids, threads=1)
        assert_alike(model, ids, expected, got, near_tie=0.02)


def test_a_gemma_family_architecture_llama_cpp_cannot_convert_is_named(tmp_path, gemma_tokenizer_dir, one_thread):
    """VaultGemma: transformers has it, this llama.cpp's converter does not; its own message is quoted."""
    from support.export_checks import refuse_unsupported
    from transformers import AutoTokenizer, VaultGemmaConfig, VaultGemmaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(gemma_tokenizer_dir)
    config = VaultGemmaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                              num_attention_heads=2, num_key_value_heads=1, head_dim=16)
    refuse_unsupported(tmp_path, VaultGemmaForCausalLM, config, tokenizer, "VaultGemmaForCausalLM")


def test_model_card_says_which_template_and_where_the_system_prompt_went(gemma_run, gemma_tokenizer_dir):
    from pipeline.hub.runs import model_card_text
    from pipeline.models import load_tokenizer

    run = Run(gemma_run)
    config = {**run.config(), "chat_template": template_note(load_tokenizer(gemma_tokenizer_dir))}
    card = model_card_text(run, config, "you/voice", base_id="google/gemma-3-270m", dataset_repo=None,
                           license="gemma")
    assert ("Chat template: Gemma turns (<start_of_turn>user/model ... <end_of_turn>); no system role: the system "
            "prompt is folded into the first user turn") in card
