"""Plots of what douga hears and plans: waveform, onset envelope, beats, sections, keyframes.

Used by ``douga analyze --plot`` and ``douga plan --plot``. matplotlib runs on its
file-only Agg backend, so plotting works on machines without a display.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from douga.errors import InputError
from douga.music.musicmap import MusicMap
from douga.timeline.model import Timeline

__all__ = ["onset_envelope", "plot_analysis"]

WAVE_COLOR = "#4a5a7a"
ENV_COLOR = "#d9822b"
BEAT_COLOR = "#7a7a7a"
DOWNBEAT_COLOR = "#c0392b"
KEY_COLOR = "#1f6fb2"
CUT_COLOR = "#8e44ad"
SECTION_COLORS = ["#cfe3f7", "#fde2c8", "#d5f0d5", "#f5d0e6", "#e9e2f8", "#fff3b0"]


def _mono(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 1:
        return y
    # channels are the short axis: librosa's (channels, n) or soundfile's (n, channels)
    return y.mean(axis=0) if y.shape[0] <= y.shape[1] else y.mean(axis=1)


def onset_envelope(music_map: MusicMap, y: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
    """The onset-strength envelope to draw and its rate in frames per second.

    Uses the analyser's own envelope (``extra["onset_envelope"]`` at
    ``extra["envelope_rate"]``) when the MusicMap carries one, otherwise computes
    librosa's spectral-flux envelope. The result is scaled to a peak of 1.
    """
    env_list = music_map.extra.get("onset_envelope")
    rate = music_map.extra.get("envelope_rate")
    if env_list and rate:
        env = np.asarray(env_list, dtype=np.float64)
        env_rate = float(rate)
    else:
        mono = _mono(y)
        if mono.size < 2048:
            return np.zeros(0), 1.0
        import librosa

        hop = 512
        env = librosa.onset.onset_strength(y=mono, sr=sr, hop_length=hop)
        env_rate = sr / hop
    peak = float(np.max(env)) if env.size else 0.0
    return (env / peak if peak > 0 else env), env_rate


def _waveform_envelope(y: np.ndarray, sr: int, *, bins: int = 4000) -> tuple[np.ndarray, ...]:
    """Min/max per time bin: draws a long song as fast as a short one."""
    n = y.size
    if n == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    bins = max(1, min(bins, n))
    edges = np.linspace(0, n, bins + 1).astype(np.int64)
    lo = np.minimum.reduceat(y, edges[:-1])
    hi = np.maximum.reduceat(y, edges[:-1])
    t = edges[:-1] / sr
    return t, lo, hi


def plot_analysis(
    music_map: MusicMap,
    y: np.ndarray,
    sr: int,
    out_png: str | Path,
    *,
    timeline: Timeline | None = None,
) -> Path:
    """Draw the analysis of a song (and optionally a plan) into a PNG.

    Top panel: the waveform with sections as shaded spans (label and intensity) and,
    when ``timeline`` is given, a marker with the index of every keyframe (cuts in
    purple). Bottom panel: the onset envelope with beats as thin lines and downbeats
    as thick ones. The time axis is in seconds. The figure is 1600x600 pixels.

    Parameters
    ----------
    music_map
        The analysis to draw.
    y, sr
        The song's samples (mono (n,), or stereo in either layout) and sample rate in Hz.
    out_png
        Where to write the PNG; its folder must exist.
    timeline
        Optional plan whose keyframe placements are marked.

    Returns
    -------
    Path
        ``out_png``.

    Raises
    ------
    InputError
        The PNG cannot be written (missing folder, no permission).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI

    out = Path(out_png)
    mono = _mono(y)
    duration = max(music_map.duration, mono.size / sr if sr else 0.0, 1e-3)

    fig = Figure(figsize=(16, 6), dpi=100)
    ax_w, ax_e = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1.15, 1.0]})
    fig.subplots_adjust(left=0.05, right=0.99, top=0.9, bottom=0.09, hspace=0.08)

    meter = f"{music_map.meter}/4" if music_map.meter else "?"
    fig.suptitle(
        f"{music_map.tempo:.1f} BPM · meter {meter} · {len(music_map.beats)} beats · "
        f"{len(music_map.downbeats)} downbeats · {len(music_map.sections)} sections · "
        f"{music_map.duration:.1f} s",
        fontsize=12,
    )

    # sections: shaded spans on both panels, label and intensity on the top one
    for i, sec in enumerate(music_map.sections):
        color = SECTION_COLORS[i % len(SECTION_COLORS)]
        for ax in (ax_w, ax_e):
            ax.axvspan(sec.start, sec.end, color=color, alpha=0.35 + 0.45 * sec.intensity, lw=0)
        ax_w.text(
            (sec.start + sec.end) / 2, 0.03, f"{sec.label} · intensity {sec.intensity:.2f}",
            transform=ax_w.get_xaxis_transform(), ha="center", va="bottom", fontsize=9,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.7},
        )

    t, lo, hi = _waveform_envelope(mono, sr)
    if t.size:
        ax_w.fill_between(t, lo, hi, color=WAVE_COLOR, lw=0, step="post")
    peak = float(np.max(np.abs(mono))) if mono.size else 1.0
    ax_w.set_ylim(-1.5 * (peak or 1.0), 1.45 * (peak or 1.0))
    ax_w.set_ylabel("waveform")
    ax_w.set_yticks([])

    env, rate = onset_envelope(music_map, y, sr)
    if env.size:
        ax_e.plot(np.arange(env.size) / rate, env, color=ENV_COLOR, lw=0.9, label="onset envelope",
                  zorder=3)
    ax_e.vlines(music_map.beats, 0, 1.08, color=BEAT_COLOR, lw=0.6, alpha=0.7, label="beats",
                zorder=1)
    ax_e.vlines(music_map.downbeats, 0, 1.08, color=DOWNBEAT_COLOR, lw=2.0, alpha=0.6,
                label="downbeats", zorder=2)
    ax_e.set_ylim(0, 1.12)
    ax_e.set_ylabel("onset strength")
    ax_e.set_xlabel("time (s)")
    ax_e.legend(loc="upper right", fontsize=8, framealpha=0.8, ncol=3)

    if timeline is not None:
        _mark_keyframes(ax_w, timeline, peak or 1.0)
        fx = timeline.effects
        if fx and timeline.fps:
            ax_e.scatter([e.frame / timeline.fps for e in fx], [1.04] * len(fx),
                         s=[14 + 40 * e.strength for e in fx], marker="*", color=KEY_COLOR,
                         zorder=4, label="effects")
            ax_e.legend(loc="upper right", fontsize=8, framealpha=0.8, ncol=4)

    ax_e.set_xlim(0, duration)
    try:
        fig.savefig(out, format="png")
    except (FileNotFoundError, PermissionError, IsADirectoryError) as e:
        raise InputError(f"{out}: cannot write the plot ({e.strerror or e})") from None
    return out


def _mark_keyframes(ax: object, timeline: Timeline, peak: float) -> None:
    """Triangles with the keyframe index just above the waveform; dashed line down."""
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    y_mark = 1.12 * peak
    for kf in timeline.keyframes:
        color = CUT_COLOR if kf.cut else KEY_COLOR
        ax.axvline(kf.time, color=color, lw=1.2, ls="--" if not kf.cut else "-", alpha=0.85)
        ax.plot([kf.time], [y_mark], marker="v", color=color, ms=9, clip_on=False)
        label = f"{kf.index + 1}" + (" cut" if kf.cut else "")
        ax.annotate(label, (kf.time, y_mark), xytext=(4, 4), textcoords="offset points",
                    fontsize=9, color=color, fontweight="bold")
