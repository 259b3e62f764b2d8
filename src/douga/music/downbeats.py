"""Meter and downbeats: which beats start a bar.

Harmonic rhythm decides first: chords mostly change on the first beat of a bar and
hold through it, so for each candidate meter m (2, 3 or 4 beats per bar) the chroma
of the m beats after each beat is compared with the m beats before it (a bar-long
chord novelty). At the right meter and phase this novelty peaks on every m-th beat
and stays low between; the meter whose peaks stand out most (Cohen's d of the
novelty on the bar starts against the other beats) wins. This does not care which
instrument marks beat 1 (a one-drop reggae has no kick there, jazz anticipates its
chords), and it tells 2/4 from 4/4 by how often the harmony moves.

Then a small Viterbi pass walks the beats through the bar positions of that meter,
scored by the novelty plus the per-beat bar-start cues (harmony change, kick,
loudness step), allowing a rare phase reset (a fermata or an odd bar). Music with
no harmonic rhythm to speak of (drums only) falls back to choosing the meter whose
Viterbi path explains the per-beat cues best.
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
# below this effect size (Cohen's "small" effect) the harmony says nothing about the meter
MIN_HARMONIC_CONTRAST = 0.2
# weight of the per-beat cues beside the bar-long chord novelty when placing the bars
BEAT_CUE_WEIGHT = 0.5
# a phase reset must pay for itself over about two bars of clear novelty peaks
HARMONIC_RESET_COST = 8.0


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
    cues: np.ndarray, meter: int, *, reset_cost: float = 4.0, bias: bool = True
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
        new[0] += cues[k] + (METER_BIAS[meter] if bias else 0.0)
        score = new
    pos = np.zeros(n, dtype=np.int64)
    pos[-1] = int(np.argmax(score))
    for k in range(n - 1, 0, -1):
        pos[k - 1] = back[k, pos[k]]
    return float(score.max()), pos


def chord_novelty(chroma: np.ndarray, span: int) -> np.ndarray:
    """Bar-long harmonic change at each beat.

    Parameters
    ----------
    chroma
        (12, n) beat-synchronous chroma.
    span
        Beats on each side (the candidate bar length).

    Returns
    -------
    np.ndarray
        (n,) cosine distance between the mean chroma of the ``span`` beats before each
        beat and the ``span`` beats from it on; NaN where either window is incomplete.
    """
    n = chroma.shape[1]
    out = np.full(n, np.nan)
    if n < 2 * span:
        return out
    csum = np.concatenate([np.zeros((chroma.shape[0], 1)), np.cumsum(chroma, axis=1)], axis=1)
    k = np.arange(span, n - span + 1)
    before = csum[:, k] - csum[:, k - span]
    after = csum[:, k + span] - csum[:, k]
    norms = np.linalg.norm(before, axis=0) * np.linalg.norm(after, axis=0)
    out[k] = 1.0 - np.sum(before * after, axis=0) / np.maximum(norms, 1e-9)
    return out


def harmonic_contrast(novelty: np.ndarray, meter: int) -> tuple[float, int]:
    """How much the novelty on every ``meter``-th beat stands out, at the best phase.

    Returns Cohen's d (novelty on the candidate bar starts minus on the other beats,
    over the pooled standard deviation) and that phase (index of the first bar start).
    """
    valid = ~np.isnan(novelty)
    idx = np.arange(novelty.size)
    best = (-np.inf, 0)
    for phase in range(meter):
        on_mask = valid & (idx % meter == phase)
        off_mask = valid & (idx % meter != phase)
        if on_mask.sum() < 2 or off_mask.sum() < 2:
            continue
        on, off = novelty[on_mask], novelty[off_mask]
        pooled = np.sqrt((on.var() * on.size + off.var() * off.size) / (on.size + off.size))
        d = float((on.mean() - off.mean()) / max(pooled, 1e-9))
        if d > best[0]:
            best = (d, phase)
    return best


def track_downbeats(features: OnsetFeatures, beat_times: np.ndarray) -> tuple[int, np.ndarray]:
    """Meter (beats per bar) and downbeat times for the given beats."""
    if beat_times.size < 4:
        return 4, beat_times[:1].copy()
    frames = np.round(beat_times * features.rate).astype(np.int64)
    cues = bar_start_cues(features, frames)
    T = features.n_frames
    chroma = segment_means(features.chroma, np.concatenate([frames, [T]]).clip(0, T))
    novelty = {m: chord_novelty(chroma, m) for m in METERS}
    contrast = {m: harmonic_contrast(novelty[m], m)[0] for m in METERS}
    meter = max(contrast, key=lambda m: contrast[m])
    if contrast[meter] < MIN_HARMONIC_CONTRAST:
        results = {m: _bar_viterbi(cues, m) for m in METERS}
        meter = max(results, key=lambda m: results[m][0])
        return meter, beat_times[results[meter][1] == 0]
    nov = novelty[meter]
    filled = np.nan_to_num(nov, nan=float(np.nanmean(nov)))
    placed = _zscore(filled) + BEAT_CUE_WEIGHT * cues
    _, positions = _bar_viterbi(placed, meter, reset_cost=HARMONIC_RESET_COST, bias=False)
    return meter, beat_times[positions == 0]
