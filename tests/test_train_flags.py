"""Settings <-> flags: every settings field is a flag with its docstring as help, and the command the
runner launches (and each tab shows) rebuilds the settings exactly."""

from __future__ import annotations

import shlex
from dataclasses import fields

import pytest
from conftest import run_cli
from support.jobs import tiny_job_settings, wait_for
from support.voice_data import write_voice_data


def parse(argv: list[str]):
    from pipeline.cli import build_parser

    return build_parser().parse_args(argv)


@pytest.mark.parametrize("kind, overrides", [
    ("sft", {}),
    ("sft", dict(learning_rate=1.234e-4, packing=False, load_in_4bit=False, target_modules="q_proj,v_proj", lora_alpha=7)),
    ("dpo", dict(beta=0.37, loss_type="ipo", with_human_picks=True, epochs=2.5, model="some/model", dtype="float32")),
])
@pytest.mark.parametrize("preset", ["quick", "standard"])
def test_settings_argv_round_trips_exactly(kind, overrides, preset):
    from pipeline.train.flags import settings_argv, settings_from_args
    from pipeline.train.settings import settings_for

    settings = settings_for(kind, preset, **overrides)
    argv = settings_argv(kind, settings)
    assert argv[:2] == ["--preset", preset]  # the closest preset, so the command stays short
    args = parse(["train", kind, "--out", "x", *argv])
    assert settings_from_args(kind, args) == settings


def test_every_settings_field_is_a_documented_flag(capsys):
    from pipeline.train.flags import field_docs, flag
    from pipeline.train.settings import DPOSettings, SFTSettings

    for kind, cls in (("sft", SFTSettings), ("dpo", DPOSettings)):
        docs = field_docs(cls)
        assert set(docs) == {f.name for f in fields(cls)}, "a settings field has no docstring"
        with pytest.raises(SystemExit):
            parse(["train", kind, "--help"])
        help_text = capsys.readouterr().out
        for f in fields(cls):
            assert flag(f.name) in help_text
    assert "Stop after this many optimizer steps" in help_text
    assert parse(["train", "sft", "--out", "x", "--no-4bit", "--lr", "1e-3"]).learning_rate == 1e-3


@pytest.mark.slow
def test_the_shown_command_is_the_one_that_ran(workspace, tiny_model_dir):
    """The runner's job (what the SFT tab shows under "Same thing from a terminal"), typed again
    into a terminal with another --out, trains a run with the same config."""
    from pipeline.train import runner
    from ui.common import cli_command

    data = write_voice_data(workspace.data_dir, n_train=4, n_eval=0)
    settings = tiny_job_settings(tiny_model_dir, max_steps=2, learning_rate=3.3e-4, lora_r=4)
    run = runner.start_job(workspace, "sft", settings, data)
    shown = cli_command(*run.job()["argv"])
    wait_for(lambda: runner.job_status(run)["state"] == "done", what="the job")
    argv = shlex.split(shown)[3:]  # drop "python -m pipeline"
    again = workspace.run("typed-again")
    argv[argv.index("--out") + 1] = str(again.path)
    result = run_cli(*argv)
    assert result.returncode == 0, result.stderr[-2000:]
    assert again.config()["settings"] == run.config()["settings"]
    assert run.config()["settings"]["learning_rate"] == 3.3e-4 and run.config()["settings"]["lora_r"] == 4
