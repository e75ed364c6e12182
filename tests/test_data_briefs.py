"""Template briefs that do not hold their answer."""

from test_data_build import EXAMPLES

from pipeline.data.briefs import quotes_answer, template_brief
from pipeline.data.ingest import read_all


def test_template_briefs_never_quote_the_post_unless_asked():
    posts = [p for r in read_all([EXAMPLES / "posts.csv"]) for p in r.posts][:200]
    briefs = [template_brief(p) for p in posts]
    assert not any(quotes_answer(b, p.text) for b, p in zip(briefs, posts))
    assert all(b.startswith("Write a post about ") and '"' not in b for b in briefs)
    assert {"open with a question", "open with a number", "open with a contrarian take"} <= {
        part for b in briefs for part in ("open with a question", "open with a number", "open with a contrarian take")
        if part in b.lower()}
    quoted = [template_brief(p, quote_hook=True) for p in posts]
    assert sum(quotes_answer(b, p.text) for b, p in zip(quoted, posts)) > 150  # the old behaviour, opt-in
