"""Timed lyrics: LRC and SRT parsing, encodings, and errors with line numbers."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from douga.errors import InputError
from douga.music.lyrics import LyricLine, load_lyrics, parse_lrc, parse_srt


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------------------- LRC
def test_lrc_basic_lines_end_at_the_next_start(tmp_path: Path) -> None:
    path = _write(tmp_path, "song.lrc", "[00:01.00]first\n[00:03.50]second\n[00:07.25]third\n")
    assert load_lyrics(path) == [
        LyricLine(1.0, 3.5, "first"),
        LyricLine(3.5, 7.25, "second"),
        LyricLine(7.25, None, "third"),
    ]


def test_lrc_tag_forms() -> None:
    lines = parse_lrc("[01:02]a\n[01:03.5]b\n[01:04.123]c\n[01:05:50]d\n[100:00.00]e\n")
    assert [(round(x.start, 3), x.text) for x in lines] == [
        (62.0, "a"), (63.5, "b"), (64.123, "c"), (65.5, "d"), (6000.0, "e"),
    ]


def test_lrc_several_tags_on_one_line_and_sorting() -> None:
    lines = parse_lrc("[00:10.00][00:30.00]chorus\n[00:20.00]verse\n")
    assert [(x.start, x.end, x.text) for x in lines] == [
        (10.0, 20.0, "chorus"), (20.0, 30.0, "verse"), (30.0, None, "chorus"),
    ]


def test_lrc_metadata_is_ignored_and_offset_applied() -> None:
    text = "[ar:Someone]\n[ti:A Song]\n[al:]\n[by:me]\n[length: 03:20]\n[#:comment]\n" \
           "[offset:+500]\n[00:02.00]one\n[00:04.00]two\n"
    lines = parse_lrc(text)
    # a positive offset shows the lyrics sooner
    assert [(x.start, x.end) for x in lines] == [(1.5, 3.5), (3.5, None)]
    later = parse_lrc("[offset:-250]\n[00:00.10]x\n[00:01.00]y\n")
    assert [x.start for x in later] == [0.35, 1.25]
    # times never become negative
    assert parse_lrc("[offset:5000]\n[00:01.00]z\n")[0].start == 0.0


def test_lrc_enhanced_word_tags_are_stripped() -> None:
    line = parse_lrc("[00:12.00]<00:12.00> Hel <00:12.40>lo  <00:12.80>world\n")[0]
    assert line.text == "Hel lo world"
    assert parse_lrc("[00:01.00]<00:01.00>花<00:01.30>が<00:01.60>舞う\n")[0].text == "花 が 舞う"


def test_lrc_empty_time_tag_ends_the_line_before() -> None:
    lines = parse_lrc("[00:01.00]sing\n[00:04.00]\n[00:09.00]again\n")
    assert [(x.start, x.end, x.text) for x in lines] == [(1.0, 4.0, "sing"), (9.0, None, "again")]


def test_lrc_same_time_lines_merge() -> None:
    lines = parse_lrc("[00:01.00]桜が舞う\n[00:01.00]petals fall\n[00:03.00]next\n")
    assert lines[0] == LyricLine(1.0, 3.0, "桜が舞う\npetals fall")
    assert len(lines) == 2


def test_lrc_bracket_after_time_is_text() -> None:
    assert parse_lrc("[00:01.00][Chorus] la la\n")[0].text == "[Chorus] la la"


def test_lrc_bom_cjk_crlf(tmp_path: Path) -> None:
    text = (
        "\ufeff[ti:夜に駆ける]\r\n[00:00.50]沈むように溶けてゆくように\r\n"
        "[00:03.00]二人だけの空が広がる夜に\r\n"
    )
    path = _write(tmp_path, "yoru.lrc", text)
    lines = load_lyrics(path)
    assert lines[0] == LyricLine(0.5, 3.0, "沈むように溶けてゆくように")
    assert lines[1].text == "二人だけの空が広がる夜に"


def test_lrc_utf16_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "u16.lrc"
    path.write_bytes(codecs.BOM_UTF16_LE + "[00:01.00]こんにちは\n".encode("utf-16-le"))
    assert load_lyrics(path) == [LyricLine(1.0, None, "こんにちは")]


def test_lrc_empty_and_metadata_only_files_give_no_lines(tmp_path: Path) -> None:
    assert load_lyrics(_write(tmp_path, "empty.lrc", "")) == []
    assert parse_lrc("[ar:x]\n\n[ti:y]\n") == []


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("[00:01.00]ok\nno tag here\n", 2, "has no time tag"),
        ("[00:01.00]ok\n\n[00:75.00]bad\n", 3, "below 60"),
        ("[0a:01.00]x\n", 1, "not a time tag"),
        ("[00:01.00 unclosed\n", 1, "unclosed"),
        ("[offset:soon]\n", 1, "milliseconds"),
        ("[Chorus]\n", 1, "not a time tag"),
    ],
)
def test_lrc_malformed_names_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = _write(tmp_path, "bad.lrc", text)
    with pytest.raises(InputError, match=rf"bad\.lrc: line {line}: .*{words}"):
        load_lyrics(path)


# ---------------------------------------------------------------------------- SRT
SRT = """1
00:00:01,000 --> 00:00:03,500
first line

2
00:00:04,000 --> 00:00:06,000
<i>two</i> {\\an8}lines
  second  row

3
00:01:02.250 --> 00:01:05.000 X1:10 X2:20 Y1:5 Y2:9
third
"""


def test_srt_basic(tmp_path: Path) -> None:
    lines = load_lyrics(_write(tmp_path, "song.srt", SRT))
    assert lines == [
        LyricLine(1.0, 3.5, "first line"),
        LyricLine(4.0, 6.0, "two lines\nsecond row"),
        LyricLine(62.25, 65.0, "third"),
    ]


def test_srt_tolerates_missing_numbers_and_blank_lines_and_sorts() -> None:
    text = "\n\n00:00:05,000 --> 00:00:06,000\nlater\n" \
           "00:00:01,000 --> 00:00:02,000\nearlier\n3\n00:00:03,000 --> 00:00:04,000\nmid\n\n\n"
    lines = parse_srt(text)
    assert [(x.start, x.text) for x in lines] == [(1.0, "earlier"), (3.0, "mid"), (5.0, "later")]


def test_srt_hours_bom_cjk_and_empty_cues(tmp_path: Path) -> None:
    text = (
        "\ufeff1\r\n12:00:00,100 --> 12:00:01,000\r\n桜\r\n\r\n"
        "2\r\n00:00:00,000 --> 00:00:01,000\r\n<b></b>\r\n"
    )
    lines = load_lyrics(_write(tmp_path, "x.SRT", text))
    assert lines == [LyricLine(43200.1, 43201.0, "桜")]
    assert load_lyrics(_write(tmp_path, "e.srt", "")) == []


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("1\n00:00:01,000 -> 00:00:02,000\nx\n", 1, "unexpected text"),
        ("1\n00:00:01,000 --> 00:00:0x,000\nx\n", 2, "malformed timing"),
        ("hello\n", 1, "unexpected text"),
        ("1\n00:00:03,000 --> 00:00:02,000\nx\n", 2, "ends before it starts"),
        ("1\n00:00:01,000 --> 00:00:02,000\nx\n00:00:0a,000 --> 00:00:04,000\n", 4,
         "malformed timing"),
        ("1\n00:00:61,000 --> 00:01:02,000\nx\n", 2, "60 or more"),
    ],
)
def test_srt_malformed_names_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = _write(tmp_path, "bad.srt", text)
    with pytest.raises(InputError, match=rf"bad\.srt: line {line}: .*{words}"):
        load_lyrics(path)


# ------------------------------------------------------------------ files, formats
def test_other_extension_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "lyrics.txt", "[00:01.00]x\n")
    expected = r"lyrics\.txt: unsupported lyrics format '\.txt'.*\.lrc or \.srt"
    with pytest.raises(InputError, match=expected):
        load_lyrics(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.lrc: file not found"):
        load_lyrics(tmp_path / "nope.lrc")


def test_not_utf8(tmp_path: Path) -> None:
    path = _write(tmp_path, "sjis.lrc", "[00:01.00]桜が舞う\n", encoding="shift_jis")
    with pytest.raises(InputError, match=r"sjis\.lrc: not UTF-8"):
        load_lyrics(path)


# ------------------------------------------------------------------ property test
_PIECES = st.sampled_from([
    "[00:01.00]", "[01:02]", "[ar:x]", "[offset:+100]", "[offset:", "<00:01.00>", "[", "]",
    "00:00:01,000 --> 00:00:02,000", "-->", "1", "\n", "\r\n", " ", "桜", "<i>", "{\\an8}",
    "[99:59.999]", "[00:60.00]",
])


@settings(max_examples=300, deadline=None)
@given(text=st.lists(st.one_of(_PIECES, st.text(max_size=5)), max_size=30).map("".join))
def test_any_text_gives_sorted_lines_or_one_line_input_error(text: str) -> None:
    for parse in (parse_lrc, parse_srt):
        try:
            lines = parse(text)
        except InputError as e:
            assert "\n" not in str(e)
            continue
        assert [x.start for x in lines] == sorted(x.start for x in lines)
        for x in lines:
            assert x.start >= 0 and x.text
            assert x.end is None or x.end >= x.start
