"""CPU speed-ups that training and scoring share: the compact LM head (log-probs of the labels only) and
frozen bf16 weight copies (no autocast cast of every frozen weight at every step)."""
