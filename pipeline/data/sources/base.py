"""What every source reads from and returns: :class:`SourceFiles` (one input, read-only) and
:class:`IngestResult` (its posts, with what was skipped and why).

An input is a plain file, an unpacked export folder, or a zip (or, from older Mastodon servers, a
``.tar.gz``) as the platform hands it over. An archive is read in memory, member by member, never
extracted; entries that could hurt are refused before any is read: a path that climbs out
(``../``) or is absolute, an archive inside the archive, and a bomb (more than
:data:`MAX_TOTAL_BYTES` uncompressed in all, or an entry, or a whole ``.tar.gz``, that inflates
more than :data:`MAX_RATIO` times). Links inside a tar are ignored.
"""

from __future__ import annotations

import fnmatch
import io
import re
import tarfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ...errors import UserError
from ..post import Post

MAX_TOTAL_BYTES = 32 * 2**30
"""Uncompressed size of a whole zip (an X archive with its media runs to a few GB)."""
MAX_MEMBER_BYTES = 2**30
"""Uncompressed size of one member that is read (the text files; media are never read)."""
MAX_RATIO = 100
"""Uncompressed/compressed size of an entry over 1 MiB (text compresses 5-20 times; a bomb 1000)."""
_RATIO_FLOOR = 2**20
_IGNORED = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$)")
_TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar")
_NESTED = (".zip", *_TAR_SUFFIXES)


@dataclass
class IngestResult:
    """Posts read from one input, with what was skipped and why."""

    path: Path
    kind: str
    """The registry name of the source that read it (``x``, ``linkedin``, ``csv``, ...)."""
    posts: list[Post] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    encoding: str = "utf-8"
    unparsed_dates: int = 0
    """Dates that could not be read (the post is kept, without that date)."""
    notices: list[str] = field(default_factory=list)


def decode(data: bytes, where: str) -> tuple[str, str]:
    """Text and the encoding that worked: utf-8 (with or without a BOM), utf-16 with a BOM, else latin-1."""
    if not data.strip():
        raise UserError(f"{where}: the file is empty; export your posts again or pick another file.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # spreadsheet "Unicode text" exports are UTF-16
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise UserError(f"{where}: starts like UTF-16 text but does not decode as it; export it again as CSV "
                            "(UTF-8).") from None
    if b"\x00" in data[:4096]:
        raise UserError(f"{where}: a binary file, not text; export your posts as CSV or JSONL (UTF-8).")
    try:
        return data.decode("utf-8-sig"), "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"  # every byte sequence decodes; the notice says so


class SourceFiles:
    """A read-only view of one input: a plain file, an unpacked export folder, a ``.zip`` or a ``.tar.gz``.

    Members are ``/``-separated paths inside the input (a plain file has one member, its name).
    Text is decoded once and cached; members that needed the latin-1 fallback are noted in
    :attr:`notices`.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.name = self.path.name
        self.notices: list[str] = []
        self.encodings: dict[str, str] = {}
        self._text: dict[str, str] = {}
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        if self.path.is_dir():
            self.kind = "folder"
            self._members = sorted(p.relative_to(self.path).as_posix() for p in self.path.rglob("*")
                                   if p.is_file() and not _IGNORED.search(p.relative_to(self.path).as_posix()))
        elif self.path.is_file() and self.path.suffix.lower() == ".zip":
            self.kind = "zip"
            self._members = self._open_zip()
        elif self.path.is_file() and self.path.name.lower().endswith(_TAR_SUFFIXES):
            self.kind = "tar"
            self._members = self._open_tar()
        elif self.path.is_file():
            self.kind = "file"
            self._members = [self.path.name]
        else:
            raise UserError(f"{self.path}: file not found; check the path.")

    def _open_zip(self) -> list[str]:
        try:
            self._zip = zipfile.ZipFile(self.path)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, OSError) as e:
            raise UserError(f"{self.path}: not a readable zip ({e}); download the export again.") from None
        total, members = 0, []
        for info in infos:
            name = info.filename
            self._check_name(name)
            if info.is_dir() or _IGNORED.search(name):
                continue
            total += info.file_size
            if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(1, info.compress_size):
                raise UserError(f"{self.path}: entry {name!r} inflates more than {MAX_RATIO} times: a zip bomb, not "
                                "an export; refusing it.")
            if total > MAX_TOTAL_BYTES:
                raise UserError(f"{self.path}: entry {name!r} takes the zip past {MAX_TOTAL_BYTES // 2**30} GiB "
                                "uncompressed: a zip bomb, not an export; refusing it.")
            members.append(name)
        return sorted(members)

    def _check_name(self, name: str) -> None:
        """Refuse an entry whose path is absolute, climbs out, or is an archive itself."""
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
            raise UserError(f"{self.path}: entry {name!r} has an absolute path; refusing this {self.kind} (an export "
                            "never holds one): download the export again from the platform.")
        if ".." in re.split(r"[/\\]", name):
            raise UserError(f"{self.path}: entry {name!r} climbs out of the {self.kind} ('..'); refusing this "
                            f"{self.kind}: download the export again from the platform.")
        if name.lower().endswith(_NESTED):
            raise UserError(f"{self.path}: entry {name!r} is another archive inside the {self.kind}; unpack the outer "
                            "one and give the inner one.")

    def _open_tar(self) -> list[str]:
        try:
            self._tar = tarfile.open(self.path, "r:*")  # noqa: SIM115 - open while the view is used; close() ends it
            total, members, budget = 0, [], max(_RATIO_FLOOR, MAX_RATIO * self.path.stat().st_size)
            for info in self._tar:  # headers one by one: a bomb is stopped before it is all inflated
                self._check_name(info.name)
                if not info.isfile() or _IGNORED.search(info.name):
                    continue
                total += info.size
                if total > min(budget, MAX_TOTAL_BYTES):
                    raise UserError(f"{self.path}: entry {info.name!r} takes the archive past {MAX_RATIO} times its "
                                    "size (or the total limit) uncompressed: a bomb, not an export; refusing it.")
                members.append(info.name)
        except (tarfile.TarError, OSError, EOFError) as e:
            raise UserError(f"{self.path}: not a readable archive ({e}); download the export again.") from None
        return sorted(members)

    def list(self) -> list[str]:
        """Every member (files only; folders, ``__MACOSX/`` and ``.DS_Store`` left out)."""
        return list(self._members)

    def find(self, pattern: str) -> list[str]:
        """Members whose path matches the glob ``pattern`` (case-insensitive), e.g. ``*posts/*.html``;
        a pattern without ``/`` matches the base name."""
        key = (lambda m: m.lower()) if "/" in pattern else (lambda m: PurePosixPath(m).name.lower())
        return [m for m in self._members if fnmatch.fnmatchcase(key(m), pattern.lower())]

    def where(self, member: str) -> str:
        """How messages name a member: the file's path, or ``export.zip/data/tweets.js``."""
        return str(self.path) if self.kind == "file" else f"{self.path}/{member}"

    def open(self, member: str):
        """A binary file object for ``member`` (an archive's member is read into memory, within the size limits)."""
        return io.BytesIO(self.read_bytes(member))

    def read_bytes(self, member: str) -> bytes:
        if member not in self._members:
            raise KeyError(member)
        if self.kind == "file":
            return self.path.read_bytes()
        if self.kind == "folder":
            return (self.path / member).read_bytes()
        size = self._tar.getmember(member).size if self.kind == "tar" else self._zip.getinfo(member).file_size
        if size > MAX_MEMBER_BYTES:
            raise UserError(f"{self.path}: entry {member!r} is {size // 2**20} MiB uncompressed, over the "
                            f"{MAX_MEMBER_BYTES // 2**20} MiB read limit; unpack the export and give the folder.")
        if self.kind == "tar":
            try:
                return self._tar.extractfile(member).read(size)
            except (tarfile.TarError, OSError, EOFError) as e:
                raise UserError(f"{self.path}: entry {member!r} cannot be read ({e}); download the export again.") from None
        try:
            with self._zip.open(member) as f:
                data = f.read(size + 1)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as e:  # RuntimeError: encrypted
            raise UserError(f"{self.path}: entry {member!r} cannot be read ({e}); download the export again.") from None
        if len(data) > size:  # the header lied about the size
            raise UserError(f"{self.path}: entry {member!r} is larger than its header says: a zip bomb, not an "
                            "export; refusing it.")
        return data

    def read_text(self, member: str) -> str:
        """``member`` decoded (utf-8, utf-8 with a BOM, utf-16 with a BOM, else latin-1, noted)."""
        if member not in self._text:
            text, encoding = decode(self.read_bytes(member), self.where(member))
            self._text[member], self.encodings[member] = text, encoding
            if encoding == "latin-1":
                self.notices.append(f"{self.name if self.kind == 'file' else self.where(member)}: not valid "
                                    "UTF-8; read as latin-1 (check accented characters).")
        return self._text[member]

    def peek(self, member: str, size: int = 4096) -> str:
        """The start of ``member`` as text, for detection (undecodable bytes replaced; never raises on content)."""
        if self.kind == "file":
            with self.path.open("rb") as f:
                data = f.read(size)
        elif self.kind == "folder":
            with (self.path / member).open("rb") as f:
                data = f.read(size)
        elif self.kind == "tar":
            data = self.read_bytes(member)[:size]
        else:
            try:
                with self._zip.open(member) as f:
                    data = f.read(size)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
                return ""
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16", "replace")
        return data.decode("utf-8", "replace").lstrip("\ufeff")

    @property
    def suffix(self) -> str:
        """The plain file's suffix, lower case (``""`` for a folder or an archive)."""
        return self.path.suffix.lower() if self.kind == "file" else ""

    def close(self) -> None:
        for archive in (self._zip, self._tar):
            if archive is not None:
                archive.close()
