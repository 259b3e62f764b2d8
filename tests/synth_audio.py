"""Synthetic audio with known beats, made in code for the tests (no media files)."""

from __future__ import annotations

import numpy as np

SR = 22050


def _kick(n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    freq = 50 + 90 * np.exp(-t * 40)
    return np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t * 18)


def _noise_hit(n: int, sr: int, rng: np.random.Generator, decay: float) -> np.ndarray:
    return rng.standard_normal(n) * np.exp(-np.arange(n) / sr * decay)


def _hiss(n: int, sr: int, rng: np.random.Generator, decay: float) -> np.ndarray:
    """A noise hit high-passed by a first difference (no sub-bass): hats, snare rattle."""
    return np.diff(_noise_hit(n + 1, sr, rng, decay))


def _tone(freq: float, n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    return (np.sin(2 * np.pi * freq * t) + 0.3 * np.sin(4 * np.pi * freq * t)) * np.exp(-t * 3)


def drum_pattern(
    *,
    bpm: float | list[tuple[float, float]] = 120.0,
    meter: int = 4,
    subdivision: int = 2,
    seconds: float = 30.0,
    sr: int = SR,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A drum + bass + chord loop. Returns (audio, beat_times, downbeat_times).

    ``bpm`` is a number, or ``[(start_time, bpm), ...]`` for tempo changes.
    ``subdivision`` is 2 for simple meters (eighth-note hats) and 3 for compound
    meters (the beat is a dotted quarter, hats on the three eighths).
    The bass note and chord change on every downbeat, as real music does.
    """
    rng = np.random.default_rng(seed)
    changes = (
        [(0.0, float(bpm))] if not isinstance(bpm, list) else [(float(a), float(b)) for a, b in bpm]
    )
    y = np.zeros(int(seconds * sr) + sr)
    roots = [110.0, 87.31, 130.81, 98.0]
    beats: list[float] = []
    downbeats: list[float] = []
    t, k = 0.5, 0
    while t < seconds - 0.5:
        current = [b for s, b in changes if s <= t][-1]
        period = 60.0 / current
        i = int(t * sr)
        pos = k % meter
        if pos == 0:
            downbeats.append(t)
            root = roots[(k // meter) % len(roots)]
            n = int(period * meter * sr)
            y[i : i + n] += 0.25 * _tone(root, n, sr)[: y.size - i]
            y[i : i + n] += (
                0.08 * (_tone(root * 2, n, sr) + _tone(root * 2.52, n, sr))[: y.size - i]
            )
        hit = int(0.25 * sr)
        if pos == 0 or (meter == 4 and pos == 2):
            y[i : i + hit] += 0.9 * _kick(hit, sr)[: y.size - i]
        else:
            y[i : i + hit] += 0.35 * _noise_hit(hit, sr, rng, 25)[: y.size - i]
        for s in range(1, subdivision):
            j = int((t + s * period / subdivision) * sr)
            m = int(0.05 * sr)
            y[j : j + m] += 0.12 * _noise_hit(m, sr, rng, 90)[: max(0, min(m, y.size - j))]
        beats.append(t)
        t += period
        k += 1
    y = y[: int(seconds * sr)]
    y /= max(float(np.abs(y).max()), 1e-9) / 0.8
    return y.astype(np.float32), np.array(beats), np.array(downbeats)


class _SteadyTrack:
    """A steady-tempo buffer: ``beats`` (s) from 0.5 s on, ``add`` mixes a sound in at a
    time, ``finish`` normalises and returns (audio, beat_times, downbeat_times)."""

    def __init__(self, bpm: float, seconds: float, sr: int) -> None:
        self.sr, self.seconds = sr, seconds
        self.period = 60.0 / bpm
        self.beats = 0.5 + self.period * np.arange(int((seconds - 1.0) / self.period))
        self.y = np.zeros(int(seconds * sr) + sr)

    def add(self, t: float, x: np.ndarray) -> None:
        i = int(t * self.sr)
        self.y[i : i + x.size] += x[: max(0, self.y.size - i)]

    def finish(self, beats_per_bar: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        y = self.y[: int(self.seconds * self.sr)]
        y = y / (max(float(np.abs(y).max()), 1e-9) / 0.8)
        return y.astype(np.float32), self.beats, self.beats[::beats_per_bar]


def oom_pah_pah(
    *, bpm: float = 165.0, seconds: float = 30.0, sr: int = SR, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A drumless waltz: a plucked bass note on beat 1, a short bright chord on beats 2
    and 3. Returns (audio, beat_times, downbeat_times)."""
    rng = np.random.default_rng(seed)
    track = _SteadyTrack(bpm, seconds, sr)
    roots = [73.42, 110.0, 98.0, 110.0]  # D, A, G, A
    n = int(0.3 * sr)
    for k, t in enumerate(track.beats):
        root = roots[(k // 6) % len(roots)]
        if k % 3 == 0:
            track.add(t, _tone(root, n, sr) * np.exp(-np.arange(n) / sr * 12))
        else:
            chord = sum(_tone(root * r * 8, n, sr) for r in (1.0, 1.26, 1.5))
            chord = chord * np.exp(-np.arange(n) / sr * 20) + 0.3 * _noise_hit(n, sr, rng, 60)
            track.add(t, 0.12 * chord)
    return track.finish(3)


def two_step(
    *, bpm: float = 172.0, seconds: float = 30.0, sr: int = SR, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A drum and bass break: kick on beat 1 and the "and" of 3, a loud snare (high-passed
    noise over a 200 Hz body) on beats 2 and 4, closed hats on the eighths. Returns (audio,
    beat_times, downbeat_times)."""
    rng = np.random.default_rng(seed)
    track = _SteadyTrack(bpm, seconds, sr)
    hit = int(0.2 * sr)
    decay = np.exp(-np.arange(hit) / sr * 30) * np.minimum(1.0, np.arange(hit) / (0.004 * sr))
    for k, t in enumerate(track.beats):
        pos = k % 4
        if pos in (0, 2):
            track.add(t + (track.period / 2 if pos == 2 else 0.0), 0.9 * _kick(hit, sr))
        else:
            rattle = _hiss(hit, sr, rng, 30)
            body = 0.8 * np.sin(2 * np.pi * 200 * np.arange(hit) / sr)
            track.add(t, (rattle + body) * decay)
        for half in (0.0, 0.5):
            hat = _noise_hit(int(0.04 * sr), sr, rng, 120)
            track.add(t + half * track.period, 0.1 * hat)
    return track.finish(4)


def four_on_the_floor(
    *, bpm: float = 124.0, seconds: float = 30.0, hat: float = 0.35, sr: int = SR, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """House: a kick on every beat and an open hi-hat (high-passed noise) on every
    off-beat. Returns (audio, beat_times, downbeat_times)."""
    rng = np.random.default_rng(seed)
    track = _SteadyTrack(bpm, seconds, sr)
    for t in track.beats:
        track.add(t, 0.9 * _kick(int(0.25 * sr), sr))
        track.add(t + track.period / 2, hat * _hiss(int(0.12 * sr), sr, rng, 25))
    return track.finish(4)


def dembow(
    *, bpm: float = 95.0, seconds: float = 30.0, sr: int = SR, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reggaeton's dembow: a kick on every beat, a snare (high-passed noise) on the "a" of
    1 and the "and" of 2 in every two beats, closed hats on the eighths. Returns
    (audio, beat_times, downbeat_times)."""
    rng = np.random.default_rng(seed)
    track = _SteadyTrack(bpm, seconds, sr)
    for k, t in enumerate(track.beats):
        track.add(t, 0.9 * _kick(int(0.25 * sr), sr))
        snare = _hiss(int(0.1 * sr), sr, rng, 35)
        track.add(t + (0.75 if k % 2 == 0 else 0.5) * track.period, 0.6 * snare)
        for half in (0.0, 0.5):
            hat = _hiss(int(0.03 * sr), sr, rng, 120)
            track.add(t + half * track.period, 0.1 * hat)
    return track.finish(4)
