"""Beat-driven effect events (flash, zoom punch, shake), as a MAD editor places them.

The planner only schedules events; ``douga.effects`` draws them. Rules:

* **flash** at every section start after the first frame and on every hard cut
  into a keyframe; strength ``0.3 + 0.7 * section intensity``.
* **zoom** punch on *every* downbeat, so that each bar visibly lands: strength
  ``section intensity * (0.5 + 0.5 * beat intensity)``, at least ``ZOOM_MIN`` (a
  light 2.5 % punch in a calm section, about 7 % in an intense one). A calm section
  holds its drawings on twos or threes and its keyframe arrivals ease in gently: without
  the punch its downbeats carry no accent at all.
* **shake** on very strong onsets (strength at least ``SHAKE_ONSET``) in intense
  sections, only where the onset falls on a beat (within ``ON_BEAT_SECONDS``), and
  then on that beat's frame; strength ``onset strength * section intensity``. A shake
  on an off-beat onset is an accent off the beat, which a MAD avoids.

Events sit on the frame nearest their musical time; at most one event of a kind
per frame (the strongest wins). Strengths are clipped to [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from douga.music.musicmap import MusicMap
from douga.timeline.model import EffectEvent, EffectKind, KeyframePlacement
from douga.timeline.pacing import INTENSE_ABOVE, section_intensity_at

FLASH_BASE = 0.3  # a flash into a calm section is still visible
SHAKE_ONSET = 0.8  # onset strength from which an intense section shakes
ZOOM_MIN = 0.25  # weakest downbeat punch (2.5 % scale): still reads as a hit at 360p
# an onset this close to a beat is on it (beat tracking and onset picking differ by a
# frame or so); further away it is syncopation, and gets no effect
ON_BEAT_SECONDS = 0.05


def _beat_intensity_at(music_map: MusicMap, times: np.ndarray) -> np.ndarray:
    """Intensity of the beat nearest each time (0.5 when the song has none)."""
    beats = np.asarray(music_map.beats, dtype=float)
    values = np.asarray(music_map.beat_intensity, dtype=float)
    n = min(len(beats), len(values))
    if n == 0:
        return np.full(times.shape, 0.5)
    beats, values = beats[:n], values[:n]
    order = np.argsort(beats)
    beats, values = beats[order], values[order]
    right = np.clip(np.searchsorted(beats, times), 0, n - 1)
    left = np.clip(right - 1, 0, n - 1)
    nearest = np.where(np.abs(beats[left] - times) <= np.abs(beats[right] - times), left, right)
    return np.clip(values[nearest], 0.0, 1.0)


def _nearest_beat(music_map: MusicMap, times: np.ndarray) -> np.ndarray:
    """The beat time nearest each time (NaN when the song has no beats)."""
    beats = np.sort(np.asarray(music_map.beats, dtype=float))
    if beats.size == 0:
        return np.full(times.shape, np.nan)
    right = np.clip(np.searchsorted(beats, times), 0, beats.size - 1)
    left = np.clip(right - 1, 0, beats.size - 1)
    use_left = np.abs(beats[left] - times) <= np.abs(beats[right] - times)
    return np.where(use_left, beats[left], beats[right])


def schedule_effects(
    music_map: MusicMap,
    keyframes: Sequence[KeyframePlacement],
    *,
    fps: float,
    frame_count: int,
) -> list[EffectEvent]:
    """Effect events for a planned timeline.

    Parameters
    ----------
    music_map : MusicMap
        The analysed song (sections, downbeats, onsets, intensities).
    keyframes : sequence of KeyframePlacement
        The placed keyframes; a ``cut`` on any but the first gets a flash.
    fps : float
        Output frame rate.
    frame_count : int
        Number of output frames; events outside ``[0, frame_count)`` are dropped.

    Returns
    -------
    list of EffectEvent
        Sorted by frame, then kind; at most one event per (frame, kind).
    """
    best: dict[tuple[int, EffectKind], float] = {}

    def add(time: float, kind: EffectKind, strength: float) -> None:
        if not np.isfinite(time):
            return
        frame = int(np.floor(time * fps + 0.5))
        if 0 <= frame < frame_count:
            s = float(np.clip(strength, 0.0, 1.0))
            best[(frame, kind)] = max(best.get((frame, kind), 0.0), s)

    for section in music_map.sections:
        if section.start * fps >= 0.5:  # a flash on frame 0 would only hide the opening
            add(section.start, "flash", FLASH_BASE + (1 - FLASH_BASE) * section.intensity)

    for kf in keyframes[1:]:
        if kf.cut:
            cut_level = float(section_intensity_at(music_map, np.array([kf.time]))[0])
            add(kf.time, "flash", FLASH_BASE + (1 - FLASH_BASE) * cut_level)

    downbeats = np.asarray(music_map.downbeats, dtype=float)
    if downbeats.size:
        level = section_intensity_at(music_map, downbeats)
        beat_level = _beat_intensity_at(music_map, downbeats)
        for t, s, b in zip(downbeats, level, beat_level, strict=True):
            add(float(t), "zoom", max(ZOOM_MIN, float(s) * (0.5 + 0.5 * float(b))))

    onsets = np.asarray(music_map.onsets, dtype=float)
    if onsets.size:
        strength = np.ones_like(onsets)
        given = np.asarray(music_map.onset_strength, dtype=float)[: onsets.size]
        strength[: given.size] = given
        level = section_intensity_at(music_map, onsets)
        beat = _nearest_beat(music_map, onsets)
        for b, t, o, s in zip(beat, onsets, strength, level, strict=True):
            if o >= SHAKE_ONSET and s > INTENSE_ABOVE and abs(b - t) <= ON_BEAT_SECONDS:
                add(float(b), "shake", float(o) * float(s))

    return [
        EffectEvent(frame=f, kind=k, strength=round(s, 4))
        for (f, k), s in sorted(best.items())
    ]
