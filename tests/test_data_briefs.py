"""Template briefs that do not hold their answer."""

import re

from support.paths import EXAMPLES

from pipeline.data.briefs import quotes_answer, template_brief
from pipeline.data.ingest import read_all
from pipeline.data.post import Post


def test_template_briefs_never_quote_the_post_or_list_its_words():
    posts = [p for r in read_all([EXAMPLES / "posts.csv"]) for p in r.posts][:200]
    posts.append(Post(text='learning how to say "1 2 3" and "hut hut hut" at army', source="x.csv"))
    briefs = [template_brief(p) for p in posts]
    assert not any(quotes_answer(b, p.text) for b, p in zip(briefs, posts))
    assert all(b.startswith("Write a ") and '"' not in b for b in briefs)
    assert {"open with a question", "open with a number", "open with a contrarian take"} <= {
        part for b in briefs for part in ("open with a question", "open with a number", "open with a contrarian take")
        if part in b.lower()}
    for brief, post in zip(briefs, posts):
        from_post = {w for w in re.findall(r"[a-z'-]+", brief.lower()) if w not in BRIEF_WORDS} & set(
            re.findall(r"[a-z'-]+", post.text.lower()))
        assert len(from_post) <= 1, (brief, post.text)  # one topic word at most, never a keyword list
        assert "hook" not in brief
    assert briefs[-1] == "Write a one-line post about learning."  # not "about learning, hut and army. Open with a hook."


BRIEF_WORDS = set("write a one line short post tweet linkedin about in your own voice open with question number "
                  "contrarian take tell it as something that happened to you keep the lines include list and".split())

