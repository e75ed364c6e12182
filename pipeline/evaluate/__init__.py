"""Evaluation of base | SFT | DPO: one report per run (``eval.json``).

    scoring.py     batched log P(completion | prompt) under a model (the shared core)
    margins.py     reward margins on held-out preference pairs, chosen win rate
    perplexity.py  perplexity of the held-out SFT posts
    style.py       hook length, line breaks/bullets, fluff index (fluff_lexicon.txt), structural entropy
    similarity.py  all-MiniLM-L6-v2 embeddings: similarity to the gold posts, diversity
    judge.py       pairwise judge with the rubric (rule-based scorer, or a teacher LLM), both orders
    seemore.py     "See More" proxy: engagement classifier on the imported posts
    report.py      runs everything for a run and writes eval.json
    cli.py         ``python -m pipeline compare`` and ``python -m pipeline eval``
"""
