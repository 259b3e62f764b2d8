"""Timed lyrics: LRC and SRT files → a sorted list of ``LyricLine``.

Lyrics drive the kinetic text overlay and can guide generators per segment (as the
Music2Video seed does). Both formats are small enough that a strict parser of our
own gives better error messages (file and line number) than a general subtitle
library, and costs no dependency.

LRC: ``[mm:ss.xx]`` tags (several per line allowed), metadata tags such as ``[ar:]``
ignored except ``[offset:+/-ms]`` which is applied (a positive offset shows lyrics
sooner), enhanced ``<mm:ss.xx>`` word tags stripped. A line ends where the next timed
line starts; a time tag with no text is a gap marker that only ends the line before
it. Lines sharing one time (bilingual files) become one line joined by a newline.

SRT: numbered cues ``HH:MM:SS,mmm --> HH:MM:SS,mmm`` followed by text; formatting tags
(``<i>``, ``{\\an8}``) are stripped and multi-line cues keep their line breaks.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from douga.errors import InputError

__all__ = ["LyricLine", "load_lyrics", "parse_lrc", "parse_srt"]


@dataclass(frozen=True)
class LyricLine:
    """One line of lyrics: shown from ``start`` to ``end`` seconds.

    ``end`` is None for the last LRC line (it lasts until something else happens);
    ``text`` may hold newlines (multi-line SRT cues, bilingual LRC lines).
    """

    start: float
    end: float | None
    text: str


# ------------------------------------------------------------------------ reading
def _decode(raw: bytes, path: Path) -> str:
    """Text of a lyrics file: UTF-8 (with or without BOM), or UTF-16 with a BOM."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not raw.startswith(
        codecs.BOM_UTF32_LE
    ):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{path}: not UTF-8 text (bad byte at offset {e.start}); expected lyrics saved as UTF-8"
        ) from None


def load_lyrics(path: str | Path) -> list[LyricLine]:
    """Read an ``.lrc`` or ``.srt`` file into lyric lines sorted by start time.

    Parameters
    ----------
    path : str or Path
        The lyrics file; the format is chosen by its extension.

    Returns
    -------
    list of LyricLine
        Sorted by ``start`` (seconds). A file with no timed text gives an empty list.

    Raises
    ------
    InputError
        Missing file, an extension other than .lrc/.srt, text that is not UTF-8, or a
        malformed line (the message gives its line number).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".lrc", ".srt"):
        raise InputError(
            f"{p}: unsupported lyrics format {p.suffix or '(no extension)'!r}; "
            "expected an .lrc or .srt file"
        )
    if not p.exists():
        raise InputError(f"{p}: file not found; expected an {suffix} lyrics file")
    if not p.is_file():
        raise InputError(f"{p}: not a file; expected an {suffix} lyrics file")
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise InputError(f"{p}: cannot read ({e.strerror or e})") from None
    text = _decode(raw, p)
    if suffix == ".lrc":
        return parse_lrc(text, source=str(p))
    return parse_srt(text, source=str(p))


def _fraction(digits: str | None) -> float:
    """'5' → 0.5, '50' → 0.5, '500' → 0.5: digits after the decimal point."""
    return float(f"0.{digits}") if digits else 0.0


# ---------------------------------------------------------------------------- LRC
_LRC_TIME = re.compile(r"(\d+):(\d{1,2})(?:[.:](\d{1,3}))?")
_LRC_META = re.compile(r"([A-Za-z#][A-Za-z0-9_#-]*)\s*:(.*)", re.DOTALL)
_LRC_WORD_TAG = re.compile(r"<\d+:\d{1,2}(?:[.:]\d{1,3})?>")
_LRC_OFFSET = re.compile(r"[+-]?\d+")
_SPACES = re.compile(r"[ \t\u3000]+")


def parse_lrc(text: str, *, source: str = "lyrics.lrc") -> list[LyricLine]:
    """Parse LRC text; ``source`` names the file in error messages. See the module doc."""
    entries: list[tuple[float, int, str]] = []  # (time, order, text); text "" = gap marker
    offset_ms = 0
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line:
            continue
        times: list[float] = []
        rest = line
        while rest.startswith("["):
            close = rest.find("]")
            if close < 0:
                raise InputError(
                    f"{source}: line {number}: unclosed '[' in {_clip(line)}; expected a tag "
                    "such as [01:23.45]"
                )
            tag = rest[1:close].strip()
            m = _LRC_TIME.fullmatch(tag)
            if m:
                minutes, seconds = int(m.group(1)), int(m.group(2))
                if seconds >= 60:
                    raise InputError(
                        f"{source}: line {number}: time tag [{tag}] has {seconds} seconds; "
                        "expected [mm:ss.xx] with ss below 60"
                    )
                times.append(minutes * 60 + seconds + _fraction(m.group(3)))
                rest = rest[close + 1 :].lstrip()
                continue
            if times:
                break  # a bracket after the time tags is lyric text ("[00:12.00][Chorus] ...")
            meta = _LRC_META.fullmatch(tag)
            if meta is None:
                raise InputError(
                    f"{source}: line {number}: [{_clip(tag)}] is not a time tag; expected "
                    "[mm:ss.xx] or a metadata tag such as [ar:Artist]"
                )
            if meta.group(1).lower() == "offset":
                value = meta.group(2).strip()
                if not _LRC_OFFSET.fullmatch(value):
                    raise InputError(
                        f"{source}: line {number}: [offset:{value}] is not a whole number of "
                        "milliseconds; expected e.g. [offset:+250]"
                    )
                offset_ms = int(value)
            rest = ""  # a metadata line carries nothing else
            break
        if not times:
            if rest:
                raise InputError(
                    f"{source}: line {number}: {_clip(line)} has no time tag; expected "
                    "'[mm:ss.xx] lyric text'"
                )
            continue
        words = _SPACES.sub(" ", _LRC_WORD_TAG.sub(" ", rest)).strip()
        for t in times:
            entries.append((t, len(entries), words))
    shift = offset_ms / 1000.0
    entries = [(max(t - shift, 0.0), order, words) for t, order, words in entries]
    entries.sort()
    return _lines_from_entries(entries)


def _lines_from_entries(entries: list[tuple[float, int, str]]) -> list[LyricLine]:
    """Merge same-time entries, end each line at the next later entry, drop gap markers."""
    out: list[LyricLine] = []
    i = 0
    while i < len(entries):
        start = entries[i][0]
        j = i
        texts: list[str] = []
        while j < len(entries) and entries[j][0] == start:
            if entries[j][2]:
                texts.append(entries[j][2])
            j += 1
        end = entries[j][0] if j < len(entries) else None
        if texts:
            out.append(LyricLine(start=start, end=end, text="\n".join(texts)))
        i = j
    return out


def _clip(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


# ---------------------------------------------------------------------------- SRT
_SRT_STAMP = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})[,.](\d{1,3})"
_SRT_TIMING = re.compile(rf"{_SRT_STAMP}\s*-->\s*{_SRT_STAMP}(?:\s+.*)?")
_SRT_LOOKS_TIMED = re.compile(r"\d+:\d+.*-->")
_SRT_TAGS = re.compile(r"<[^<>]*>|\{\\[^{}]*\}")


def _srt_seconds(h: str | None, m: str, s: str, frac: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + _fraction(frac)


def _srt_stamp_ok(h: str | None, m: str, s: str) -> bool:
    """Seconds below 60, and minutes too when hours are written."""
    return int(s) < 60 and (h is None or int(m) < 60)


def parse_srt(text: str, *, source: str = "lyrics.srt") -> list[LyricLine]:
    """Parse SRT text; ``source`` names the file in error messages. See the module doc."""
    lines = text.splitlines()
    n = len(lines)
    cues: list[tuple[float, int, LyricLine]] = []
    i = 0
    while i < n:
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        if line.isdigit() and i + 1 < n and "-->" in lines[i + 1]:
            i += 1  # the cue number; its value carries nothing we use
            line = lines[i].strip()
        m = _SRT_TIMING.fullmatch(line)
        if m is None:
            what = "malformed timing" if "-->" in line else "unexpected text"
            raise InputError(
                f"{source}: line {i + 1}: {what} {_clip(line)}; expected a cue number or "
                "'HH:MM:SS,mmm --> HH:MM:SS,mmm'"
            )
        timing_line = i + 1
        start = _srt_seconds(*m.group(1, 2, 3, 4))
        end = _srt_seconds(*m.group(5, 6, 7, 8))
        if not (_srt_stamp_ok(*m.group(1, 2, 3)) and _srt_stamp_ok(*m.group(5, 6, 7))):
            raise InputError(
                f"{source}: line {timing_line}: {_clip(line)} has minutes or seconds of 60 or "
                "more; expected HH:MM:SS,mmm"
            )
        if end < start:
            raise InputError(
                f"{source}: line {timing_line}: cue ends before it starts ({_clip(line)}); "
                "expected start --> end with end at or after start"
            )
        i += 1
        body: list[str] = []
        while i < n and lines[i].strip():
            candidate = lines[i].strip()
            if _SRT_TIMING.fullmatch(candidate):
                # the blank line between cues is missing; a number just before is the index
                if body and body[-1].isdigit():
                    body.pop()
                break
            if _SRT_LOOKS_TIMED.match(candidate):
                raise InputError(
                    f"{source}: line {i + 1}: malformed timing {_clip(candidate)}; expected "
                    "'HH:MM:SS,mmm --> HH:MM:SS,mmm'"
                )
            body.append(candidate)
            i += 1
        cue_text = "\n".join(
            t for t in (_SPACES.sub(" ", _SRT_TAGS.sub("", b)).strip() for b in body) if t
        )
        if cue_text:
            cues.append((start, len(cues), LyricLine(start=start, end=end, text=cue_text)))
    cues.sort(key=lambda c: (c[0], c[1]))
    return [c[2] for c in cues]
