"""The source registry on platform exports as downloaded (zip and unpacked): each reads back the
posts it was written from, with its quirks undone; hostile and wrong inputs get one clear line."""

from __future__ import annotations

import zipfile
from pathlib import Path

from support import export_fixtures as fx
import pytest

from pipeline.data import sources
from pipeline.data.filters import filter_posts
from pipeline.data.ingest import ingest
from pipeline.data.sources import base
from pipeline.data.sources.linkedin import unquote_lines
from pipeline.data.sources.meta import fix_mojibake
from pipeline.errors import UserError

# registry name, writer, the zip's name as the platform hands it over, the zip's top folder
EXPORTS = [
    ("x", fx.write_x, "twitter-2026-12-07-a1b2c3.zip", None),
    ("linkedin", fx.write_linkedin, "Complete_LinkedInDataExport_12-07-2026.zip", None),
    ("linkedin", lambda d: fx.write_linkedin(d, "Shares_181600000.csv"), "Complete_LinkedInDataExport_12-08-2026.zip", None),
    ("mastodon", fx.write_mastodon, "archive-20261207101500-0a1b2c3d4e5f.zip", None),
    ("bluesky", fx.write_bluesky, "bluesky-repo.zip", None),  # the .car as downloaded, zipped or in a folder
    ("threads", fx.write_threads, "instagram-adaquill-2026-12-07-AbCdEf.zip", None),
    ("instagram", fx.write_instagram, "instagram-adaquill-2026-12-07-GhIjKl.zip", None),
    ("substack", fx.write_substack, "adaquill-substack-export.zip", None),
    ("medium", fx.write_medium, "medium-export-0123456789abcdef.zip", None),
    ("wordpress", fx.write_wordpress, "adaquill.wordpress.2026-12-07.000.zip", None),
    ("text-files", fx.write_text_files, "notes.zip", "notes"),
]


def texts(result) -> list[str]:
    return [p.text for p in result.posts]


@pytest.mark.parametrize("name, write, zip_name, top", EXPORTS, ids=[e[2] for e in EXPORTS])
def test_round_trip_zip_and_folder(tmp_path, name, write, zip_name, top):
    folder = tmp_path / "unpacked"
    expected = write(folder)
    archive = fx.zip_folder(folder, tmp_path / zip_name, top)
    for given in (archive, folder):
        result = ingest(given)
        assert result.kind == name and texts(result) == expected, given
        assert {p.platform for p in result.posts} == {name} and {p.source for p in result.posts} == {given.name}
        dates = [p.posted_at for p in result.posts]
        assert all(dates[::2] if name == "text-files" else dates) and not result.unparsed_dates  # a .txt has no date


@pytest.mark.parametrize("write, file_name", [(fx.write_rss, "feed.xml"), (fx.write_atom, "atom.xml")])
def test_feeds_round_trip(tmp_path, write, file_name):
    expected = write(tmp_path / file_name)
    result = ingest(tmp_path / file_name)
    assert result.kind == "feed" and texts(result) == expected
    assert result.posts[1].url == "https://adaquill.example/p/1" and result.posts[1].posted_at.day == 2


def test_x_archive_threads_links_and_kinds(tmp_path):
    fx.write_x(tmp_path / "x")
    result = ingest(tmp_path / "x")
    by_text = {p.text: p for p in result.posts}
    thread = by_text["\n\n".join(fx.THREAD)]  # parts 3, 1, 2, 4 in the file: joined in reply order
    assert thread.kind == "thread" and thread.likes == 90 and thread.url == f"https://x.com/{fx.USER}/status/200"
    assert result.skipped["joined into a thread"] == 3
    link = by_text[fx.POSTS[3]]  # the t.co link expanded from entities.urls, the photo's link gone
    assert "t.co" not in " ".join(texts(result)) and link.likes == 13 and link.reposts == 3
    assert by_text[fx.POSTS[0]].text.count("&") == 1 and "&amp;" not in by_text[fx.POSTS[0]].text
    kinds = {p.text[:12]: p.kind for p in result.posts}
    assert kinds["totally agre"] == "reply" and kinds["RT @otherdev"] == "retweet" and kinds["This is the "] == "quote"
    long = by_text[fx.LONG]  # cut in tweets.js, whole in note-tweet.js
    assert long.kind == "long" and len(long.text) > sources.max_chars("x")
    assert result.skipped["earlier version of an edited post"] == 1 and "versoin" not in " ".join(texts(result))
    kept, removed = filter_posts(result.posts)
    assert removed == {"reply": 1, "retweet": 1} and thread in kept and long in kept  # over 280 chars: kept whole
    assert len(thread.text) > sources.max_chars("x")


def test_x_archive_single_tweets_js_file(tmp_path):
    fx.write_x(tmp_path / "x")
    result = ingest(tmp_path / "x" / "data" / "tweets.js")
    assert result.kind == "x" and texts(result) == fx.POSTS and result.posts[0].url == "https://x.com/i/status/100"


def test_linkedin_per_line_quoting_and_duplicate_links(tmp_path):
    raw = fx.linkedin_quoted("first line\n\nmiddle\nlast line")
    assert raw == 'first line"\n""\n"middle"\n"last line'
    assert unquote_lines(raw) == "first line\n\nmiddle\nlast line"
    assert unquote_lines('one line with "quotes"') == 'one line with "quotes"'
    assert unquote_lines('a real "quote"\nsecond line') == 'a real "quote"\nsecond line'  # not every line fits: kept
    fx.write_linkedin(tmp_path / "li")
    shares = (tmp_path / "li" / "Shares.csv").read_text()
    assert '""""' in shares and 'rewrites & one long walk.""' not in shares  # the CSV as LinkedIn writes it
    result = ingest(tmp_path / "li" / "Shares.csv")
    assert texts(result) == fx.POSTS and result.skipped == {"duplicate ShareLink": 1, "empty text": 1}  # + a reshare
    assert not any('""' in t or t.startswith('"') for t in texts(result))


def test_linkedin_basic_export_has_no_posts(tmp_path):
    fx.write_linkedin(tmp_path / "basic", shares=None)
    path = fx.zip_folder(tmp_path / "basic", tmp_path / "Basic_LinkedInDataExport_12-07-2026.zip")
    with pytest.raises(UserError, match=r"Basic_LinkedInDataExport_12-07-2026.zip: a LinkedIn export without Shares.csv: "
                                        r"the Basic export holds no posts .*; use the Complete export"):
        ingest(path)


def test_instagram_zip_with_threads_reads_both(tmp_path):
    fx.write_instagram(tmp_path / "meta")
    fx.write_threads(tmp_path / "meta")
    result = ingest(fx.zip_folder(tmp_path / "meta", tmp_path / "instagram-adaquill-2026-12-07-XyZ.zip"))
    assert result.kind == "instagram" and texts(result) == fx.POSTS + fx.POSTS + [fx.THREADS_REPLY]
    assert [p.platform for p in result.posts] == ["instagram"] * 4 + ["threads"] * 5
    assert result.posts[-1].kind == "reply" and "😁" in result.posts[-1].text
    (tmp_path / "html" / "your_instagram_activity" / "content").mkdir(parents=True)
    (tmp_path / "html" / "your_instagram_activity" / "content" / "posts_1.html").write_text("<html></html>")
    with pytest.raises(UserError, match=r"posts_1.html: this Instagram export is in HTML format; request it again "
                                        r"choosing the JSON format"):
        ingest(tmp_path / "html")


def test_medium_response_is_a_reply_and_substack_skips_drafts_and_pages(tmp_path):
    fx.write_medium(tmp_path / "medium")
    result = ingest(tmp_path / "medium")
    assert [p.kind for p in result.posts] == ["post"] * 4 + ["reply"] and result.skipped == {"draft": 1}
    assert result.posts[0].url == f"https://medium.com/@{fx.USER}/post-000000abc000"
    fx.write_substack(tmp_path / "substack")
    result = ingest(tmp_path / "substack")
    assert result.skipped == {"draft": 1, "page (not a post)": 1} and "Subscribe" not in texts(result)[0]


def test_wordpress_classic_editor_paragraphs(tmp_path):
    from pipeline.data.sources.html_text import html_to_text
    from pipeline.data.sources.wordpress import autop

    classic = "I used to answer e-mail before coffee.\nNot any more.\n\n[caption id=\"a\"]<img src=\"x.jpg\">[/caption]Now the first hour is for writing."
    assert html_to_text(autop(classic)) == "I used to answer e-mail before coffee.\nNot any more.\n\nNow the first hour is for writing."


def test_meta_mojibake_fixed():
    assert fix_mojibake(fx.meta_mojibake("Café ☕ naïve")) == "Café ☕ naïve"
    assert fix_mojibake("already fine: café") == "already fine: café"


def test_mastodon_skips_boosts_and_direct_messages(tmp_path):
    fx.write_mastodon(tmp_path / "m")
    result = ingest(tmp_path / "m" / "outbox.json")
    assert result.kind == "mastodon" and result.skipped["direct message"] == 1
    assert result.skipped["boost (someone else's post)"] == 1 and "Secret Lane" not in " ".join(texts(result))
    assert [p.kind for p in result.posts] == ["post", "thread", "reply", "post", "post", "post"]


def test_per_platform_limits_and_brief_words():
    assert sources.max_chars("x") == 280 and sources.max_chars("mastodon") == 500 and sources.max_chars("csv") is None
    assert sources.brief_word("x") == "tweet" and sources.brief_word("linkedin") == "LinkedIn post"
    assert sources.brief_word("csv") == "post" and sources.max_chars("no-such-source") is None


# -------------------------------------------------------------------------------------- bad input
def make_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)
    return path


def test_zip_of_something_else_lists_what_was_expected(tmp_path):
    path = make_zip(tmp_path / "photos.zip", {"IMG_0001.jpg": b"\xff\xd8", "IMG_0002.jpg": b"\xff\xd8",
                                              "readme.txt": b"Photos from the trip."})
    with pytest.raises(UserError) as e:
        ingest(path)
    message = str(e.value)
    assert message.startswith(f"{path}: not an export this tool reads (it holds IMG_0001.jpg, IMG_0002.jpg, readme.txt); "
                              "expected one of: ")
    for expected in ("data/tweets.js", "Shares.csv", "outbox.json", "threads_and_replies.json", "posts_1.json",
                     "posts.csv + posts/*.html", "WXR", ".md/.txt"):
        assert expected in message
    assert "\n" not in message


def test_zip_bomb_by_ratio_and_by_total_size(tmp_path, monkeypatch):
    bomb = make_zip(tmp_path / "bomb.zip", {"data/tweets.js": b"0" * (20 * 2**20)})
    with pytest.raises(UserError, match=r"bomb.zip: entry 'data/tweets.js' inflates more than 100 times: a zip bomb"):
        ingest(bomb)
    monkeypatch.setattr(base, "MAX_TOTAL_BYTES", 1000)
    fx.write_linkedin(tmp_path / "li")
    big = fx.zip_folder(tmp_path / "li", tmp_path / "big.zip")
    with pytest.raises(UserError, match=r"big.zip: entry '[\w.]+' takes the zip past 0 GiB uncompressed: a zip bomb"):
        ingest(big)


def test_zip_entry_larger_than_its_header_says(tmp_path):
    path = make_zip(tmp_path / "liar.zip", {"Shares.csv": b"Date,ShareLink,ShareCommentary\n" + b"x" * 5000})
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")  # the central directory's uncompressed size, cut to 10 bytes
    data[central + 24:central + 28] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(UserError, match=r"liar.zip: entry 'Shares.csv' (is larger than its header says|cannot be read)"):
        ingest(path)


@pytest.mark.parametrize("entry, message", [
    ("../../etc/passwd", r"entry '../../etc/passwd' climbs out of the zip \('..'\); refusing this zip"),
    ("data/../../evil.js", r"entry 'data/../../evil.js' climbs out of the zip"),
    ("/etc/passwd", r"entry '/etc/passwd' has an absolute path; refusing this zip"),
    ("C:/Windows/evil.txt", r"entry 'C:/Windows/evil.txt' has an absolute path"),
    ("inner/export.zip", r"entry 'inner/export.zip' is another archive inside the zip; unpack the outer one and give the inner one."),
])
def test_hostile_zip_entries_refused(tmp_path, entry, message):
    path = make_zip(tmp_path / "export.zip", {"Shares.csv": b"Date,ShareLink,ShareCommentary\n", entry: b"x"})
    with pytest.raises(UserError, match=rf"^{tmp_path}/export.zip: {message}"):
        ingest(path)


def test_mastodon_tar_gz_from_older_servers(tmp_path):
    import tarfile

    expected = fx.write_mastodon(tmp_path / "m")
    path = tmp_path / "archive-20220101000000-0a1b2c.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name in ("outbox.json", "actor.json", "likes.json"):
            tar.add(tmp_path / "m" / name, name)
    result = ingest(path)
    assert result.kind == "mastodon" and texts(result) == expected

    hostile = tmp_path / "evil.tar.gz"
    with tarfile.open(hostile, "w:gz") as tar:
        tar.add(tmp_path / "m" / "outbox.json", "../outbox.json")
    with pytest.raises(UserError, match=r"evil.tar.gz: entry '../outbox.json' climbs out of the tar \('..'\); refusing"):
        ingest(hostile)
    bomb = tmp_path / "bomb.tar.gz"
    (tmp_path / "zeros").write_bytes(b"0" * (20 * 2**20))
    with tarfile.open(bomb, "w:gz") as tar:
        tar.add(tmp_path / "zeros", "outbox.json")
    with pytest.raises(UserError, match=r"bomb.tar.gz: entry 'outbox.json' takes the archive past 100 times its size"):
        ingest(bomb)


def test_corrupt_zip(tmp_path):
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(UserError, match=r"broken.zip: not a readable zip \(.*\); download the export again."):
        ingest(tmp_path / "broken.zip")


def test_feed_that_is_html(tmp_path):
    path = tmp_path / "feed.xml"
    path.write_text("<!DOCTYPE html>\n<html><head><title>My blog</title></head><body><p>hi</p></body></html>")
    with pytest.raises(UserError, match=r"feed.xml: an HTML page, not a feed; save the feed itself \(its address usually "
                                        r"ends in /feed, /rss or .xml\) or give the export file."):
        ingest(path)
    path.write_text('<?xml version="1.0"?><rss><channel><item><title>unclosed</channel></rss>')
    with pytest.raises(UserError, match=r"feed.xml:1: bad XML in the feed"):
        ingest(path)


def test_non_utf8_text_in_a_zip_is_read_as_latin1_and_named(tmp_path):
    path = make_zip(tmp_path / "notes.zip", {"notes/old.txt": "Café notes from an old laptop, written in 2009.".encode("latin-1"),
                                             "notes/new.md": "A note in UTF-8: naïve.".encode()})
    result = ingest(path)
    assert sorted(texts(result)) == ["A note in UTF-8: naïve.", "Café notes from an old laptop, written in 2009."]
    assert result.encoding == "latin-1"
    assert result.notices == [f"{path}/notes/old.txt: not valid UTF-8; read as latin-1 (check accented characters)."]


def test_missing_input_and_unknown_plain_file(tmp_path):
    with pytest.raises(UserError, match="nowhere.zip: file not found; check the path."):
        ingest(tmp_path / "nowhere.zip")
    (tmp_path / "slides.pptx").write_bytes(b"PK\x03\x04")
    with pytest.raises(UserError, match=r"slides.pptx: unknown file type .pptx; use .csv, .jsonl, .json, an X archive"):
        ingest(tmp_path / "slides.pptx")


def test_build_from_each_download_gives_the_posts_as_sft_answers(tmp_path, tiny_model_dir):
    """Every export as downloaded (a zip; the feeds as files) through the whole builder: the SFT answers
    are the posts as written, cleaned (links -> [URL], handles -> [USER]), and nothing else."""
    from pipeline.data import BuildSettings, build_dataset
    from pipeline.data.clean import clean_text
    from pipeline.fsio import read_jsonl

    downloads = []
    for name, write, zip_name, top in EXPORTS:
        expected = write(tmp_path / zip_name.removesuffix(".zip"))
        downloads.append((name, fx.zip_folder(tmp_path / zip_name.removesuffix(".zip"), tmp_path / zip_name, top), expected))
    downloads += [("feed", tmp_path / "feed.xml", fx.write_rss(tmp_path / "feed.xml")),
                  ("bluesky", tmp_path / "bluesky" / "repo.car", fx.write_bluesky(tmp_path / "bluesky"))]
    for name, path, expected in downloads:
        out = tmp_path / f"data-{path.name}"
        report = build_dataset([path], out, BuildSettings(model=str(tiny_model_dir), validation_frac=0, test_frac=0))
        answers = [row["messages"][-1]["content"] for row in read_jsonl(out / "sft" / "train.jsonl")]
        # every answer is one of the posts as written; the replies and reposts among them are filtered out
        assert set(answers) <= {clean_text(t) for t in expected} and {clean_text(t) for t in fx.POSTS} <= set(answers)
        assert report.counts["per_platform"][name]["kept"] == len(answers)
        assert report.per_source[path.name]["kind"] == name and report.per_source[path.name]["kept"] == len(answers)


def test_a_saved_page_is_one_post(tmp_path):
    page = tmp_path / "my-post.html"
    page.write_text("<html><head><title>Mine</title></head><body><nav><a href='/'>Home</a></nav><article>"
                    "<p>First paragraph &amp; more.</p><p>Second<br>line.</p><ul><li>one</li><li>two</li></ul>"
                    "</article><footer>(c) me</footer></body></html>")
    result = ingest(page)
    assert result.kind == "text-files" and texts(result) == ["First paragraph & more.\n\nSecond\nline.\n\n- one\n- two"]
