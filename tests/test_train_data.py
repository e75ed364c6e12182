"""Training data loading: TRL formats, bad input messages."""

from __future__ import annotations

import json

import pytest
from support.voice_data import write_voice_data

from pipeline.errors import UserError


def test_sft_rows_become_prompt_completion(tmp_path):
    from pipeline.data.folder import DataFolder

    data = write_voice_data(tmp_path / "data", n_train=3, n_eval=1)
    rows = DataFolder(data).sft_examples("train")
    assert len(rows) == 3
    assert rows[0]["prompt"][-1]["role"] == "user"
    assert [m["role"] for m in rows[0]["completion"]] == ["assistant"]


@pytest.mark.parametrize("content, expected", [
    ("", "the file is empty"),
    ('{"text": "hello"}\n', "no 'messages' field (found text); expected TRL conversational format"),
    ('{"messages": [{"role": "assistant", "content": "hi"}]}\n', "needs a user turn followed by an assistant turn"),
    ('{"messages": [{"role": "user"}]}\n', "valid role"),
])
def test_bad_sft_files_name_file_line_and_format(tmp_path, content, expected):
    from pipeline.data.folder import DataFolder

    (tmp_path / "sft").mkdir()
    (tmp_path / "sft" / "train.jsonl").write_text(content)
    with pytest.raises(UserError) as e:
        DataFolder(tmp_path).sft_examples("train")
    assert expected in str(e.value)
    assert "train.jsonl" in str(e.value)


def test_bad_dpo_columns_say_which_format(tmp_path):
    from pipeline.data.folder import DataFolder

    (tmp_path / "dpo").mkdir()
    (tmp_path / "dpo" / "train.jsonl").write_text('{"prompt": "x", "chosen": "y"}\n')
    with pytest.raises(UserError, match=r"train.jsonl:1: missing field\(s\) rejected; expected TRL conversational preference"):
        DataFolder(tmp_path).pairs("train")


def test_training_and_evaluation_read_pairs_by_one_rule(tmp_path):
    """Plain-string (TRL standard) pairs are read as conversational by training and evaluation alike,
    and chosen == rejected is refused by both (evaluation used to accept it and score a 0 margin)."""
    from pipeline.data.folder import DataFolder

    (tmp_path / "dpo").mkdir()
    good = {"prompt": "Write a post.", "chosen": "Real post.", "rejected": "Generic post."}
    (tmp_path / "dpo" / "train.jsonl").write_text(json.dumps(good) + "\n")
    folder = DataFolder(tmp_path)
    pair = folder.pairs("train")[0]
    assert pair["prompt"] == [{"role": "user", "content": "Write a post."}]
    assert pair["chosen"] == [{"role": "assistant", "content": "Real post."}]
    assert folder.held_out_pairs("test", 0, [])[0] == [pair]  # carved from train, same reader
    (tmp_path / "dpo" / "test.jsonl").write_text(json.dumps({**good, "rejected": "Real post."}) + "\n")
    with pytest.raises(UserError, match=r"test.jsonl:1: chosen == rejected"):
        folder.held_out_pairs("test", 0, [])


def test_missing_dataset_says_how_to_build_it(tmp_path):
    from pipeline.data.folder import DataFolder

    with pytest.raises(UserError, match="not found; build the dataset first"):
        DataFolder(tmp_path).pairs("train")


def test_settings_presets_and_validation():
    from pipeline.train.settings import DPOSettings, SFTSettings, settings_for

    sft = SFTSettings()
    assert (sft.lora_r, sft.alpha, sft.lora_dropout, sft.load_in_4bit, sft.packing, sft.completion_only_loss) == \
        (16, 32, 0.05, True, True, True)
    assert sft.targets() == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    assert settings_for("sft", target_modules="attention-only").targets() == ["q_proj", "k_proj", "v_proj", "o_proj"]
    dpo = DPOSettings()
    assert (dpo.beta, dpo.loss_type, dpo.lora_r) == (0.1, "sigmoid", 8)
    quick = settings_for("dpo", "quick", beta=0.3)
    assert quick.beta == 0.3 and quick.max_steps > 0 and not quick.load_in_4bit
    with pytest.raises(UserError, match="unknown loss"):
        settings_for("dpo", loss_type="nope")
    with pytest.raises(UserError, match="unknown preset"):
        settings_for("sft", "huge")
