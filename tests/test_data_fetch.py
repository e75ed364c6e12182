"""Public page fetching without a browser: extraction from saved pages, robots.txt, the cache, timeouts, the CLI.

The rendering itself (headless Chromium) is covered by test_data_fetch_browser.py.
"""

from __future__ import annotations

import json
import time

import pytest
from car_fixtures import post_record
from conftest import run_cli
from fetch_server import HANDLE, PAGES, feed_view, loopback, page, serve_author_feed  # noqa: F401 (fixture)

from pipeline.data.fetch import FetchSettings, PageCache, RenderedPage, fetch_posts
from pipeline.data.http_get import Http
from pipeline.data.ingest import read_posts
from pipeline.data.pages import extract_page
from pipeline.data.sources.fetched import read_fetched
from pipeline.errors import UserError

BLOG = [
    ("I stopped giving estimates in days last spring. The team now sizes work in small, medium and large, and we "
     "ship more often.\n\nThe surprise was the conversations: people argue about scope, not numbers."),
    ("Three things I learned running a ten-person meetup:\nstart on time,\nend early,\nfeed people.\n\n"
     "Everything else is optional."),
]
BLOG_PAGE_2 = [
    ("Pairing with someone new to the code base is the fastest review I know. They ask why, and half the time I do "
     "not have a good answer."),
    "The best commit last month removed 2,000 lines & nobody noticed. That is the goal.",
]
NOTES = ["A note on meetings: if it has no agenda, it is a conversation. Treat it like one.",
         ("A note on naming: the name should say what the thing is, not how it came to be.\n\n"
          "Rename early; it only gets harder."),
         "A note on rest: the bug you fought all afternoon is obvious after a walk."]


def test_blog_index_articles_with_dates_links_counts_and_next_page():
    extract = extract_page((PAGES / "blog.html").read_text(), "http://blog.test/blog.html", "blog")
    assert extract.adapter == "articles" and [p.text for p in extract.posts] == BLOG
    first, second = extract.posts
    assert first.url == "http://blog.test/2024/05/why-i-stopped-estimating.html"
    assert first.posted_at.isoformat() == "2024-05-02T08:30:00+00:00"
    assert (first.comments, first.likes, second.likes, second.comments) == (4, None, 17, None)
    assert extract.next_url == "http://blog.test/blog2.html" and not extract.login_wall


def test_page_without_articles_splits_its_main_text_at_rules():
    extract = extract_page((PAGES / "notes.html").read_text(), "http://blog.test/notes.html", "notes")
    assert extract.adapter == "readable" and [p.text for p in extract.posts] == NOTES
    assert extract.next_url is None


def test_h_entries_with_shown_counts():
    html = ('<html><body><div class="h-entry"><div class="e-content"><p>Small steps.<br>Every day.</p></div>'
            '<a class="u-url" href="/@a/1"><time class="dt-published" datetime="2024-01-02T03:04:05Z">Jan 2</time></a>'
            '<button class="reply-button" aria-label="3 replies"><span>3</span></button>'
            '<span itemprop="interactionStatistic"><meta itemprop="interactionType" '
            'content="https://schema.org/ShareAction"><meta itemprop="userInteractionCount" content="210"></span>'
            '<span class="like-count">1.2K</span></div></body></html>')
    (post,) = extract_page(html, "http://x.test/@a", "x").posts
    assert post.text == "Small steps.\nEvery day." and post.url == "http://x.test/@a/1"
    assert (post.likes, post.comments, post.reposts) == (1200, 3, 210)


def test_login_form_is_a_login_wall():
    assert extract_page((PAGES / "login.html").read_text(), "http://x.test/alice", "x").login_wall
    assert extract_page("<html><body><p>hi</p></body></html>", "http://x.test/i/flow/login?r=1", "x").login_wall


def serve_site(server) -> None:
    server.routes["/robots.txt"] = lambda q: (200, "text/plain", "User-agent: *\nDisallow: /private-area/\n")
    server.routes["/blog.html"] = page("blog.html")
    server.routes["/blog2.html"] = page("blog2.html")
    server.routes["/private-area/post.html"] = page("notes.html")


def test_robots_txt_disallow_stops_before_any_page(loopback, tmp_path):
    serve_site(loopback)
    out = tmp_path / "posts.jsonl"
    with pytest.raises(UserError, match=r"private-area/post.html: the site's robots.txt does not allow fetching it"):
        fetch_posts([f"{loopback.url}/private-area/post.html"], out, FetchSettings(delay_s=0, cache_dir=tmp_path))
    assert loopback.paths("/") == ["/robots.txt"] and not out.exists()


def test_cached_pages_are_read_without_rendering_again(loopback, tmp_path):
    """Pages rendered before come from the cache: no browser starts, no page request is made."""
    serve_site(loopback)
    cache = PageCache(tmp_path / "cache")
    for name in ("blog.html", "blog2.html"):
        url = f"{loopback.url}/{name}"
        cache.put(RenderedPage(url, url, 200, (PAGES / name).read_text()))
    out = tmp_path / "posts.jsonl"
    report = fetch_posts([f"{loopback.url}/blog.html"], out, FetchSettings(delay_s=0, cache_dir=tmp_path / "cache"))
    assert report.cached_pages == 2 and loopback.paths("/blog") == []
    assert report.by_target[f"{loopback.url}/blog.html"] == {"route": "page:articles", "posts": 4}
    posts = read_fetched(out.read_text(), out.name).posts
    assert [p.text for p in posts] == BLOG + BLOG_PAGE_2 and posts[0].platform == "web" and posts[0].comments == 4
    imported = read_posts(out)  # the builder's own JSONL import reads the same file
    assert [p.text for p in imported.posts] == BLOG + BLOG_PAGE_2 and imported.posts[0].comments == 4


def test_a_server_that_does_not_answer_in_time(loopback):
    def slow(query):
        time.sleep(2)
        return 200, "application/json", "{}"

    loopback.routes["/slow"] = slow
    started = time.monotonic()
    with pytest.raises(UserError, match=r"/slow: the server did not answer within 0.5 s; try again later or raise "
                                        r"--timeout-s"):
        Http(timeout_s=0.5, delay_s=0).get_json(f"{loopback.url}/slow", "x")
    assert time.monotonic() - started < 1.8


def test_cli_json_summary_and_one_line_error(loopback, tmp_path):
    serve_author_feed(loopback, [feed_view("3kaa", post_record("Hello from the loopback AppView, a post long enough.",
                                                               "2024-05-01T10:00:00Z"), 3, 1, 0)])
    out = tmp_path / "posts.jsonl"
    done = run_cli("data-fetch", f"bsky:{HANDLE}", "--out", str(out), "--bsky-api", loopback.url, "--delay-s", "0",
                   "--json", timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["ok"] and summary["posts"] == 1 and summary["by_target"][f"bsky:{HANDLE}"]["route"] == "bluesky-api"
    failed = run_cli("data-fetch", "bsky:nobody.test", "--out", str(tmp_path / "none.jsonl"), "--bsky-api",
                     loopback.url, timeout=120)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert failed.stderr.strip().startswith("error: bsky:nobody.test:") and len(failed.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "none.jsonl").exists()


def test_no_chromium_is_one_line_saying_what_to_install(loopback, tmp_path, monkeypatch):
    import pipeline.data.fetch as fetch

    serve_site(loopback)
    monkeypatch.setattr(fetch, "CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(UserError, match=r"^no Chromium at .*no-chromium; install Debian's \(apt-get install chromium"):
        fetch_posts([f"{loopback.url}/blog.html"], tmp_path / "p.jsonl", FetchSettings(delay_s=0, cache_dir=tmp_path))
