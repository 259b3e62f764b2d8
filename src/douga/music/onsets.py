"""Onset features: how much new sound starts at each moment, in a few frequency bands.

Everything downstream (beats, downbeats, onsets, intensity) reads these envelopes,
so the spectrogram is computed once per song.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOP = 256  # samples; at 22050 Hz this is 86.1 envelope frames per second
N_FFT = 2048
N_MELS = 96


@dataclass(frozen=True)
class OnsetFeatures:
    """Frame-rate features of one song.

    Attributes
    ----------
    rate
        Envelope frames per second.
    envelope
        (T,) broadband spectral flux, normalised so its 95th percentile is 1.
    low, high
        (T,) flux below ~200 Hz (kick, bass) and above ~2 kHz (hats, snare), same scale.
    kick
        (T,) flux below ~100 Hz: the kick drum and bass notes without the snare's body,
        which reaches down to ~150 Hz, same scale.
    loudness
        (T,) frame energy in dB (relative to full scale).
    chroma
        (12, T) pitch-class energy, for harmonic-change (downbeat, section) cues.
    timbre
        (13, T) MFCCs of the log-mel spectrogram, for section boundaries.
    """

    rate: float
    envelope: np.ndarray
    low: np.ndarray
    high: np.ndarray
    kick: np.ndarray
    loudness: np.ndarray
    chroma: np.ndarray
    timbre: np.ndarray

    @property
    def n_frames(self) -> int:
        return int(self.envelope.shape[0])

    def frame_times(self) -> np.ndarray:
        return np.arange(self.n_frames) / self.rate


def _flux(logmel: np.ndarray) -> np.ndarray:
    """Superflux-style positive spectral difference: a max filter across frequency on the
    previous frame suppresses vibrato, so sustained notes do not read as onsets."""
    from scipy.ndimage import maximum_filter1d

    ref = maximum_filter1d(logmel, size=3, axis=0)
    diff = logmel[:, 1:] - ref[:, :-1]
    diff = np.maximum(diff, 0.0)
    return np.concatenate([np.zeros((logmel.shape[0], 1), dtype=logmel.dtype), diff], axis=1)


def _normalise(x: np.ndarray) -> np.ndarray:
    scale = float(np.percentile(x, 95)) if x.size else 0.0
    if scale <= 1e-9:
        scale = float(x.max()) if x.size and x.max() > 0 else 1.0
    return (x / scale).astype(np.float32)


def _frame_normalise(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(x.max(axis=0, keepdims=True), 1e-10)


def onset_features(y: np.ndarray, sr: int) -> OnsetFeatures:
    """Compute the onset envelopes, loudness and chroma of mono audio ``y`` at ``sr`` Hz."""
    import librosa

    rate = sr / HOP
    if y.size < N_FFT:
        y = np.pad(y, (0, N_FFT - y.size))
    stft = librosa.stft(y, n_fft=N_FFT, hop_length=HOP, center=True)
    power = (np.abs(stft) ** 2).astype(np.float32)
    mel_fb = librosa.filters.mel(
        sr=sr, n_fft=N_FFT, n_mels=N_MELS, fmin=30.0, fmax=min(11000.0, sr / 2)
    )
    mel = mel_fb @ power
    logmel = np.log1p(100.0 * mel / max(float(mel.max()), 1e-10))
    flux = _flux(logmel)
    freqs = librosa.mel_frequencies(n_mels=N_MELS, fmin=30.0, fmax=min(11000.0, sr / 2))
    low_band = freqs < 200.0
    high_band = freqs > 2000.0
    envelope = flux.mean(axis=0)
    low = flux[low_band].mean(axis=0)
    high = flux[high_band].mean(axis=0)
    kick = flux[freqs < 100.0].mean(axis=0)
    energy = power.sum(axis=0) / (N_FFT / 2) ** 2
    loudness = 10.0 * np.log10(np.maximum(energy, 1e-10))
    chroma_fb = librosa.filters.chroma(sr=sr, n_fft=N_FFT, tuning=0.0)
    chroma = _frame_normalise(chroma_fb @ power)
    timbre = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=13)
    return OnsetFeatures(
        rate=rate,
        envelope=_normalise(envelope),
        low=_normalise(low),
        high=_normalise(high),
        kick=_normalise(kick),
        loudness=loudness.astype(np.float32),
        chroma=chroma.astype(np.float32),
        timbre=timbre.astype(np.float32),
    )


def pick_onsets(features: OnsetFeatures) -> tuple[np.ndarray, np.ndarray]:
    """Onset times (s) and strengths (0..1) picked from the broadband envelope."""
    import librosa

    env = features.envelope
    if env.size == 0 or float(env.max()) <= 0:
        return np.zeros(0), np.zeros(0)
    frames = librosa.util.peak_pick(
        env, pre_max=3, post_max=3, pre_avg=10, post_avg=10, delta=0.15, wait=4
    )
    strength = env[frames] / max(float(env[frames].max()) if frames.size else 1.0, 1e-9)
    return frames / features.rate, np.clip(strength, 0.0, 1.0)


def segment_means(m: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Mean of the columns of ``m`` (D, T) between consecutive frame bounds."""
    out = np.zeros((m.shape[0], bounds.size - 1), dtype=np.float64)
    csum = np.concatenate([np.zeros((m.shape[0], 1)), np.cumsum(m, axis=1)], axis=1)
    for k in range(bounds.size - 1):
        a, b = int(bounds[k]), max(int(bounds[k + 1]), int(bounds[k]) + 1)
        b = min(b, m.shape[1])
        a = min(a, b - 1)
        out[:, k] = (csum[:, b] - csum[:, a]) / max(b - a, 1)
    return out
