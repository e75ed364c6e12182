"""Compare: base | SFT | DPO side by side (``python -m pipeline compare``).

The columns are served by :mod:`pipeline.serving`; human picks are stored by :mod:`pipeline.picks`.
"""
