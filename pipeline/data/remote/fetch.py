"""Fetch the user's own public posts: a blog or an open-platform profile -> a posts JSONL the builder reads.

Each target is one of:

- ``bsky:HANDLE`` or ``https://bsky.app/profile/HANDLE``: the Bluesky AppView API (:mod:`.bluesky_api`);
- ``mastodon:@user@host`` or ``https://HOST/@user`` on a Mastodon server: its open API (:mod:`.mastodon_api`);
- any other ``http(s)`` URL: rendered in headless Chromium (Debian's, driven by Playwright), its
  posts extracted by :mod:`.pages`, following the page's ``rel="next"`` link up to ``max_pages``.

Pages are fetched only where the site's robots.txt allows it, at most one request per ``delay_s``
per site, and cached (the rendered HTML) under ``$VOICETUNE_HOME/cache/fetch``. A missing or
private profile, a server that does not answer in time and a page that shows a login form stop
the fetch with a one-line error; nothing is written until every target has been read.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from ...errors import UserError
from ...flags import SettingsFlags
from ...fsio import atomic_write_json, atomic_write_jsonl
from ...workspace import voicetune_home
from ..post import Post
from ..sources.base import IngestResult
from .bluesky_api import DEFAULT_APPVIEW, fetch_author_feed
from .http_get import USER_AGENT, Http, check_status, timeout_error
from .mastodon_api import fetch_account, is_mastodon_server, parse_acct
from .pages import extract_page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
ROBOTS_AGENT = "VoiceTune-fetch"
"""The name robots.txt rules are matched against (the first word of our User-Agent)."""
NETWORK_IDLE_WAIT_MS = 5000
"""After the page loads, wait this long at most for scripts to finish fetching (profiles render late)."""
_BSKY_PROFILE = re.compile(r"^/profile/(?P<handle>[^/]+)")
_AT_USER = re.compile(r"^/@(?P<user>[A-Za-z0-9_.-]+)/?$")


@dataclass
class FetchSettings:
    """How ``data fetch`` reads public posts (its flags and the Dataset tab's fetch are these fields)."""

    delay_s: float = 2.0
    """Seconds between two requests to the same site (a rate limit; be kind to small servers)."""
    timeout_s: float = 20.0
    """Seconds to wait for a server or a page before giving up."""
    max_pages: int = 5
    """Pages to read per URL, following its rel="next" link (older posts)."""
    max_posts: int | None = None
    """Stop after this many posts per API target (Bluesky, Mastodon); all of them when not given."""
    use_cache: bool = True
    """Reuse pages rendered before (the API targets are always asked again: their counts change)."""
    cache_dir: Path | None = None
    """Where rendered pages are cached (default: $VOICETUNE_HOME/cache/fetch)."""
    bsky_api: str = DEFAULT_APPVIEW
    """Bluesky AppView base URL for bsky: targets."""
    mastodon_url: str | None = None
    """Server URL for mastodon:@user@host targets (default: https://HOST of the handle)."""


FETCH_FLAGS = SettingsFlags(FetchSettings)
"""``python -m pipeline data fetch``'s flags (and the Dataset tab's fetch command)."""


@dataclass
class FetchReport:
    out: Path
    posts: int
    by_target: dict[str, dict] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)
    notices: list[str] = field(default_factory=list)
    requests: int = 0
    cached_pages: int = 0

    def summary(self) -> dict:
        return {"out": str(self.out), "posts": self.posts, "by_target": self.by_target, "skipped": dict(self.skipped),
                "notices": self.notices, "requests": self.requests, "cached_pages": self.cached_pages}


@dataclass
class RenderedPage:
    url: str
    final_url: str
    status: int
    html: str


class Browser:
    """Headless Chromium through Playwright, started on the first page and closed with the fetch.

    Every Playwright call runs on one thread of its own: Playwright's sync API refuses a thread where an
    asyncio loop is running (a notebook, an async server, another Playwright), and its objects belong to
    the thread that made them.
    """

    def __init__(self, http: Http, timeout_s: float):
        self.http = http
        self.timeout_ms = timeout_s * 1000
        self._playwright = self._browser = self._context = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")

    def render(self, url: str) -> RenderedPage:
        return self._thread.submit(self._render, url).result()

    def close(self) -> None:
        self._thread.submit(self._close).result()
        self._thread.shutdown()

    def _render(self, url: str) -> RenderedPage:
        page = self._start().new_page()  # first: it says what to install when Playwright or Chromium is missing
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        self.http.wait_turn(url)
        try:
            response = page.goto(url, timeout=self.timeout_ms, wait_until="load")
            try:
                page.wait_for_load_state("networkidle", timeout=min(self.timeout_ms, NETWORK_IDLE_WAIT_MS))
            except PlaywrightTimeout:
                pass  # a page that keeps polling is rendered enough by now
            return RenderedPage(url, page.url, response.status if response else 200, page.content())
        except PlaywrightTimeout:
            raise timeout_error(url, self.timeout_ms / 1000) from None
        except PlaywrightError as e:
            reason = str(e).splitlines()[0]
            raise UserError(f"{url}: the browser could not open it ({reason}); check the address.") from None
        finally:
            page.close()
            self.http.done(url)

    def _start(self):
        if self._browser is None:
            if not Path(CHROMIUM).exists():
                raise UserError(f"no Chromium at {CHROMIUM}; install Debian's (apt-get install chromium, or make "
                                "browser) to fetch web pages.")
            try:
                from playwright.sync_api import Error, sync_playwright
            except ImportError:
                raise UserError("fetching web pages needs Playwright: pip install playwright (its driver ships in "
                                "the wheel; Chromium comes from Debian).") from None
            self._playwright = sync_playwright().start()
            try:
                self._browser = self._playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                                                 headless=True)
            except Error as e:
                self._playwright.stop()
                self._playwright = None
                raise UserError(f"Chromium ({CHROMIUM}) did not start: {str(e).splitlines()[0]}; reinstall it "
                                "(apt-get install --reinstall chromium).") from None
            self._context = self._browser.new_context(user_agent=USER_AGENT)  # one for all pages: cookies persist
        return self._context

    def _close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._playwright.stop()
            self._browser = self._playwright = self._context = None


class Robots:
    """robots.txt of each site, read once; 401/403 or a server error there means nothing may be fetched."""

    def __init__(self, http: Http):
        self.http = http
        self._parsers: dict[str, RobotFileParser] = {}

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        parser = self._parsers.get(origin)
        if parser is None:
            parser = RobotFileParser(origin + "/robots.txt")
            response = self.http.get(origin + "/robots.txt")
            if response.status in (401, 403) or response.status >= 500:
                parser.disallow_all = True
            elif response.status >= 400:
                parser.allow_all = True
            else:
                parser.parse(response.body.decode("utf-8", errors="replace").splitlines())
            self._parsers[origin] = parser
        return parser.can_fetch(ROBOTS_AGENT, url)


class PageCache:
    """Rendered pages by URL, one JSON file each."""

    def __init__(self, directory: Path | None):
        self.directory = Path(directory) if directory else voicetune_home() / "cache" / "fetch"

    def _path(self, url: str) -> Path:
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.directory / key[:2] / f"{key}.json"

    def get(self, url: str) -> RenderedPage | None:
        try:
            return RenderedPage(**json.loads(self._path(url).read_text(encoding="utf-8"))["page"])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or unreadable: render again

    def put(self, page: RenderedPage) -> None:
        atomic_write_json(self._path(page.url), {"fetched_at": datetime.now(timezone.utc).isoformat(),
                                                 "page": vars(page)})


class Fetcher:
    """Reads targets one by one with shared politeness (rate limit, robots, cache) and one browser."""

    def __init__(self, settings: FetchSettings, log: Callable[..., None]):
        self.settings = settings
        self.log = log
        self.http = Http(timeout_s=settings.timeout_s, delay_s=settings.delay_s)
        self.robots = Robots(self.http)
        self.cache = PageCache(settings.cache_dir)
        self.browser = Browser(self.http, settings.timeout_s)
        self.cached_pages = 0

    def read(self, target: str) -> tuple[IngestResult, str]:
        """The posts of one target and the route that read them."""
        target = target.strip()
        if target.startswith("bsky:"):
            return self._bluesky(target[len("bsky:"):]), "bluesky-api"
        if target.startswith("mastodon:"):
            user, host = parse_acct(target[len("mastodon:"):])
            return self._mastodon(user, self.settings.mastodon_url or f"https://{host}"), "mastodon-api"
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UserError(f"{target}: not a URL, bsky:HANDLE or mastodon:@user@host; give a public page's "
                            "https:// address.")
        profile = _BSKY_PROFILE.match(parts.path)
        if parts.hostname == "bsky.app" and profile:
            return self._bluesky(profile["handle"]), "bluesky-api"
        at_user = _AT_USER.match(parts.path)
        origin = f"{parts.scheme}://{parts.netloc}"
        if at_user and parts.hostname != "medium.com" and is_mastodon_server(origin, self.http):
            return self._mastodon(at_user["user"], origin), "mastodon-api"
        return self._pages(target)

    def _bluesky(self, handle: str) -> IngestResult:
        return fetch_author_feed(handle, self.http, base_url=self.settings.bsky_api, max_posts=self.settings.max_posts)

    def _mastodon(self, user: str, base_url: str) -> IngestResult:
        return fetch_account(user, base_url, self.http, max_posts=self.settings.max_posts)

    def _pages(self, start: str) -> tuple[IngestResult, str]:
        result = IngestResult(Path(start), "web")
        adapters, seen, url = [], set(), start
        while url and url not in seen and len(seen) < self.settings.max_pages:
            seen.add(url)
            if not self.robots.allowed(url):
                if url == start:
                    raise UserError(f"{url}: the site's robots.txt does not allow fetching it; export your posts "
                                    "from the site instead.")
                result.notices.append(f"{url}: robots.txt does not allow it; stopped there.")
                break
            page, cached = self._render(url)
            extract = extract_page(page.html, page.final_url, start)
            if extract.login_wall:
                raise UserError(f"{url}: the page asks for a login ({page.final_url}); only public pages can be "
                                "fetched: export your posts from the site instead.")
            if extract.posts and not cached:  # a login wall or an empty page is not kept: the next try renders again
                self.cache.put(page)
            for post in extract.posts:
                post.line = len(result.posts) + 1
                result.posts.append(post)
            adapters.append(extract.adapter)
            self.log(f"{url}: {len(extract.posts)} posts ({extract.adapter})")
            url = extract.next_url if _same_site(extract.next_url, start) else None
        if not result.posts:
            raise UserError(f"{start}: no post text found on the page; give the address of a blog post, a blog's "
                            "index or a public profile.")
        return result, "page:" + "+".join(dict.fromkeys(adapters))

    def _render(self, url: str) -> tuple[RenderedPage, bool]:
        """The page and whether it came from the cache."""
        page = self.cache.get(url) if self.settings.use_cache else None
        if page is not None:
            self.cached_pages += 1
            return page, True
        page = self.browser.render(url)
        check_status(page.status, page.final_url, url)
        return page, False


def _same_site(url: str | None, start: str) -> bool:
    """Older posts are followed on the site asked for only (a "next" link to elsewhere is someone else's page)."""
    return url is not None and urlsplit(url).netloc == urlsplit(start).netloc


def post_row(post: Post, target: str) -> dict:
    """One line of the fetched posts JSONL (the builder's JSONL columns, plus kind, platform and the target)."""
    row = {"text": post.text, "kind": post.kind, "platform": post.platform, "fetched_from": target}
    for name in ("url", "author", "likes", "comments", "reposts"):
        if getattr(post, name) is not None:
            row[name] = getattr(post, name)
    for name in ("posted_at", "scraped_at"):
        if getattr(post, name) is not None:
            row[name] = getattr(post, name).isoformat()
    return row


def fetch_posts(targets: list[str], out: str | Path, settings: FetchSettings | None = None,
                log: Callable[..., None] = lambda *a, **k: None) -> FetchReport:
    """Fetch every target's public posts and write them to ``out`` (JSONL, replaced atomically)."""
    settings = settings or FetchSettings()
    if not targets:
        raise UserError("nothing to fetch; give a page URL, bsky:HANDLE or mastodon:@user@host.")
    out = Path(out)
    if out.suffix.lower() != ".jsonl":
        raise UserError(f"{out}: the posts are written as JSONL; name the file .jsonl.")
    fetcher = Fetcher(settings, log)
    report = FetchReport(out, 0)
    rows = []
    try:
        for target in dict.fromkeys(targets):
            result, route = fetcher.read(target)
            rows += [post_row(post, target) for post in result.posts]
            report.by_target[target] = {"route": route, "posts": len(result.posts)}
            report.skipped.update(result.skipped)
            report.notices += result.notices
    finally:
        fetcher.browser.close()
    if not rows:
        raise UserError(f"no public posts found at {', '.join(targets)}; nothing written.")
    atomic_write_jsonl(out, rows)
    report.posts, report.requests, report.cached_pages = len(rows), fetcher.http.requests, fetcher.cached_pages
    return report
