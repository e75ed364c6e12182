"""Ingest: CSV/JSONL/X archive/LinkedIn/instruction sets, synonyms, encodings, bad input."""

from pathlib import Path

import pytest

from pipeline.data.ingest import ingest, parse_count, parse_date, read_all
from pipeline.errors import UserError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_csv_synonyms_case_insensitive_and_bad_numbers_skipped(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(
        "Full_Text,Favorite_Count,Retweet_Count,Reply_Count,Created_At\n"
        '"Line one\n- bullet",1.2k,"1,000",3,2025-01-02T10:00:00Z\n'
        "second post,n/a,1,1,2025-01-03\n"
        "third post,5,,,not a date\n"
        ",1,1,1,\n", encoding="utf-8")
    result = ingest(path)
    assert [p.text for p in result.posts] == ["Line one\n- bullet", "third post"]
    first = result.posts[0]
    assert (first.likes, first.reposts, first.comments) == (1200.0, 1000.0, 3.0)
    assert first.posted_at.year == 2025 and first.posted_at.tzinfo is not None
    assert result.posts[1].reposts is None and result.unparsed_dates == 1
    assert result.skipped == {"non-numeric engagement": 1, "empty text": 1}


def test_csv_without_text_column_lists_columns(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("title,likes\nhello,3\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"x.csv: no text column \(columns found: title, likes\)"):
        ingest(path)


def test_empty_file_and_unknown_type(tmp_path):
    (tmp_path / "empty.csv").write_text("  \n")
    with pytest.raises(UserError, match="empty.csv: the file is empty"):
        ingest(tmp_path / "empty.csv")
    (tmp_path / "posts.xlsx").write_bytes(b"PK")
    with pytest.raises(UserError, match="unknown file type .xlsx"):
        ingest(tmp_path / "posts.xlsx")


def test_latin1_file_is_read_and_reported(tmp_path):
    path = tmp_path / "old.csv"
    path.write_bytes("text\nCaf\xe9 culture is how I ship features every week\n".encode("latin-1"))
    result = ingest(path)
    assert result.encoding == "latin-1" and "Café" in result.posts[0].text
    assert "latin-1" in result.notices[0]


def test_bad_json_names_the_line(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text('{"text": "a fine post about shipping"}\n\n{"text": oops}\n')
    with pytest.raises(UserError, match=r"posts.jsonl:3: bad JSON"):
        ingest(path)


def test_x_archive_kinds_counts_and_dates():
    result = ingest(EXAMPLES / "tweets.js")
    assert result.kind == "x" and len(result.posts) == 15
    kinds = [p.kind for p in result.posts]
    assert kinds.count("retweet") == 1 and kinds.count("reply") == 2
    assert result.posts[0].likes == 210 and result.posts[0].reposts == 31
    assert result.posts[0].posted_at.isoformat().startswith("2025-02-01T14:00")


def test_linkedin_shares_keep_line_breaks():
    result = ingest(EXAMPLES / "Shares.csv")
    assert result.kind == "linkedin" and len(result.posts) == 10
    assert "\n\n- 2 customers left" in result.posts[0].text
    assert result.posts[0].url.startswith("https://www.linkedin.com/") and result.posts[0].posted_at.month == 3


def test_instruction_set_becomes_posts_with_briefs(tmp_path):
    result = ingest(EXAMPLES / "persona_alpaca.json")
    assert result.kind == "instructions" and "(alpaca)" in result.notices[0] and len(result.posts) >= 60
    assert result.posts[0].brief == "How do I start learning to code?"
    path = tmp_path / "odd.jsonl"
    path.write_text('{"question": "q", "answer": "a"}\n')
    with pytest.raises(UserError, match=r"keys seen: answer, question"):
        ingest(path)


def test_parsers_and_read_all_dedupes_paths():
    assert parse_count("3M") == 3e6 and parse_count("") is None and parse_count(7) == 7.0
    with pytest.raises(ValueError):
        parse_count("lots")
    assert parse_date("Wed Oct 10 20:19:24 +0000 2018").year == 2018
    assert parse_date("garbage") is None
    assert len(read_all([EXAMPLES / "tweets.js", EXAMPLES / "tweets.js"])) == 1
    with pytest.raises(UserError, match="no input files"):
        read_all([])
