"""Gemma's tokenizer rebuilt from a GGUF file's vocabulary.

transformers 5.17 reads a Gemma GGUF's vocabulary as a Unigram model scored by the GGUF's piece
scores, but Gemma's SentencePiece model is BPE (the scores are merge priorities): the Unigram
reading splits common words ("the" -> "t", "he") and the base model's perplexity on plain English
goes from about 10 to thousands. Here the merges are derived from the same scores (as transformers
does for a SentencePiece BPE ``tokenizer.model``) and the control tokens are marked special.
"""

from __future__ import annotations

from pathlib import Path

_CONTROL = 3
"""GGUF token type of control tokens (``<bos>``, ``<start_of_turn>``, ...)."""


def sentencepiece_bpe_tokenizer(gguf: Path):
    """A ``GemmaTokenizer`` (BPE with byte fallback) from ``gguf``'s tokens and scores, adding ``<bos>``."""
    from gguf import GGUFReader
    from tokenizers import AddedToken
    from transformers.convert_slow_tokenizer import generate_merges
    from transformers.models.gemma.tokenization_gemma import GemmaTokenizer

    fields = GGUFReader(str(gguf)).fields
    tokens = fields["tokenizer.ggml.tokens"].contents()
    scores = fields["tokenizer.ggml.scores"].contents()
    types = fields["tokenizer.ggml.token_type"].contents()
    vocab = {token: i for i, token in enumerate(tokens)}

    def named(key: str) -> str:
        return tokens[int(fields[f"tokenizer.ggml.{key}_token_id"].contents())]

    tokenizer = GemmaTokenizer(vocab=vocab, merges=generate_merges(vocab, list(zip(tokens, scores))),
                               bos_token=named("bos"), eos_token=named("eos"), pad_token=named("padding"),
                               unk_token=named("unknown"), add_bos_token=True, add_eos_token=False)
    named_tokens = {tokenizer.bos_token, tokenizer.eos_token, tokenizer.pad_token, tokenizer.unk_token}
    control = [AddedToken(t, special=True, normalized=False) for t, kind in zip(tokens, types)
               if kind == _CONTROL and t not in named_tokens]
    tokenizer.add_special_tokens({"additional_special_tokens": control})
    return tokenizer
