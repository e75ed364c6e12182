"""Read a CAR v1 file of DAG-CBOR blocks (the repository a Bluesky "Export my data" downloads).

A CAR file is a varint-length-prefixed DAG-CBOR header ``{"version": 1, "roots": [CID]}`` followed
by blocks, each a varint length, a CID and the block's bytes. DAG-CBOR is CBOR restricted to
definite lengths, string map keys and tag 42 for links (a CID's bytes after a 0x00 byte). Only what
DAG-CBOR allows is read; anything else raises :class:`CarError`, which the caller words for the user.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAX_DEPTH = 64
"""Nesting deeper than this is not a repository record; stops a crafted file from exhausting the stack."""


class CarError(ValueError):
    """The bytes are not a well-formed CAR v1 / DAG-CBOR file; the message says where."""


@dataclass(frozen=True, slots=True)
class CID:
    """A content identifier, kept as its binary form (enough to look blocks up and compare links)."""

    raw: bytes


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """An unsigned LEB128 varint at ``pos`` -> (value, position after it)."""
    value = shift = 0
    while True:
        if pos >= len(data):
            raise CarError(f"truncated varint at byte {pos}")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise CarError(f"varint too long at byte {pos}")


def cid_length(data: bytes, pos: int) -> int:
    """Length in bytes of the binary CID at ``pos`` (v0: a bare sha2-256 multihash; v1: version, codec, multihash)."""
    if data[pos:pos + 2] == b"\x12\x20":
        return 34
    version, after = read_varint(data, pos)
    if version != 1:
        raise CarError(f"unknown CID version {version} at byte {pos}")
    _codec, after = read_varint(data, after)
    _hash_code, after = read_varint(data, after)
    digest_length, after = read_varint(data, after)
    if after + digest_length > len(data):
        raise CarError(f"truncated CID at byte {pos}")
    return after + digest_length - pos


class _Decoder:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise CarError(f"truncated CBOR at byte {self.pos}")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def argument(self, info: int) -> int:
        if info < 24:
            return info
        if info in (24, 25, 26, 27):
            return int.from_bytes(self.take(1 << (info - 24)), "big")
        raise CarError(f"indefinite or reserved CBOR length at byte {self.pos - 1} (not DAG-CBOR)")

    def item(self, depth: int = 0):
        if depth > MAX_DEPTH:
            raise CarError(f"CBOR nested deeper than {MAX_DEPTH} at byte {self.pos}")
        head = self.take(1)[0]
        major, info = head >> 5, head & 0x1F
        if major == 7:
            return self.simple(info)
        value = self.argument(info)
        if major == 0:
            return value
        if major == 1:
            return -1 - value
        if major == 2:
            return self.take(value)
        if major == 3:
            try:
                return self.take(value).decode("utf-8")
            except UnicodeDecodeError:
                raise CarError(f"a CBOR text string that is not UTF-8 before byte {self.pos}") from None
        if major == 4:
            return [self.item(depth + 1) for _ in range(value)]
        if major == 5:
            result = {}
            for _ in range(value):
                key = self.item(depth + 1)
                if not isinstance(key, str):
                    raise CarError(f"a CBOR map key that is not a string before byte {self.pos}")
                result[key] = self.item(depth + 1)
            return result
        # major 6: a tag; DAG-CBOR has only tag 42, a link.
        if value != 42:
            raise CarError(f"CBOR tag {value} at byte {self.pos} (DAG-CBOR allows only 42)")
        link = self.item(depth + 1)
        if not isinstance(link, bytes) or not link.startswith(b"\x00"):
            raise CarError(f"a malformed link before byte {self.pos}")
        return CID(link[1:])

    def simple(self, info: int):
        if info == 20:
            return False
        if info == 21:
            return True
        if info == 22:
            return None
        if info == 25:
            return struct.unpack(">e", self.take(2))[0]
        if info == 26:
            return struct.unpack(">f", self.take(4))[0]
        if info == 27:
            return struct.unpack(">d", self.take(8))[0]
        raise CarError(f"CBOR simple value {info} at byte {self.pos - 1} (not DAG-CBOR)")


def decode_dag_cbor(data: bytes):
    """One DAG-CBOR value; links become :class:`CID`. Trailing bytes are an error."""
    decoder = _Decoder(data)
    value = decoder.item()
    if decoder.pos != len(data):
        raise CarError(f"{len(data) - decoder.pos} bytes after the CBOR value")
    return value


def read_car(data: bytes) -> tuple[list[CID], dict[CID, bytes]]:
    """A CAR v1 file -> (its roots, every block by CID)."""
    if not data:
        raise CarError("the file is empty")
    header_length, pos = read_varint(data, 0)
    if header_length == 0 or pos + header_length > len(data):
        raise CarError("no CAR header (the header length is 0 or past the end of the file)")
    header = decode_dag_cbor(data[pos:pos + header_length])
    if not isinstance(header, dict) or header.get("version") != 1 or not isinstance(header.get("roots"), list):
        raise CarError("the header is not a CAR v1 header {version: 1, roots: [...]}")
    pos += header_length
    blocks: dict[CID, bytes] = {}
    while pos < len(data):
        length, start = read_varint(data, pos)
        end = start + length
        if length == 0 or end > len(data):
            raise CarError(f"the block at byte {pos} runs past the end of the file (truncated download?)")
        cid_end = start + cid_length(data, start)
        if cid_end > end:
            raise CarError(f"the block at byte {pos} is shorter than its CID")
        blocks[CID(data[start:cid_end])] = data[cid_end:end]
        pos = end
    return header["roots"], blocks


def looks_like_car(head: bytes) -> bool:
    """True when ``head`` (the file's first bytes) starts with a CAR v1 header."""
    try:
        length, pos = read_varint(head, 0)
        header = decode_dag_cbor(head[pos:pos + length]) if pos + length <= len(head) else None
    except CarError:
        return False
    return isinstance(header, dict) and header.get("version") == 1 and "roots" in header
