"""The plan as an OpenTimelineIO timeline, to finish the video in Kdenlive, Resolve or Premiere.

Tracks: a video track ``douga`` whose clips are the keyframe holds (the keyframe
image, as an external reference) and the in-between stretches (a generator
reference saying which pair; or, given the rendered video, that video at the same
frames), and an audio track with the song. Markers on the timeline: every beat,
every downbeat (``bar N``), every section (with its length, label and intensity)
and every lyric line (with its length). Times are at the plan's frame rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from douga.music.lyrics import LyricLine
from douga.music.musicmap import MusicMap
from douga.timeline.model import Timeline

__all__ = ["otio_text", "timeline_to_otio"]


def _runs(timeline: Timeline) -> list[tuple[str, int, int, int, int]]:
    """(kind, first frame, frame count, a, b) of each clip: a keyframe with its holds
    ("hold"), or the in-betweens of one pair with their holds ("between")."""
    runs: list[tuple[str, int, int, int, int]] = []
    for i, spec in enumerate(timeline.frames):
        kind = "hold" if spec.kind == "key" else "between" if spec.kind == "between" else None
        if kind is None and runs:  # a hold continues the current clip
            k, first, n, a, b = runs[-1]
            runs[-1] = (k, first, n + 1, a, b)
            continue
        if kind == "between" and runs and runs[-1][0] == "between" and runs[-1][3:] == (
                spec.a, spec.b):
            k, first, n, a, b = runs[-1]
            runs[-1] = (k, first, n + 1, a, b)
            continue
        runs.append((kind or "hold", i, 1, spec.a, spec.b if kind == "between" else spec.a))
    return runs


def timeline_to_otio(timeline: Timeline, music: MusicMap, *, song: Path,
                     keyframe_images: Sequence[Path], lyrics: Sequence[LyricLine] = (),
                     video: Path | None = None, name: str = "douga") -> Any:
    """An ``opentimelineio.schema.Timeline`` of the plan (see the module docstring)."""
    import opentimelineio as otio

    fps = timeline.fps
    rt = otio.opentime.RationalTime

    def span(first: float, count: float) -> Any:
        return otio.opentime.TimeRange(start_time=rt(first, fps), duration=rt(count, fps))

    out = otio.schema.Timeline(name=name, global_start_time=rt(0, fps))
    track = otio.schema.Track(name="douga", kind=otio.schema.TrackKind.Video)
    for kind, first, count, a, b in _runs(timeline):
        if kind == "hold":
            ref = otio.schema.ExternalReference(target_url=Path(keyframe_images[a]).as_uri())
            clip = otio.schema.Clip(name=f"K{a + 1} {Path(keyframe_images[a]).name}",
                                    media_reference=ref, source_range=span(0, count))
        elif video is not None:
            ref = otio.schema.ExternalReference(target_url=Path(video).as_uri(),
                                                available_range=span(0, timeline.frame_count))
            clip = otio.schema.Clip(name=f"K{a + 1}-K{b + 1} in-betweens", media_reference=ref,
                                    source_range=span(first, count))
        else:
            ref = otio.schema.GeneratorReference(
                generator_kind="douga.inbetween",
                parameters={"from_keyframe": a + 1, "to_keyframe": b + 1},
                available_range=span(0, count))
            clip = otio.schema.Clip(name=f"K{a + 1}-K{b + 1} in-betweens", media_reference=ref,
                                    source_range=span(0, count))
        clip.metadata["douga"] = {"kind": kind, "first_frame": first, "keyframe": a + 1,
                                  "to_keyframe": b + 1}
        track.append(clip)
    audio = otio.schema.Track(name="song", kind=otio.schema.TrackKind.Audio)
    audio.append(otio.schema.Clip(
        name=Path(song).name,
        media_reference=otio.schema.ExternalReference(target_url=Path(song).as_uri()),
        source_range=span(0, timeline.frame_count)))
    out.tracks.append(track)
    out.tracks.append(audio)

    def mark(name: str, start: float, seconds: float, color: str, **meta: Any) -> None:
        first = round(start * fps)
        if not 0 <= first < timeline.frame_count:
            return
        marker = otio.schema.Marker(name=name, marked_range=span(first, round(seconds * fps)),
                                    color=color)
        marker.metadata["douga"] = meta
        out.tracks.markers.append(marker)

    colors = otio.schema.MarkerColor
    downbeats = {round(t, 6) for t in music.downbeats}
    for t in music.beats:
        if round(t, 6) not in downbeats:
            mark("beat", t, 0, colors.GREEN, kind="beat", position=music.format_position(t))
    for t in music.downbeats:
        bar = music.position_of(t)[0]
        mark(f"bar {bar}", t, 0, colors.RED, kind="downbeat", bar=bar)
    for s in music.sections:
        mark(f"section {s.label}", s.start, s.end - s.start, colors.PURPLE, kind="section",
             label=s.label, intensity=round(s.intensity, 3))
    for k, line in enumerate(lyrics):
        end = line.end if line.end is not None else (
            lyrics[k + 1].start if k + 1 < len(lyrics) else music.duration)
        mark(line.text.replace("\n", " / "), line.start, max(end - line.start, 0.0),
             colors.YELLOW, kind="lyric")
    return out


def otio_text(timeline: Timeline, music: MusicMap, **kwargs: Any) -> str:
    """:func:`timeline_to_otio` serialised as ``.otio`` JSON."""
    import opentimelineio as otio

    return str(otio.adapters.write_to_string(timeline_to_otio(timeline, music, **kwargs),
                                             "otio_json"))
