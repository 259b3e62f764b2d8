"""analyze_music: a song → MusicMap (tempo, beats, downbeats, meter, onsets, sections, intensity).

Stages: decode → onset features (one spectrogram) → beat level and beats (HMM) →
meter and downbeats → onsets → sections and intensity.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from douga.music.beats import track
from douga.music.downbeats import track_downbeats
from douga.music.musicmap import MusicMap, Section
from douga.music.onsets import onset_features, pick_onsets
from douga.music.sections import find_sections, frame_intensity

log = logging.getLogger(__name__)
ProgressFn = Callable[[str, float], None]
ANALYSIS_SR = 22050
SILENCE_RMS = 1e-4  # below this the song is treated as silent (about -80 dBFS)
PLOT_RATE_DIVISOR = 4  # the envelope kept in MusicMap.extra for plots, at ~21 frames/s


def _tempo_curve(beats: np.ndarray) -> list[tuple[float, float]]:
    if beats.size < 2:
        return []
    ibi = np.diff(beats)
    # smooth over 3 beats so one late beat does not read as a tempo spike
    kernel = np.ones(3) / 3
    padded = np.pad(ibi, 1, mode="edge")
    smooth = np.convolve(padded, kernel, mode="valid")
    bpm = 60.0 / np.maximum(smooth, 1e-6)
    bpm = np.append(bpm, bpm[-1])
    return [(round(float(t), 4), round(float(b), 2)) for t, b in zip(beats, bpm, strict=True)]


def _silent_map(duration: float) -> MusicMap:
    sections = [Section(0.0, round(duration, 4), "silence", 0.0)] if duration > 0 else []
    return MusicMap(
        duration=duration,
        tempo=0.0,
        tempo_curve=[],
        beats=[],
        downbeats=[],
        meter=4,
        onsets=[],
        onset_strength=[],
        sections=sections,
        beat_intensity=[],
    )


def analyze_music(
    audio: str | Path | tuple[np.ndarray, int],
    *,
    progress: ProgressFn | None = None,
) -> MusicMap:
    """Analyse a song: tempo, beats, downbeats, meter, onsets, sections, intensity.

    Parameters
    ----------
    audio
        A path to an audio file (wav, flac, mp3, ogg, m4a...), or ``(samples, sample_rate)``
        with mono float samples.
    progress
        Optional callback ``progress(stage, fraction)``, fraction in 0..1.

    Returns
    -------
    MusicMap
        Silent or empty audio gives a map with the duration and no beats.
    """

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    report("decoding", 0.0)
    if isinstance(audio, tuple):
        y, sr = audio
        y = np.asarray(y, dtype=np.float32)
        if y.ndim > 1:
            y = y.mean(axis=0)
        if sr != ANALYSIS_SR and y.size:
            import soxr

            y = soxr.resample(y, sr, ANALYSIS_SR).astype(np.float32)
            sr = ANALYSIS_SR
    else:
        from douga.music.audio import load_audio

        y, sr = load_audio(audio, sr=ANALYSIS_SR, mono=True)
    duration = round(y.size / sr, 4)
    if y.size == 0 or float(np.sqrt(np.mean(y.astype(np.float64) ** 2))) < SILENCE_RMS:
        name = "the song" if isinstance(audio, tuple) else f"{audio}:"
        log.warning("%s %s, so it has no beats; keyframes will be spaced evenly", name,
                    "has no samples" if y.size == 0 else "is silent (below -80 dBFS)")
        report("done", 1.0)
        return _silent_map(duration)

    report("onsets", 0.15)
    feats = onset_features(y, sr)
    report("beats", 0.4)
    level_bpm, beats = track(feats)
    beats = beats[beats < duration]
    report("downbeats", 0.7)
    meter, downbeats = track_downbeats(feats, beats)
    onset_times, onset_strength = pick_onsets(feats)
    report("sections", 0.85)
    intensity = frame_intensity(feats)
    sections = find_sections(feats, duration=duration, downbeats=downbeats, intensity=intensity)
    beat_frames = np.clip(np.round(beats * feats.rate).astype(np.int64), 0, feats.n_frames - 1)
    beat_intensity = intensity[beat_frames] if beats.size else np.zeros(0)
    curve = _tempo_curve(beats)
    tempo = float(np.median([b for _, b in curve])) if curve else level_bpm
    env = feats.envelope[::PLOT_RATE_DIVISOR]
    report("done", 1.0)
    return MusicMap(
        duration=duration,
        tempo=round(tempo, 2),
        tempo_curve=curve,
        beats=[round(float(b), 4) for b in beats],
        downbeats=[round(float(b), 4) for b in downbeats],
        meter=int(meter),
        onsets=[round(float(t), 4) for t in onset_times],
        onset_strength=[round(float(s), 3) for s in onset_strength],
        sections=sections,
        beat_intensity=[round(float(v), 3) for v in beat_intensity],
        extra={
            "envelope_rate": feats.rate / PLOT_RATE_DIVISOR,
            "onset_envelope": [round(float(v), 3) for v in env],
        },
    )
