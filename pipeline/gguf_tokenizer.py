"""Gemma's tokenizer rebuilt from a GGUF file's vocabulary.

transformers 5.17 reads a Gemma GGUF's vocabulary as a Unigram model scored by the GGUF's piece
scores, but Gemma's SentencePiece model is BPE (the scores are merge priorities): the Unigram
reading splits common words ("the" -> "t", "he") and the base model's perplexity on plain English
goes from about 10 to thousands. Here the merges are derived from the same scores (as transformers
does for a SentencePiece BPE ``tokenizer.model``) and the control tokens are marked special.

llama.cpp's Gemma 3 converter reads the vocabulary only from a SentencePiece ``tokenizer.model``
(without one it asks for a BPE pre-tokenizer it does not know), so the same pieces are also written
as one: a ``ModelProto`` encoded here field by field (the ``protobuf`` package is not needed).
"""

from __future__ import annotations

import struct
from pathlib import Path

_CONTROL = 3
"""GGUF token type of control tokens (``<bos>``, ``<start_of_turn>``, ...); GGUF token types are
SentencePiece's piece types (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte)."""
_UNKNOWN = 2
_BPE = 2
"""SentencePiece's ``TrainerSpec.model_type`` for BPE."""


def _read(gguf: Path) -> dict:
    from gguf import GGUFReader

    fields = GGUFReader(str(gguf)).fields
    out = {key: fields[f"tokenizer.ggml.{key}"].contents() for key in ("tokens", "scores", "token_type")}
    for name in ("bos", "eos", "padding", "unknown"):
        out[name] = int(fields[f"tokenizer.ggml.{name}_token_id"].contents())
    return out


def sentencepiece_bpe_tokenizer(gguf: Path):
    """A ``GemmaTokenizer`` (BPE with byte fallback) from ``gguf``'s tokens and scores, adding ``<bos>``."""
    from tokenizers import AddedToken
    from transformers.convert_slow_tokenizer import generate_merges
    from transformers.models.gemma.tokenization_gemma import GemmaTokenizer

    read = _read(gguf)
    tokens, scores, types = read["tokens"], read["scores"], read["token_type"]
    vocab = {token: i for i, token in enumerate(tokens)}

    def named(key: str) -> str:
        return tokens[read[key]]

    tokenizer = GemmaTokenizer(vocab=vocab, merges=generate_merges(vocab, list(zip(tokens, scores))),
                               bos_token=named("bos"), eos_token=named("eos"), pad_token=named("padding"),
                               unk_token=named("unknown"), add_bos_token=True, add_eos_token=False)
    named_tokens = {tokenizer.bos_token, tokenizer.eos_token, tokenizer.pad_token, tokenizer.unk_token}
    control = [AddedToken(t, special=True, normalized=False) for t, kind in zip(tokens, types)
               if kind == _CONTROL and t not in named_tokens]
    tokenizer.add_special_tokens({"additional_special_tokens": control})
    return tokenizer


def _varint(value: int) -> bytes:
    out = b""
    while True:
        low, value = value & 0x7F, value >> 7
        out += bytes([low | (0x80 if value else 0)])
        if not value:
            return out


def _field(number: int, wire: int, payload: bytes) -> bytes:
    return _varint(number << 3 | wire) + payload


def _text(number: int, value: str | bytes) -> bytes:
    data = value.encode("utf-8") if isinstance(value, str) else value
    return _field(number, 2, _varint(len(data)) + data)


def _int(number: int, value: int) -> bytes:
    return _field(number, 0, _varint(value))


def write_sentencepiece_model(gguf: Path, out: Path) -> Path:
    """``gguf``'s vocabulary as a SentencePiece BPE ``tokenizer.model`` (pieces, scores and types as
    stored; the unknown token typed UNKNOWN, as SentencePiece requires; no text normalisation)."""
    read = _read(gguf)
    pieces = b""
    for i, (token, score, kind) in enumerate(zip(read["tokens"], read["scores"], read["token_type"])):
        kind = _UNKNOWN if i == read["unknown"] else int(kind)
        pieces += _text(1, _text(1, token) + _field(2, 5, struct.pack("<f", float(score))) + _int(3, kind))
    trainer = (_int(3, _BPE) + _int(4, len(read["tokens"])) + _int(35, 1) + _int(40, read["unknown"])
               + _int(41, read["bos"]) + _int(42, read["eos"]) + _int(43, read["padding"]))
    normalizer = _text(1, "identity") + _int(3, 0) + _int(4, 0) + _int(5, 1)
    out.write_bytes(pieces + _text(2, trainer) + _text(3, normalizer))
    return out
