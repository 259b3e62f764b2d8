"""Sections and intensity: where the song changes character, and how intense each part is.

Boundaries come from a novelty curve (Foote's checkerboard kernel over a self-similarity
matrix of bar-level timbre, harmony and loudness), snapped to downbeats. Intensity mixes
loudness, onset density and brightness; it is relative to the song (0 = its calmest
moment, 1 = its most intense), because pacing choices are relative too.
"""

from __future__ import annotations

import itertools

import numpy as np

from douga.music.musicmap import Section
from douga.music.onsets import OnsetFeatures, segment_means

MIN_SECTION_S = 6.0


def frame_intensity(features: OnsetFeatures) -> np.ndarray:
    """(T,) intensity 0..1 per frame: loudness, onset density and brightness, smoothed ~1 s."""
    from scipy.ndimage import uniform_filter1d

    size = max(1, round(features.rate))
    loud = uniform_filter1d(features.loudness.astype(np.float64), size=size)
    dens = uniform_filter1d(features.envelope.astype(np.float64), size=size)
    bright = uniform_filter1d(features.high.astype(np.float64), size=size)

    def scaled(x: np.ndarray, floor: float) -> np.ndarray:
        lo, hi = np.percentile(x, 3), np.percentile(x, 97)
        return np.clip((x - lo) / max(hi - lo, floor), 0.0, 1.0)

    # loudness in dB: a 30 dB span is the whole range; quieter-than-that spans stay mid-scale
    return np.asarray(
        0.5 * scaled(loud, 12.0) + 0.3 * scaled(dens, 0.3) + 0.2 * scaled(bright, 0.3)
    )


def _novelty(ssm: np.ndarray, half: int) -> np.ndarray:
    n = ssm.shape[0]
    k = np.ones((2 * half, 2 * half))
    k[:half, half:] = -1
    k[half:, :half] = -1
    g = np.exp(-0.5 * ((np.arange(2 * half) - half + 0.5) / (half / 2)) ** 2)
    k *= np.outer(g, g)
    padded = np.pad(ssm, half, mode="edge")
    nov = np.array([np.sum(k * padded[i : i + 2 * half, i : i + 2 * half]) for i in range(n)])
    return np.maximum(nov, 0.0)


def find_sections(
    features: OnsetFeatures,
    *,
    duration: float,
    downbeats: np.ndarray,
    intensity: np.ndarray,
) -> list[Section]:
    """Sections covering [0, duration], labelled by similarity ("A", "B"...).

    ``intensity`` is the (T,) per-frame intensity from :func:`frame_intensity`; each
    section's intensity is its mean.
    """
    if duration <= 0:
        return []
    grid = downbeats if downbeats.size >= 8 else np.arange(0.0, duration, 2.0)
    grid = grid[(grid > 0) & (grid < duration)]
    bounds_t = np.concatenate([[0.0], grid, [duration]])
    fr = np.clip(np.round(bounds_t * features.rate).astype(np.int64), 0, features.n_frames)
    feats = np.vstack(
        [
            features.timbre[1:] / 20.0,
            features.chroma,
            features.loudness[None, :] / 10.0,
            features.envelope[None, :],
        ]
    )
    # energy changes (a chorus coming in) matter as much as timbre and harmony together
    weights = np.ones(feats.shape[0])
    weights[-2:] = 4.0
    cells = segment_means(feats, fr)  # (D, n_cells)
    n_cells = cells.shape[1]
    cuts: list[int] = []
    if n_cells >= 8:
        z = (cells - cells.mean(axis=1, keepdims=True)) / (cells.std(axis=1, keepdims=True) + 1e-6)
        z *= weights[:, None]
        z /= np.maximum(np.linalg.norm(z, axis=0, keepdims=True), 1e-9)
        ssm = z.T @ z
        nov = _novelty(ssm, half=4)
        thresh = nov.mean() + 0.5 * nov.std()
        min_cells = max(2, int(np.ceil(MIN_SECTION_S / max(duration / n_cells, 1e-6))))
        order = np.argsort(-nov)
        for i in order:
            if nov[i] < thresh or i == 0:
                continue
            if (
                all(abs(i - c) >= min_cells for c in cuts)
                and i >= min_cells
                and n_cells - i >= min_cells
            ):
                cuts.append(int(i))
        cuts.sort()
    edges = [0.0, *[float(bounds_t[c]) for c in cuts], duration]
    sec_feats = [
        cells[:, (bounds_t[:-1] >= a - 1e-6) & (bounds_t[:-1] < b - 1e-6)].mean(axis=1)
        if n_cells
        else np.zeros(cells.shape[0])
        for a, b in itertools.pairwise(edges)
    ]
    labels = _label(sec_feats)
    out = []
    for (a, b), lab in zip(itertools.pairwise(edges), labels, strict=True):
        fa, fb = int(a * features.rate), max(int(b * features.rate), int(a * features.rate) + 1)
        seg = intensity[fa : min(fb, intensity.size)]
        out.append(
            Section(
                start=round(a, 4),
                end=round(b, 4),
                label=lab,
                intensity=round(float(seg.mean()) if seg.size else 0.0, 4),
            )
        )
    return out


def _label(section_features: list[np.ndarray]) -> list[str]:
    """Letters by similarity: a section like an earlier one gets its letter."""
    labels: list[str] = []
    protos: list[np.ndarray] = []
    for f in section_features:
        dists = [
            float(np.linalg.norm(f - p)) / (np.linalg.norm(f) + np.linalg.norm(p) + 1e-9)
            for p in protos
        ]
        if dists and min(dists) < 0.12:
            labels.append(chr(ord("A") + int(np.argmin(dists))))
        else:
            protos.append(f)
            labels.append(chr(ord("A") + min(len(protos) - 1, 25)))
    return labels
