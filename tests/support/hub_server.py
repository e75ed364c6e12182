"""A small Hugging Face Hub look-alike on loopback, for the publishing tests.

It speaks the part of the Hub HTTP API that ``huggingface_hub`` 1.33 and ``datasets`` 4.8 use to
push and pull (run the clients with ``HF_HUB_DISABLE_XET=1``):

    GET  /api/whoami-v2                                  who the token belongs to, and its role
    POST /api/repos/create                               create a model / dataset / space repo
    POST /api/validate-yaml                              the README front matter must parse
    GET  /api/{type}s/{id}[/revision/{rev}]              repo info (sha, siblings, private)
    POST /api/{type}s/{id}/preupload/{rev}               regular or LFS, and the remote oid
    POST /{prefix}{id}.git/info/lfs/objects/batch        LFS upload actions (basic transfer)
    PUT  /lfs-upload/{sha256}, POST /lfs-verify          the LFS object store
    POST /api/{type}s/{id}/commit/{rev}                  NDJSON commit (file, lfsFile, deleted*)
    GET  /api/{type}s/{id}/tree/{rev}[/{path}]           listing (recursive or not)
    POST /api/{type}s/{id}/paths-info/{rev}              info for given paths
    HEAD|GET /{prefix}{id}/resolve/{rev}/{path}          downloads (ETag, X-Repo-Commit, Range)

Repos live in memory as a list of snapshots (commit sha = an incrementing 40-hex number); file
bytes live in a temp folder keyed by sha256. Tokens: ``TOKENS`` maps a token to (user, role).
Fault switches for tests: ``fail_next(status, times)`` and ``hang_next(times, seconds)``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

WRITE_TOKEN = "hf_test_write_alice_0123456789"
READ_TOKEN = "hf_test_read_alice_0123456789"
BOB_TOKEN = "hf_test_write_bob_0123456789"
TOKENS = {WRITE_TOKEN: ("alice", "write"), READ_TOKEN: ("alice", "read"), BOB_TOKEN: ("bob", "write")}
LFS_SUFFIXES = (".safetensors", ".bin", ".parquet", ".arrow", ".pt", ".gguf")
LFS_MIN_SIZE = 10 * 1024 * 1024
PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Entry:
    """One file in a snapshot: its git oid, sha256 (the store key), size and whether it is LFS."""

    sha256: str
    size: int
    lfs: bool
    oid: str


@dataclass
class Commit:
    sha: str
    message: str
    files: dict[str, Entry]


@dataclass
class Repo:
    type: str
    id: str
    owner: str
    private: bool
    sdk: str | None = None
    commits: list[Commit] = field(default_factory=list)

    @property
    def head(self) -> Commit:
        return self.commits[-1]


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


class FakeHub:
    """The state behind the server; tests read ``repos`` and flip the fault switches."""

    def __init__(self, root: Path):
        self.root = Path(root)
        (self.root / "objects").mkdir(parents=True, exist_ok=True)
        self.repos: dict[tuple[str, str], Repo] = {}
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._counter = 0
        self._fail: list[int] = []
        self._hang: list[float] = []
        self.released = threading.Event()
        self.endpoint = ""

    # -- fault switches
    def fail_next(self, status: int = 500, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``status``."""
        with self._lock:
            self._fail = [status] * times

    def hang_next(self, times: int = 1, seconds: float = 30.0) -> None:
        """Hold the next ``times`` requests ``seconds`` before answering (a client timeout fires first)."""
        with self._lock:
            self._hang = [seconds] * times

    def _take_fault(self) -> tuple[int | None, float | None]:
        with self._lock:
            status = self._fail.pop() if self._fail else None
            hang = self._hang.pop() if self._hang and status is None else None
            return status, hang

    # -- storage
    def _new_sha(self) -> str:
        with self._lock:
            self._counter += 1
            return f"{self._counter:040x}"

    def store(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        (self.root / "objects" / sha).write_bytes(data)
        return sha

    def load(self, sha256: str) -> bytes:
        return (self.root / "objects" / sha256).read_bytes()

    def has_object(self, sha256: str) -> bool:
        return (self.root / "objects" / sha256).is_file()

    def entry_for(self, data: bytes, lfs: bool) -> Entry:
        sha = self.store(data)
        return Entry(sha256=sha, size=len(data), lfs=lfs, oid=sha if lfs else git_blob_sha1(data))

    def repo(self, repo_type: str, repo_id: str, user: str | None, *, write: bool = False) -> Repo:
        repo = self.repos.get((repo_type, repo_id))
        if repo is None or (repo.private and user != repo.owner):
            raise HubError(404 if user else 401, "Repository not found", "RepoNotFound")
        if write and user != repo.owner:
            raise HubError(403, f"You don't have the rights to write to {repo_type}s/{repo_id}.")
        return repo

    def snapshot(self, repo: Repo, revision: str) -> Commit:
        revision = unquote(revision)
        if revision in ("main", repo.head.sha):
            return repo.head
        for commit in repo.commits:
            if len(revision) >= 7 and commit.sha.startswith(revision):
                return commit
        raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")

    def file_bytes(self, repo_type: str, repo_id: str, path: str, revision: str = "main") -> bytes:
        """For tests: a file's content at ``revision``."""
        repo = self.repos[(repo_type, repo_id)]
        return self.load(self.snapshot(repo, revision).files[path].sha256)


class Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # keep test output quiet
        pass

    # ---------------------------------------------------------------- plumbing
    def _user(self) -> tuple[str | None, str | None]:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None, None
        token = header[len("Bearer "):]
        if token not in TOKENS:
            raise HubError(401, "Invalid credentials in Authorization header")
        return TOKENS[token]

    def _writer(self, namespace: str) -> str:
        user, role = self._user()
        if user is None:
            raise HubError(401, "You must be authenticated to write.")
        if role != "write":
            raise HubError(403, "This token has read-only access; writes need a token with the write role.")
        if namespace != user:
            raise HubError(403, f"You don't have the rights to write to the namespace {namespace}.")
        return user

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            return self.rfile.read(length)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return b""

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj, status: int = 200, headers: dict | None = None):
        self._send(status, json.dumps(obj).encode(), headers)

    def _dispatch(self):
        hub = self.hub
        body = self._body() if self.command in ("POST", "PUT") else b""
        hub.requests.append(f"{self.command} {self.path}")
        status, hang = hub._take_fault()
        if hang:
            hub.released.wait(hang)
            self.close_connection = True
            return
        try:
            if status:
                raise HubError(status, f"injected fault {status}")
            self._route(urlsplit(self.path), body)
        except HubError as e:
            headers = {"X-Error-Message": e.message}
            if e.code:
                headers["X-Error-Code"] = e.code
            self._json({"error": e.message}, e.status, headers)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST = do_PUT = do_HEAD = _dispatch

    # ---------------------------------------------------------------- routes
    def _route(self, url, body: bytes):
        path, query = unquote(url.path), parse_qs(url.query)
        m = self.command, path
        if m == ("GET", "/api/whoami-v2"):
            return self._whoami()
        if m == ("POST", "/api/repos/create"):
            return self._create(json.loads(body))
        if m == ("POST", "/api/validate-yaml"):
            return self._validate_yaml(json.loads(body))
        if self.command == "PUT" and path.startswith("/lfs-upload/"):
            return self._lfs_put(path.rsplit("/", 1)[1], body)
        if m == ("POST", "/lfs-verify"):
            return self._json({"success": True})
        if match := re.fullmatch(r"/(datasets/|spaces/)?([^/]+/[^/]+)\.git/info/lfs/objects/batch", path):
            return self._lfs_batch(_repo_type(match[1]), match[2], json.loads(body))
        if match := re.fullmatch(r"/api/(model|dataset|space)s/([^/]+/[^/]+)(?:/revision/(.+))?", path):
            return self._info(match[1], match[2], match[3] or "main")
        if match := re.fullmatch(r"/api/(model|dataset|space)s/([^/]+/[^/]+)/(preupload|commit|paths-info)/([^/]+)", path):
            handler = {"preupload": self._preupload, "commit": self._commit,
                                       "paths-info": self._paths_info}[match[3]]
            return handler(match[1], match[2], match[4], body)
        if match := re.fullmatch(r"/api/(model|dataset|space)s/([^/]+/[^/]+)/tree/([^/]+)(?:/(.*))?", path):
            return self._tree(match[1], match[2], match[3], match[4] or "", query)
        if match := re.fullmatch(r"/(datasets/|spaces/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path):
            return self._resolve(_repo_type(match[1]), match[2], match[3], match[4])
        raise HubError(404, f"no route for {self.command} {path}")

    def _whoami(self):
        user, role = self._user()
        if user is None:
            raise HubError(401, "Invalid username or password.")
        self._json({"type": "user", "name": user, "fullname": user.title(), "orgs": [],
                    "auth": {"type": "access_token", "accessToken": {"displayName": "test", "role": role}}})

    def _create(self, payload: dict):
        repo_type = payload.get("type") or "model"
        namespace = payload.get("organization")
        user, _ = self._user()
        namespace = namespace or user
        self._writer(namespace)
        repo_id = f"{namespace}/{payload['name']}"
        url = f"{self.hub.endpoint}/{PREFIXES[repo_type]}{repo_id}"
        if (repo_type, repo_id) in self.hub.repos:  # the Hub's 409 carries the url too
            return self._json({"error": "You already created this repo", "url": url}, 409,
                              {"X-Error-Message": "You already created this repo"})
        private = payload.get("visibility", "private" if payload.get("private") else "public") != "public"
        repo = Repo(repo_type, repo_id, namespace, private, payload.get("sdk"))
        attributes = self.hub.entry_for(b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n", lfs=False)
        repo.commits.append(Commit(self.hub._new_sha(), "initial commit", {".gitattributes": attributes}))
        self.hub.repos[(repo_type, repo_id)] = repo
        self._json({"url": url, "name": repo_id})

    def _validate_yaml(self, payload: dict):
        content = payload.get("content", "")
        match = re.match(r"^---\n(.*?)\n---\n", content, re.S)
        try:
            if match:
                yaml.safe_load(match[1])
        except yaml.YAMLError as e:
            return self._json({"errors": [{"message": str(e)}], "warnings": []}, 400)
        self._json({"errors": [], "warnings": []})

    def _info(self, repo_type: str, repo_id: str, revision: str):
        user, _ = self._user()
        repo = self.hub.repo(repo_type, repo_id, user)
        commit = self.hub.snapshot(repo, revision)
        info = {"id": repo_id, "_id": repo_id, "author": repo.owner, "sha": commit.sha, "private": repo.private,
                "disabled": False, "gated": False, "downloads": 0, "likes": 0, "tags": [],
                "lastModified": "2026-11-23T00:00:00.000Z", "createdAt": "2026-11-23T00:00:00.000Z",
                "siblings": [{"rfilename": p} for p in sorted(commit.files)]}
        if repo_type == "space":
            info["sdk"] = repo.sdk
        self._json(info)

    def _preupload(self, repo_type: str, repo_id: str, revision: str, body: bytes):
        repo = self.hub.repo(repo_type, repo_id, self._user()[0])
        self._writer(repo.owner)
        files = self.hub.snapshot(repo, revision).files
        answer = []
        for item in json.loads(body)["files"]:
            lfs = item["path"].endswith(LFS_SUFFIXES) or item["size"] >= LFS_MIN_SIZE
            existing = files.get(item["path"])
            answer.append({"path": item["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False,
                           "oid": existing.oid if existing and existing.lfs == lfs else None})
        self._json({"files": answer, "commitOid": repo.head.sha})

    def _lfs_batch(self, repo_type: str, repo_id: str, payload: dict):
        repo = self.hub.repo(repo_type, repo_id, self._user()[0])
        self._writer(repo.owner)
        objects = []
        for obj in payload["objects"]:
            item = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if not self.hub.has_object(obj["oid"]):
                item["actions"] = {"upload": {"href": f"{self.hub.endpoint}/lfs-upload/{obj['oid']}"},
                                   "verify": {"href": f"{self.hub.endpoint}/lfs-verify"}}
            objects.append(item)
        self._json({"transfer": "basic", "objects": objects})

    def _lfs_put(self, oid: str, body: bytes):
        if hashlib.sha256(body).hexdigest() != oid:
            raise HubError(400, "LFS object does not match its oid")
        self.hub.store(body)
        self._send(200)

    def _commit(self, repo_type: str, repo_id: str, revision: str, body: bytes):
        repo = self.hub.repo(repo_type, repo_id, self._user()[0])
        self._writer(repo.owner)
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        header = lines[0]["value"]
        if header.get("parentCommit") and header["parentCommit"] != repo.head.sha:
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        files = dict(self.hub.snapshot(repo, revision).files)
        for line in lines[1:]:
            key, value = line["key"], line["value"]
            if key == "file":
                files[value["path"]] = self.hub.entry_for(base64.b64decode(value["content"]), lfs=False)
            elif key == "lfsFile":
                if not self.hub.has_object(value["oid"]):
                    raise HubError(400, f"LFS object {value['oid']} was not uploaded")
                files[value["path"]] = Entry(value["oid"], value["size"], True, value["oid"])
            elif key == "deletedFile":
                if files.pop(value["path"], None) is None:
                    raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
            elif key == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                files = {p: e for p, e in files.items() if not p.startswith(prefix)}
        commit = Commit(self.hub._new_sha(), header["summary"], files)
        repo.commits.append(commit)
        self._json({"success": True, "commitOid": commit.sha,
                    "commitUrl": f"{self.hub.endpoint}/{PREFIXES[repo_type]}{repo_id}/commit/{commit.sha}"})

    def _entries(self, commit: Commit, under: str, recursive: bool) -> list[dict]:
        prefix = under.strip("/") + "/" if under.strip("/") else ""
        entries, folders = [], set()
        for path, entry in sorted(commit.files.items()):
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix):]
            parts = rest.split("/")
            for depth in range(1, len(parts)):
                if recursive or depth == 1:
                    folders.add(prefix + "/".join(parts[:depth]))
            if recursive or len(parts) == 1:
                entries.append(_file_info(path, entry))
        entries += [{"type": "directory", "path": f, "oid": hashlib.sha1(f.encode()).hexdigest()} for f in sorted(folders)]
        return entries

    def _tree(self, repo_type: str, repo_id: str, revision: str, under: str, query: dict):
        repo = self.hub.repo(repo_type, repo_id, self._user()[0])
        commit = self.hub.snapshot(repo, revision)
        under = under.strip("/")
        if under and under in commit.files:
            raise HubError(404, f"{under} is a file", "EntryNotFound")
        if under and not any(p.startswith(under + "/") for p in commit.files):
            raise HubError(404, f"{under} does not exist", "EntryNotFound")
        recursive = query.get("recursive", ["false"])[0].lower() == "true"
        self._json(self._entries(commit, under, recursive))

    def _paths_info(self, repo_type: str, repo_id: str, revision: str, body: bytes):
        repo = self.hub.repo(repo_type, repo_id, self._user()[0])
        commit = self.hub.snapshot(repo, revision)
        if self.headers.get("Content-Type", "").startswith("application/json"):
            paths = json.loads(body).get("paths", [])
        else:
            paths = parse_qs(body.decode()).get("paths", [])
        answer = []
        for path in paths:
            path = path.strip("/")
            if path in commit.files:
                answer.append(_file_info(path, commit.files[path]))
            elif any(p.startswith(path + "/") for p in commit.files):
                answer.append({"type": "directory", "path": path, "oid": hashlib.sha1(path.encode()).hexdigest()})
        self._json(answer)

    def _resolve(self, repo_type: str, repo_id: str, revision: str, path: str):
        repo = self.hub.repo(repo_type, repo_id, self._user()[0])
        commit = self.hub.snapshot(repo, revision)
        entry = commit.files.get(path)
        if entry is None:
            raise HubError(404, "Entry not found", "EntryNotFound")
        data = self.hub.load(entry.sha256)
        headers = {"X-Repo-Commit": commit.sha, "ETag": f'"{entry.oid}"', "Accept-Ranges": "bytes"}
        if entry.lfs:
            headers.update({"X-Linked-Etag": f'"{entry.sha256}"', "X-Linked-Size": str(entry.size)})
        status = 200
        if match := re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "")):
            start, end = int(match[1]), int(match[2]) if match[2] else len(data) - 1
            headers["Content-Range"] = f"bytes {start}-{min(end, len(data) - 1)}/{len(data)}"
            data, status = data[start:end + 1], 206
        self._send(status, data, headers, content_type="application/octet-stream")


def _repo_type(prefix: str | None) -> str:
    return {"datasets/": "dataset", "spaces/": "space"}.get(prefix or "", "model")


def _file_info(path: str, entry: Entry) -> dict:
    info = {"type": "file", "path": path, "size": entry.size,
            "oid": git_blob_sha1(f"version https://git-lfs.github.com/spec/v1\noid sha256:{entry.sha256}\n".encode())
            if entry.lfs else entry.oid}
    if entry.lfs:
        info["lfs"] = {"oid": entry.sha256, "size": entry.size, "pointerSize": 134}
    return info


class HubServer:
    """``with HubServer() as hub:`` serves a fresh FakeHub on 127.0.0.1 (``hub.endpoint``)."""

    def __init__(self, root: Path | None = None):
        self._tmp = None if root else tempfile.TemporaryDirectory(prefix="fake-hub-")
        self.hub = FakeHub(Path(root or self._tmp.name))
        handler = type("BoundHandler", (Handler,), {"hub": self.hub})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.hub.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self.hub

    def __exit__(self, *exc):
        self.hub.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._tmp:
            self._tmp.cleanup()


if __name__ == "__main__":  # manual poking: python tests/support/hub_server.py
    with HubServer() as hub:
        print(f"HF_ENDPOINT={hub.endpoint} HF_HUB_DISABLE_XET=1 HF_TOKEN={WRITE_TOKEN}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
