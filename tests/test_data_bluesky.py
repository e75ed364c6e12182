"""Bluesky: the repository .car (built here in the real shape) and a public handle through a loopback AppView."""

from __future__ import annotations

import json

import pytest
from support.car_fixtures import RepoBuilder, dag_cbor, post_record, varint
from support.fetch_server import DID, HANDLE, feed_view, serve_author_feed

from pipeline.data.ingest import ingest
from pipeline.data.remote.fetch import FetchSettings, fetch_posts
from pipeline.data.sources import SourceFiles
from pipeline.data.sources import bluesky as bluesky_source
from pipeline.data.sources.bluesky import read_repository
from pipeline.errors import UserError

OTHER = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
LINK_POST = "New write-up on error budgets: https://example.com/blog/2024/error-budgets-in-practice (long, sorry)"
THREAD = ["A thread on code review, 1/3: review the design first.", "2/3: then the tests, then the code.",
          "3/3: and say what you liked. It matters more than it seems."]
REPLY = "@bob.test agreed, we did the same last year and it worked."
QUOTE = "This is the best explanation of queues I have read. Café owners know this by heart."


def link_post() -> dict:
    """LINK_POST as the app stores it: the link shortened in the text, the full URI in a facet."""
    shown, full = "example.com/blog/2024/error-bud...", "https://example.com/blog/2024/error-budgets-in-practice"
    return post_record(LINK_POST.replace(full, shown), "2024-05-01T10:00:00.000Z", links={shown: full})


def repository() -> bytes:
    """A repository with a post (a shortened link), a three-post thread, a reply, a quote, a repost, a like, a profile."""
    at = f"at://{DID}/app.bsky.feed.post/"
    records = {
        "app.bsky.feed.post/3kabc2link": link_post(),
        # rkeys out of date order: the thread is joined by its reply links, not by key order
        "app.bsky.feed.post/3kzz1thread": post_record(THREAD[0], "2024-05-02T09:00:00.000Z"),
        "app.bsky.feed.post/3kaa3thread": post_record(THREAD[2], "2024-05-02T09:02:00.000Z",
                                                      reply_to=at + "3kmm2thread", root=at + "3kzz1thread"),
        "app.bsky.feed.post/3kmm2thread": post_record(THREAD[1], "2024-05-02T09:01:00.000Z",
                                                      reply_to=at + "3kzz1thread", root=at + "3kzz1thread"),
        "app.bsky.feed.post/3kdd4reply": post_record(REPLY, "2024-05-03T12:00:00.000Z",
                                                     reply_to=f"at://{OTHER}/app.bsky.feed.post/3kxyz"),
        "app.bsky.feed.post/3kee5quote": post_record(QUOTE, "2024-05-04T08:00:00.000Z",
                                                     quote=f"at://{OTHER}/app.bsky.feed.post/3kqqq"),
        "app.bsky.feed.repost/3kff6": {"$type": "app.bsky.feed.repost", "createdAt": "2024-05-05T08:00:00.000Z",
                                       "subject": {"cid": "bafyreie5737", "uri": f"at://{OTHER}/app.bsky.feed.post/1"}},
        "app.bsky.feed.like/3kgg7": {"$type": "app.bsky.feed.like", "createdAt": "2024-05-05T09:00:00.000Z",
                                     "subject": {"cid": "bafyreie5737", "uri": f"at://{OTHER}/app.bsky.feed.post/2"}},
        "app.bsky.actor.profile/self": {"$type": "app.bsky.actor.profile", "displayName": "Alice"},
    }
    return RepoBuilder(DID).car(records)


def test_car_round_trip_posts_threads_replies_quotes():
    result = read_repository(repository(), "repo.car")
    by_text = {p.text: p for p in result.posts}
    assert set(by_text) == {LINK_POST, "\n\n".join(THREAD), REPLY, QUOTE}
    assert by_text[LINK_POST].kind == "post" and by_text[LINK_POST].platform == "bluesky"
    assert by_text[REPLY].kind == "reply" and by_text[QUOTE].kind == "quote"
    thread = by_text["\n\n".join(THREAD)]
    assert thread.kind == "thread" and thread.url == f"https://bsky.app/profile/{DID}/post/3kzz1thread"
    assert thread.posted_at.isoformat() == "2024-05-02T09:00:00+00:00"
    assert result.skipped["repost"] == 1 and not thread.has_engagement


def test_car_with_many_posts_walks_every_tree_layer():
    records = {f"app.bsky.feed.post/3k{i:05d}": post_record(f"Post number {i}.", "2024-01-01T00:00:00Z")
               for i in range(300)}
    assert max(RepoBuilder.layer(k) for k in records) >= 2  # the tree has inner nodes on several layers
    result = read_repository(RepoBuilder(DID).car(records), "big.car")
    assert sorted(p.text for p in result.posts) == sorted(r["text"] for r in records.values())


@pytest.mark.parametrize("damage", ["truncated", "garbage", "missing block", "not a commit", "empty"])
def test_corrupt_car_is_one_line_naming_the_file(damage):
    data = repository()
    if damage == "truncated":
        data = data[:len(data) - 50]
    elif damage == "garbage":
        data = b"PK\x03\x04 this is a zip, not a repository" * 10
    elif damage == "missing block":
        header = dag_cbor({"version": 1, "roots": [RepoBuilder(DID).put({"x": 1})]})
        data = varint(len(header)) + header
    elif damage == "not a commit":
        builder = RepoBuilder(DID)
        root = builder.put({"hello": "world"})
        header = dag_cbor({"version": 1, "roots": [root]})
        block = builder.blocks[root]
        data = varint(len(header)) + header + varint(len(root.raw) + len(block)) + root.raw + block
    else:
        data = b""
    with pytest.raises(UserError) as error:
        read_repository(data, "repo-2024.car")
    message = str(error.value)
    assert message.startswith("repo-2024.car: not a readable Bluesky repository .car") and "\n" not in message


def test_source_module_detects_and_reads_a_car(tmp_path):
    (tmp_path / "repo.car").write_bytes(repository())
    (tmp_path / "notes.txt").write_text("not a repository")
    files = SourceFiles(tmp_path)
    assert bluesky_source.detect(files) and len(bluesky_source.read(files).posts) == 4
    other = tmp_path / "other"
    other.mkdir()
    (other / "fake.car").write_bytes(b"\x05hello world")
    assert not bluesky_source.detect(SourceFiles(other))


def appview_views() -> list[dict]:
    """Newest first, as getAuthorFeed answers: a repost, a reply, the thread's parts, a post."""
    at = f"at://{DID}/app.bsky.feed.post/"
    repost = feed_view("3kxx", post_record("someone else's post", "2024-05-06T00:00:00Z"), 9, 9, 9)
    repost["reason"] = {"$type": "app.bsky.feed.defs#reasonRepost", "by": {"did": DID, "handle": HANDLE},
                        "indexedAt": "2024-05-06T00:00:00Z"}
    repost["post"]["author"] = {"did": OTHER, "handle": "carol.test"}
    return [
        repost,
        feed_view("3kdd4reply", post_record(REPLY, "2024-05-03T12:00:00.000Z",
                                            reply_to=f"at://{OTHER}/app.bsky.feed.post/3kxyz"), 2, 0, 0),
        feed_view("3kaa3thread", post_record(THREAD[2], "2024-05-02T09:02:00.000Z", reply_to=at + "3kmm2thread",
                                             root=at + "3kzz1thread"), 1, 0, 0),
        feed_view("3kmm2thread", post_record(THREAD[1], "2024-05-02T09:01:00.000Z", reply_to=at + "3kzz1thread",
                                             root=at + "3kzz1thread"), 1, 0, 0),
        feed_view("3kzz1thread", post_record(THREAD[0], "2024-05-02T09:00:00.000Z"), 40, 6, 7),
        feed_view("3kabc2link", link_post(), 5, 1, 2),
    ]


def test_public_handle_through_the_appview_round_trip(loopback, tmp_path):
    serve_author_feed(loopback, appview_views(), page_size=2)
    out = tmp_path / "posts.jsonl"
    report = fetch_posts([f"bsky:@{HANDLE}"], out, FetchSettings(bsky_api=loopback.url, delay_s=0))
    assert report.by_target[f"bsky:@{HANDLE}"] == {"route": "bluesky-api", "posts": 3}
    assert len(loopback.paths("/xrpc/app.bsky.feed.getAuthorFeed")) == 3  # six items, two a page
    posts = {p.text: p for p in ingest(out).posts}
    assert set(posts) == {LINK_POST, "\n\n".join(THREAD), REPLY}
    thread = posts["\n\n".join(THREAD)]
    assert (thread.likes, thread.comments, thread.reposts, thread.kind) == (40, 6, 7, "thread")
    assert posts[REPLY].kind == "reply" and posts[LINK_POST].platform == "bluesky"
    assert thread.scraped_at is not None and thread.author == HANDLE
    assert report.skipped["repost"] == 1


def test_profile_url_goes_to_the_api_and_max_posts_stops_paging(loopback, tmp_path):
    serve_author_feed(loopback, appview_views(), page_size=2)
    out = tmp_path / "posts.jsonl"
    settings = FetchSettings(bsky_api=loopback.url, delay_s=0, max_posts=1)
    report = fetch_posts([f"https://bsky.app/profile/{HANDLE}"], out, settings)
    assert report.posts == 1 and len(loopback.paths("/xrpc/")) == 1
    assert json.loads(out.read_text())["text"] == REPLY


def test_missing_handle_is_one_line_and_writes_nothing(loopback, tmp_path):
    serve_author_feed(loopback, appview_views())
    out = tmp_path / "posts.jsonl"
    with pytest.raises(UserError, match=r"^bsky:nobody.test: the Bluesky AppView refused it \(InvalidRequest Profile "
                                        r"not found\)"):
        fetch_posts(["bsky:nobody.test"], out, FetchSettings(bsky_api=loopback.url, delay_s=0))
    assert not out.exists()


def test_a_tree_that_links_to_itself_is_an_error_not_a_hang():
    builder = RepoBuilder(DID)
    leaf = builder.put(post_record("hello", "2024-01-01T00:00:00Z"))
    node = {"e": [{"k": b"app.bsky.feed.post/3kaaa", "p": 0, "t": None, "v": leaf}], "l": None}
    first = builder.put(node)
    looped = builder.put({**node, "l": first})
    node["l"] = looped  # content addressing forbids a loop; a crafted file can still claim one
    builder.blocks[first] = dag_cbor(node)
    commit = builder.put({"did": DID, "version": 3, "data": first, "rev": "x", "prev": None, "sig": b""})
    header = dag_cbor({"version": 1, "roots": [commit]})
    data = varint(len(header)) + header + b"".join(varint(len(c.raw) + len(b)) + c.raw + b
                                                   for c, b in builder.blocks.items())
    with pytest.raises(UserError, match="deeper than 64 levels"):
        read_repository(data, "loop.car")
