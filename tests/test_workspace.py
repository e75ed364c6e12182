import pytest

from pipeline.errors import UserError
from pipeline.workspace import Workspace, validate_name


@pytest.mark.parametrize("name", ["../x", "a/b", "..", ".hidden", "", "x" * 65, "a\\b", "a b", "~root", "/abs"])
def test_bad_run_names_are_refused(name):
    with pytest.raises(UserError, match="invalid run name"):
        validate_name(name)


def test_runs_are_listed_from_disk_with_status(tmp_path):
    ws = Workspace(tmp_path / "p")
    run = ws.run(ws.new_run_name("sft"))
    assert run.name == "sft-1"
    run.path.mkdir(parents=True)
    run.set_status("running", pid=123)
    assert ws.new_run_name("sft") == "sft-2"
    again = Workspace(tmp_path / "p")  # as after an app restart
    assert [r.name for r in again.runs()] == ["sft-1"]
    assert again.runs()[0].status()["state"] == "running"
    assert not again.runs()[0].has_adapter()
