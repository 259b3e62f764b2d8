"""The anime timesheet (exposure sheet, X-sheet) of a plan, as CSV: one row per frame.

Columns: ``frame`` (0-based, as in the plan), ``time`` (seconds), ``position``
(bar:beat), ``drawing`` (the picture on screen: ``K2`` is keyframe 2, ``K2-K3 3/7``
the 3rd of the 7 in-betweens from keyframe 2 to 3; numbers are 1-based, as artists
count), ``new`` (1 on the frame a drawing first shows, 0 while it is held),
``exposure`` (frames the drawing is held: 1 = on ones, 2 = twos, 3 = threes),
``timing`` (ones, twos, threes or ``held N``), ``cut`` (1 on a hard cut), ``effects``
(``flash 0.80; zoom 0.50``) and ``lyric`` (the line starting on that frame).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from douga.music.lyrics import LyricLine
from douga.music.musicmap import MusicMap
from douga.timeline.model import Timeline

__all__ = ["XSHEET_COLUMNS", "xsheet_rows", "xsheet_text"]

XSHEET_COLUMNS = ("frame", "time", "position", "drawing", "new", "exposure", "timing", "cut",
                  "effects", "lyric")


def _timing(exposure: int) -> str:
    return {1: "ones", 2: "twos", 3: "threes"}.get(exposure, f"held {exposure}")


def xsheet_rows(timeline: Timeline, music: MusicMap,
                lyrics: Sequence[LyricLine] = ()) -> list[dict[str, str]]:
    """The timesheet as rows (column name -> text)."""
    fps = timeline.fps
    counts: dict[tuple[int, int], int] = {}
    for spec in timeline.frames:
        if spec.kind == "between":
            counts[(spec.a, spec.b)] = counts.get((spec.a, spec.b), 0) + 1
    seen: dict[tuple[int, int], int] = {}
    labels: list[str] = []
    new: list[bool] = []
    label = ""
    for spec in timeline.frames:
        if spec.kind == "key":
            label = f"K{spec.a + 1}"
        elif spec.kind == "between":
            pair = (spec.a, spec.b)
            seen[pair] = seen.get(pair, 0) + 1
            label = f"K{spec.a + 1}-K{spec.b + 1} {seen[pair]}/{counts[pair]}"
        labels.append(label)
        new.append(spec.kind != "hold")
    # exposure: frames from each new drawing to the next one
    exposure = [0] * len(labels)
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or new[i]:
            for j in range(start, i):
                exposure[j] = i - start
            start = i
    cuts = {k.frame for k in timeline.keyframes if k.cut}
    effects: dict[int, list[str]] = {}
    for e in timeline.effects:
        effects.setdefault(e.frame, []).append(f"{e.kind} {e.strength:.2f}")
    lyric_at: dict[int, str] = {}
    for line in lyrics:
        frame = round(line.start * fps)
        if 0 <= frame < len(labels):
            lyric_at.setdefault(frame, " / ".join(line.text.splitlines()))
    rows = []
    for i, drawing in enumerate(labels):
        t = i / fps
        rows.append({
            "frame": str(i), "time": f"{t:.3f}", "position": music.format_position(t),
            "drawing": drawing, "new": "1" if new[i] else "0", "exposure": str(exposure[i]),
            "timing": _timing(exposure[i]), "cut": "1" if i in cuts else "0",
            "effects": "; ".join(effects.get(i, [])), "lyric": lyric_at.get(i, ""),
        })
    return rows


def xsheet_text(timeline: Timeline, music: MusicMap, lyrics: Sequence[LyricLine] = ()) -> str:
    """The timesheet as CSV text (header + one line per frame)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=XSHEET_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(xsheet_rows(timeline, music, lyrics))
    return out.getvalue()
