"""A loopback HTTP server for the fetch tests: the Bluesky AppView and Mastodon API shapes, saved pages
and the posts they hold (the ``loopback`` fixture in conftest.py starts one per test).

Nothing here reaches the internet. Routes map a path to a function of the query that returns
``(status, content type, body)``; every request is logged so tests can check paging and rate limits.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

PAGES = Path(__file__).resolve().parents[1] / "fetch_pages"
DID = "did:plc:z72i7hdynmk6r22z27h6tvur"
HANDLE = "alice.test"
ACCOUNT_ID = "109302587218732543"


class LoopbackServer:
    def __init__(self):
        self.routes: dict[str, callable] = {}
        self.requests: list[tuple[float, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                server.requests.append((time.monotonic(), self.path))
                route = server.routes.get(parts.path)
                if route is None:
                    status, kind, body = 404, "text/html", b"<html><body><h1>Not Found</h1></body></html>"
                else:
                    status, kind, body = route({k: v[0] for k, v in parse_qs(parts.query).items()})
                body = body.encode("utf-8") if isinstance(body, str) else body
                self.send_response(status)
                if status in (301, 302):
                    self.send_header("Location", kind)
                    kind = "text/html"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def paths(self, prefix: str) -> list[str]:
        return [p for _, p in self.requests if p.startswith(prefix)]


def as_json(payload, status: int = 200):
    return status, "application/json; charset=utf-8", json.dumps(payload)


def page(name: str):
    return lambda query: (200, "text/html; charset=utf-8", (PAGES / name).read_text(encoding="utf-8"))


# ----- a blog: two pages of articles (blog.html, blog2.html) and a page of notes split by rules -----

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


def serve_site(server: LoopbackServer) -> None:
    """The blog's pages, and a robots.txt that forbids /private-area/."""
    server.routes["/robots.txt"] = lambda q: (200, "text/plain", "User-agent: *\nDisallow: /private-area/\n")
    server.routes["/blog.html"] = page("blog.html")
    server.routes["/blog2.html"] = page("blog2.html")
    server.routes["/private-area/post.html"] = page("notes.html")


def serve_slow(server: LoopbackServer, path: str, seconds: float) -> None:
    """``path`` answers only after ``seconds`` (a server that times out)."""
    def slow(query):
        time.sleep(seconds)
        return 200, "text/html", "<html><body><p>late</p></body></html>"

    server.routes[path] = slow


# ----- Bluesky AppView -----

def feed_view(rkey: str, record: dict, likes: int, replies: int, reposts: int) -> dict:
    """One ``app.bsky.feed.defs#feedViewPost`` of the author's own post."""
    return {"post": {"uri": f"at://{DID}/app.bsky.feed.post/{rkey}", "cid": "bafyreib2rxk3rh6kzwq",
                     "author": {"did": DID, "handle": HANDLE, "displayName": "Alice"}, "record": record,
                     "replyCount": replies, "repostCount": reposts, "likeCount": likes, "quoteCount": 0,
                     "indexedAt": record["createdAt"], "labels": []}}


def serve_author_feed(server: LoopbackServer, views: list[dict], page_size: int = 2) -> None:
    """getAuthorFeed over ``views`` (newest first), ``page_size`` a page, the cursor an offset."""
    def author_feed(query):
        if query.get("actor") not in (HANDLE, DID):
            return as_json({"error": "InvalidRequest", "message": "Profile not found"}, 400)
        start = int(query.get("cursor", 0))
        chunk = views[start:start + page_size]
        payload = {"feed": chunk}
        if start + page_size < len(views):
            payload["cursor"] = str(start + page_size)
        return as_json(payload)

    server.routes["/xrpc/app.bsky.feed.getAuthorFeed"] = author_feed


# ----- Mastodon -----

def mastodon_html(text: str, host: str) -> str:
    """Post text as Mastodon renders ``content``: paragraphs, ``<br />``, shortened links, mentions."""
    def inline(line: str) -> str:
        out = []
        for token in re.split(r"(https?://\S+|@\w+|#\w+)", line):
            if token.startswith("http"):
                scheme, rest = token.split("://", 1)
                out.append(f'<a href="{html.escape(token)}" rel="nofollow noopener noreferrer" translate="no" '
                           f'target="_blank"><span class="invisible">{scheme}://</span><span class="ellipsis">'
                           f'{html.escape(rest[:20])}</span><span class="invisible">{html.escape(rest[20:])}</span></a>')
            elif token.startswith("@"):
                out.append(f'<span class="h-card" translate="no"><a href="https://{host}/{token}" '
                           f'class="u-url mention">@<span>{token[1:]}</span></a></span>')
            elif token.startswith("#"):
                out.append(f'<a href="https://{host}/tags/{token[1:]}" class="mention hashtag" rel="tag">#<span>'
                           f'{token[1:]}</span></a>')
            else:
                out.append(html.escape(token))
        return "".join(out)

    return "".join("<p>" + "<br />".join(inline(line) for line in para.split("\n")) + "</p>"
                   for para in text.split("\n\n"))


def status(status_id: str, text: str, created_at: str, *, host: str, reply_to: tuple[str, str] | None = None,
           counts=(0, 0, 0)) -> dict:
    """One status of ``/api/v1/accounts/:id/statuses`` (reply_to: (status id, account id))."""
    favourites, replies, reblogs = counts
    return {"id": status_id, "created_at": created_at, "in_reply_to_id": reply_to[0] if reply_to else None,
            "in_reply_to_account_id": reply_to[1] if reply_to else None, "sensitive": False, "spoiler_text": "",
            "visibility": "public", "language": "en", "uri": f"https://{host}/users/alice/statuses/{status_id}",
            "url": f"https://{host}/@alice/{status_id}", "replies_count": replies, "reblogs_count": reblogs,
            "favourites_count": favourites, "edited_at": None, "content": mastodon_html(text, host), "reblog": None,
            "account": {"id": ACCOUNT_ID, "username": "alice", "acct": "alice", "display_name": "Alice",
                        "locked": False, "url": f"https://{host}/@alice"},
            "media_attachments": [], "mentions": [], "tags": [], "emojis": [], "card": None, "poll": None}


def serve_mastodon(server: LoopbackServer, statuses: list[dict], page_size: int = 2) -> None:
    """lookup, statuses (newest first, paged by max_id) and instance; ``locked`` answers 401 for statuses."""
    def lookup(query):
        if query.get("acct") == "alice":
            return as_json({"id": ACCOUNT_ID, "username": "alice", "acct": "alice", "locked": False})
        if query.get("acct") == "locked":
            return as_json({"id": "7", "username": "locked", "acct": "locked", "locked": True})
        return as_json({"error": "Record not found"}, 404)

    def alice_statuses(query):
        assert query.get("exclude_reblogs") == "true"
        ids = [s["id"] for s in statuses]
        start = ids.index(query["max_id"]) + 1 if "max_id" in query else 0
        return as_json(statuses[start:start + page_size])

    server.routes["/api/v1/accounts/lookup"] = lookup
    server.routes[f"/api/v1/accounts/{ACCOUNT_ID}/statuses"] = alice_statuses
    server.routes["/api/v1/accounts/7/statuses"] = lambda q: as_json(
        {"error": "This API requires an authenticated user"}, 401)
    server.routes["/api/v1/instance"] = lambda q: as_json({"uri": "127.0.0.1", "title": "Test", "version": "4.3.2"})
