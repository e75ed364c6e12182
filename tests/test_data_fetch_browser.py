"""Public pages rendered in headless Chromium (Debian's) from a loopback site: blog, script-built profile, errors."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support.fetch_server import BLOG, BLOG_PAGE_2, page, serve_site, serve_slow

from pipeline.data.ingest import ingest
from pipeline.data.remote.fetch import CHROMIUM, FetchSettings, fetch_posts
from pipeline.errors import UserError

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run `make browser` (apt-get install chromium).")


def serve_pages(server) -> None:
    serve_site(server)
    server.routes["/alice"] = page("profile.html")
    server.routes["/members"] = lambda q: (302, "/login?next=/members", "")
    server.routes["/login"] = page("login.html")
    serve_slow(server, "/slow", 4)


def test_blog_two_pages_rendered_then_cached(loopback, tmp_path):
    serve_pages(loopback)
    out, settings = tmp_path / "posts.jsonl", FetchSettings(delay_s=0.2, cache_dir=tmp_path / "cache")
    report = fetch_posts([f"{loopback.url}/blog.html"], out, settings)
    assert [p.text for p in ingest(out).posts] == BLOG + BLOG_PAGE_2
    assert report.cached_pages == 0 and loopback.paths("/blog") == ["/blog.html", "/blog2.html"]
    again = fetch_posts([f"{loopback.url}/blog.html"], out, settings)
    assert again.cached_pages == 2 and loopback.paths("/blog") == ["/blog.html", "/blog2.html"]


def test_fetch_called_where_an_asyncio_loop_runs(loopback, tmp_path):
    """A notebook or an async server calls the fetch with a loop running; Playwright's sync API refuses such a thread."""
    serve_pages(loopback)
    out = tmp_path / "posts.jsonl"

    async def from_a_notebook_cell():
        return fetch_posts([f"{loopback.url}/blog.html"], out, FetchSettings(delay_s=0, cache_dir=tmp_path / "c"))

    # a thread of its own: pytest's thread may hold a loop already (the browser tests' Playwright)
    with ThreadPoolExecutor(1) as notebook:
        assert notebook.submit(asyncio.run, from_a_notebook_cell()).result().posts == len(BLOG + BLOG_PAGE_2)


def test_profile_built_by_script_keeps_its_counts(loopback, tmp_path):
    serve_pages(loopback)
    out = tmp_path / "posts.jsonl"
    report = fetch_posts([f"{loopback.url}/alice"], out, FetchSettings(delay_s=0, cache_dir=tmp_path / "cache"))
    assert report.by_target[f"{loopback.url}/alice"]["route"] == "page:h-entry"
    posts = ingest(out).posts
    assert [p.text for p in posts] == ["Shipping a small fix today beats a perfect refactor next month.\nEvery time.",
                                       "Read the error message. Then read it again, slowly."]
    assert [(p.likes, p.comments, p.reposts) for p in posts] == [(12, 3, 5), (1200, 40, 210)]
    assert posts[0].url == f"{loopback.url}/@alice/101" and posts[1].posted_at.isoformat() == "2024-05-28T16:45:00+00:00"


@pytest.mark.parametrize("path, expected", [
    ("/members", r"/members: the page asks for a login \(http://127\.0\.0\.1:\d+/login\?next=/members\)"),
    ("/gone", r"/gone: not found \(HTTP 404"),
    ("/slow", r"/slow: the server did not answer within 1 s"),
])
def test_login_wall_missing_page_and_timeout(loopback, tmp_path, path, expected):
    serve_pages(loopback)
    out = tmp_path / "posts.jsonl"
    with pytest.raises(UserError, match=expected):
        fetch_posts([loopback.url + path], out, FetchSettings(delay_s=0, timeout_s=1, cache_dir=tmp_path / "cache"))
    assert not out.exists() and not list((tmp_path / "cache").rglob("*.json"))
