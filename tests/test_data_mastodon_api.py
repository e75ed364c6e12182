"""A public Mastodon account through a loopback server answering the Mastodon API's shapes."""

from __future__ import annotations

from itertools import pairwise

import pytest
from support.fetch_server import ACCOUNT_ID, mastodon_html, serve_mastodon, status

from pipeline.data.ingest import ingest
from pipeline.data.remote.fetch import FetchSettings, fetch_posts
from pipeline.data.sources.html_text import html_to_text
from pipeline.errors import UserError

HOST = "social.example"
LONG_LINK = "Slides from my talk on load shedding are up: https://example.com/talks/2024/load-shedding-slides.pdf"
POEM = "Monday plan:\nwrite the test,\nmake it pass,\nstop.\n\nThat's it. That's the plan & it's < 10 lines."
THREAD = ["Things I wish I'd known about on-call, a thread.", "One: write the runbook while it hurts.",
          "Two: @bob taught me to page less and fix more. #oncall"]
REPLY = "Yes, exactly this. We moved our retros to Thursdays and people finally came."


def statuses() -> list[dict]:
    """Newest first, as the API answers."""
    return [
        status("115", REPLY, "2024-06-05T10:00:00.000Z", host=HOST, reply_to=("999", "5555"), counts=(1, 0, 0)),
        status("114", THREAD[2], "2024-06-04T09:02:00.000Z", host=HOST, reply_to=("113", ACCOUNT_ID)),
        status("113", THREAD[1], "2024-06-04T09:01:00.000Z", host=HOST, reply_to=("112", ACCOUNT_ID)),
        status("112", THREAD[0], "2024-06-04T09:00:00.000Z", host=HOST, counts=(30, 4, 9)),
        status("111", POEM, "2024-06-03T08:00:00.000Z", host=HOST, counts=(7, 2, 1)),
        status("110", LONG_LINK, "2024-06-02T08:00:00.000Z", host=HOST, counts=(3, 0, 2)),
    ]


@pytest.mark.parametrize("text", [LONG_LINK, POEM, THREAD[2]])
def test_content_html_back_to_the_text(text):
    assert html_to_text(mastodon_html(text, HOST)) == text


def test_public_account_round_trip(loopback, tmp_path):
    serve_mastodon(loopback, statuses(), page_size=2)
    out = tmp_path / "posts.jsonl"
    settings = FetchSettings(mastodon_url=loopback.url, delay_s=0)
    report = fetch_posts([f"mastodon:@alice@{HOST}"], out, settings)
    assert report.by_target[f"mastodon:@alice@{HOST}"] == {"route": "mastodon-api", "posts": 4}
    assert len(loopback.paths(f"/api/v1/accounts/{ACCOUNT_ID}/statuses")) == 4  # three full pages, one empty
    posts = {p.text: p for p in ingest(out).posts}
    assert set(posts) == {LONG_LINK, POEM, "\n\n".join(THREAD), REPLY}
    thread = posts["\n\n".join(THREAD)]
    assert (thread.likes, thread.comments, thread.reposts, thread.kind) == (30, 4, 9, "thread")
    assert thread.url == f"https://{HOST}/@alice/112" and thread.platform == "mastodon"
    assert posts[REPLY].kind == "reply" and posts[POEM].posted_at.isoformat() == "2024-06-03T08:00:00+00:00"


def test_profile_url_on_a_mastodon_server_goes_to_the_api(loopback, tmp_path):
    serve_mastodon(loopback, statuses(), page_size=10)
    out = tmp_path / "posts.jsonl"
    report = fetch_posts([f"{loopback.url}/@alice"], out, FetchSettings(delay_s=0))
    assert report.by_target[f"{loopback.url}/@alice"]["route"] == "mastodon-api" and report.posts == 4


def test_requests_to_one_server_are_spaced_by_the_delay(loopback, tmp_path):
    serve_mastodon(loopback, statuses(), page_size=2)
    fetch_posts(["mastodon:@alice@x.example"], tmp_path / "p.jsonl", FetchSettings(mastodon_url=loopback.url,
                                                                                     delay_s=0.15))
    times = [t for t, _ in loopback.requests]
    assert len(times) == 5 and min(b - a for a, b in pairwise(times)) >= 0.14


@pytest.mark.parametrize("acct, expected", [
    ("nobody", r"^mastodon:@nobody@127\.0\.0\.1:\d+: not found \(HTTP 404"),
    ("locked", r"^mastodon:@locked@127\.0\.0\.1:\d+: private or needs a login \(HTTP 401"),
])
def test_missing_or_private_account(loopback, tmp_path, acct, expected):
    serve_mastodon(loopback, statuses())
    out = tmp_path / "posts.jsonl"
    with pytest.raises(UserError, match=expected):
        fetch_posts([f"mastodon:@{acct}@{HOST}"], out, FetchSettings(mastodon_url=loopback.url, delay_s=0))
    assert not out.exists()


def test_a_handle_without_a_server_is_refused():
    with pytest.raises(UserError, match="write the account as @user@server"):
        fetch_posts(["mastodon:alice"], "x.jsonl")


def test_a_quote_posts_fallback_line_is_not_the_authors_words():
    content = ('<p class="quote-inline">RE: <a href="https://social.example/@bob/1">social.example/@bob/1</a></p>'
               '<p>Strongly agree with this.</p>')
    assert html_to_text(content) == "Strongly agree with this."
