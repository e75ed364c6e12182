"""What the voice detector sees in a text, apart from the reference model's surprisal.

* hashed character n-grams (2-4, within word boundaries) and hashed words and word pairs: spelling,
  punctuation habits, vocabulary;
* function-word rates (``FUNCTION_WORDS``, per word): the stylometric fingerprint that topic does not move;
* layout (``LAYOUT``): length, lines, blank lines, bullets, punctuation, case, emoji, hashtags,
  mentions and links.

Character and word n-grams cannot tell word salad made of the author's own words from the author;
:mod:`.surprisal` adds what can.
"""

from __future__ import annotations

import re

FUNCTION_WORDS = tuple("""
a about above after again against all also although am among an and any are as at be because been before
being below between both but by can could did do does doing down during each either even every few for
from further had has have having he her here hers him his how however i if in into is it its itself just
least less may me might more most much must my neither no nor not now of off on once one only or other
our out over own same shall she should since so some such than that the their them then there these they
this those though through thus to too under until up upon us very was we were what when where whether
which while who whom whose why will with within without would yet you your
""".split())
"""A fixed list of English function words (articles, pronouns, auxiliaries, prepositions, conjunctions)."""

LAYOUT = ("chars_log", "words_log", "lines", "blank_lines", "bullet_lines", "mean_line_words", "mean_word_chars",
          "periods", "commas", "exclamations", "questions", "colons", "ellipses", "quotes", "dashes",
          "uppercase_ratio", "all_caps_words", "emoji", "hashtags", "mentions", "urls", "digits")
"""Layout features, in this order (punctuation and symbols per 100 characters; counts per post)."""

_WORD = re.compile(r"[A-Za-z']+")
BULLET_LINE = re.compile(r"^\s*(?:[-*•→▪✅✔]+|\d+[.)])\s+")
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF]")
HASHTAG = re.compile(r"(?<!\w)#\w+")
MENTION = re.compile(r"(?<!\w)@\w+")
URL = re.compile(r"https?://\S+|www\.\S+|\[URL\]")


def layout_features(text: str) -> list[float]:
    """``LAYOUT`` of one text."""
    import math

    lines = text.splitlines() or [""]
    filled = [line for line in lines if line.strip()]
    words = text.split()
    letters = [c for c in text if c.isalpha()]
    per_100 = 100.0 / max(1, len(text))
    return [
        math.log1p(len(text)), math.log1p(len(words)), float(len(filled)),
        float(sum(1 for a, b in zip(lines, lines[1:]) if a.strip() and not b.strip())),
        float(sum(bool(BULLET_LINE.match(line)) for line in filled)),
        len(words) / max(1, len(filled)), sum(len(w) for w in words) / max(1, len(words)),
        text.count(".") * per_100, text.count(",") * per_100, text.count("!") * per_100, text.count("?") * per_100,
        text.count(":") * per_100, (text.count("...") + text.count("…")) * per_100,
        sum(text.count(q) for q in "\"“”") * per_100, sum(text.count(d) for d in ("—", "–", " - ")) * per_100,
        sum(c.isupper() for c in letters) / max(1, len(letters)),
        float(sum(1 for w in words if len(w) > 1 and w.isupper() and w.isalpha())),
        float(len(EMOJI.findall(text))), float(len(HASHTAG.findall(text))), float(len(MENTION.findall(text))),
        float(len(URL.findall(text))), sum(c.isdigit() for c in text) * per_100,
    ]


def function_word_rates(text: str) -> list[float]:
    """How often each of ``FUNCTION_WORDS`` occurs, per word of ``text``."""
    words = [w.lower() for w in _WORD.findall(text)]
    index = {w: i for i, w in enumerate(FUNCTION_WORDS)}
    rates = [0.0] * len(FUNCTION_WORDS)
    for word in words:
        if word in index:
            rates[index[word]] += 1
    return [r / max(1, len(words)) for r in rates]


def style_features(text: str) -> list[float]:
    """Function-word rates then layout: the dense, model-free part of the detector's view."""
    return function_word_rates(text) + layout_features(text)


def ngram_features(texts: list[str]):
    """Hashed character 2-4-grams and hashed words and word pairs, each block scaled to unit length
    per text (a sparse matrix, no fitting: the same text always gets the same row)."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import HashingVectorizer

    chars = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4), n_features=2 ** 12, alternate_sign=False,
                              lowercase=False)
    words = HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=2 ** 12, alternate_sign=False,
                              token_pattern=r"(?u)\b\w+\b|[^\w\s]")
    return hstack([chars.transform(texts), words.transform(texts)]).tocsr()
