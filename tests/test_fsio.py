import os

import pytest

from pipeline.errors import UserError
from pipeline.fsio import append_jsonl, atomic_dir, atomic_write_json, read_jsonl


def test_atomic_write_leaves_no_temp_and_keeps_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "config.json"
    atomic_write_json(target, {"a": 1})

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write_json(target, {"a": 2})
    monkeypatch.undo()
    assert target.read_text().strip().replace(" ", "").replace("\n", "") == '{"a":1}'
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]


def test_atomic_dir_replaces_whole_folder_only_on_success(tmp_path):
    final = tmp_path / "data"
    with atomic_dir(final) as tmp:
        (tmp / "a.txt").write_text("one")
    with pytest.raises(RuntimeError):
        with atomic_dir(final) as tmp:
            (tmp / "b.txt").write_text("half")
            raise RuntimeError("boom")
    assert sorted(p.name for p in final.iterdir()) == ["a.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["data"]


def test_read_jsonl_names_file_and_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(UserError, match=r"x\.jsonl:2: bad JSON"):
        read_jsonl(path)


def test_torn_tail_of_a_log_is_skipped(tmp_path):
    path = tmp_path / "metrics.jsonl"
    append_jsonl(path, {"step": 1})
    with open(path, "a") as f:
        f.write('{"step": 2, "lo')
    assert read_jsonl(path, skip_torn_tail=True) == [{"step": 1}]
