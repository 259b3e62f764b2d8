"""Music2Video's music segments: where the guidance changes, how fast images change, which prompt.

The song is cut at the beats that carry a strong onset (where the music's statistics
change), and always at section starts and lyric-line starts, into variable-length
segments no shorter than ``min_segment`` (Music2Video cuts its demo song into ~500
segments of ~0.6 s). Each segment's intensity is its mean mel-spectrogram level in
dB, scaled to 0–1 over the song; it sets how many new images the segment gets per
second (``min_rate`` .. ``max_rate``), hence how many optimisation steps it runs.

Each segment also gets the user's scheduled prompts active at its middle
(``guidance.prompts``: whole song, per section, per lyric line, or from a time on)
and the lyric line that starts inside it, if any. No torch here.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from douga.errors import InputError
from douga.guided.settings import GuidanceSpec, PromptEntry
from douga.music.lyrics import LyricLine
from douga.music.musicmap import MusicMap

__all__ = ["Segment", "plan_segments", "segment_bounds", "segment_intensity"]

ONSET_WINDOW = 0.07  # s: an onset this close to a beat is that beat's onset


@dataclass(frozen=True)
class Segment:
    """One stretch of music with one guidance.

    Attributes
    ----------
    start, end
        Seconds.
    intensity
        0 (calmest segment of the song) .. 1 (loudest).
    images
        New images made during the segment (at least one).
    lyric
        Text of the lyric lines that start in this segment (joined by `` / ``), or None.
    prompt
        The scheduled prompts active at the segment's middle, joined with ``|``.
    image_prompts
        The scheduled image prompts active there: (image path, weight).
    """

    start: float
    end: float
    intensity: float
    images: int
    lyric: str | None
    prompt: str
    image_prompts: tuple[tuple[str, float], ...] = ()


def segment_bounds(music: MusicMap, *, forced: Sequence[float] = (),
                   min_seconds: float = 0.4) -> list[float]:
    """Segment boundaries in seconds, from 0 to the song's end.

    Candidates are the beats whose nearest onset is at least as strong as the median
    beat's (or the onsets, in a song without beats), plus ``forced`` times, which win
    over candidates when two are closer than ``min_seconds``.
    """
    end = music.duration
    beats = np.asarray(music.beats, dtype=float)
    onsets = np.asarray(music.onsets, dtype=float)
    strength = np.asarray(music.onset_strength, dtype=float)
    if beats.size and onsets.size:
        near = np.abs(beats[:, None] - onsets[None, :])  # (beats, onsets)
        at_beat = np.where(near <= ONSET_WINDOW, strength[None, :], 0.0).max(axis=1)
        candidates = beats[at_beat >= max(float(np.median(at_beat)), 1e-9)]
    elif beats.size:
        candidates = beats
    else:
        candidates = onsets
    if not candidates.size:
        step = max(min_seconds, 2.0)
        candidates = np.arange(step, end, step)
    firm = sorted({0.0, *(float(t) for t in forced if 0.0 < t < end)})
    kept: list[float] = []
    for t in firm:  # forced boundaries first, then candidates in the gaps
        if not kept or t - kept[-1] >= min_seconds or t == 0.0:
            kept.append(t)
    for t in sorted(float(c) for c in candidates if 0.0 < c < end):
        i = int(np.searchsorted(kept, t))
        left = kept[i - 1] if i > 0 else -np.inf
        right = kept[i] if i < len(kept) else end
        if t - left >= min_seconds and right - t >= min_seconds:
            kept.insert(i, t)
    if len(kept) > 1 and end - kept[-1] < min_seconds:
        kept.pop()
    return [*kept, end]


def segment_intensity(samples: np.ndarray, rate: int, bounds: Sequence[float]) -> list[float]:
    """Mean mel-spectrogram level (dB) of each segment, scaled to 0–1 over the segments.

    A silent song or one with a single segment gives 0.5 everywhere.
    """
    import librosa

    count = len(bounds) - 1
    mono = np.asarray(samples, dtype=np.float32)
    if mono.ndim > 1:
        mono = mono.mean(axis=0)
    hop = 512
    if not mono.size or not np.any(mono):
        return [0.5] * count
    mel = librosa.feature.melspectrogram(y=mono, sr=rate, hop_length=hop, n_mels=64)
    db = librosa.power_to_db(mel, ref=np.max).mean(axis=0)  # (frames,)
    levels = []
    for a, b in itertools.pairwise(bounds):
        i, j = int(a * rate / hop), max(int(a * rate / hop) + 1, int(b * rate / hop))
        part = db[i:j]
        levels.append(float(part.mean()) if part.size else float(db.min()))
    lo, hi = min(levels), max(levels)
    if hi - lo < 1e-6:
        return [0.5] * count
    return [(v - lo) / (hi - lo) for v in levels]


def _scope_times(spec: GuidanceSpec, music: MusicMap,
                 lyrics: Sequence[LyricLine]) -> list[tuple[float, float, PromptEntry]]:
    """(start, end, entry) of every scheduled prompt, checked against the song and lyrics."""
    from douga.project import parse_anchor

    out = []
    at_entries = []
    for i, entry in enumerate(spec.prompts):
        where = f"guidance.prompts[{i}]"
        if entry.section is not None:
            if entry.section > len(music.sections):
                raise InputError(f"{where}.section: {entry.section}, but the song has "
                                 f"{len(music.sections)} sections (see `douga analyze`)")
            s = music.sections[entry.section - 1]
            out.append((s.start, s.end, entry))
        elif entry.lyric is not None:
            if entry.lyric > len(lyrics):
                raise InputError(f"{where}.lyric: {entry.lyric}, but the lyrics have "
                                 f"{len(lyrics)} lines")
            line = lyrics[entry.lyric - 1]
            nxt = lyrics[entry.lyric].start if entry.lyric < len(lyrics) else music.duration
            out.append((line.start, line.end if line.end is not None else nxt, entry))
        elif entry.at is not None:
            at_entries.append((parse_anchor(entry.at, field=f"{where}.at").to_seconds(music),
                               entry))
        else:
            out.append((0.0, music.duration, entry))
    at_entries.sort(key=lambda pair: pair[0])
    for t, entry in at_entries:  # each lasts until the next `at` at a later time
        later = [u for u, _ in at_entries if u > t]
        out.append((t, later[0] if later else music.duration, entry))
    return out


def plan_segments(music: MusicMap, samples: np.ndarray, rate: int, *,
                  lyrics: Sequence[LyricLine] = (), spec: GuidanceSpec) -> list[Segment]:
    """The song's segments with intensity, image count, lyric and scheduled prompt."""
    forced = [s.start for s in music.sections] + [line.start for line in lyrics]
    bounds = segment_bounds(music, forced=forced, min_seconds=spec.min_segment)
    intensity = segment_intensity(samples, rate, bounds)
    scopes = _scope_times(spec, music, lyrics)
    segments = []
    for (a, b), level in zip(itertools.pairwise(bounds), intensity, strict=True):
        mid = (a + b) / 2
        sung = [line.text for line in lyrics if a <= line.start < b]
        lyric = " / ".join(sung) if sung else None
        active = [entry for s, e, entry in scopes if s <= mid < e]
        prompt = " | ".join(entry.text for entry in active if entry.text)
        images = tuple((entry.image, entry.weight) for entry in active if entry.image)
        rate_here = spec.min_rate + level * (spec.max_rate - spec.min_rate)
        segments.append(Segment(start=a, end=b, intensity=level,
                                images=max(1, round((b - a) * rate_here)),
                                lyric=lyric, prompt=prompt, image_prompts=images))
    return segments
