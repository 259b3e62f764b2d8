"""Anime timing and easing: turn placed keyframes into one FrameSpec per output frame.

Two ideas from the studio drive this module.

*Timing on ones, twos and threes.* A drawing is held for 1, 2 or 3 frames at
24 fps. Calm passages are on threes, ordinary ones on twos and intense ones on
ones; the choice comes from the intensity of the section a frame lies in
(:func:`drawing_hold`). Timing is defined at 24 fps: at another frame rate a
drawing lasts ``hold * fps / 24`` output frames on average (at least one), so a
song on twos looks the same at 24, 30 or 60 fps. A new drawing is also forced on
every music beat, so that the picture changes exactly on the beat even when the
hold length does not divide the beat.

*Easing that arrives on the beat.* The in-between parameter ``t`` (0 at keyframe
``a``, 1 at keyframe ``b``) advances linearly in *beat time* (fractional beat
index, so it follows tempo changes) over the last four beats before keyframe ``b``;
a longer gap is a moving hold before that (the drawing drifts by a tenth of the
move), so the move itself is as quick as in a short gap and lands visibly on the
beat instead of creeping for bars. Inside every beat ``t`` follows the pulse

    p(v) = (1 - k) v + k v²,    k = PULSE = 0.5,  v in [0, 1] within the beat,

which starts each beat at half the mean speed and reaches 1.5 times the mean
speed as the beat arrives. The motion therefore accelerates *into* every beat
(and into the next keyframe, which lies on a beat) instead of drifting into it
with a slow-in; the largest frame-to-frame change sits on the beat. The curve is
strictly increasing, so ``t`` stays in (0, 1) between two keyframes. Without a
beat grid (a silent song) the same pulse spans the whole interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from douga.music.musicmap import MusicMap
from douga.timeline.model import FrameSpec, KeyframePlacement

CALM_BELOW = 0.35  # section intensity below this: on threes
INTENSE_ABOVE = 0.7  # section intensity above this: on ones
PULSE = 0.5  # share of quadratic acceleration inside each beat (0 = linear)
MOVE_BEATS = 4.0  # a longer gap holds (drifting by DRIFT) and moves in its last 4 beats
DRIFT = 0.1
TIMING_NAMES = {1: "ones", 2: "twos", 3: "threes"}
_T_EPS = 1e-9  # keeps an in-between's t strictly inside (0, 1) under rounding


# ---------------------------------------------------------------- timing
def drawing_hold(intensity: float) -> int:
    """Frames a drawing is held at 24 fps for a section of this intensity.

    Parameters
    ----------
    intensity : float
        Section intensity, 0 (calm) .. 1 (most intense part of the song).

    Returns
    -------
    int
        3 (on threes) below ``CALM_BELOW``, 1 (on ones) above ``INTENSE_ABOVE``,
        otherwise 2 (on twos).
    """
    if intensity < CALM_BELOW:
        return 3
    if intensity > INTENSE_ABOVE:
        return 1
    return 2


def hold_frames(hold: int, fps: float) -> float:
    """Mean number of output frames per drawing for a 24-fps ``hold`` at ``fps``.

    Fractional values are kept so that, for example, twos at 30 fps alternate
    holds of 2 and 3 frames and keep the 12-drawings-per-second rate.
    """
    return max(1.0, hold * fps / 24.0)


def _default_intensity(music_map: MusicMap) -> float:
    if music_map.beat_intensity:
        return float(np.clip(np.mean(music_map.beat_intensity), 0.0, 1.0))
    return 0.5


def section_intensity_at(music_map: MusicMap, times: np.ndarray) -> np.ndarray:
    """Intensity of the section each time lies in.

    A time in a gap between sections takes the section that started last before
    it, a time before the first section takes the first one, and a song without
    sections uses the mean beat intensity (0.5 when there is none).

    Parameters
    ----------
    music_map : MusicMap
        The analysed song.
    times : numpy.ndarray
        Times in seconds, any shape.

    Returns
    -------
    numpy.ndarray
        Float intensities in [0, 1], same shape as ``times``.
    """
    times = np.asarray(times, dtype=float)
    sections = sorted(music_map.sections, key=lambda s: s.start)
    if not sections:
        return np.full(times.shape, _default_intensity(music_map))
    starts = np.array([s.start for s in sections])
    values = np.clip(np.array([s.intensity for s in sections], dtype=float), 0.0, 1.0)
    idx = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(sections) - 1)
    return values[idx]


def section_pacing(music_map: MusicMap, *, fps: float) -> list[dict[str, Any]]:
    """Per-section timing, as stored in ``Timeline.extra["pacing"]``.

    Parameters
    ----------
    music_map : MusicMap
        The analysed song.
    fps : float
        Output frame rate.

    Returns
    -------
    list of dict
        One entry per section (or one for the whole song when there are no
        sections) with ``start``, ``end`` (s), ``label``, ``intensity``,
        ``timing`` ("ones" | "twos" | "threes"), ``hold_24fps`` (frames at 24 fps)
        and ``hold_frames`` (mean output frames per drawing at ``fps``).
    """
    rows = [(s.start, s.end, s.label, s.intensity) for s in music_map.sections]
    if not rows:
        rows = [(0.0, music_map.duration, "song", _default_intensity(music_map))]
    out = []
    for start, end, label, intensity in sorted(rows):
        hold = drawing_hold(intensity)
        out.append({
            "start": float(start),
            "end": float(end),
            "label": label,
            "intensity": float(intensity),
            "timing": TIMING_NAMES[hold],
            "hold_24fps": hold,
            "hold_frames": round(hold_frames(hold, fps), 4),
        })
    return out


# ---------------------------------------------------------------- easing
def ease_pulse(v: np.ndarray, *, pulse: float = PULSE) -> np.ndarray:
    """The in-beat pulse ``(1 - pulse) v + pulse v²``: accelerates into the beat.

    Strictly increasing on [0, 1] for ``0 <= pulse < 1``; 0 at 0 and 1 at 1.
    """
    return (1.0 - pulse) * v + pulse * v * v


def beat_index(times: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """Fractional beat index of each time (0 at the first beat), linear outside the grid.

    Parameters
    ----------
    times : numpy.ndarray
        Times in seconds.
    beats : numpy.ndarray
        Strictly increasing beat times in seconds, at least two.

    Returns
    -------
    numpy.ndarray
        Beat-index positions, strictly increasing in ``times``.
    """
    times = np.asarray(times, dtype=float)
    n = len(beats)
    idx = np.interp(times, beats, np.arange(n, dtype=float))
    first_period = beats[1] - beats[0]
    last_period = beats[-1] - beats[-2]
    idx = np.where(times < beats[0], (times - beats[0]) / first_period, idx)
    return np.where(times > beats[-1], (n - 1) + (times - beats[-1]) / last_period, idx)


def moving_hold(x: np.ndarray, total: float, *, move_beats: float = MOVE_BEATS,
                drift: float = DRIFT) -> np.ndarray:
    """Share of the motion done ``x`` beats into a gap of ``total`` beats.

    Linear in beat time for gaps up to ``move_beats``. In a longer gap the drawing
    drifts by ``drift`` of the motion until ``move_beats`` before the keyframe and
    then makes the rest of the move in those beats, landing on the beat.
    """
    if total <= move_beats:
        return np.asarray(x / total)
    hold = total - move_beats
    return np.where(x <= hold, drift * x / hold, drift + (1.0 - drift) * (x - hold) / move_beats)


def eased_t(times: np.ndarray, *, t0: float, t1: float, beats: np.ndarray) -> np.ndarray:
    """In-between parameter ``t`` for times strictly between two keyframes.

    ``t`` advances linearly in beat time from 0 at ``t0`` to 1 at ``t1``, shaped
    inside each beat by :func:`ease_pulse` (see the module docstring).

    Parameters
    ----------
    times : numpy.ndarray
        Times in seconds with ``t0 < time < t1``.
    t0, t1 : float
        Times of the keyframes ``a`` and ``b`` in seconds.
    beats : numpy.ndarray
        Strictly increasing beat times of the song (may be empty).

    Returns
    -------
    numpy.ndarray
        ``t`` in (0, 1), strictly increasing in ``times``.
    """
    times = np.asarray(times, dtype=float)
    inside = beats[(beats > t0) & (beats < t1)]
    knots = np.concatenate(([t0], inside, [t1]))
    pos = beat_index(knots, beats) if len(beats) >= 2 else knots
    progress = moving_hold(pos - pos[0], pos[-1] - pos[0]) if len(beats) >= 2 else (
        (pos - pos[0]) / (pos[-1] - pos[0]))
    j = np.clip(np.searchsorted(knots, times, side="right") - 1, 0, len(knots) - 2)
    v = np.clip((times - knots[j]) / (knots[j + 1] - knots[j]), 0.0, 1.0)
    t = progress[j] + (progress[j + 1] - progress[j]) * ease_pulse(v)
    return np.clip(t, _T_EPS, 1.0 - _T_EPS)


# ---------------------------------------------------------------- frames
def _clean_beats(music_map: MusicMap) -> np.ndarray:
    beats = np.asarray(music_map.beats, dtype=float)
    return np.unique(beats[np.isfinite(beats)])


def build_frames(
    placements: Sequence[KeyframePlacement],
    *,
    frame_count: int,
    fps: float,
    music_map: MusicMap,
) -> list[FrameSpec]:
    """One FrameSpec per output frame, from keyframes already placed on frames.

    Parameters
    ----------
    placements : sequence of KeyframePlacement
        Keyframes in order with strictly increasing ``frame`` in
        ``[0, frame_count)``; ``cut`` on keyframe ``i`` forbids in-betweens
        from ``i - 1`` to ``i``.
    frame_count : int
        Number of output frames.
    fps : float
        Output frame rate.
    music_map : MusicMap
        The song (beats for the easing and the beat-forced drawings, sections
        for the timing).

    Returns
    -------
    list of FrameSpec
        ``frame_count`` entries. Keyframe frames are ``key`` (a=b=i, t=0);
        drawings between two keyframes are ``between`` (a=i, b=i+1, eased t);
        repeats of a drawing on twos/threes are ``hold`` with the drawing's a, b, t;
        frames before the first keyframe, before a cut and after the last
        keyframe are ``hold`` of the keyframe shown (a=b, t=0).
    """
    if not placements:
        return []
    steps = hold_frames_per_frame(music_map, fps=fps, frame_count=frame_count)
    beats = _clean_beats(music_map)
    specs = [FrameSpec("hold", 0, 0, 0.0)] * placements[0].frame
    for i, p in enumerate(placements):
        specs.append(FrameSpec("key", i, i, 0.0))
        last = i + 1 == len(placements)
        nxt = frame_count if last else placements[i + 1].frame
        if last or placements[i + 1].cut:
            specs.extend([FrameSpec("hold", i, i, 0.0)] * (nxt - p.frame - 1))
        else:
            specs.extend(_span(i, p.frame, nxt, fps=fps, steps=steps, beats=beats))
    assert len(specs) == frame_count, (len(specs), frame_count)
    return specs


def hold_frames_per_frame(music_map: MusicMap, *, fps: float, frame_count: int) -> np.ndarray:
    """Mean output frames per drawing at every output frame (from its section)."""
    intensity = section_intensity_at(music_map, np.arange(frame_count) / fps)
    # the vector form of drawing_hold
    holds = np.where(intensity < CALM_BELOW, 3.0, np.where(intensity > INTENSE_ABOVE, 1.0, 2.0))
    return np.maximum(1.0, holds * fps / 24.0)


def _span(
    i: int, k0: int, k1: int, *, fps: float, steps: np.ndarray, beats: np.ndarray
) -> list[FrameSpec]:
    """Frames strictly between keyframe ``i`` (frame k0) and ``i + 1`` (frame k1)."""
    ks = np.arange(k0 + 1, k1)
    if ks.size == 0:
        return []
    ts = eased_t(ks / fps, t0=k0 / fps, t1=k1 / fps, beats=beats)
    beat_frames = np.floor(beats * fps + 0.5).astype(np.int64)
    forced = {int(f) for f in beat_frames if k0 < f < k1}
    out: list[FrameSpec] = []
    repeat = FrameSpec("hold", i, i, 0.0)  # the keyframe drawing, until the first in-between
    next_drawing = k0 + steps[k0]
    for j, k in enumerate(ks.tolist()):
        if k in forced:
            next_drawing = k + steps[k]  # restart the drawing rhythm on the beat
        elif k >= next_drawing - 1e-9:
            next_drawing += steps[k]
        else:
            out.append(repeat)
            continue
        t = float(ts[j])
        out.append(FrameSpec("between", i, i + 1, t))
        repeat = FrameSpec("hold", i, i + 1, t)
    return out
