"""Dynamic alignment: place unpinned keyframes on the music by dynamic programming.

Pins (and the start of the song) split the keyframe list into independent
segments; inside each, the unpinned keyframes are placed on candidate anchors:

* beats (reward ``REWARD_BEAT``), downbeats (``REWARD_DOWNBEAT``) and section
  starts (``REWARD_SECTION``), plus ``REWARD_ONSET * strength`` where a strong
  onset lies within ``SNAP`` seconds of a beat;
* stretches of the song without a beat grid get reward-free candidates every
  beat period, so keyframes can still go there; and when a segment has fewer
  candidates than keyframes (or the song has no beats at all), reward-free
  candidates at the ideal positions and on an even frame grid are added.

The cost of a placement is, for every keyframe interval (a keyframe shows until
the next one, the last until the end of the song),

    SPACING_WEIGHT * log(actual length / desired length)²

(times ``EXPLICIT_WEIGHT`` for a keyframe with ``beats: N``) minus the anchor
rewards (times ``CUT_REWARD_FACTOR`` for a cut keyframe, and section starts
times ``SECTION_CUT_FACTOR`` when cutting at sections). The log makes a keyframe
shown for half its share cost as much as one shown for twice it. Desired lengths
share the segment by weight: equal by default, ``sqrt(1 + words / 10)`` for a
keyframe with text, and ``beats: N`` asks for N (median) beat periods. The DP is
exact and costs O(keyframes x candidates²) per segment (tens of ms for 24
keyframes on a 3-minute song). Without beats, the reward-free ideal positions
win: keyframes are spaced evenly (by weight) in seconds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from douga.music.musicmap import MusicMap

if TYPE_CHECKING:
    from douga.timeline.planner import KeyframeRequest

SNAP = 0.050  # s: an onset or downbeat this close to a beat counts as on it
REWARD_BEAT = 0.1
REWARD_DOWNBEAT = 0.3
REWARD_SECTION = 0.6
REWARD_ONSET = 0.15  # times the onset strength (0..1)
SPACING_WEIGHT = 2.0
EXPLICIT_WEIGHT = 4.0  # an explicit ``beats: N`` is a firmer wish than an equal share
CUT_REWARD_FACTOR = 1.5  # a cut keyframe wants a strong anchor more
SECTION_CUT_FACTOR = 2.0  # with cut_at_sections, section starts pull harder
FALLBACK_PERIOD = 0.5  # s per "beat" when the song has no tempo (120 BPM)


# ------------------------------------------------------------------ candidates
@dataclass(frozen=True)
class _Candidates:
    times: np.ndarray  # s, anchor times, increasing
    frames: np.ndarray  # int, strictly increasing
    reward: np.ndarray  # anchor strength
    section: np.ndarray  # bool, a section start


def _nearest(sorted_values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Index of the nearest element of a non-empty sorted array, for every x."""
    right = np.clip(np.searchsorted(sorted_values, x), 0, sorted_values.size - 1)
    left = np.clip(right - 1, 0, sorted_values.size - 1)
    closer_left = np.abs(sorted_values[left] - x) <= np.abs(sorted_values[right] - x)
    return np.where(closer_left, left, right)


def _beat_period(mm: MusicMap) -> float:
    beats = np.unique(np.asarray(mm.beats, dtype=float))
    if beats.size >= 2:
        return float(np.median(np.diff(beats)))
    return 60.0 / mm.tempo if mm.tempo > 0 else FALLBACK_PERIOD


def _candidates(mm: MusicMap, *, fps: float, frame_count: int) -> _Candidates:
    """Musical anchors of the song (empty when it has no beats), one per frame at most."""
    beats = np.asarray(mm.beats, dtype=float)
    beats = np.unique(beats[np.isfinite(beats) & (beats >= 0) & (beats <= mm.duration)])
    if beats.size == 0:
        e = np.zeros(0)
        return _Candidates(e, e.astype(np.int64), e, e.astype(bool))
    period = _beat_period(mm)
    times = list(beats)
    reward = [REWARD_BEAT] * len(times)
    section = [False] * len(times)

    def upgrade(t: float, value: float, is_section: bool) -> None:
        j = int(np.argmin(np.abs(np.asarray(times) - t)))
        if abs(times[j] - t) <= SNAP:
            reward[j] = max(reward[j], value)
            section[j] = section[j] or is_section
        else:
            times.append(t)
            reward.append(value)
            section.append(is_section)

    for d in mm.downbeats:
        if 0 <= d <= mm.duration:
            upgrade(float(d), REWARD_DOWNBEAT, False)
    for s in mm.sections:
        if 0 < s.start < mm.duration:
            upgrade(float(s.start), REWARD_SECTION, True)
    # free-time candidates where the grid has holes (intro/outro without a pulse)
    grid = np.concatenate(([0.0], beats, [mm.duration]))
    for a, b in itertools.pairwise(grid):
        if b - a > 2.5 * period:
            k = int((b - a) // period)
            for t in a + period * np.arange(1, k):
                times.append(float(t))
                reward.append(0.0)
                section.append(False)
    t_arr = np.asarray(times)
    r_arr = np.asarray(reward)
    # onset boost: a strong onset on the beat grid makes that anchor stronger
    # (the first len(beats) candidates are the beats, in order)
    onsets = np.asarray(mm.onsets, dtype=float)
    if onsets.size:
        strength = np.ones(onsets.size)
        given = np.clip(np.asarray(mm.onset_strength, dtype=float)[: onsets.size], 0.0, 1.0)
        strength[: given.size] = given
        j = _nearest(beats, onsets)
        on_grid = np.abs(beats[j] - onsets) <= SNAP
        boost = np.zeros(beats.size)
        np.maximum.at(boost, j[on_grid], REWARD_ONSET * strength[on_grid])
        r_arr[: beats.size] += boost
    frames = np.floor(t_arr * fps + 0.5).astype(np.int64)
    keep = (frames >= 0) & (frames < frame_count)
    # one candidate per frame: the strongest
    order = np.lexsort((-r_arr, frames))
    order = order[keep[order]]
    first = np.ones(order.size, dtype=bool)
    first[1:] = frames[order][1:] != frames[order][:-1]
    sel = order[first]
    return _Candidates(t_arr[sel], frames[sel], r_arr[sel], np.asarray(section)[sel])


def _text_weight(text: str | None) -> float:
    """Share weight of a keyframe: grows gently (square root) with the word count."""
    words = len(text.split()) if text else 0
    return math.sqrt(1.0 + words / 10.0)


def _desired_lengths(reqs: Sequence[KeyframeRequest], length: float, period: float) -> np.ndarray:
    """Desired show time (s) of each keyframe in a segment; sums to ``length``."""
    explicit = [r.beats * period if r.beats is not None else None for r in reqs]
    weights = [_text_weight(r.text) for r, e in zip(reqs, explicit, strict=True) if e is None]
    rest = length - sum(e for e in explicit if e is not None)
    # a share never drops below one beat, so explicit requests cannot starve the others
    share = max(rest / sum(weights), period) if weights else 0.0
    raw = np.array([
        e if e is not None else _text_weight(r.text) * share
        for r, e in zip(reqs, explicit, strict=True)
    ])
    return raw * (length / raw.sum())


# ------------------------------------------------------------------ placement
def place_keyframes(
    requests: Sequence[KeyframeRequest],
    mm: MusicMap,
    pins: dict[int, tuple[float, int]],
    *,
    fps: float,
    frame_count: int,
    cut_at_sections: bool,
) -> tuple[list[float], list[int], float, int]:
    """Anchor times and frames of all keyframes.

    Parameters
    ----------
    requests : sequence of KeyframeRequest
        All keyframes in order (their ``text``, ``beats`` and ``cut`` are read).
    mm : MusicMap
        The analysed song.
    pins : dict
        Pinned keyframe index → (anchor time in s, frame), already validated:
        in order and with room for the keyframes between them.
    fps : float
        Output frame rate.
    frame_count : int
        Number of output frames.
    cut_at_sections : bool
        Make section starts pull harder (they will be cuts).

    Returns
    -------
    times : list of float
        Anchor time of every keyframe (s); 0 for an unpinned first keyframe.
    frames : list of int
        Strictly increasing output frames.
    cost : float
        Total DP cost (diagnostics).
    candidates : int
        Number of musical candidate anchors in the song (diagnostics).
    """
    n = len(requests)
    cand = _candidates(mm, fps=fps, frame_count=frame_count)
    reward = cand.reward * np.where(cand.section & cut_at_sections, SECTION_CUT_FACTOR, 1.0)
    period = _beat_period(mm)
    fixed = dict(pins)
    fixed.setdefault(0, (0.0, 0))
    times = [0.0] * n
    frames = [0] * n
    for i, (t, f) in fixed.items():
        times[i], frames[i] = t, f
    order = sorted(fixed)
    total = 0.0
    for p, q in zip(order, [*order[1:], n], strict=True):
        m = q - p - 1
        if m == 0:
            continue
        start_t, start_f = fixed[p]
        end_t, end_f = (float(mm.duration), frame_count) if q == n else fixed[q]
        desired = _desired_lengths(requests[p:q], max(end_t - start_t, 1e-9), period)
        mask = (cand.frames > start_f) & (cand.frames < end_f)
        c_t, c_f, c_r = cand.times[mask], cand.frames[mask], reward[mask]
        if c_t.size < m:
            c_t, c_f, c_r = _with_free_time(c_t, c_f, c_r, start_t + np.cumsum(desired)[:-1],
                                            lo=start_f, hi=end_f, m=m, fps=fps)
        mult = np.array([CUT_REWARD_FACTOR if r.cut else 1.0 for r in requests[p + 1:q]])
        weight = SPACING_WEIGHT * np.array(
            [EXPLICIT_WEIGHT if r.beats is not None else 1.0 for r in requests[p:q]])
        chosen, cost = _solve_segment(c_t, c_r, start_t, end_t, desired, weight, mult, fps=fps)
        total += cost
        for j, c in enumerate(chosen):
            times[p + 1 + j] = float(c_t[c])
            frames[p + 1 + j] = int(c_f[c])
    return times, frames, total, int(cand.times.size)


def _with_free_time(
    c_t: np.ndarray, c_f: np.ndarray, c_r: np.ndarray, ideal: np.ndarray,
    *, lo: int, hi: int, m: int, fps: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Add reward-free candidates (the ideal positions, then evenly spread frames)
    so that a segment strictly between frames ``lo`` and ``hi`` has at least ``m``."""
    inside = hi - lo - 1
    spread = np.floor(np.linspace(lo + 1, hi - 1, min(inside, 4 * m + 16)) + 0.5)
    extra_t = np.concatenate((ideal, spread / fps))
    extra_f = np.concatenate((np.floor(ideal * fps + 0.5), spread)).astype(np.int64)
    ok = (extra_f > lo) & (extra_f < hi)
    t = np.concatenate((c_t, extra_t[ok]))
    f = np.concatenate((c_f, extra_f[ok]))
    r = np.concatenate((c_r, np.zeros(int(ok.sum()))))
    # musical anchors come first, so they win a shared frame; then the ideal positions
    _, first = np.unique(f, return_index=True)
    return t[first], f[first], r[first]


def _solve_segment(
    c_t: np.ndarray, c_r: np.ndarray, start_t: float, end_t: float,
    desired: np.ndarray, weight: np.ndarray, mult: np.ndarray, *, fps: float,
) -> tuple[list[int], float]:
    """Exact DP: choose ``len(desired) - 1`` increasing candidates minimising the cost.

    ``desired``/``weight`` are per interval (segment start → first placed keyframe →
    ... → segment end), ``mult`` scales the anchor reward of each placed keyframe.
    Candidates are sorted with distinct frames, so any increasing choice is valid.
    """
    m = len(desired) - 1
    tiny = 0.25 / fps  # a rounding-level length, never zero inside the log
    log_d = np.log(desired)
    # [next, previous], so that the minimum over the previous candidate runs along rows
    diff = c_t[:, None] - c_t[None, :]
    valid = np.tril(np.ones(diff.shape, dtype=bool), k=-1)
    log_len = np.where(valid, np.log(np.maximum(diff, tiny)), np.inf)
    cost = weight[0] * (np.log(np.maximum(c_t - start_t, tiny)) - log_d[0]) ** 2
    cost = cost - c_r * mult[0]
    rows = np.arange(c_t.size)
    back = []
    for j in range(1, m):
        trans = cost[None, :] + weight[j] * (log_len - log_d[j]) ** 2
        prev = np.argmin(trans, axis=1)
        cost = trans[rows, prev] - c_r * mult[j]
        back.append(prev)
    final = cost + weight[m] * (np.log(np.maximum(end_t - c_t, tiny)) - log_d[m]) ** 2
    c = int(np.argmin(final))
    total = float(final[c])
    chosen = [c]
    for prev in reversed(back):
        c = int(prev[c])
        chosen.append(c)
    return chosen[::-1], total
