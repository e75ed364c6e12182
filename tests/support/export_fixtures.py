"""Platform exports written in their real shapes, from posts written for these tests (a fictional
author, "Ada Quill", never a real person's posts): file names inside the download, keys, nesting,
quoting and encodings as each platform writes them. Each ``write_*`` writes the unpacked export
into a folder and returns the texts a reader must give back, in order; :func:`zip_folder` packs a
folder as the platform's zip.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from support.car_fixtures import RepoBuilder, post_record
from support.fetch_server import mastodon_html

USER, USER_ID = "adaquill", "1500000000000000001"
START = datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc)
_URL = re.compile(r"https?://\S+")

# What Ada wrote: line breaks, a blank line, accents, an emoji, quotes, an ampersand, a link.
POSTS = [
    "Shipped the new editor today.\n\nIt took 3 rewrites & one long walk.",
    "Café rule: no laptops before 10am ☕\nBest decision I made this year.",
    'She said "ship it" and I did.\n\n- smaller diffs\n- fewer meetings\n- more sleep',
    "Wrote up how we cut build times by 40%: https://example.com/blog/faster-builds",
]


def when(i: int) -> datetime:
    return START + timedelta(days=i, hours=i)


def zip_folder(folder: Path, zip_path: Path, top: str | None = None) -> Path:
    """``folder``'s files in a zip (under ``top/`` when the platform's zip has a top folder)."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = path.relative_to(folder).as_posix()
            z.write(path, f"{top}/{name}" if top else name)
    return zip_path


def _write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


# ----------------------------------------------------------------------------------------- X archive
def _ytd(name: str, part: int, items: list) -> str:
    # The archive's own layout: two-space indent and " : " between key and value.
    return f"window.YTD.{name}.part{part} = " + json.dumps(items, indent=2, ensure_ascii=False, separators=(",", " : "))


def _tweet(n: int, text: str, *, reply_to: tuple[str, str, str] | None = None, mentions: str = "",
           quote: str | None = None, media: bool = False, likes: int = 0, reposts: int = 0) -> dict:
    """One ``{"tweet": {...}}`` item: t.co links with their targets in ``entities.urls``, ``&<>`` as
    entities, counts as strings, the reply's leading mentions outside ``display_text_range``."""
    urls, short_text = [], text
    for k, url in enumerate(_URL.findall(text) + ([quote] if quote else [])):
        short = f"https://t.co/{n:04d}Lk{k}"
        urls.append({"url": short, "expanded_url": url, "display_url": url.split("//", 1)[1][:26] + "…"})
        short_text = short_text.replace(url, short, 1) if url != quote else f"{short_text} {short}"
    prefix = f"{mentions} " if mentions else ""
    full = prefix + html.escape(short_text, quote=False)
    for link in urls:
        start = full.index(link["url"])
        link["indices"] = [str(start), str(start + len(link["url"]))]
    entities = {"hashtags": [], "symbols": [], "user_mentions": [], "urls": urls}
    end = len(full)
    if media:
        photo = f"https://t.co/{n:04d}Md"
        full += f" {photo}"
        entities["media"] = [{"expanded_url": f"https://x.com/{USER}/status/{n}/photo/1", "indices": [str(end + 1), str(len(full))],
                              "url": photo, "media_url_https": f"https://pbs.twimg.com/media/F{n}.jpg", "id_str": str(n + 7),
                              "type": "photo", "display_url": f"pic.x.com/{n}"}]
    tweet = {"edit_info": {"initial": {"editTweetIds": [str(n)], "editableUntil": "2025-03-01T10:30:00.000Z",
                                       "editsRemaining": "5", "isEditEligible": True}},
             "retweeted": False, "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
             "entities": entities, "display_text_range": [str(len(prefix)), str(end)],
             "favorite_count": str(likes), "id_str": str(n), "truncated": False, "retweet_count": str(reposts),
             "id": str(n), "created_at": when(n % 97).strftime("%a %b %d %H:%M:%S +0000 %Y"), "favorited": False,
             "full_text": full, "lang": "en"}
    if reply_to:
        status, user_id, screen_name = reply_to
        tweet.update({"in_reply_to_status_id_str": status, "in_reply_to_status_id": status,
                      "in_reply_to_user_id": user_id, "in_reply_to_user_id_str": user_id,
                      "in_reply_to_screen_name": screen_name})
    return {"tweet": tweet}


THREAD = ["Three things I learned running a tiny SaaS for a whole year, most of them the hard way 🧵",
          "1. Charge from day one.\nFree users give you noise, paying users give you a roadmap you can trust.",
          "2. Answer support yourself.\nIt is the best research you will do, and it costs nothing but an hour a day.",
          "3. Ship on a schedule.\nA small release every Friday beats a big one every quarter."]


LONG = ("A long post, the kind X Premium allows. " * 9).strip()
COMMUNITY = "Posted in the indie makers community: what is your smallest paying product?"


def write_x(folder: Path) -> list[str]:
    """An X archive: ``data/tweets.js`` and ``data/tweets-part1.js`` (ending in ``;``), ``data/account.js``,
    ``data/note-tweet.js``, ``data/community-tweet.js`` (read) and ``data/deleted-tweets.js`` (not read);
    a thread of self-replies (out of order), a reply to someone else, a retweet, a quote post, a photo
    post, a long post cut in tweets.js, and a post edited once (both versions)."""
    own = (USER_ID, USER)
    part0 = [_tweet(100 + i, text, likes=10 + i, reposts=i, media=(i == 1)) for i, text in enumerate(POSTS)]
    thread = [_tweet(200, THREAD[0], likes=90, reposts=12)]
    thread += [_tweet(201 + i, text, reply_to=(str(200 + i), *own)) for i, text in enumerate(THREAD[1:])]
    part1 = [thread[2], thread[0], thread[1], thread[3],  # archives are not in time order
             _tweet(300, "totally agree with this take", reply_to=("999", "42", "otherdev"), mentions="@otherdev"),
             _tweet(301, "RT @otherdev: Small teams ship faster than big ones."),
             _tweet(302, "This is the best thread on pricing I have read.", quote="https://x.com/otherdev/status/777"),
             _tweet(303, LONG[:270] + "… https://x.com/i/web/status/303")]
    first, edited = _tweet(304, "Typo in this post, fixed in the next versoin."), _tweet(305, "Typo in this post, fixed in the next version.")
    for version in (first, edited):
        version["tweet"]["edit_info"]["initial"]["editTweetIds"] = ["304", "305"]
    part1 += [first, edited]
    _write(folder / "data" / "tweets.js", _ytd("tweets", 0, part0))
    _write(folder / "data" / "tweets-part1.js", _ytd("tweets", 1, part1) + ";")
    _write(folder / "data" / "note-tweet.js", _ytd("note_tweet", 0, [{"noteTweet": {
        "noteTweetId": "900303", "tweetId": "303", "noteTweetResults": {"text": LONG, "entitySet": {
            "hashtags": [], "symbols": [], "userMentions": [], "urls": []}}}}]))
    _write(folder / "data" / "account.js", _ytd("account", 0, [{"account": {
        "email": "ada@example.com", "createdVia": "web", "username": USER, "accountId": USER_ID,
        "createdAt": "2019-01-01T00:00:00.000Z", "accountDisplayName": "Ada Quill"}}]))
    _write(folder / "data" / "deleted-tweets.js", _ytd("deleted_tweets", 0, [_tweet(400, "A post I deleted.")]))
    _write(folder / "data" / "community-tweet.js", _ytd("community_tweet", 0, [_tweet(401, COMMUNITY)]))
    _write(folder / "Your archive.html", "<!DOCTYPE html><html><body>Your archive</body></html>")
    return [COMMUNITY] + POSTS + ["\n\n".join(THREAD), "totally agree with this take", "RT @otherdev: Small teams ship faster than big ones.",
                    "This is the best thread on pricing I have read. https://x.com/otherdev/status/777", LONG,
                    "Typo in this post, fixed in the next version."]


# ------------------------------------------------------------------------------------------ LinkedIn
def linkedin_quoted(text: str) -> str:
    """LinkedIn's per-line quoting of ShareCommentary: each line break becomes ``"\\n"``, so the first
    line ends with a quote, the last starts with one, and a blank line reads ``""``."""
    return text.replace("\n", '"\n"')


def write_linkedin(folder: Path, shares: str | None = "Shares.csv") -> list[str]:
    """A LinkedIn Complete export: ``shares`` (``Shares.csv``; newer exports ``Shares_<member id>.csv``)
    beside the other CSVs, the second post twice under one ShareLink, a reshare without words of its
    own. ``shares=None``: the Basic export, which has no posts."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Date", "ShareLink", "ShareCommentary", "SharedUrl", "MediaUrl", "Visibility"])
    rows = [[when(i).strftime("%Y-%m-%d %H:%M:%S"), f"https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A{7100 + i}",
             linkedin_quoted(text), "", "", "MEMBER_NETWORK"] for i, text in enumerate(POSTS)]
    rows.insert(2, rows[1])
    rows.append([when(9).strftime("%Y-%m-%d %H:%M:%S"), "https://www.linkedin.com/feed/update/urn%3Ali%3AugcPost%3A7200",
                 "", "https://example.org/report-2025", "", "PUBLIC"])
    writer.writerows(rows)
    _write(folder / "Connections.csv", "Notes:\n\"When exporting your connection data...\"\n\nFirst Name,Last Name,URL\n")
    _write(folder / "Profile.csv", "First Name,Last Name,Headline\nAda,Quill,Builds small tools\n")
    if shares:
        _write(folder / shares, out.getvalue())
        _write(folder / "Comments.csv", "Date,Link,Message\n2025-03-04 10:00:00,https://www.linkedin.com/x,Nice one\n")
        _write(folder / "Reactions.csv", "Date,Type,Link\n2025-03-04 10:00:00,LIKE,https://www.linkedin.com/x\n")
    return POSTS


# ------------------------------------------------------------------------------------------ Mastodon
def _note(n: int, text: str, *, in_reply_to: str | None = None, to: list[str] | None = None) -> dict:
    actor = f"https://mastodon.example/users/{USER}"
    note_id = f"{actor}/statuses/{110000 + n}"
    public = ["https://www.w3.org/ns/activitystreams#Public"]
    return {"id": f"{note_id}/activity", "type": "Create", "actor": actor, "published": when(n).isoformat().replace("+00:00", "Z"),
            "to": to or public, "cc": [] if to else [f"{actor}/followers"],
            "object": {"id": note_id, "type": "Note", "summary": None, "inReplyTo": in_reply_to,
                       "published": when(n).isoformat().replace("+00:00", "Z"),
                       "url": f"https://mastodon.example/@{USER}/{110000 + n}", "attributedTo": actor,
                       "to": to or public, "cc": [] if to else [f"{actor}/followers"], "sensitive": False,
                       "atomUri": note_id, "inReplyToAtomUri": in_reply_to, "conversation": f"tag:mastodon.example,2025:{n}",
                       "content": mastodon_html(text, "mastodon.example"),
                       "contentMap": {"en": mastodon_html(text, "mastodon.example")},
                       "attachment": [], "tag": [], "replies": {"id": f"{note_id}/replies", "type": "Collection"}}}


def write_mastodon(folder: Path) -> list[str]:
    """A Mastodon archive: ``outbox.json`` (posts, a self-reply thread, a boost, a reply to someone
    else and a direct message), ``actor.json``, ``likes.json``, ``bookmarks.json``."""
    actor = f"https://mastodon.example/users/{USER}"
    items = [_note(i, text) for i, text in enumerate(POSTS)]
    items.append(_note(10, THREAD[0]))
    items += [_note(11 + i, text, in_reply_to=f"{actor}/statuses/{110010 + i}") for i, text in enumerate(THREAD[1:])]
    items.append({"id": f"{actor}/statuses/120000/activity", "type": "Announce", "actor": actor,
                  "published": "2025-03-09T10:00:00Z", "to": ["https://www.w3.org/ns/activitystreams#Public"],
                  "cc": [], "object": "https://other.example/users/bob/statuses/5"})
    items.append(_note(20, "@bob that is a good point", in_reply_to="https://other.example/users/bob/statuses/6"))
    items.append(_note(21, "my address is 1 Secret Lane", to=["https://other.example/users/bob"]))
    items = items[3:] + items[:3]  # database-batch order, not time order
    outbox = {"@context": ["https://www.w3.org/ns/activitystreams", {"ostatus": "http://ostatus.org#",
                                                                     "toot": "http://joinmastodon.org/ns#"}],
              "id": "outbox.json", "type": "OrderedCollection", "totalItems": len(items), "orderedItems": items}
    _write(folder / "outbox.json", json.dumps(outbox, ensure_ascii=False))
    _write(folder / "actor.json", json.dumps({"@context": "https://www.w3.org/ns/activitystreams", "id": actor,
                                              "type": "Person", "preferredUsername": USER, "name": "Ada Quill"}))
    _write(folder / "likes.json", json.dumps({"type": "OrderedCollection", "orderedItems": []}))
    _write(folder / "bookmarks.json", json.dumps({"type": "OrderedCollection", "orderedItems": []}))
    return POSTS[3:] + ["\n\n".join(THREAD), "@bob that is a good point"] + POSTS[:3]


# ------------------------------------------------------------------------------------------ Bluesky
BLUESKY_DID = "did:plc:adaquill7x2k4m5n6p7q8r9s"


def write_bluesky(folder: Path) -> list[str]:
    """A Bluesky "Export my data" repository, ``repo.car``: posts (a link shortened in the text, its
    full address in a facet), a self-reply thread, a reply to someone else, a repost, a like and the
    profile, keyed by time-ordered record keys as the app writes them."""
    at, other = f"at://{BLUESKY_DID}/app.bsky.feed.post/", "at://did:plc:bob0000000000000000000/app.bsky.feed.post/"

    def stamp(i: int) -> str:
        return when(i).isoformat().replace("+00:00", ".000Z")

    records = {}
    for i, text in enumerate(POSTS):
        full = _URL.search(text)
        shown = full and full.group(0).split("//", 1)[1][:24] + "..."
        records[f"app.bsky.feed.post/3lb{i:03d}post"] = post_record(
            text.replace(full.group(0), shown) if full else text, stamp(i), links={shown: full.group(0)} if full else None)
    for i, text in enumerate(THREAD):
        records[f"app.bsky.feed.post/3lb{10 + i:03d}thrd"] = post_record(
            text, stamp(10 + i), reply_to=f"{at}3lb{9 + i:03d}thrd" if i else None, root=f"{at}3lb010thrd" if i else None)
    records["app.bsky.feed.post/3lb020rply"] = post_record("@bob that is a good point", stamp(20), reply_to=f"{other}6")
    records["app.bsky.feed.repost/3lb021rpst"] = {"$type": "app.bsky.feed.repost", "createdAt": stamp(21),
                                                  "subject": {"cid": "bafyreie5737", "uri": f"{other}5"}}
    records["app.bsky.feed.like/3lb022like"] = {"$type": "app.bsky.feed.like", "createdAt": stamp(22),
                                                "subject": {"cid": "bafyreie5737", "uri": f"{other}5"}}
    records["app.bsky.actor.profile/self"] = {"$type": "app.bsky.actor.profile", "displayName": "Ada Quill"}
    _write(folder / "repo.car", RepoBuilder(BLUESKY_DID).car(records))
    return POSTS + ["\n\n".join(THREAD), "@bob that is a good point"]


# ------------------------------------------------------------------------------- Threads, Instagram
def meta_mojibake(text: str) -> str:
    """How Meta's JSON exports write text: each UTF-8 byte as its own ``\\u00XX`` character."""
    return text.encode("utf-8").decode("latin-1")


def _meta_json(data) -> str:
    return json.dumps(data, indent=2)  # ensure_ascii: the mojibake appears as \u00c3\u00a9 escapes


THREADS_REPLY = "Agreed, and the café had the best croissants 😁"


def write_threads(folder: Path) -> list[str]:
    """A Threads export: ``your_instagram_activity/threads/threads_and_replies.json`` in the Instagram
    export (text posts with one ``media`` item whose ``uri`` is empty, a two-photo post with the text at
    the post level, a reply marked ``text_app_post.is_reply``)."""
    posts = [{"media": [{"uri": "", "creation_timestamp": int(when(i).timestamp()),
                         "media_metadata": {"camera_metadata": {"has_camera_metadata": False}},
                         "title": meta_mojibake(text), "cross_post_source": {"source_app": "FB"},
                         "text_app_post": {"reply_control": "everyone", "is_reply": False}}]} for i, text in enumerate(POSTS)]
    posts[1] = {"title": meta_mojibake(POSTS[1]), "creation_timestamp": int(when(1).timestamp()),
                "media": [{"uri": f"media/threads/202503/{k}.jpg", "creation_timestamp": int(when(1).timestamp()),
                           "title": "", "cross_post_source": {"source_app": "FB"}} for k in ("ab12", "cd34")]}
    posts.append({"media": [{"uri": "", "creation_timestamp": int(when(8).timestamp()), "title": meta_mojibake(THREADS_REPLY),
                             "text_app_post": {"reply_control": "everyone", "is_reply": True}}]})
    threads = folder / "your_instagram_activity" / "threads"
    _write(threads / "threads_and_replies.json", _meta_json({"text_post_app_text_posts": posts}))
    _write(threads / "liked_threads.json", _meta_json({"text_post_app_media_likes": []}))
    _write(folder / "personal_information" / "personal_information" / "personal_information.json",
           _meta_json({"profile_user": [{"string_map_data": {"Name": {"value": meta_mojibake("Ada Quill")}}}]}))
    return POSTS + [THREADS_REPLY]


def write_instagram(folder: Path) -> list[str]:
    """An Instagram export: ``your_instagram_activity/content/posts_1.json`` (a one-photo post keeps
    its caption in ``media[0].title``; a carousel in the post's own ``title``), and comments."""
    posts = []
    for i, text in enumerate(POSTS):
        media = {"uri": f"media/posts/202503/{9000 + i}.jpg", "creation_timestamp": int(when(i).timestamp()),
                 "media_metadata": {"photo_metadata": {"exif_data": [{"latitude": 0.0}]}},
                 "title": meta_mojibake(text), "cross_post_source": {"source_app": "FB"}}
        if i % 2:
            posts.append({"media": [{**media, "title": ""}, {**media, "uri": media["uri"].replace(".jpg", "b.jpg"), "title": ""}],
                          "title": meta_mojibake(text), "creation_timestamp": int(when(i).timestamp())})
        else:
            posts.append({"media": [media]})
    content = folder / "your_instagram_activity" / "content"
    _write(content / "posts_1.json", _meta_json(posts))
    _write(content / "profile_photos.json", _meta_json({"ig_profile_picture": []}))
    _write(folder / "media" / "posts" / "202503" / "9000.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")
    _write(folder / "your_instagram_activity" / "comments" / "post_comments_1.json", _meta_json([{"string_map_data": {
        "Comment": {"value": "nice"}, "Media Owner": {"value": "otherdev"}, "Time": {"timestamp": 1741000000}}}]))
    return POSTS


# ------------------------------------------------------------------------------- Substack, Medium
def blog_html(text: str) -> str:
    """A post body: ``<p>`` per paragraph, ``<br>`` per line break, a ``- `` list as ``<ul><li>``."""
    blocks = []
    for paragraph in text.split("\n\n"):
        lines = paragraph.split("\n")
        if all(line.startswith("- ") for line in lines):
            blocks.append("<ul>" + "".join(f"<li><p>{html.escape(line[2:])}</p></li>" for line in lines) + "</ul>")
        else:
            body = "<br>".join(html.escape(line) for line in lines)
            blocks.append("<p>" + _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', body) + "</p>")
    return "".join(blocks)


SUBSCRIBE = ("<p class=\"button-wrapper\" data-attrs='{\"url\":\"https://adaquill.substack.com/subscribe?\",\"text\":"
             "\"Subscribe now\",\"action\":null,\"class\":null}'><a class=\"button primary\" "
             "href=\"https://adaquill.substack.com/subscribe?\"><span>Subscribe now</span></a></p>")


def write_substack(folder: Path) -> list[str]:
    """A Substack export: ``posts.csv`` and ``posts/<post_id>.html`` body fragments (one with a subscribe
    button), the opens/delivers CSVs and the e-mail list; an unpublished draft and a page."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["post_id", "post_date", "is_published", "email_sent_at", "inbox_sent_at", "type", "audience",
                     "title", "subtitle", "podcast_url"])
    for i, text in enumerate(POSTS + ["A draft I never sent.", "About this newsletter."]):
        post_id = f"{15000000 + i}.post-{i}"
        published = i != len(POSTS)
        date = when(i).isoformat(timespec="milliseconds").replace("+00:00", "Z") if published else ""
        writer.writerow([post_id, date, "TRUE" if i == 1 else str(published).lower(), date, date,
                         "page" if i > len(POSTS) else "newsletter", "everyone", f"&#x201C;Post&#x201D; {i}, with a comma",
                         "", ""])
        _write(folder / "posts" / f"{post_id}.html", blog_html(text) + SUBSCRIBE * (i == 0))
        _write(folder / "posts" / f"{post_id}.opens.csv", "post_id,timestamp,email\n")
        _write(folder / "posts" / f"{post_id}.delivers.csv", "post_id,timestamp,email\n")
    _write(folder / "posts.csv", out.getvalue())
    _write(folder / "email_list.adaquill.csv", "email,active_subscription,expiry,plan,email_disabled,created_at\n")
    return POSTS


MEDIUM_RESPONSE = "Great point about pricing, thank you."


def _medium_page(title: str, body: str, footer: str) -> str:
    return ('<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
            f"<title>{title}</title><style>body {{ margin: 0; }}</style></head><body>"
            f'<article class="h-entry"><header><h1 class="p-name">{title}</h1></header>'
            f'<section data-field="body" class="e-content"><section name="s0" class="section section--body">'
            '<div class="section-divider"><hr class="section-divider"></div><div class="section-content">'
            f'<div class="section-inner sectionLayout--insetColumn">{body}</div></div></section></section>'
            f"<footer>{footer}</footer></article></body></html>")


def write_medium(folder: Path) -> list[str]:
    """A Medium export: ``posts/<date>_<Slug>-<id>.html`` pages (the body opens with the title again),
    a ``draft_`` page, a response (a comment exported as a story: kind ``reply``) and the profile pages."""
    for i, text in enumerate(POSTS + ["An unfinished draft."]):
        title, slug_id = f"Post number {i}", f"{0xabc000 + i:012x}"
        body = (f'<h3 name="t{i}" class="graf graf--h3 graf--leading graf--title">{title}</h3>'
                + blog_html(text).replace("<p>", '<p class="graf graf--p">'))
        stamp = when(i).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        footer = (f'<p>By <a href="https://medium.com/@{USER}" class="p-author h-card">Ada Quill</a> on '
                  f'<a href="https://medium.com/p/{slug_id}"><time class="dt-published" datetime="{stamp}">'
                  f'March {i + 1}, 2025</time></a>.</p><p><a href="https://medium.com/@{USER}/post-{slug_id}" '
                  'class="p-canonical">Canonical link</a></p><p>Exported from <a href="https://medium.com">Medium</a> '
                  "on December 7, 2026.</p>")
        if i == len(POSTS):
            footer = f'<p><a href="https://medium.com/p/{slug_id}">View original.</a></p>'
        page = _medium_page(title, body, footer).replace(
            '<header>', '<header>', 1).replace('</header>', '</header><section data-field="subtitle" class="p-summary">'
                                                'A subtitle</section>', 1)
        name = f"draft_Post-number-{i}-{slug_id}.html" if i == len(POSTS) else f"{when(i):%Y-%m-%d}_Post-number-{i}-{slug_id}.html"
        _write(folder / "posts" / name, page)
    footer = ('<p>By <a href="https://medium.com/@adaquill" class="p-author h-card">Ada Quill</a> on <a href="https://medium.com/p/'
              '0f0f0f0f0f0f"><time class="dt-published" datetime="2025-03-20T10:00:00.000Z">March 20, 2025</time></a>.</p>')
    _write(folder / "posts" / "2025-03-20_Great-point-about-pricing-0f0f0f0f0f0f.html",
           _medium_page("Great point about pricing", f'<p class="graf graf--p graf--leading graf--trailing">{MEDIUM_RESPONSE}</p>',
                        footer))
    _write(folder / "profile" / "profile.html", "<html><body><h3 class=\"p-name\">Ada Quill</h3></body></html>")
    _write(folder / "README.html", "<html><body>Your Medium export</body></html>")
    return POSTS + [MEDIUM_RESPONSE]


# ----------------------------------------------------------------------------------- WordPress, feeds
def write_wordpress(folder: Path) -> list[str]:
    """A WordPress WXR export (``adaquill.WordPress.2026-12-07.xml``): block-editor HTML in
    ``content:encoded``, a page and a draft that are not posts."""
    items = []
    for i, text in enumerate(POSTS + ["About me", "Draft in progress"]):
        post_type, status = ("page", "publish") if i == len(POSTS) else ("post", "draft" if i > len(POSTS) else "publish")
        blocks = "\n\n".join(f"<!-- wp:paragraph -->\n{p}\n<!-- /wp:paragraph -->"
                             for p in re.findall(r"<p>.*?</p>|<ul>.*?</ul>", blog_html(text)))
        items.append(f"""
	<item>
		<title><![CDATA[Post {i}]]></title>
		<link>https://adaquill.example/2025/03/post-{i}/</link>
		<pubDate>{when(i):%a, %d %b %Y %H:%M:%S} +0000</pubDate>
		<dc:creator><![CDATA[adaquill]]></dc:creator>
		<guid isPermaLink="false">https://adaquill.example/?p={10 + i}</guid>
		<description></description>
		<content:encoded><![CDATA[{blocks}]]></content:encoded>
		<excerpt:encoded><![CDATA[]]></excerpt:encoded>
		<wp:post_id>{10 + i}</wp:post_id>
		<wp:post_date><![CDATA[{when(i):%Y-%m-%d %H:%M:%S}]]></wp:post_date>
		<wp:post_date_gmt><![CDATA[{when(i):%Y-%m-%d %H:%M:%S}]]></wp:post_date_gmt>
		<wp:comment_status><![CDATA[open]]></wp:comment_status>
		<wp:post_name><![CDATA[post-{i}]]></wp:post_name>
		<wp:status><![CDATA[{status}]]></wp:status>
		<wp:post_parent>0</wp:post_parent>
		<wp:post_type><![CDATA[{post_type}]]></wp:post_type>
		<category domain="category" nicename="notes"><![CDATA[Notes]]></category>
	</item>""")
    xml = f"""<?xml version="1.0" encoding="UTF-8" ?>
<!-- This is a WordPress eXtended RSS file generated by WordPress as an export of your site. -->
<rss version="2.0"
	xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:wfw="http://wellformedweb.org/CommentAPI/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:wp="http://wordpress.org/export/1.2/"
>
<channel>
	<title>Ada Quill</title>
	<link>https://adaquill.example</link>
	<description>Notes on small software</description>
	<language>en-US</language>
	<wp:wxr_version>1.2</wp:wxr_version>
	<wp:base_site_url>https://adaquill.example</wp:base_site_url>
	<wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[adaquill]]></wp:author_login></wp:author>
{"".join(items)}
</channel>
</rss>
"""
    _write(folder / "adaquill.WordPress.2026-12-07.xml", xml)
    return POSTS


def write_rss(path: Path) -> list[str]:
    """An RSS 2.0 feed (as a blog serves ``/feed``): the HTML escaped in ``description``."""
    items = "".join(f"<item><title>Post {i}</title><link>https://adaquill.example/p/{i}</link>"
                    f"<guid>https://adaquill.example/p/{i}</guid><pubDate>{when(i):%a, %d %b %Y %H:%M:%S} +0000</pubDate>"
                    f"<description>{html.escape(blog_html(text))}</description></item>" for i, text in enumerate(POSTS))
    _write(path, f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Ada Quill</title>'
                 f"<link>https://adaquill.example</link><description>Notes</description>{items}</channel></rss>")
    return POSTS


def write_atom(path: Path) -> list[str]:
    """An Atom feed: ``<content type="html">``."""
    entries = "".join(f'<entry><title>Post {i}</title><link rel="alternate" href="https://adaquill.example/p/{i}"/>'
                      f"<id>urn:uuid:{i:08d}-0000-0000-0000-000000000000</id><published>{when(i).isoformat()}</published>"
                      f"<updated>{when(i).isoformat()}</updated><content type=\"html\">{html.escape(blog_html(text))}</content>"
                      f"</entry>" for i, text in enumerate(POSTS))
    _write(path, f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Ada Quill'
                 f"</title><id>urn:uuid:feed</id><updated>{START.isoformat()}</updated>{entries}</feed>")
    return POSTS


def write_text_files(folder: Path) -> list[str]:
    """A folder of notes: Markdown with front matter (a date), and plain ``.txt`` (none), in a subfolder."""
    for i, text in enumerate(POSTS):
        if i % 2:
            _write(folder / "notes" / f"{i}-note.txt", text + "\n")
        else:
            _write(folder / "notes" / f"{i}-note.md", f"---\ntitle: Note {i}\ndate: {when(i):%Y-%m-%d}\n---\n\n{text}\n")
    return POSTS
