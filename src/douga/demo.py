"""Procedural demo material: a small song, cel-style keyframes, lyrics and a project file.

Everything is synthesised from a seed with numpy and Pillow, so the demo needs no
download and the repository holds no binary media. The song is a short J-pop-like
loop in C major (verse on vi-IV-I-V, chorus on the "royal road" IV-V-iii-vi) with a
quiet intro, a verse, a drum fill and a louder chorus; its beat times are known
exactly (:func:`demo_song_structure`), which makes it a test fixture as well.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal

from douga.demo_art import make_demo_keyframes
from douga.errors import InputError

__all__ = [
    "DemoStructure",
    "demo_song_structure",
    "make_demo_keyframes",
    "make_demo_lyrics",
    "make_demo_song",
    "write_demo_project",
]

_HEADER = "# douga demo project"
DEMO_MARK = ".douga-demo"  # in every folder douga demo writes: it may write there again
LEAD_IN = 0.5  # seconds of silence before bar 1, so that bar 1 is not cut off by the file start
METER = 4
VERSE_CHORDS = [(57, 60, 64), (53, 57, 60), (55, 60, 64), (55, 59, 62)]  # Am F C G
CHORUS_CHORDS = [(53, 57, 60), (55, 59, 62), (52, 55, 59), (57, 60, 64)]  # F G Em Am
VERSE_ROOTS = [45, 41, 48, 43]  # A2 F2 C3 G2
CHORUS_ROOTS = [41, 43, 40, 45]  # F2 G2 E2 A2
PENTATONIC = [72, 74, 76, 79, 81, 84]  # C major pentatonic, C5..C6


@dataclass(frozen=True)
class DemoStructure:
    """The exact musical layout of a demo song (times in seconds)."""

    bpm: float
    beats: list[float]
    downbeats: list[float]
    sections: list[tuple[str, float, float]]  # (label, start, end)
    chorus_bar: int  # 1-based bar on which the chorus starts
    n_bars: int  # full bars played before the final hit


def demo_song_structure(*, seconds: float = 40.0, bpm: float = 120.0) -> DemoStructure:
    """Layout of the demo song: ground-truth beats, downbeats and sections.

    Bar 1 starts after a :data:`LEAD_IN` of silence. The first ~40 % of the bars are
    calm (intro, then verse), the rest is chorus; when time is left after the last
    full bar, the song ends with one final hit on the next downbeat.
    """
    beat = 60.0 / bpm
    bar = beat * METER
    n_bars = max(1, int((seconds - LEAD_IN) / bar + 1e-9))
    calm = max(1, round(0.4 * n_bars)) if n_bars > 1 else 1
    intro = calm // 2
    chorus_bar = calm + 1
    n_beats = n_bars * METER
    final_hit = LEAD_IN + n_bars * bar
    beats = [LEAD_IN + k * beat for k in range(n_beats)]
    if final_hit < seconds - 0.25:
        beats.append(final_hit)
    downbeats = [b for k, b in enumerate(beats) if k % METER == 0]
    sections: list[tuple[str, float, float]] = []
    t_verse = LEAD_IN + intro * bar
    t_chorus = LEAD_IN + calm * bar
    if intro:
        sections.append(("intro", 0.0, t_verse))
    sections.append(("verse", 0.0 if not intro else t_verse, float(min(t_chorus, seconds))))
    if chorus_bar <= n_bars:
        sections.append(("chorus", t_chorus, float(seconds)))
    return DemoStructure(bpm, beats, downbeats, sections, chorus_bar, n_bars)


# ------------------------------------------------------------------ synthesis
def _midi_hz(note: float) -> float:
    return float(440.0 * 2.0 ** ((note - 69) / 12.0))


def _lowpass(x: np.ndarray, cutoff: float, sr: int, order: int = 2) -> np.ndarray:
    sos = signal.butter(order, min(cutoff, 0.45 * sr), btype="low", fs=sr, output="sos")
    return np.asarray(signal.sosfilt(sos, x), dtype=np.float64)


def _highpass(x: np.ndarray, cutoff: float, sr: int, order: int = 2) -> np.ndarray:
    sos = signal.butter(order, cutoff, btype="high", fs=sr, output="sos")
    return np.asarray(signal.sosfilt(sos, x), dtype=np.float64)


def _saw(freq: float, n: int, sr: int, phase: float = 0.0) -> np.ndarray:
    ph = phase + freq * np.arange(n) / sr
    return 2.0 * (ph - np.floor(ph + 0.5))


def _adsr(n: int, sr: int, attack: float, release: float) -> np.ndarray:
    """Linear attack, flat sustain, linear release over ``n`` samples (no clicks)."""
    env = np.ones(n)
    a = min(n, max(1, int(attack * sr)))
    r = min(n - a, max(1, int(release * sr)))
    env[:a] = np.linspace(0.0, 1.0, a)
    if r > 0:
        env[n - r :] = np.linspace(1.0, 0.0, r)
    return env


class _Mixer:
    """A stereo buffer that voices are added into at a time and pan."""

    def __init__(self, seconds: float, sr: int) -> None:
        self.sr = sr
        self.buf = np.zeros((2, round(seconds * sr)))

    def add(self, x: np.ndarray, t: float, *, gain: float = 1.0, pan: float = 0.0) -> None:
        i = round(t * self.sr)
        n = min(len(x), self.buf.shape[1] - i)
        if n <= 0 or i < 0:
            return
        angle = (pan + 1.0) * np.pi / 4.0  # constant-power pan, -1 left .. 1 right
        self.buf[0, i : i + n] += gain * np.cos(angle) * x[:n]
        self.buf[1, i : i + n] += gain * np.sin(angle) * x[:n]


def _kick(sr: int) -> np.ndarray:
    n = int(0.35 * sr)
    t = np.arange(n) / sr
    freq = 45.0 + 95.0 * np.exp(-t * 30.0)  # pitch drops fast: the "thump"
    body = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t * 9.0)
    click = np.exp(-t * 400.0) * 0.5
    return body + click


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(0.22 * sr)
    t = np.arange(n) / sr
    noise = _highpass(_lowpass(rng.standard_normal(n), 7000, sr), 900, sr) * np.exp(-t * 18.0)
    tone = np.sin(2 * np.pi * 185.0 * t) * np.exp(-t * 30.0)
    return 0.55 * noise + 0.6 * tone


def _hat(sr: int, rng: np.random.Generator, *, open_: bool = False) -> np.ndarray:
    n = int((0.3 if open_ else 0.06) * sr)
    t = np.arange(n) / sr
    return _highpass(rng.standard_normal(n), 7000, sr, order=4) * np.exp(-t * (12 if open_ else 70))


def _crash(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(1.8 * sr)
    t = np.arange(n) / sr
    return _highpass(rng.standard_normal(n), 4500, sr) * np.exp(-t * 2.2) * 0.6


def _tom(sr: int, note: float) -> np.ndarray:
    n = int(0.3 * sr)
    t = np.arange(n) / sr
    f = _midi_hz(note) * (1.0 + 0.5 * np.exp(-t * 25))
    return np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t * 10.0)


def _pad(chord: tuple[int, ...], dur: float, sr: int, *, bright: float) -> np.ndarray:
    n = int(dur * sr)
    x = np.zeros(n)
    for note in chord:
        f = _midi_hz(note)
        for detune in (-0.12, 0.12):  # two slightly detuned saws per note: a soft chorus
            x += _saw(f * 2 ** (detune / 12), n, sr, phase=0.3 * detune)
    x = _lowpass(x / (2 * len(chord)), bright, sr)
    return x * _adsr(n, sr, 0.25, 0.35)


def _bass(note: int, dur: float, sr: int, *, cutoff: float) -> np.ndarray:
    n = int(dur * sr)
    f = _midi_hz(note)
    t = np.arange(n) / sr
    x = 0.6 * np.sin(2 * np.pi * f * t) + 0.5 * _lowpass(_saw(f, n, sr), cutoff, sr)
    return x * _adsr(n, sr, 0.005, 0.04) * np.exp(-t * 1.5)


def _pluck(note: int, dur: float, sr: int) -> np.ndarray:
    n = int(dur * sr)
    t = np.arange(n) / sr
    f = _midi_hz(note)
    tri = 2.0 * np.abs(_saw(f, n, sr)) - 1.0
    x = 0.7 * np.sin(2 * np.pi * f * t) + 0.3 * tri
    return x * _adsr(n, sr, 0.004, 0.05) * np.exp(-t * 4.0)


def _echo(x: np.ndarray, delay: float, sr: int, *, feedback: float = 0.35,
          taps: int = 3) -> np.ndarray:
    d = int(delay * sr)
    out = np.concatenate([x, np.zeros(d * taps)])
    for k in range(1, taps + 1):
        out[k * d : k * d + len(x)] += feedback**k * x
    return out


def make_demo_song(
    *, seconds: float = 40.0, sr: int = 44100, bpm: float = 120.0, seed: int = 0
) -> np.ndarray:
    """Synthesise the demo song.

    Parameters
    ----------
    seconds
        Length of the song in seconds; the returned array has exactly
        ``round(seconds * sr)`` samples.
    sr
        Sample rate in Hz.
    bpm
        Tempo; the meter is 4/4. Beat times are given by :func:`demo_song_structure`.
    seed
        Seeds the noise of the drums and the chorus melody; same seed, same samples.

    Returns
    -------
    numpy.ndarray
        float32 array of shape (n_samples, 2) (stereo, soundfile layout), peak about 0.9.
    """
    rng = np.random.default_rng(seed)
    st = demo_song_structure(seconds=seconds, bpm=bpm)
    beat = 60.0 / bpm
    bar = beat * METER
    mix = _Mixer(seconds, sr)
    kick, snare, hat = _kick(sr), _snare(sr, rng), _hat(sr, rng)
    open_hat, crash = _hat(sr, rng, open_=True), _crash(sr, rng)
    intro_bars = (st.chorus_bar - 1) // 2
    # a two-bar chorus motif, repeated: melodies that repeat sound like songs
    motif = [
        (step, int(rng.choice(PENTATONIC)))
        for step in range(16)
        if step % 2 == 0 or rng.random() < 0.35
    ]

    for b in range(st.n_bars):
        t0 = LEAD_IN + b * bar
        chorus = b + 1 >= st.chorus_bar
        intro = b < intro_bars
        last_calm = b + 2 == st.chorus_bar and st.chorus_bar > 2
        k = b % 4
        chords, roots = (CHORUS_CHORDS, CHORUS_ROOTS) if chorus else (VERSE_CHORDS, VERSE_ROOTS)
        level = 1.0 if chorus else (0.4 if intro else 0.5)

        mix.add(_pad(chords[k], bar + 0.3, sr, bright=2600 if chorus else 1200), t0,
                gain=0.36 if chorus else 0.26, pan=0.0)
        if (chorus and b % 4 == 0) or b + 1 == st.chorus_bar:
            mix.add(crash, t0, gain=0.5 * level, pan=-0.3)
        for q in range(METER):
            tq = t0 + q * beat
            fill = last_calm and q >= 2
            if q == 0 or (q == 2 and not intro):
                mix.add(kick, tq, gain=0.9 * level)
            if q in (1, 3) and not intro and not fill:
                mix.add(snare, tq, gain=0.55 * level, pan=0.1)
            if fill:  # sixteenth-note snare and toms rising into the chorus
                for s in range(4):
                    vel = 0.25 + 0.6 * ((q - 2) * 4 + s) / 7
                    mix.add(snare, tq + s * beat / 4, gain=vel * 0.55, pan=0.1)
                mix.add(_tom(sr, 50 - 5 * (q - 2)), tq, gain=0.5, pan=-0.4 + 0.8 * (q - 2))
                continue
            for e in range(2):
                h = open_hat if (chorus and e == 1) else hat
                mix.add(h, tq + e * beat / 2, gain=(0.22 if e == 0 else 0.14) * level, pan=0.45)
            if not intro:
                if chorus:  # driving eighth notes, octave on the off-beats
                    for e in range(2):
                        note = roots[k] + (12 if e == 1 else 0)
                        mix.add(_bass(note, beat / 2 * 0.9, sr, cutoff=900), tq + e * beat / 2,
                                gain=0.5)
                else:
                    mix.add(_bass(roots[k], beat * 0.9, sr, cutoff=500), tq, gain=0.3)
        if chorus:
            half = (b - st.chorus_bar + 1) % 2
            for step, note in motif:
                if step // 8 == half:
                    tn = t0 + (step % 8) * beat / 2
                    mix.add(_echo(_pluck(note, beat * 0.8, sr), 0.75 * beat, sr), tn,
                            gain=0.16, pan=-0.25)

    final = LEAD_IN + st.n_bars * bar
    if final < seconds - 0.25:  # the button: one last hit on the next downbeat, left ringing
        ring = seconds - final
        mix.add(kick, final, gain=1.0)
        mix.add(crash, final, gain=0.5)
        mix.add(_pad(CHORUS_CHORDS[-1], ring, sr, bright=2000), final, gain=0.35)
        mix.add(_bass(CHORUS_ROOTS[-1], ring, sr, cutoff=600), final, gain=0.5)

    y = mix.buf
    fade = min(len(y[0]), int(0.3 * sr))
    y[:, len(y[0]) - fade :] *= np.linspace(1.0, 0.0, fade)
    y = np.tanh(1.2 * y)  # gentle bus saturation glues the mix and rounds rare peaks
    peak = float(np.max(np.abs(y))) or 1.0
    return (0.9 * y / peak).T.astype(np.float32)


# --------------------------------------------------------------------- lyrics
_VERSE_LINES = ["petals drifting down the empty street", "I count the seconds to the beat"]
_CHORUS_LINES = [
    "run with me into the light",
    "every heartbeat shining bright",
    "hold the moment, don't let go",
    "spring is calling, here we go",
]


def _lrc_time(t: float) -> str:
    m, s = divmod(max(t, 0.0), 60.0)
    return f"[{int(m):02d}:{s:05.2f}]"


def make_demo_lyrics(*, seconds: float = 40.0, bpm: float = 120.0) -> str:
    """LRC lyrics timed to the demo song: a line every two bars from the verse on."""
    st = demo_song_structure(seconds=seconds, bpm=bpm)
    bar = 60.0 / bpm * METER
    lines = ["[ti:douga demo]", "[ar:douga]"]
    verse_bar = (st.chorus_bar - 1) // 2 + 1
    for b in range(verse_bar, st.n_bars + 1, 2):
        t = LEAD_IN + (b - 1) * bar
        if t >= seconds - 1.0:
            break
        if b < st.chorus_bar:
            text = _VERSE_LINES[((b - verse_bar) // 2) % len(_VERSE_LINES)]
        else:
            text = _CHORUS_LINES[((b - st.chorus_bar) // 2) % len(_CHORUS_LINES)]
        lines.append(f"{_lrc_time(t)}{text}")
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------- project
_TEXTS = {
    0: "she looks up at the falling petals",
    2: "a slow blink as the wind picks up",
}


def write_demo_project(
    out_dir: str | Path,
    *,
    seed: int = 0,
    seconds: float = 40.0,
    bpm: float = 120.0,
    n_keyframes: int = 7,
    width: int = 1280,
    height: int = 720,
    fps: int = 24,
) -> Path:
    """Write a complete demo project and return the path of its ``project.yaml``.

    Writes ``song.wav`` (16-bit stereo, 44.1 kHz), ``kf/01.png``..., ``lyrics.lrc`` and
    ``project.yaml`` into ``out_dir`` (created if needed; an earlier demo's files are
    overwritten, a folder holding anything else is refused). The first close-up keyframe
    is pinned to the first beat of the chorus and marked ``cut: true``.
    """
    import soundfile as sf
    from PIL import Image

    out = Path(out_dir)
    if out.is_dir() and any(out.iterdir()) and not _is_demo_folder(out):
        raise InputError(f"{out}: holds files that douga demo did not write; expected a new or "
                         "empty folder, or an earlier demo's (choose another folder)")
    (out / "kf").mkdir(parents=True, exist_ok=True)
    (out / DEMO_MARK).write_text("written by douga demo, which may write over this folder\n")
    sr = 44100
    sf.write(out / "song.wav", make_demo_song(seconds=seconds, sr=sr, bpm=bpm, seed=seed), sr,
             subtype="PCM_16")
    frames = make_demo_keyframes(n=n_keyframes, width=width, height=height, seed=seed)
    names = []
    for i, img in enumerate(frames):
        name = f"kf/{i + 1:02d}.png"
        Image.fromarray(img).save(out / name)
        names.append(name)
    (out / "lyrics.lrc").write_text(make_demo_lyrics(seconds=seconds, bpm=bpm))

    st = demo_song_structure(seconds=seconds, bpm=bpm)
    first_close = _first_close_up(n_keyframes)
    lines = [
        f"{_HEADER} (seed {seed}), written by `douga demo`.",
        "# Paths are relative to this file. Edit it and run `douga plan` on it.",
        "audio: song.wav",
        "keyframes:",
    ]
    for i, name in enumerate(names):
        lines.append(f"  - image: {name}")
        close = i == first_close
        text = "close-up: her eyes light up as the chorus hits" if close else _TEXTS.get(i)
        if text is not None:
            lines.append(f"    text: {json.dumps(text)}")
        if close:
            if st.chorus_bar <= st.n_bars:
                lines.append(f'    at: "{st.chorus_bar}:1"  # pinned to the chorus downbeat')
            lines.append("    cut: true  # a new shot: cut into it, never in-between")
    lines += [
        "lyrics: lyrics.lrc",
        'style: "flat cel-shaded anime, spring afternoon"',
        f"output: {{width: {width}, height: {height}, fps: {fps}}}",
    ]
    path = out / "project.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _is_demo_folder(folder: Path) -> bool:
    """Made by douga demo: its mark, or (from before the mark) its project file's header."""
    if (folder / DEMO_MARK).exists():
        return True
    try:
        with (folder / "project.yaml").open(encoding="utf-8") as f:
            return f.readline().startswith(_HEADER)
    except (OSError, UnicodeDecodeError):
        return False


def _first_close_up(n: int) -> int | None:
    from douga.demo_art import shot_plan

    shots = shot_plan(n)
    return shots.index("close") if "close" in shots else None
