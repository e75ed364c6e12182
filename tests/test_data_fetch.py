"""Public page fetching without a browser: extraction from saved pages, robots.txt, the cache, timeouts, the CLI.

The rendering itself (headless Chromium) is covered by test_data_fetch_browser.py.
"""

from __future__ import annotations

import json
import time

import pytest
from support.car_fixtures import post_record
from conftest import run_cli
from support.fetch_server import (
    BLOG,
    BLOG_PAGE_2,
    HANDLE,
    NOTES,
    PAGES,
    feed_view,
    serve_author_feed,
    serve_mastodon,
    serve_site,
    status,
)

from pipeline.data.ingest import ingest
from pipeline.data.remote.fetch import FetchSettings, PageCache, RenderedPage, fetch_posts
from pipeline.data.remote.http_get import Http
from pipeline.data.remote.pages import extract_page
from pipeline.errors import UserError


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
    imported = ingest(out)  # the builder reads the file back through the source registry
    posts = imported.posts
    assert imported.kind == "fetched" and [p.text for p in posts] == BLOG + BLOG_PAGE_2
    assert posts[0].platform == "web" and posts[0].comments == 4 and posts[0].source == out.name


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
    done = run_cli("data", "fetch", f"bsky:{HANDLE}", "--out", str(out), "--bsky-api", loopback.url, "--delay-s", "0",
                   "--json", timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["ok"] and summary["posts"] == 1 and summary["by_target"][f"bsky:{HANDLE}"]["route"] == "bluesky-api"
    failed = run_cli("data", "fetch", "bsky:nobody.test", "--out", str(tmp_path / "none.jsonl"), "--bsky-api",
                     loopback.url, timeout=120)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert failed.stderr.strip().startswith("error: bsky:nobody.test:") and len(failed.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "none.jsonl").exists()


def test_no_chromium_is_one_line_saying_what_to_install(loopback, tmp_path, monkeypatch):
    from pipeline.data.remote import fetch

    serve_site(loopback)
    monkeypatch.setattr(fetch, "CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(UserError, match=r"^no Chromium at .*no-chromium; install Debian's \(apt-get install chromium"):
        fetch_posts([f"{loopback.url}/blog.html"], tmp_path / "p.jsonl", FetchSettings(delay_s=0, cache_dir=tmp_path))


def test_fetched_posts_through_the_build_are_the_posts_as_written(loopback, tmp_path, tiny_model_dir):
    """One data fetch of a Bluesky handle, a Mastodon account and a blog, then build_dataset on the file it
    wrote: the SFT answers are the posts as written (cleaned), counted per platform."""
    from support import export_fixtures as fx

    from pipeline.data import BuildSettings, build_dataset
    from pipeline.data.clean import clean_text
    from pipeline.fsio import read_jsonl

    stamp = "2025-03-0{}T09:00:00.000Z".format
    serve_author_feed(loopback, [feed_view(f"3lb{i:03d}", post_record(t, stamp(i + 1)), 5 * i, i, 0)
                                 for i, t in enumerate(fx.POSTS)][::-1])
    serve_mastodon(loopback, [status(str(200 + i), t, stamp(i + 1), host="social.example", counts=(i, 0, 0))
                              for i, t in enumerate(fx.THREAD)][::-1])
    serve_site(loopback)
    cache = PageCache(tmp_path / "cache")
    for name in ("blog.html", "blog2.html"):
        cache.put(RenderedPage(f"{loopback.url}/{name}", f"{loopback.url}/{name}", 200, (PAGES / name).read_text()))
    out = tmp_path / "ada-public.jsonl"
    fetch_posts([f"bsky:{HANDLE}", "mastodon:@alice@social.example", f"{loopback.url}/blog.html"], out,
                FetchSettings(bsky_api=loopback.url, mastodon_url=loopback.url, delay_s=0, cache_dir=cache.directory))

    report = build_dataset([out], tmp_path / "data", BuildSettings(model=str(tiny_model_dir), validation_frac=0,
                                                                  test_frac=0))
    answers = [row["messages"][-1]["content"] for row in read_jsonl(tmp_path / "data" / "sft" / "train.jsonl")]
    assert sorted(answers) == sorted(clean_text(t) for t in [*fx.POSTS, *fx.THREAD, *BLOG, *BLOG_PAGE_2])
    assert {k: v["kept"] for k, v in report.counts["per_platform"].items()} == {"bluesky": len(fx.POSTS), "mastodon": len(fx.THREAD), "web": 4}
    assert report.per_source[out.name]["kind"] == "fetched" and report.engagement["posts_with_engagement"] > 0
