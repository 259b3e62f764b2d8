"""Meter and downbeats: which beats start a bar.

Bars announce themselves by what changes on their first beat: the harmony changes,
the kick drum lands, the music gets louder. Each beat gets a "bar start"
score from those cues; for each candidate meter (2, 3 or 4 beats per bar) a small
Viterbi pass walks the beats through bar positions, allowing a rare phase reset (a
fermata or an odd bar), and the meter whose downbeats explain the cues best wins.
"""

from __future__ import annotations

import numpy as np

from douga.music.onsets import OnsetFeatures, segment_means

METERS = (2, 3, 4)
# prior preference per meter, added per bar: 4/4 is by far the most common
METER_BIAS = {2: -0.15, 3: 0.0, 4: 0.1}
# weights of the bar-start cues: harmony change, kick, loudness step. (A bass-note
# change cue was tried and hurt: walking and syncopated bass lines change on every beat.)
CUE_WEIGHTS = (2.0, 0.6, 0.8)


def _zscore(x: np.ndarray) -> np.ndarray:
    sd = float(x.std())
    return (x - x.mean()) / sd if sd > 1e-9 else np.zeros_like(x)


def _change(segments: np.ndarray) -> np.ndarray:
    """Cosine distance between each beat's segment and the previous one (0 for the first)."""
    norm = segments / np.maximum(np.linalg.norm(segments, axis=0, keepdims=True), 1e-9)
    sim = np.sum(norm[:, 1:] * norm[:, :-1], axis=0)
    return np.concatenate([[0.0], 1.0 - sim])


def bar_start_cues(
    features: OnsetFeatures,
    beat_frames: np.ndarray,
    *,
    weights: tuple[float, float, float] = CUE_WEIGHTS,
) -> np.ndarray:
    """(n_beats,) evidence that each beat starts a bar (z-scored, higher = more likely)."""
    n = beat_frames.size
    if n < 2:
        return np.zeros(n)
    T = features.n_frames
    bounds = np.concatenate([beat_frames, [T]]).clip(0, T)
    chroma = segment_means(features.chroma, bounds)
    loud = segment_means(features.loudness[None, :], bounds)[0]
    win = np.clip(beat_frames[:, None] + np.arange(-2, 3)[None, :], 0, T - 1)
    low = features.low[win].max(axis=1)
    w_chord, w_kick, w_loud = weights
    cues = (
        w_chord * _zscore(_change(chroma))
        + w_kick * _zscore(low)
        + w_loud * _zscore(np.concatenate([[0.0], np.diff(loud)]))
    )
    return np.asarray(_zscore(cues))


def _bar_viterbi(
    cues: np.ndarray, meter: int, *, reset_cost: float = 4.0
) -> tuple[float, np.ndarray]:
    """Best assignment of beats to positions in a bar of ``meter`` beats.

    Returns the path score and the (n,) position of each beat (0 = downbeat).
    """
    n = cues.size
    score = np.where(np.arange(meter) == 0, cues[0], 0.0).astype(np.float64)
    back = np.zeros((n, meter), dtype=np.int64)
    for k in range(1, n):
        prev_pos = (np.arange(meter) - 1) % meter
        cont = score[prev_pos]
        new = cont.copy()
        back[k] = prev_pos
        # a reset to the downbeat from any position (a bar cut short or stretched)
        best = int(np.argmax(score))
        if score[best] - reset_cost > new[0]:
            new[0] = score[best] - reset_cost
            back[k, 0] = best
        new[0] += cues[k] + METER_BIAS[meter]
        score = new
    pos = np.zeros(n, dtype=np.int64)
    pos[-1] = int(np.argmax(score))
    for k in range(n - 1, 0, -1):
        pos[k - 1] = back[k, pos[k]]
    return float(score.max()), pos


def track_downbeats(features: OnsetFeatures, beat_times: np.ndarray) -> tuple[int, np.ndarray]:
    """Meter (beats per bar) and downbeat times for the given beats."""
    if beat_times.size < 4:
        return 4, beat_times[:1].copy()
    frames = np.round(beat_times * features.rate).astype(np.int64)
    cues = bar_start_cues(features, frames)
    results = {m: _bar_viterbi(cues, m) for m in METERS}
    meter = max(results, key=lambda m: results[m][0])
    positions = results[meter][1]
    return meter, beat_times[positions == 0]
