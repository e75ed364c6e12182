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

    empty = _long_frame([], MARGIN_SERIES)
    assert str(empty["value"].dtype) == "float64" and str(empty["step"].dtype) == "int64"
    rows = [{"step": 1, "loss": 0.7, "rewards/margins": 0.1, "logratio_drift": 0.05},
            {"step": 2, "loss": 0.6, "rewards/margins": 0.4, "logratio_drift": 0.25}]
    frame = _long_frame(rows, MARGIN_SERIES)
    assert list(frame["value"]) == [0.1, 0.4] and set(frame["series"]) == {"margin"}
    run = Workspace(tmp_path / "p").run("dpo-1")
    text = _status_text(run, {"state": "running", "step": 2, "max_steps": 10, "eta_s": 75}, rows)
    assert "step 2/10" in text and "ETA 01:15" in text and "above 0.2" in text


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
