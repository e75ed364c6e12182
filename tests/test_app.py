"""The studio's shell without a browser: lazy imports, error translation, workspaces, uploads, Space metadata."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_building_the_app_imports_neither_torch_nor_transformers(tmp_path):
    code = ("import sys, app; from ui.common import AppConfig; from pathlib import Path; "
            f"app.build_app(AppConfig(root=Path({str(tmp_path)!r}))); "
            "print(sorted(m for m in ('torch', 'transformers', 'trl', 'peft') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_sigterm_closes_the_studio_cleanly(tmp_path):
    # `docker stop` sends SIGTERM to the app as the container's PID 1, which has no default action for it;
    # the app must close its server and exit 0 rather than wait to be killed.
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--root", str(tmp_path / "projects")],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read() if proc.poll() else "no answer"
                time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert f"Closing server running on port: {port}" in proc.stdout.read()
    finally:
        proc.kill()


def test_user_errors_become_one_line_page_messages_for_functions_and_generators():
    import gradio as gr

    from pipeline.errors import UserError
    from ui.common import user_errors

    @user_errors
    def plain():
        raise UserError("data.csv: no text column (found: a, b); add a 'text' column.")

    @user_errors
    def streaming():
        yield "partial"
        raise UserError("the prompt is empty; type what the model should write.")

    @user_errors
    def bug():
        raise KeyError("oops")

    with pytest.raises(gr.Error, match="no text column"):
        plain()
    gen = streaming()
    assert next(gen) == "partial"
    with pytest.raises(gr.Error, match="prompt is empty"):
        next(gen)
    with pytest.raises(gr.Error, match=r"internal error \(KeyError") as info:
        bug()
    assert "Traceback" not in str(info.value)


def test_public_sessions_get_separate_private_workspaces_seeded_with_the_sample(tmp_path):
    from pipeline.errors import UserError
    from ui.common import AppConfig, list_projects, new_session_id, session_workspace

    config = AppConfig(root=tmp_path, public=True)
    a, b = new_session_id(), new_session_id()
    wa, wb = session_workspace(config, a, None), session_workspace(config, b, None)
    assert wa.root != wb.root and wa.root.parent == wb.root.parent == tmp_path / "visitors"
    assert (wa.root / "uploads" / "posts.csv").is_file() == (REPO / "examples" / "posts.csv").is_file()
    signed = session_workspace(config, a, "../../etc evil")
    assert signed.root.parent == tmp_path / "visitors" and "." not in signed.root.name
    for forged in ("../../etc", "s-" + a, "ABC"):
        with pytest.raises(UserError):
            session_workspace(config, forged, None)
    assert list_projects(config) == []  # nobody lists other visitors' folders


def test_project_names_cannot_leave_the_root(tmp_path):
    from pipeline.errors import UserError
    from ui.common import AppConfig, list_projects, open_project

    config = AppConfig(root=tmp_path)
    open_project(config, "my-voice")
    assert list_projects(config) == ["my-voice"]
    for bad in ("../outside", "/etc", "a/b", ""):
        with pytest.raises(UserError):
            open_project(config, bad)
    assert not (tmp_path.parent / "outside").exists()


def test_uploads_are_type_and_size_checked_and_land_inside_the_project(tmp_path):
    from pipeline.errors import UserError
    from pipeline.workspace import Workspace
    from ui.common import AppConfig, save_uploads, uploads

    workspace = Workspace(tmp_path / "project")
    config = AppConfig(root=tmp_path, public=True, public_max_upload_mb=1)
    good = tmp_path / "..my posts.csv"
    good.write_text("text\nhello world\n")
    assert save_uploads(workspace, [str(good)], config) == ["my_posts.csv"]
    assert uploads(workspace) == ["my_posts.csv"]
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    with pytest.raises(UserError, match="not a posts file"):
        save_uploads(workspace, [str(exe)], config)
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    with pytest.raises(UserError, match="over the 1 MB upload limit"):
        save_uploads(workspace, [str(big)], config)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(UserError, match="empty"):
        save_uploads(workspace, [str(empty)], config)
    assert uploads(workspace) == ["my_posts.csv"]


def test_public_mode_caps_training_steps(tmp_path):
    from ui.common import AppConfig

    assert AppConfig(root=tmp_path).max_steps(500) == 500
    public = AppConfig(root=tmp_path, public=True, public_max_steps=60)
    assert public.max_steps(500) == 60 and public.max_steps(None) == 60 and public.max_steps(10) == 10


def test_public_flag_gives_a_studio_with_visitor_caps_and_no_url_teacher(tmp_path):
    """``app.py --public`` (flags -> config -> page): caps uploads and steps, makes the root, and the
    Dataset tab offers no URL teacher (the server would call any address a visitor types)."""
    import gradio as gr

    import app

    root = tmp_path / "projects" / "nested"
    config = app.app_config(app.parse_args(["--public", "--root", str(root), "--max-upload-mb", "80"]))
    assert config.root == root.resolve() and root.is_dir()
    assert config.upload_limit_mb == config.public_max_upload_mb == 5 and config.max_steps(500) == 60
    local = app.app_config(app.parse_args(["--no-public", "--root", str(root), "--max-upload-mb", "80"]))
    assert local.upload_limit_mb == 80 and local.max_steps(500) == 500

    def teacher_choices(config):
        radios = [b for b in app.build_app(config).blocks.values()
                  if isinstance(b, gr.Radio) and b.label == "Teacher for reverse instructions"]
        return [value for _, value in radios[0].choices]

    assert teacher_choices(config) == ["none", "local"]
    assert teacher_choices(local) == ["none", "local", "url"]


def test_gradio_fills_every_progress_and_token_parameter_of_the_handlers(tmp_path):
    """Gradio fills ``gr.Progress`` / ``gr.OAuthToken`` parameters only before a ``*values`` (the knobs'):
    one after it would stay unfilled (no progress bar, the visitor's token never reaching a push)."""
    import inspect

    import gradio as gr

    import app
    from ui.common import AppConfig

    special = []
    for block_fn in app.build_app(AppConfig(root=tmp_path, public=True)).fns.values():
        if block_fn.fn is None:
            continue
        for p in inspect.signature(block_fn.fn).parameters.values():
            if isinstance(p.default, gr.Progress) or "OAuthToken" in str(p.annotation):
                special.append(p.name)
                assert p.kind is p.POSITIONAL_OR_KEYWORD, f"{block_fn.fn.__name__}: {p.name} comes after *values"
    assert special.count("progress") >= 3 and special.count("oauth_token") == 4


def test_readme_is_a_space_card():
    from huggingface_hub import metadata_load

    meta = metadata_load(REPO / "README.md")
    assert meta["sdk"] in ("gradio", "docker") and meta["app_file"] == "app.py"
    assert meta["hf_oauth"] is True and "write-repos" in meta["hf_oauth_scopes"]
    assert meta["suggested_hardware"] and len(meta["short_description"]) <= 60
    if meta["sdk"] == "docker":
        assert meta["app_port"] == 7860 and (REPO / "Dockerfile").is_file()


def test_on_a_space_visitors_sign_in_and_elsewhere_no_oauth_is_attached(tmp_path, monkeypatch):
    import gradio.oauth

    import app
    from ui.common import AppConfig

    # What a Space with `hf_oauth: true` provides (read by gradio.oauth at import time).
    monkeypatch.setattr(gradio.oauth, "get_space", lambda: "alice/voicetune")
    for name, value in {"OAUTH_CLIENT_ID": "id", "OAUTH_CLIENT_SECRET": "secret", "OAUTH_SCOPES": "openid profile",
                        "OPENID_PROVIDER_URL": "https://hub.invalid"}.items():
        monkeypatch.setattr(gradio.oauth, name, value)
    assert app.build_app(AppConfig(root=tmp_path, public=True, on_space=True)).expects_oauth
    assert not app.build_app(AppConfig(root=tmp_path, public=True, on_space=False)).expects_oauth
    assert not app.build_app(AppConfig(root=tmp_path)).expects_oauth


def test_run_panel_frames_are_typed_and_status_reads_the_run(tmp_path):
    from pipeline.workspace import Workspace
    from ui.jobs import MARGIN_SERIES, _long_frame, _status_text

    # Every series is in every frame, the empty one a run starts with included: the page's plot fixes
    # its colours from the first frame it draws, and a series it did not see then is drawn in no colour.
    empty = _long_frame([], MARGIN_SERIES)
    assert str(empty["value"].dtype) == "float64" and str(empty["step"].dtype) == "int64"
    assert list(empty["series"]) == list(MARGIN_SERIES.values()) and empty["value"].isna().all()
    rows = [{"step": 1, "loss": 0.7, "rewards/margins": 0.1, "logratio_drift": 0.05},
            {"step": 2, "loss": 0.6, "rewards/margins": 0.4, "logratio_drift": 0.25},
            {"step": 3, "loss": float("nan"), "rewards/margins": float("inf")}]
    frame = _long_frame(rows, MARGIN_SERIES)
    margins = frame[frame["series"] == "margin"]
    assert list(margins["value"]) == [0.1, 0.4]  # finite points only: two, so a line
    assert set(frame["series"]) == set(MARGIN_SERIES.values())
    run = Workspace(tmp_path / "p").run("dpo-1")
    text = _status_text(run, {"state": "running", "step": 2, "max_steps": 10, "eta_s": 75}, rows[:2])
    assert "step 2/10" in text and "ETA 01:15" in text and "above 0.2" in text


def test_run_status_names_the_phase_before_step_one_and_the_examples_max_length_left_out(tmp_path):
    from pipeline.fsio import atomic_write_json
    from pipeline.train.metrics import PhaseProgress
    from pipeline.workspace import Workspace
    from ui.jobs import _drift_label, _progress_bar, _status_text

    run = Workspace(tmp_path / "p").run("dpo-1")
    run.path.mkdir(parents=True)
    progress = PhaseProgress(run, "computing reference log-probs", 120, "pairs", max_steps=30)
    progress(40)
    status = run.status()
    assert (status["phase"], status["done"], status["total"], status["step"]) == ("computing reference log-probs", 40,
                                                                                   120, 0)
    assert status["eta_s"] is not None
    text = _status_text(run, status, [])
    assert "computing reference log-probs: 40/120 pairs" in text and "ETA" in text and "step 0/30" not in text
    assert "width:33.3%" in _progress_bar(status)

    atomic_write_json(run.config_path, {"kind": "sft", "too_long": {"dropped": 72, "examples": 164, "max_length": 512,
                                                                     "longest": 1300}})
    text = _status_text(run, {"state": "done", "step": 40, "max_steps": 40}, [])
    assert "72 of 164 training examples were left out" in text and "--max-length 1300" in text
    assert "the base model" in _drift_label("base") and "the SFT policy" in _drift_label("sft")


def test_page_load_lists_every_project_and_tab_refreshes_wait_for_an_open_project(tmp_path):
    import gradio as gr

    from ui.common import AppConfig, Studio
    from ui.header import project_choices

    config = AppConfig(root=tmp_path)
    assert project_choices(config) == ["sample"]
    (tmp_path / "mine").mkdir()  # made after the page was built (another tab, the CLI)
    assert project_choices(config) == ["mine", "sample"]

    def needs_a_project(path):
        from ui.common import workspace_of

        return str(workspace_of(path).root)

    with gr.Blocks():
        studio = Studio(config=config, workspace=gr.State(None), model=gr.Textbox())
        box = gr.Textbox()
    refresh, outputs = studio.refresh([(needs_a_project, [box])], keep_picks=True)
    assert outputs == [box]
    assert isinstance(refresh(None, ""), type(gr.skip()))  # before the load event opened a project: no error
    assert refresh(str(tmp_path / "mine"), "") == str((tmp_path / "mine").resolve())


def test_compare_stop_idles_every_column_and_the_answer_length_follows_the_posts(tmp_path):
    from pipeline.compare.budget import CAP, FLOOR, budget_for, percentile
    from ui.compare_tab import GENERATING, stopped

    assert stopped(GENERATING, "latency 0.1 s", "") == ["stopped", "latency 0.1 s", ""]
    assert percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9) == 90
    assert budget_for([150] * 9 + [900]) == 176  # 150 tokens and a tenth more, rounded up to 16
    assert budget_for([5, 6]) == FLOOR and budget_for([5000]) == CAP and budget_for([]) == FLOOR


def test_engagement_plot_says_when_the_posts_have_no_engagement_counts():
    from ui.dataset_tab import ENGAGEMENT_LABEL, _engagement_plot

    flat = _engagement_plot({"engagement": {"scores": [0.5] * 4, "posts_with_engagement": 0}})
    assert flat["value"] is None and "no engagement counts" in flat["label"]
    counted = _engagement_plot({"engagement": {"scores": [0.9, 0.2], "gold_flags": [True, False],
                                               "posts_with_engagement": 2}})
    assert list(counted["value"]["set"]) == ["gold", "other"] and counted["label"] == ENGAGEMENT_LABEL


def test_page_reads_only_folders_under_the_projects_root_or_model_cache(tmp_path, tiny_model_dir):
    from pipeline.errors import UserError
    from pipeline.models import default_model_dir
    from ui.common import AppConfig, allowed_path

    config = AppConfig(root=tmp_path / "projects")
    inside = config.root / "p" / "runs" / "sft-1"
    inside.mkdir(parents=True)
    assert allowed_path(config, "default", "base model") == "default"
    assert allowed_path(config, "someone/voice-adapter", "adapter") == "someone/voice-adapter"
    assert allowed_path(config, str(inside), "adapter") == str(inside.resolve())
    assert allowed_path(config, str(default_model_dir()), "base model") == str(default_model_dir().resolve())
    for outside in (str(tiny_model_dir), "/etc", str(inside / ".." / ".." / ".." / "..")):
        with pytest.raises(UserError, match="only reads folders inside the projects root"):
            allowed_path(config, outside, "base model")


def test_a_project_keeps_its_base_model_choice_and_the_eval_status_line_reads_the_job(tmp_path):
    import gradio as gr

    from ui.evaluate_tab import progress_bar_of, status_line
    from ui.header import chosen_model, remember_model

    mine, fresh = str(tmp_path / "mine"), str(tmp_path / "fresh")
    remember_model(mine, "owner/model")
    assert chosen_model(mine) == "owner/model"  # what a reload puts back in the box
    assert isinstance(chosen_model(fresh), type(gr.skip()))  # never chosen: the box is left as it is
    running = {"state": "running", "message": "writing post 2/4 (base, sft)", "fraction": 0.25, "eta_s": 75}
    assert status_line("dpo-1", running) == "**dpo-1** evaluation: running · writing post 2/4 (base, sft) · 25% · ETA 01:15"
    assert "width:25.0%" in progress_bar_of(running) and progress_bar_of({"state": "done"}) == ""
    failed = status_line("dpo-1", {"state": "failed", "error": "the evaluation process ended"})
    assert failed.startswith("**dpo-1** evaluation: failed") and "**Error:** the evaluation process ended" in failed
