"""Timeline planner: project + MusicMap → Timeline (the seed's "dynamic alignment").

:func:`plan_timeline` reads the project, pins keyframes to the frame nearest
their anchor (``frame = round(anchor_time * fps)``), places the others with the
DP in :mod:`douga.timeline.alignment`, builds one FrameSpec per output frame with
anime timing and beat easing (:mod:`douga.timeline.pacing`) and schedules the
effect events (:mod:`douga.timeline.effects`). The video lasts as long as the
song: ``frame_count = round(duration * fps)``. The first keyframe shows from
frame 0 (held there when it is pinned later), the last holds to the end.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from douga.errors import InputError
from douga.music.musicmap import MusicMap
from douga.timeline.alignment import place_keyframes
from douga.timeline.effects import schedule_effects
from douga.timeline.model import KeyframePlacement, Timeline
from douga.timeline.pacing import PULSE, build_frames, section_pacing


# ------------------------------------------------------------------ inputs
@dataclass(frozen=True)
class KeyframeRequest:
    """One keyframe as the planner needs it (the project file's keyframe, flattened).

    ``at_bar``/``at_beat`` pin it to a musical position (beat defaults to 1),
    ``at_seconds`` to a time; with neither it is placed by the planner.
    """

    image: str
    text: str | None = None
    at_bar: int | None = None
    at_beat: float | None = None
    at_seconds: float | None = None
    cut: bool = False
    beats: float | None = None

    @property
    def pinned(self) -> bool:
        return self.at_bar is not None or self.at_seconds is not None

    def pin_label(self) -> str:
        """The pin as the project file writes it: "5:1" or "12.5s"."""
        if self.at_bar is not None:
            return f"{self.at_bar}:{1.0 if self.at_beat is None else self.at_beat:g}"
        return f"{self.at_seconds:g}s"


class AnchorLike(Protocol):
    @property
    def bar(self) -> int | None: ...
    @property
    def beat(self) -> float | None: ...
    @property
    def seconds(self) -> float | None: ...


class KeyframeLike(Protocol):
    @property
    def image(self) -> object: ...
    @property
    def text(self) -> str | None: ...
    @property
    def at(self) -> AnchorLike | None: ...
    @property
    def cut(self) -> bool: ...
    @property
    def beats(self) -> float | None: ...


class OutputLike(Protocol):
    @property
    def fps(self) -> float: ...


class ProjectLike(Protocol):
    """What the planner reads from ``douga.project.Project``."""

    @property
    def keyframes(self) -> Sequence[KeyframeLike]: ...
    @property
    def output(self) -> OutputLike: ...


def requests_from_project(project: ProjectLike) -> list[KeyframeRequest]:
    """Flatten a project's keyframes into :class:`KeyframeRequest` objects."""
    out = []
    for kf in project.keyframes:
        at = kf.at
        out.append(KeyframeRequest(
            image=str(kf.image),
            text=kf.text,
            at_bar=None if at is None else at.bar,
            at_beat=None if at is None else at.beat,
            at_seconds=None if at is None else at.seconds,
            cut=bool(kf.cut),
            beats=kf.beats,
        ))
    return out


# ------------------------------------------------------------------ public API
def plan_timeline(
    project: ProjectLike,
    music_map: MusicMap,
    *,
    cut_at_sections: bool = False,
    effects: bool = True,
) -> Timeline:
    """Plan the video of a project on its analysed song.

    Parameters
    ----------
    project : Project
        Anything with ``.keyframes`` (image, text, at, cut, beats) and
        ``.output.fps``, such as ``douga.project.Project``.
    music_map : MusicMap
        The analysed song; the video lasts exactly as long as it.
    cut_at_sections : bool
        Also cut (never in-between) into the first keyframe of every section.
    effects : bool
        Schedule flash / zoom / shake events; False gives an empty list.

    Returns
    -------
    Timeline
        See :func:`plan_from_requests`.

    Raises
    ------
    InputError
        For an impossible request; the message names the keyframe.
    """
    return plan_from_requests(
        requests_from_project(project),
        music_map,
        fps=float(project.output.fps),
        cut_at_sections=cut_at_sections,
        effects=effects,
    )


def plan_from_requests(
    requests: Sequence[KeyframeRequest],
    music_map: MusicMap,
    *,
    fps: float,
    cut_at_sections: bool = False,
    effects: bool = True,
) -> Timeline:
    """Plan a timeline from flat keyframe requests (the core of :func:`plan_timeline`).

    Parameters
    ----------
    requests : sequence of KeyframeRequest
        The keyframes in show order; at least one.
    music_map : MusicMap
        The analysed song.
    fps : float
        Output frame rate; ``frame_count = round(duration * fps)``.
    cut_at_sections, effects : bool
        As in :func:`plan_timeline`.

    Returns
    -------
    Timeline
        ``keyframes`` with strictly increasing frames (the first shows from frame
        0, the last holds to the end), one FrameSpec per frame, effect events,
        and ``extra["pacing"]`` (per-section ones/twos/threes).

    Raises
    ------
    InputError
        Pins out of order, after the end of the song, two keyframes on one frame,
        more keyframes than frames, bar:beat pins on a song without beats, or a
        malformed value.
    """
    try:
        fps = float(fps)
    except (TypeError, ValueError):
        raise InputError(f"output.fps: got {fps!r}; expected a number of frames/s") from None
    _check_inputs(requests, music_map, fps)
    duration = float(music_map.duration)
    frame_count = _round(duration * fps)
    n = len(requests)
    if n > frame_count:
        raise InputError(
            f"keyframes: {n} keyframes but the song has only {frame_count} frames "
            f"({duration:.2f} s of `audio` at {fps:g} fps); expected at most one keyframe per frame"
        )
    pins = _resolve_pins(requests, music_map, fps=fps, frame_count=frame_count)
    times, frames, cost, n_cand = place_keyframes(
        requests, music_map, pins, fps=fps, frame_count=frame_count,
        cut_at_sections=cut_at_sections,
    )
    # a keyframe before the first beat (the song start, a pickup) has no musical anchor
    first_beat = music_map.beats[0] - 0.5 / fps if music_map.beats else math.inf
    cuts = [r.cut for r in requests]
    if cut_at_sections:
        _mark_section_cuts(cuts, frames, music_map, fps=fps)
    placements = [
        KeyframePlacement(
            index=i,
            image=r.image,
            time=frames[i] / fps,
            frame=frames[i],
            anchor=music_map.format_position(times[i]) if times[i] >= first_beat else None,
            anchor_time=times[i],
            cut=cuts[i],
        )
        for i, r in enumerate(requests)
    ]
    frame_specs = build_frames(placements, frame_count=frame_count, fps=fps, music_map=music_map)
    events = (
        schedule_effects(music_map, placements, fps=fps, frame_count=frame_count)
        if effects else []
    )
    extra = {
        "pacing": section_pacing(music_map, fps=fps),
        "easing": f"linear in beat time, pulse (1-k)v + k v^2 inside each beat, k={PULSE}",
        "cut_at_sections": cut_at_sections,
        "planner": {"cost": round(cost, 6), "candidates": n_cand},
    }
    return Timeline(fps=float(fps), frame_count=frame_count, keyframes=placements,
                    frames=frame_specs, effects=events, extra=extra)


# ------------------------------------------------------------------ validation
def _round(x: float) -> int:
    """Nearest integer, halves up (frame = round(time * fps))."""
    return math.floor(x + 0.5)


def _check_inputs(requests: Sequence[KeyframeRequest], mm: MusicMap, fps: float) -> None:
    if not (math.isfinite(fps) and fps > 0):
        raise InputError(f"output.fps: got {fps!r}; expected a positive number of frames/s")
    if not (math.isfinite(mm.duration) and mm.duration >= 0):
        raise InputError(f"MusicMap.duration: got {mm.duration!r}; expected seconds >= 0")
    if not requests:
        raise InputError("keyframes: the list is empty; expected at least one keyframe "
                         "(`douga guided` makes a video from guidance.prompts alone)")
    for i, r in enumerate(requests):
        if r.beats is not None and not (math.isfinite(r.beats) and r.beats > 0):
            raise InputError(f"keyframes[{i}].beats: got {r.beats!r}; expected a positive "
                             "number of beats")
        if r.at_bar is None and r.at_beat is not None:
            raise InputError(f"keyframes[{i}].at: beat {r.at_beat:g} without a bar; "
                             "expected bar:beat such as 5:1")
        if r.at_bar is not None and r.at_seconds is not None:
            raise InputError(f"keyframes[{i}].at: both a bar:beat and a time in seconds; "
                             "expected one of them")
        for name, v in (("beat", r.at_beat), ("seconds", r.at_seconds)):
            if v is not None and not math.isfinite(v):
                raise InputError(f"keyframes[{i}].at: {name} {v!r} is not a finite number")


def _resolve_pins(
    requests: Sequence[KeyframeRequest], mm: MusicMap, *, fps: float, frame_count: int
) -> dict[int, tuple[float, int]]:
    """Pinned keyframe index → (anchor time, frame); checks order, end and room."""
    duration = float(mm.duration)
    pins: dict[int, tuple[float, int]] = {}
    prev: int | None = None
    n = len(requests)
    for i, r in enumerate(requests):
        if not r.pinned:
            continue
        label = f"keyframes[{i}].at: pin {r.pin_label()}"
        if r.at_bar is not None:
            if not mm.beats:
                raise InputError(
                    f"{label} is a bar:beat position but the song has no beats (silent or "
                    "without a pulse); expected a time in seconds such as \"12.5s\""
                )
            try:
                t = mm.time_at(r.at_bar, 1.0 if r.at_beat is None else r.at_beat)
            except InputError as e:
                raise InputError(f"{label}: {e}") from None
        else:
            assert r.at_seconds is not None  # pinned and not by bar
            t = float(r.at_seconds)
        if t < 0:
            raise InputError(f"{label} ({t:.2f} s) is before the start of the song")
        if t > duration + 1e-9:
            raise InputError(
                f"{label} ({t:.2f} s) is after the end of the song ({duration:.2f} s)"
            )
        frame = min(_round(t * fps), frame_count - 1)
        if prev is None:
            if frame < i:
                raise InputError(
                    f"{label} ({t:.2f} s) falls on frame {frame}, but the {i} keyframes "
                    f"before it need frames 0..{i - 1} (one frame each); move the pin later"
                )
        else:
            pt, pf = pins[prev]
            plabel = f"keyframes[{prev}].at {requests[prev].pin_label()} ({pt:.2f} s)"
            if t < pt:
                raise InputError(f"{label} ({t:.2f} s) is before {plabel}; pins must be in order")
            if frame == pf:
                raise InputError(f"{label} ({t:.2f} s) falls on frame {frame}, the same frame "
                                 f"as {plabel}; keyframes need at least one frame each")
            if frame - pf < i - prev:
                raise InputError(
                    f"{label} ({t:.2f} s, frame {frame}): the {i - prev - 1} unpinned "
                    f"keyframes between it and {plabel}, frame {pf}, do not fit in "
                    f"{frame - pf - 1} frames; move the pins apart or remove keyframes"
                )
        pins[i] = (t, frame)
        prev = i
    if prev is not None and frame_count - 1 - pins[prev][1] < n - 1 - prev:
        raise InputError(
            f"keyframes[{prev}].at: pin {requests[prev].pin_label()} falls on frame "
            f"{pins[prev][1]}, too late for the {n - 1 - prev} keyframes after it "
            f"(the song ends at frame {frame_count - 1})"
        )
    return pins

def _mark_section_cuts(cuts: list[bool], frames: list[int], mm: MusicMap, *, fps: float) -> None:
    """Cut into the first keyframe of every section after the first frame."""
    starts = sorted(_round(s.start * fps) for s in mm.sections)
    bounds = [*starts, 1 << 62]
    for s, e in itertools.pairwise(bounds):
        if s < 1:
            continue
        for i in range(1, len(frames)):
            if s <= frames[i] < e:
                cuts[i] = True
                break


def placement_position(placement: KeyframePlacement, music: MusicMap) -> str:
    """Where a placed keyframe shows, in musical time for people: its anchor (``"5:1"``),
    else an approximate ``"~bar:beat"``, or ``"-"`` in a song without beats."""
    if placement.anchor is not None:
        return placement.anchor
    return f"~{music.format_position(placement.time)}" if music.beats else "-"
