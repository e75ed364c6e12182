"""A Bluesky repository ``.car`` in the real shape, built by the tests.

A tiny DAG-CBOR encoder (canonical: map keys sorted by length then bytes, links as tag 42), CIDv1
(dag-cbor, sha2-256), a Merkle search tree with atproto's key layers (leading zero bits of the
key's SHA-256, two per layer) and prefix-compressed keys, a signed-commit-shaped root, and the
CAR v1 framing (varint lengths).
"""

from __future__ import annotations

import hashlib
import struct

from pipeline.data.sources.car import CID


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | info]) + n.to_bytes(size, "big")
    raise ValueError(n)


def dag_cbor(value) -> bytes:
    if value is None:
        return b"\xf6"
    if value is True:
        return b"\xf5"
    if value is False:
        return b"\xf4"
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, float):
        return b"\xfb" + struct.pack(">d", value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        data = value.encode("utf-8")
        return _head(3, len(data)) + data
    if isinstance(value, list):
        return _head(4, len(value)) + b"".join(dag_cbor(v) for v in value)
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return _head(5, len(keys)) + b"".join(dag_cbor(k) + dag_cbor(value[k]) for k in keys)
    if isinstance(value, CID):
        return _head(6, 42) + dag_cbor(b"\x00" + value.raw)
    raise TypeError(type(value))


def cid_of(block: bytes) -> CID:
    return CID(b"\x01\x71\x12\x20" + hashlib.sha256(block).digest())  # CIDv1, dag-cbor, sha2-256


class RepoBuilder:
    """Blocks of one repository; ``car()`` frames them with the commit as the root."""

    def __init__(self, did: str):
        self.did = did
        self.blocks: dict[CID, bytes] = {}

    def put(self, value) -> CID:
        block = dag_cbor(value)
        cid = cid_of(block)
        self.blocks[cid] = block
        return cid

    @staticmethod
    def layer(key: str) -> int:
        digest, zeros = hashlib.sha256(key.encode()).digest(), 0
        for byte in digest:
            if byte == 0:
                zeros += 8
                continue
            zeros += 8 - byte.bit_length()
            break
        return zeros // 2

    def _node(self, items: list[tuple[str, CID]], layer: int) -> CID | None:
        if not items:
            return None
        groups, entries = [[]], []
        for key, cid in items:
            if self.layer(key) == layer:
                entries.append((key, cid))
                groups.append([])
            else:
                groups[-1].append((key, cid))
        node, previous = {"l": self._node(groups[0], layer - 1) if layer else None, "e": []}, b""
        for (key, cid), after in zip(entries, groups[1:]):
            raw = key.encode()
            common = next((i for i, (a, b) in enumerate(zip(previous, raw)) if a != b), min(len(previous), len(raw)))
            node["e"].append({"p": common, "k": raw[common:], "v": cid,
                              "t": self._node(after, layer - 1) if layer else None})
            previous = raw
        return self.put(node)

    def car(self, records: dict[str, dict]) -> bytes:
        """``{"collection/rkey": record}`` -> the repository's CAR bytes."""
        items = sorted((key, self.put(record)) for key, record in records.items())
        top = max((self.layer(k) for k, _ in items), default=0)
        commit = self.put({"did": self.did, "version": 3, "data": self._node(items, top) or self.put({"e": [],
                           "l": None}), "rev": "3l6hxjrwvbs2k", "prev": None, "sig": b"\x11" * 64})
        header = dag_cbor({"version": 1, "roots": [commit]})
        ordered = [(commit, self.blocks[commit])] + [(c, b) for c, b in self.blocks.items() if c != commit]
        body = b"".join(varint(len(cid.raw) + len(block)) + cid.raw + block for cid, block in ordered)
        return varint(len(header)) + header + body


def post_record(text: str, created_at: str, *, links: dict[str, str] | None = None, reply_to: str | None = None,
                root: str | None = None, quote: str | None = None) -> dict:
    """An ``app.bsky.feed.post`` record; ``links``: shown text -> full URI (a link facet each, byte offsets)."""
    record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": created_at, "langs": ["en"]}
    facets = []
    for shown, uri in (links or {}).items():
        start = text.encode().index(shown.encode())
        facets.append({"$type": "app.bsky.richtext.facet", "index": {"byteStart": start,
                       "byteEnd": start + len(shown.encode())},
                       "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}]})
    if facets:
        record["facets"] = facets
    ref = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
    if reply_to:
        record["reply"] = {"root": {"cid": ref, "uri": root or reply_to}, "parent": {"cid": ref, "uri": reply_to}}
    if quote:
        record["embed"] = {"$type": "app.bsky.embed.record", "record": {"cid": ref, "uri": quote}}
    return record
