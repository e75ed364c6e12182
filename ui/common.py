"""What every tab shares: the app's settings, the session's workspace, error handling, CLI echoes.

UI only. A tab action is one call into ``pipeline/``; this module turns the library's
:class:`~pipeline.errors.UserError` into a page message (``gr.Error``), shows the CLI command that
does the same thing, and resolves which project folder a visitor works in (with ``--public``, a
private folder per visitor that nobody else can reach).
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import re
import secrets
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import gradio as gr

from pipeline.data.folder import DataFolder
from pipeline.errors import UserError
from pipeline.workspace import Workspace, validate_name

log = logging.getLogger("voicetune.app")

REPO_DIR = Path(__file__).resolve().parents[1]
SAMPLE_POSTS = REPO_DIR / "examples" / "posts.csv"
SAMPLE_PROJECT = "sample"
POST_FILE_TYPES = (".zip", ".gz", ".tgz", ".car", ".xml", ".md", ".txt", ".json", ".js", ".csv", ".jsonl", ".html")
"""What the Dataset tab takes: platform exports as downloaded (zips, a Mastodon .tar.gz, a Bluesky .car, a
WordPress/feed .xml, an X tweets.js), notes and saved pages, posts tables (see pipeline/data/sources/)."""
SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
CLI = "python -m pipeline"


@dataclass(frozen=True)
class AppConfig:
    """How the studio runs (from ``app.py``'s flags)."""

    root: Path
    """Folder holding the projects; each subfolder is a workspace."""
    public: bool = False
    """Many visitors: a private workspace each, caps below, no free model or folder choice."""
    max_upload_mb: int = 50
    """Largest accepted upload (MB); ``public`` uses ``public_max_upload_mb``."""
    public_max_upload_mb: int = 5
    public_max_posts: int = 2000
    """With ``public``: most posts a dataset build keeps (top-k by engagement)."""
    public_max_steps: int = 60
    """With ``public``: most optimizer steps a training run may take."""
    compare_concurrency: int = 4
    """How many Compare generations run at once; more visitors wait in the queue (position shown)."""
    on_space: bool = field(
        default_factory=lambda: bool(os.environ.get("SPACE_ID") and os.environ.get("OAUTH_CLIENT_ID")))
    """On a Hugging Face Space with ``hf_oauth: true``: Sign in with Hugging Face gives the username and token
    (without the OAuth variables Gradio's LoginButton cannot start, so it is left out)."""

    @property
    def upload_limit_mb(self) -> int:
        return self.public_max_upload_mb if self.public else self.max_upload_mb

    def max_steps(self, requested: int | None) -> int | None:
        """The step budget a run gets: the request, capped in public mode."""
        if not self.public:
            return requested
        return min(requested or self.public_max_steps, self.public_max_steps)


# ----------------------------------------------------------------------------- errors


def user_errors(fn: Callable) -> Callable:
    """Wrap an event handler so a UserError (or a bug) reaches the page as a short message.

    Works for plain functions and generators (streaming handlers). A bug keeps its traceback in
    the server log only; the page says what failed in one line.
    """

    def translate(e: BaseException) -> gr.Error:
        if isinstance(e, gr.Error):
            return e
        if isinstance(e, UserError):
            return gr.Error(str(e), print_exception=False)
        log.exception("unexpected error in %s", fn.__name__)
        return gr.Error(f"internal error ({type(e).__name__}: {str(e)[:200]}); the server log has details.",
                        print_exception=False)

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def wrapped_gen(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as e:  # noqa: BLE001 - the page shows one line, the log keeps the rest
                raise translate(e) from e
        return wrapped_gen

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001
            raise translate(e) from e
    return wrapped


# ----------------------------------------------------------------------------- CLI echo


def cli_command(*argv: object) -> str:
    """The shell command that does what the user just clicked (``None`` and ``False`` parts dropped,
    paths under the current folder made relative so the command reads like one typed by hand)."""
    parts = [rel(a, Path.cwd()) if isinstance(a, Path) else str(a) for a in argv
             if a is not None and a is not False and a != ""]
    return f"{CLI} {shlex.join(parts)}"


def cli_box(elem_id: str | None = None) -> gr.Textbox:
    """A copyable box showing the equivalent CLI command (filled in when the user clicks)."""
    return gr.Textbox(label="Same thing from a terminal", interactive=False, lines=1, max_lines=4, elem_id=elem_id,
                      buttons=["copy"], elem_classes=["cli"], placeholder="(the command appears after you click)")


def rel(path: Path | str, start: Path | str) -> str:
    """``path`` relative to ``start`` when inside it (shorter CLI commands), else absolute."""
    try:
        return str(Path(path).resolve().relative_to(Path(start).resolve()))
    except ValueError:
        return str(path)


# ----------------------------------------------------------------------------- workspaces


def list_projects(config: AppConfig) -> list[str]:
    """Project names under the root (public mode never lists other visitors' folders)."""
    if config.public or not config.root.is_dir():
        return []
    names = [p.name for p in config.root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(n for n in names if _valid(n))


def _valid(name: str) -> bool:
    try:
        validate_name(name, "project name")
        return True
    except UserError:
        return False


def open_project(config: AppConfig, name: str) -> Workspace:
    """The workspace called ``name`` under the root (created if new; the sample gets its posts)."""
    validate_name(name, "project name")
    workspace = Workspace(config.root / name)
    if name == SAMPLE_PROJECT:
        seed_sample(workspace)
    return workspace


def session_workspace(config: AppConfig, session_id: str | None, username: str | None) -> Workspace:
    """A visitor's private workspace in public mode: their HF username on a Space, else their session."""
    if username:
        key = "hf-" + re.sub(r"[^A-Za-z0-9_-]", "-", username)[:60]
    elif session_id and SESSION_ID.match(session_id):
        key = "s-" + session_id
    else:
        raise UserError("no session: reload the page.")
    workspace = Workspace(config.root / "visitors" / key)
    seed_sample(workspace)
    return workspace


def new_session_id() -> str:
    return secrets.token_hex(16)


def seed_sample(workspace: Workspace) -> None:
    """Put the sample posts in the workspace's uploads (once), so the Dataset tab can build at once."""
    target = workspace.uploads_dir / SAMPLE_POSTS.name
    if SAMPLE_POSTS.is_file() and not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLE_POSTS, target)


def workspace_of(path: str | None) -> Workspace:
    """The session's workspace from its state value."""
    if not path:
        raise UserError("no project is open: pick or create one at the top of the page.")
    return Workspace(path)


def uploads(workspace: Workspace) -> list[str]:
    folder = workspace.uploads_dir
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def save_uploads(workspace: Workspace, files: list[str] | None, config: AppConfig,
                 allowed: tuple[str, ...] = POST_FILE_TYPES) -> list[str]:
    """Copy uploaded temp files into the workspace's uploads, checking size and type. Returns names."""
    saved = []
    limit = config.upload_limit_mb * 1024 * 1024
    for temp in files or []:
        temp = Path(temp)
        name = re.sub(r"[^A-Za-z0-9._-]", "_", temp.name).lstrip("._-") or "upload"
        if not name.lower().endswith(allowed):
            raise UserError(f"{temp.name}: not a posts file; upload {', '.join(allowed)} "
                            "(a platform's export as downloaded, or CSV/JSONL with a text column).")
        if temp.stat().st_size > limit:
            raise UserError(f"{temp.name}: {temp.stat().st_size / 1e6:.1f} MB is over the "
                            f"{config.upload_limit_mb} MB upload limit; upload a smaller file.")
        if temp.stat().st_size == 0:
            raise UserError(f"{temp.name}: the file is empty; upload a file with posts in it.")
        suffix = "".join(Path(name).suffixes[-2:]) if name.lower().endswith(".tar.gz") else Path(name).suffix
        target = workspace.uploads_dir / (name[:64 - len(suffix)] + suffix if len(name) > 64 else name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(temp, target)
        saved.append(target.name)
    return saved


def allowed_path(config: AppConfig, value: str | None, what: str) -> str:
    """``value`` as typed for a base model or an adapter, if the page may use it: an embedded model, a Hub id,
    or a folder inside the projects root or the model caches; a folder anywhere else on the server
    is refused (the page must not become a way to read the server's files)."""
    from pipeline.models import EMBEDDED, HUB_ID
    from pipeline.workspace import voicetune_home

    value = (value or "").strip()
    path = Path(value).expanduser()
    if value in EMBEDDED or (HUB_ID.match(value) and not value.startswith((".", "/", "~")) and not path.exists()):
        return value
    from huggingface_hub.constants import HF_HUB_CACHE

    roots = [config.root, voicetune_home() / "models", Path(HF_HUB_CACHE)]
    resolved = path.resolve()
    if any(resolved.is_relative_to(root.resolve()) for root in roots):
        return str(resolved)
    raise UserError(f"{what} {value!r}: the page only reads folders inside the projects root ({config.root}) or the "
                    "model cache; move the folder there, or give 'default' or a Hub id (owner/name).")


def runs_of_kind(workspace: Workspace, kind: str | tuple[str, ...], with_adapter: bool = False) -> list[str]:
    """Names of the workspace's runs of one kind (``sft``, ``dpo``, ``grpo``) or of several, newest first."""
    kinds = (kind,) if isinstance(kind, str) else kind
    return [run.name for run in reversed(workspace.runs(with_adapter=with_adapter)) if run.kind in kinds]


POLICY_KINDS = ("dpo", "grpo")
"""The runs that fill the most trained column of Compare and Evaluate (their chain stacked under them)."""


def has_dataset(workspace: Workspace) -> bool:
    return DataFolder(workspace.data_dir).has_dataset()


def needs(text: str) -> gr.Markdown:
    """The "needs from the previous step" note at the top of a tab."""
    return gr.Markdown(f"**Needs:** {text}", elem_classes=["needs"])


@dataclass
class Studio:
    """What the header hands to every tab: the settings and the session-wide components."""

    config: AppConfig
    workspace: gr.State
    """The open project folder (absolute path string)."""
    model: gr.Dropdown
    """The base model spec."""
    tabs: gr.Tabs | None = None
    """The step tabs (a "Continue" button selects the next one)."""
    refreshers: list[tuple[Callable, list]] = field(default_factory=list)

    def on_workspace_change(self, fn: Callable, outputs: list) -> None:
        """Run ``fn(workspace_path)`` to refresh a tab: when the project changes (or the page loads),
        and when the tab is opened (then a dropdown keeps the user's pick if it still exists)."""
        self.refreshers.append((fn, outputs))

    def refresh(self, refreshers: list[tuple[Callable, list]], keep_picks: bool) -> tuple[Callable, list]:
        """One event handler running ``refreshers``, with its outputs (for ``.change`` / ``.select``)."""
        outputs = [c for _, outs in refreshers for c in outs]

        def run(path, *current):
            if not path:  # the page is still opening its project (a tab's select event can come first)
                return gr.skip() if len(outputs) == 1 else [gr.skip()] * len(outputs)
            values = []
            for fn, _ in refreshers:
                result = fn(path)
                values.extend(result if isinstance(result, (list, tuple)) else [result])
            if keep_picks:
                for i, value in enumerate(values):
                    if not isinstance(value, dict) or "choices" not in value:
                        continue
                    picked, choices = current[i], value.get("choices") or []
                    if picked in choices or (isinstance(picked, list) and set(picked) <= set(choices)):
                        value["value"] = picked
            return values[0] if len(outputs) == 1 else values  # Gradio takes one output's list as its value

        return user_errors(run), outputs


def quiet(*parts, **_) -> None:
    """A ``log`` for pipeline calls made from the page: their progress lines (model loading, Hub
    uploads that may name private repos) stay out of the page; progress bars and UserErrors do not."""
