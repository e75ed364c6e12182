"""The six formats: detection, lossless round trips, refusals, file conversion and the CLI."""

import json

import pytest

from conftest import last_json, run_cli
from pipeline.data.formats import FORMATS, convert_file, detect_format, from_messages, to_messages
from pipeline.errors import UserError

MESSAGES = [{"role": "system", "content": "You are Tamsin."}, {"role": "user", "content": "How do I ship?"},
            {"role": "assistant", "content": "Untie one rope.\n\nThen sail."}]


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip(fmt):
    record = from_messages(MESSAGES, fmt)
    detected = detect_format(record)
    assert detected == ("messages" if fmt == "openai" else fmt)
    back = to_messages(record, detected)
    # prompt-completion has nowhere to keep a system prompt; every other format is lossless.
    assert back == (MESSAGES[1:] if fmt == "prompt-completion" else MESSAGES)


def test_context_joins_instruction_and_refusals():
    assert to_messages({"instruction": "Summarise", "context": "Long text", "response": "Short"}, "dolly")[0] == \
        {"role": "user", "content": "Summarise\n\nLong text"}
    assert to_messages({"prompt": [{"role": "user", "content": "q"}], "completion": [{"role": "assistant", "content": "a"}]},
                       "prompt-completion")[-1]["content"] == "a"
    multi = MESSAGES + [{"role": "user", "content": "More?"}, {"role": "assistant", "content": "Aye."}]
    assert from_messages(multi, "sharegpt")["conversations"][3] == {"from": "human", "value": "More?"}
    with pytest.raises(UserError, match="4 turns does not fit alpaca"):
        from_messages(multi, "alpaca")
    with pytest.raises(UserError, match="keys seen: foo"):
        detect_format({"foo": 1}, "f:1")
    with pytest.raises(UserError, match="unknown format 'csv'"):
        from_messages(MESSAGES, "csv")


def test_convert_file_json_array_and_jsonl(tmp_path):
    src = tmp_path / "in.json"
    src.write_text(json.dumps([{"instruction": "a", "input": "", "output": "b"},
                               {"instruction": "c", "input": "", "output": "d"}]))
    summary = convert_file(src, "sharegpt", tmp_path / "out.jsonl")
    assert summary["detected"] == "alpaca" and summary["records"] == 2
    convert_file(tmp_path / "out.jsonl", "alpaca", tmp_path / "back.json")
    assert json.loads((tmp_path / "back.json").read_text()) == json.loads(src.read_text())
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('{"prompt": "a", "completion": "b"}\n{"instruction": "a", "output": "b"}\n')
    with pytest.raises(UserError, match=r"mixed.jsonl:2: this record is alpaca but the file started as prompt-completion"):
        convert_file(mixed, "messages", tmp_path / "x.jsonl")
    assert not (tmp_path / "x.jsonl").exists()


def test_cli_convert(tmp_path):
    out = tmp_path / "persona.jsonl"
    result = run_cli("data", "convert", "--input", "examples/persona_alpaca.json", "--to", "dolly", "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    assert last_json(result.stdout)["records"] >= 60
    assert set(json.loads(out.read_text().splitlines()[0])) == {"instruction", "context", "response"}
    bad = run_cli("data", "convert", "--input", str(tmp_path / "missing.json"), "--to", "alpaca", "--out", str(out))
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr
