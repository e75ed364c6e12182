"""The Hub client: auth, retries with clear errors, and one idempotent commit per push."""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import UserError
from ..fsio import file_sha256
from ..models import check_repo_id  # noqa: F401 (re-exported by pipeline.hub)

TIMEOUT_ENV = "VOICETUNE_HUB_TIMEOUT"

DEFAULT_TIMEOUT_S = 60.0

RETRY_WAITS_S = (1.0, 2.0)
"""Pauses between tries of a step that failed transiently (3 tries in all)."""

_TOKEN_FIX = "set HF_TOKEN, run `hf auth login`, or sign in with Hugging Face in the app"

@dataclass(frozen=True)

class PushResult:
    """What a push did: the repo URL, the commit now at its head, and the paths it changed."""

    url: str
    commit: str
    changed: bool
    files: tuple[str, ...] = ()
    message: str = ""
    related: tuple["PushResult", ...] = ()
    """Pushes made alongside (the merged model's repo)."""

    def as_dict(self) -> dict:
        return {"url": self.url, "commit": self.commit, "changed": self.changed, "files": list(self.files),
                "message": self.message, "related": [r.as_dict() for r in self.related]}


# ----------------------------------------------------------------------------- auth, retries, errors




def resolve_token(token: str | None = None) -> str:
    """The token to write with: ``token``, else HF_TOKEN, else the one stored by ``hf auth login``."""
    from huggingface_hub import get_token

    token = token or get_token()
    if not token:
        raise UserError(f"no Hugging Face token: {_TOKEN_FIX} (the token needs write access).")
    return token


def endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def repo_url(repo_id: str, repo_type: str = "model") -> str:
    prefix = {"model": "", "dataset": "datasets/", "space": "spaces/"}[repo_type]
    return f"{endpoint()}/{prefix}{repo_id}"


def _configure_timeout() -> float:
    """Give huggingface_hub's shared HTTP client a timeout (it has none, so a hung Hub would hang us)."""
    import httpx
    from huggingface_hub import set_client_factory
    from huggingface_hub.utils import _http

    seconds = float(os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT_S)
    if getattr(_configure_timeout, "seconds", None) != seconds:
        def client_factory() -> httpx.Client:
            client = _http.default_client_factory()
            client.timeout = httpx.Timeout(seconds)
            return client

        set_client_factory(client_factory)
        _configure_timeout.seconds = seconds
    return seconds


def _transient(error: BaseException) -> str | None:
    """How the Hub failed if it is worth another try (5xx, 429, timeout, network), else None."""
    import httpx
    from huggingface_hub.errors import HfHubHTTPError

    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, HfHubHTTPError) and error.response is not None:
            status = error.response.status_code
            if status >= 500 or status == 429:
                return f"answered HTTP {status}"
            if status == 412:  # someone committed between our read of the head and our commit
                return "moved on during the push (HTTP 412)"
        if isinstance(error, httpx.TimeoutException):
            return f"did not answer within {_configure_timeout():g} s"
        if isinstance(error, (httpx.NetworkError, httpx.RemoteProtocolError)):
            return f"could not be reached ({type(error).__name__})"
        error = error.__cause__ or error.__context__
    return None


def _as_user_error(error: BaseException, repo_id: str, repo_type: str) -> UserError | None:
    """Translate a huggingface_hub error into a one-line fix, or None if it is not the user's to fix."""
    from huggingface_hub.errors import (
        HfHubHTTPError,
        HFValidationError,
        LocalTokenNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"{repo_type} repo {repo_id} on {endpoint()}"
    if isinstance(error, OfflineModeIsEnabled):
        return UserError("HF_HUB_OFFLINE=1 is set, so the Hub cannot be reached; unset it (or set it to 0) to publish.")
    if isinstance(error, LocalTokenNotFoundError):
        return UserError(f"no Hugging Face token: {_TOKEN_FIX}.")
    if isinstance(error, HFValidationError):
        return UserError(f"invalid repo id {repo_id!r}: {str(error).splitlines()[0]}")
    if isinstance(error, RevisionNotFoundError):
        return UserError(f"{where}: revision not found; check --revision (a branch, tag or commit id).")
    if isinstance(error, RepositoryNotFoundError):
        return UserError(f"{where} not found (or private and this token cannot read it); check the name and the token.")
    if isinstance(error, HfHubHTTPError) and error.response is not None:
        status = error.response.status_code
        said = (getattr(error, "server_message", None) or "").strip().splitlines()
        said = f" ({said[0]})" if said else ""
        if status == 401:
            return UserError(f"the Hub rejected the token (HTTP 401){said}: it is invalid or expired; {_TOKEN_FIX} "
                             "with a valid token.")
        if status == 403:
            return UserError(f"the Hub refused to write to {where} (HTTP 403){said}: use a token with write access, "
                             "and a namespace you own or belong to.")
        if status in (400, 409, 422):
            return UserError(f"the Hub refused the change to {where} (HTTP {status}){said}.")
    return None


def hub_step(action: str, fn: Callable, repo_id: str, repo_type: str, log: Callable):
    """Run ``fn`` (an idempotent Hub step), retrying transient failures; errors become UserErrors."""
    tries = len(RETRY_WAITS_S) + 1
    for attempt in range(1, tries + 1):
        try:
            return fn()
        except UserError:
            raise
        except Exception as error:  # noqa: BLE001 - sorted into transient / user-fixable / bug below
            reason = _transient(error)
            if reason is None:
                translated = _as_user_error(error, repo_id, repo_type)
                if translated is None:
                    raise
                raise translated from None
            if attempt == tries:
                raise UserError(f"{action}: the Hub at {endpoint()} {reason} on all {tries} tries; your local files "
                                "are unchanged: try again later (a push sends only what the repo still lacks).") from None
            wait = RETRY_WAITS_S[attempt - 1]
            log(f"{action}: the Hub {reason}; trying again in {wait:g} s ({attempt}/{tries}).")
            time.sleep(wait)


def connect(token: str | None, repo_id: str, repo_type: str, log: Callable, *, write: bool = True):
    """An HfApi for ``token``; for writes, the token is checked first (it exists, is valid, can write)."""
    from huggingface_hub import HfApi, constants

    if constants.HF_HUB_OFFLINE:
        raise UserError("HF_HUB_OFFLINE=1 is set, so the Hub cannot be reached; unset it (or set it to 0) to publish.")
    token = resolve_token(token) if write else token
    _configure_timeout()
    api = HfApi(token=token if token else None)
    if not write:
        return api
    who = hub_step("checking the token", lambda: api.whoami(), repo_id, repo_type, log)
    role = ((who.get("auth") or {}).get("accessToken") or {}).get("role")
    if role == "read":
        raise UserError(f"this token ({who.get('name')}) is read-only: create a token with write access and {_TOKEN_FIX}.")
    return api


# ----------------------------------------------------------------------------- one idempotent commit


def _git_blob_sha1(path: Path) -> str:
    digest = hashlib.sha1(b"blob %d\0" % path.stat().st_size)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()




def _same_as_remote(local: Path, remote) -> bool:
    if remote.lfs is not None:
        return remote.lfs.size == local.stat().st_size and remote.lfs.sha256 == file_sha256(local)
    return remote.size == local.stat().st_size and remote.blob_id == _git_blob_sha1(local)


def _summary(title: str, added: list[str], updated: list[str], deleted: list[str]) -> str:
    def names(paths: list[str]) -> str:
        shown = ", ".join(paths[:4])
        return shown + (f" and {len(paths) - 4} more" if len(paths) > 4 else "")

    parts = [f"{verb} {names(paths)}" for verb, paths in (("add", added), ("update", updated), ("delete", deleted)) if paths]
    return f"{title}: {'; '.join(parts)}"


def push_folder(api, folder: Path, repo_id: str, repo_type: str, *, title: str, private: bool,
                 managed: tuple[str, ...] = (), space_sdk: str | None = None, log: Callable = print) -> PushResult:
    """Make the repo's files under ``folder``'s paths equal to ``folder``, in at most one commit.

    Remote files under a ``managed`` folder prefix that ``folder`` does not have are deleted (so a
    re-push without ``--combined`` removes a stale ``combined/``); other remote files, e.g. ones
    added on the website, are left alone.
    """
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete
    from huggingface_hub.hf_api import RepoFile

    local = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}

    def step() -> PushResult:
        api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True, space_sdk=space_sdk)
        head = api.repo_info(repo_id, repo_type=repo_type).sha
        remote = {f.path: f for f in api.list_repo_tree(repo_id, repo_type=repo_type, revision=head, recursive=True)
                  if isinstance(f, RepoFile)}
        added = [p for p in local if p not in remote]
        updated = [p for p in local if p in remote and not _same_as_remote(local[p], remote[p])]
        deleted = [p for p in remote if p not in local and p.startswith(managed)] if managed else []
        url = repo_url(repo_id, repo_type)
        if not (added or updated or deleted):
            log(f"{url} is up to date at {head[:12]}: nothing to commit.")
            return PushResult(url, head, False)
        message = _summary(title, added, updated, deleted)
        operations = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=str(local[p])) for p in added + updated]
        operations += [CommitOperationDelete(path_in_repo=p) for p in deleted]
        log(f"Committing to {url}: {message}")
        info = api.create_commit(repo_id, operations, commit_message=message, repo_type=repo_type, parent_commit=head)
        return PushResult(url, info.oid, True, tuple(added + updated + deleted), message)

    return hub_step(f"pushing to {repo_id}", step, repo_id, repo_type, log)
