"""A small score toolkit for music composed in code, and its rendering with FluidSynth.

A :class:`Song` holds a meter, a tempo map and parts (one GM instrument per MIDI
channel); helpers write bars of drums, bass, chords, arpeggios and melodies on
rhythm grids, humanised. The song writes a MIDI file whose notated beats and
downbeats are the exact ground truth of its audio, and :func:`render_audio` turns
the file into samples with the ``fluidsynth`` command line program and a General
MIDI soundfont.

Used by the beat-tracking evaluation set (``benchmarks/beat_eval_set.py``) and by
the training corpus of the beat network (:mod:`douga.training.beat_corpus`).
Needs ``mido``, ``pretty_midi`` and ``soundfile`` (the ``dev`` extra) and the
``fluidsynth`` program (Debian: ``apt-get install fluidsynth``).
"""

from __future__ import annotations

import bisect
import math
import re
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import soundfile as sf

PPQ = 480  # MIDI ticks per quarter note
SAMPLE_RATE = 22050
RING_SECONDS = 3.0  # audio kept after the final downbeat: the last chord rings out
SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2")

# --------------------------------------------------------------------------- score model


@dataclass(frozen=True)
class Meter:
    """A time signature and the beat a listener taps in it."""

    numerator: int
    denominator: int

    @classmethod
    def parse(cls, text: str) -> Meter:
        num, den = text.split("/")
        return cls(int(num), int(den))

    @property
    def compound(self) -> bool:
        return self.denominator == 8 and self.numerator % 3 == 0 and self.numerator > 3

    @property
    def beats_per_bar(self) -> int:
        return self.numerator // 3 if self.compound else self.numerator

    @property
    def beat_ticks(self) -> int:
        unit = PPQ * 4 // self.denominator
        return 3 * unit if self.compound else unit


@dataclass
class Note:
    tick: int
    length: int
    pitch: int
    velocity: int


@dataclass
class Part:
    """One instrument on one MIDI channel."""

    name: str
    program: int
    channel: int
    volume: int
    pan: int
    reverb: int
    jitter_ms: float
    velocity_sd: float
    notes: list[Note] = field(default_factory=list)
    controls: list[tuple[int, int, int]] = field(default_factory=list)  # (tick, cc, value)
    last_voicing: list[int] | None = None  # for voice leading between chords


TempoFn = Callable[[float], float]  # beat position -> tempo in (perceptual) beats per minute


class Song:
    """A piece being composed: meter, tempo map, parts; positions are in beats from the start.

    ``bars`` counts the final bar, whose downbeat carries the closing chord and is
    the last reference beat.
    """

    def __init__(
        self,
        name: str,
        traits: str,
        meter: str,
        bars: int,
        tempo: TempoFn,
        *,
        rng: np.random.Generator,
        fermatas: dict[int, float] | None = None,
        tempo_step: float = 1.0,
    ) -> None:
        self.name = name
        self.traits = traits
        self.meter = Meter.parse(meter)
        self.bpb = self.meter.beats_per_bar
        self.bars = bars
        self.final_beat = (bars - 1) * self.bpb
        self.rng = rng
        self.parts: list[Part] = []
        self._tempo = self._tempo_events(tempo, fermatas or {}, tempo_step)
        self._tempo_ticks = [t for t, _ in self._tempo]
        self._tempo_secs = [0.0]
        for (t0, us), (t1, _) in zip(self._tempo, self._tempo[1:], strict=False):
            self._tempo_secs.append(self._tempo_secs[-1] + (t1 - t0) * us / PPQ / 1e6)

    # ----- tempo map
    def _tempo_events(
        self, tempo: TempoFn, fermatas: dict[int, float], step: float
    ) -> list[tuple[int, int]]:
        quarters_per_beat = self.meter.beat_ticks / PPQ
        events: list[tuple[int, int]] = []
        n_steps = math.ceil((self.final_beat + self.bpb + 4) / step)
        for k in range(n_steps):
            pos = k * step
            bpm = tempo(pos) / fermatas.get(math.floor(pos + 1e-9), 1.0)
            # MIDI stores integer microseconds per quarter: the reference is computed
            # from these integers so that it matches what any MIDI reader sees.
            us = round(60e6 / (bpm * quarters_per_beat))
            tick = round(pos * self.meter.beat_ticks)
            if not events or events[-1][1] != us:
                events.append((tick, us))
        return events

    def seconds(self, tick: float) -> float:
        i = bisect.bisect_right(self._tempo_ticks, tick) - 1
        t0, us = self._tempo[i]
        return self._tempo_secs[i] + (tick - t0) * us / PPQ / 1e6

    def bpm_at(self, pos: float) -> float:
        i = bisect.bisect_right(self._tempo_ticks, pos * self.meter.beat_ticks) - 1
        return 60e6 / self._tempo[i][1] * PPQ / self.meter.beat_ticks

    def beat_times(self) -> np.ndarray:
        ticks = np.arange(self.final_beat + 1) * self.meter.beat_ticks
        return np.array([self.seconds(int(t)) for t in ticks])

    def downbeat_times(self) -> np.ndarray:
        return self.beat_times()[:: self.bpb]

    def duration(self) -> float:
        return self.seconds(self.final_beat * self.meter.beat_ticks) + RING_SECONDS

    # ----- parts and notes
    def part(
        self,
        name: str,
        program: int,
        *,
        drums: bool = False,
        volume: int = 100,
        pan: int = 64,
        reverb: int = 40,
        jitter_ms: float = 5.0,
        velocity_sd: float = 5.0,
    ) -> Part:
        if drums:
            channel = 9
        else:
            used = {p.channel for p in self.parts}
            channel = next(c for c in range(16) if c != 9 and c not in used)
        p = Part(name, program, channel, volume, pan, reverb, jitter_ms, velocity_sd)
        self.parts.append(p)
        return p

    def add(
        self, part: Part, pos: float, dur: float, pitch: int, vel: float, *, offset_ms: float = 0.0
    ) -> None:
        """Add a note at beat position ``pos`` lasting ``dur`` beats, humanised."""
        ticks_per_second = self.meter.beat_ticks * self.bpm_at(pos) / 60.0
        shift_ms = self.rng.normal(0.0, part.jitter_ms) + offset_ms
        tick = max(0, round(pos * self.meter.beat_ticks + shift_ms / 1000 * ticks_per_second))
        length = max(12, round(dur * self.meter.beat_ticks))
        v = round(vel + self.rng.normal(0.0, part.velocity_sd))
        part.notes.append(Note(tick, length, int(pitch), int(np.clip(v, 1, 127))))

    def chord(
        self, part: Part, pos: float, dur: float, pitches: Sequence[int], vel: float,
        *, strum_ms: float = 0.0,
    ) -> None:
        for i, p in enumerate(sorted(pitches)):
            self.add(part, pos, dur, p, vel - 3 * (i % 2), offset_ms=i * strum_ms)

    def pedal(self, part: Part, pos: float, down: bool) -> None:
        tick = max(0, round(pos * self.meter.beat_ticks))
        part.controls.append((tick, 64, 127 if down else 0))

    # ----- output
    def write_midi(self, path: Path) -> None:
        mid = mido.MidiFile(type=1, ticks_per_beat=PPQ)
        conductor = [
            (0, mido.MetaMessage(
                "time_signature", numerator=self.meter.numerator,
                denominator=self.meter.denominator,
                clocks_per_click=36 if self.meter.compound else 24,
            )),
            *((t, mido.MetaMessage("set_tempo", tempo=us)) for t, us in self._tempo),
        ]
        mid.tracks.append(_track(conductor))
        for part in self.parts:
            ch = part.channel
            events: list[tuple[int, mido.Message]] = [
                (0, mido.Message("program_change", program=part.program, channel=ch)),
                (0, mido.Message("control_change", control=7, value=part.volume, channel=ch)),
                (0, mido.Message("control_change", control=10, value=part.pan, channel=ch)),
                (0, mido.Message("control_change", control=91, value=part.reverb, channel=ch)),
            ]
            events += [
                (t, mido.Message("control_change", control=cc, value=v, channel=ch))
                for t, cc, v in part.controls
            ]
            for n in _untangle(part.notes):
                events.append((n.tick, mido.Message(
                    "note_on", note=n.pitch, velocity=n.velocity, channel=ch)))
                events.append((n.tick + n.length, mido.Message(
                    "note_off", note=n.pitch, velocity=0, channel=ch)))
            mid.tracks.append(_track(events))
        mid.save(path)


def _untangle(notes: list[Note]) -> list[Note]:
    """Shorten a note that would still sound when the same pitch starts again.

    On one channel a note-off ends every sounding copy of its pitch, so an overlap
    would silently cut the later note.
    """
    out: list[Note] = []
    last: dict[int, Note] = {}
    for n in sorted(notes, key=lambda n: (n.tick, n.pitch)):
        prev = last.get(n.pitch)
        if prev is not None and prev.tick + prev.length >= n.tick:
            prev.length = max(1, n.tick - prev.tick - 1)
            if prev.tick == n.tick:  # a doubled note: keep one
                out.remove(prev)
        out.append(n)
        last[n.pitch] = n
    return out


def _track(events: list[tuple[int, mido.Message | mido.MetaMessage]]) -> mido.MidiTrack:
    # note_off before note_on at the same tick, so a repeated pitch is re-struck
    order = {"note_off": 0, "control_change": 1, "program_change": 1, "note_on": 2}
    events = sorted(events, key=lambda e: (e[0], order.get(e[1].type, 1)))
    track = mido.MidiTrack()
    now = 0
    for tick, msg in events:
        track.append(msg.copy(time=tick - now))
        now = tick
    return track


# --------------------------------------------------------------------------- tempo maps


def steady(bpm: float) -> TempoFn:
    return lambda pos: bpm


def ramp(pos: float, start: float, end: float, a: float, b: float) -> float:
    """Smooth (cosine) move from ``a`` to ``b`` between beat positions ``start`` and ``end``."""
    x = min(1.0, max(0.0, (pos - start) / (end - start)))
    return a + (b - a) * (1 - math.cos(math.pi * x)) / 2


def rubato(
    base: float,
    rng: np.random.Generator,
    *,
    depth: float,
    phrase_beats: int,
    phrase_rit: float,
    final_beat: int,
    final_rit: float = 0.3,
) -> TempoFn:
    """Expressive tempo: slow swells of ``depth``, easing into each phrase end, a final ritardando.

    Each phrase starts again a tempo, as players do after a breath.
    """
    ph = rng.uniform(0, 2 * math.pi, 2)

    def tempo(pos: float) -> float:
        swell = 0.65 * math.sin(2 * math.pi * pos / phrase_beats + ph[0])
        swell += 0.35 * math.sin(2 * math.pi * pos / (0.37 * phrase_beats) + ph[1])
        into_cadence = max(0.0, (pos % phrase_beats - (phrase_beats - 2.5)) / 2.5)
        bpm = base * (1 + depth * swell) * (1 - phrase_rit * into_cadence**2)
        return bpm * (1 - final_rit * ramp(pos, final_beat - 6, final_beat, 0.0, 1.0))

    return tempo


# --------------------------------------------------------------------------- harmony

_NUMERAL = re.compile(r"^(b|#)?(VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)(o|\+)?(maj7|7|6|sus4)?$")
_DEGREE = {"i": 0, "ii": 2, "iii": 4, "iv": 5, "v": 7, "vi": 9, "vii": 11}
SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "harmonic": (0, 2, 3, 5, 7, 8, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "blues": (0, 3, 5, 6, 7, 10),
}


def chord_pcs(symbol: str, key: int) -> list[int]:
    """Pitch classes of a Roman-numeral chord, root first: 'I', 'vi', 'V7', 'bVII', 'IVmaj7'.

    Upper case is major, lower case minor, roots counted on the major scale of ``key``.
    """
    m = _NUMERAL.match(symbol)
    if m is None:
        raise ValueError(f"chord symbol {symbol!r} not understood")
    acc, num, quality, ext = m.groups()
    root = (key + _DEGREE[num.lower()] + {"b": -1, "#": 1, None: 0}[acc]) % 12
    if quality == "o":
        iv = [0, 3, 6]
    elif quality == "+":
        iv = [0, 4, 8]
    else:
        iv = [0, 4, 7] if num.isupper() else [0, 3, 7]
    if ext == "7":
        iv.append(9 if quality == "o" else 10)
    elif ext == "maj7":
        iv.append(11)
    elif ext == "6":
        iv.append(9)
    elif ext == "sus4":
        iv[1] = 5
    return [(root + i) % 12 for i in iv]


class Harmony:
    """Chords over time, written one bar per word: 'I V vi IV-V' ('-' splits a bar evenly)."""

    def __init__(self, key: int, bars: str, beats_per_bar: int) -> None:
        self.key = key
        self._starts: list[float] = []
        self._chords: list[list[int]] = []
        for b, word in enumerate(bars.split()):
            symbols = word.split("-")
            for i, sym in enumerate(symbols):
                self._starts.append(b * beats_per_bar + i * beats_per_bar / len(symbols))
                self._chords.append(chord_pcs(sym, key))

    def at(self, pos: float) -> list[int]:
        return self._chords[max(0, bisect.bisect_right(self._starts, pos + 1e-6) - 1)]


def voicing(pcs: Sequence[int], near: float | Sequence[int], *, n: int | None = None) -> list[int]:
    """A close voicing of ``pcs`` with ``n`` notes, nearest to a pitch or to the previous voicing.

    Choosing the inversion that moves least from the previous chord is the voice
    leading a keyboard player or a string section does by habit.
    """
    n = n or len(pcs)
    best: list[int] = []
    best_cost = math.inf
    for inv in range(len(pcs)):
        order = list(pcs[inv:]) + list(pcs[:inv])
        for octave in range(2, 8):
            notes = [octave * 12 + order[0]]
            for i in range(1, n):
                p = notes[-1] + (order[i % len(order)] - notes[-1]) % 12
                notes.append(p if p > notes[-1] else p + 12)
            if isinstance(near, (int, float)):
                cost = abs(float(np.mean(notes)) - near)
            else:
                cost = float(sum(abs(a - b) for a, b in zip(notes, sorted(near), strict=False)))
            if cost < best_cost:
                best, best_cost = notes, cost
    return best


def spread(pcs: Sequence[int], low: int) -> list[int]:
    """Open, two-octave layout for arpeggios: root, fifth, octave, tenth, (seventh), fifth, root."""
    root = low + (pcs[0] - low) % 12
    third, fifth = root + (pcs[1] - pcs[0]) % 12, root + (pcs[2] - pcs[0]) % 12
    tones = [root, fifth, root + 12, third + 12]
    if len(pcs) > 3:
        tones.append(root + 12 + (pcs[3] - pcs[0]) % 12)
    return [*tones, fifth + 12, root + 24]


# --------------------------------------------------------------------------- rhythm grids

# A bar is written as a grid string, one character per equal step:
#   X accent, x normal, o soft, g ghost (an onset each), '-' hold the previous note, '.' rest.
# Spaces and '|' are ignored, so a 4/4 bar of 16ths reads "x.x. x.x. x.x. x.x.".
LEVEL = {"X": 1.25, "x": 1.0, "o": 0.7, "g": 0.42}


def grid(pattern: str, bar_beats: float, *, swing: float = 0.0) -> list[tuple[float, float, str]]:
    """(onset, duration, symbol) in beats for each onset of a grid bar; swing delays odd steps."""
    cells = [c for c in pattern if c not in " |"]
    step = bar_beats / len(cells)
    out: list[tuple[float, float, str]] = []
    for i, c in enumerate(cells):
        if c == "-" and out:
            on, dur, sym = out[-1]
            out[-1] = (on, dur + step, sym)
        elif c not in ".-":
            out.append((i * step + (swing * step if i % 2 else 0.0), step, c))
    return out


GM_DRUMS = {
    "kick": 36, "kick2": 35, "rim": 37, "snare": 38, "clap": 39, "hat": 42, "pedal": 44,
    "open": 46, "crash": 49, "ride": 51, "bell": 53, "tamb": 54, "cowbell": 56, "shaker": 70,
    "floor": 41, "tom_lo": 45, "tom_mid": 47, "tom_hi": 50, "conga": 63, "conga_lo": 64,
}


def drum_bar(
    song: Song, part: Part, bar: int, pattern: dict[str, str], *, vel: float = 94,
    swing: float = 0.0, late_ms: dict[str, float] | None = None,
) -> None:
    for inst, row in pattern.items():
        for on, _, sym in grid(row, song.bpb, swing=swing):
            song.add(part, bar * song.bpb + on, 0.25, GM_DRUMS[inst], vel * LEVEL[sym],
                     offset_ms=(late_ms or {}).get(inst, 0.0))


def bass_bar(
    song: Song, part: Part, bar: int, harm: Harmony, pattern: str, *, low: int = 28,
    vel: float = 92, swing: float = 0.0, staccato: float = 0.9,
) -> None:
    """Bass notes from a grid whose onsets name chord tones.

    R root, 5 fifth, 8 octave, 3 third, 7 seventh (root if none), r a muted ghost
    root, a/u a chromatic approach from below/above to the next note's root.
    """
    cells = [c for c in pattern if c not in " |"]
    step = song.bpb / len(cells)
    onsets = grid("".join("x" if c not in ".-" else c for c in cells), song.bpb, swing=swing)
    symbols = [c for c in cells if c not in ".-"]
    for (on, dur, _), sym in zip(onsets, symbols, strict=True):
        pos = bar * song.bpb + on
        pcs = harm.at(pos)
        root = low + (pcs[0] - low) % 12
        if sym in "au":
            nxt = harm.at(pos + step + 1e-3)
            target = low + (nxt[0] - low) % 12
            pitch = target - 1 if sym == "a" else target + 1
        else:
            offsets = {"R": 0, "r": 0, "5": (pcs[2] - pcs[0]) % 12, "8": 12,
                       "3": (pcs[1] - pcs[0]) % 12,
                       "7": (pcs[3] - pcs[0]) % 12 if len(pcs) > 3 else 12}
            pitch = root + offsets[sym]
        accent = 1.08 if on == 0 else 1.0
        song.add(part, pos, dur * staccato, pitch, vel * accent * (0.45 if sym == "r" else 1.0))


def comp_bar(
    song: Song, part: Part, bar: int, harm: Harmony, pattern: str, *, center: int, vel: float,
    n: int | None = None, power: bool = False, strum_ms: float = 0.0, staccato: float = 0.92,
    swing: float = 0.0,
) -> None:
    """Chords struck on a grid's onsets, voice-led from the part's previous chord."""
    for on, dur, sym in grid(pattern, song.bpb, swing=swing):
        pos = bar * song.bpb + on
        pcs = harm.at(pos)
        if power:
            root = center - 6 + (pcs[0] - center + 6) % 12
            pitches = [root, root + 7, root + 12]
        else:
            near: float | list[int] = part.last_voicing or center
            pitches = voicing(pcs, near, n=n)
            if abs(np.mean(pitches) - center) > 7:  # drifted out of register: recentre
                pitches = voicing(pcs, center, n=n)
            part.last_voicing = pitches
        song.chord(part, pos, dur * staccato, pitches, vel * LEVEL[sym], strum_ms=strum_ms)


def arpeggio_bar(
    song: Song, part: Part, bar: int, harm: Harmony, pattern: str, order: Sequence[int], *,
    low: int, vel: float, close: bool = False, hold: float = 1.0,
) -> None:
    """Broken chords: each onset plays the next tone of ``order`` (indexes into the layout)."""
    for k, (on, dur, sym) in enumerate(grid(pattern, song.bpb)):
        pos = bar * song.bpb + on
        pcs = harm.at(pos)
        tones = voicing(pcs, low + 6, n=len(pcs)) if close else spread(pcs, low)
        pitch = tones[order[k % len(order)] % len(tones)]
        song.add(part, pos, dur * hold, pitch, vel * LEVEL[sym])


# --------------------------------------------------------------------------- melody

Phrase = list[tuple[float, float, int, float]]  # (beats from phrase start, beats, pitch, vel)


def melody(
    rng: np.random.Generator, harm: Harmony, start_bar: int, rhythms: Sequence[str], *,
    bpb: int, scale: str, low: int, high: int, vel: float, swing: float = 0.0,
) -> Phrase:
    """A singable line: chord tones on the beats, scale steps between, cadence on the root.

    ``rhythms`` has one grid string per bar. The contour keeps a direction for a
    few notes and turns at the edges of the range, as melodies tend to.
    """
    scale_pcs = {(harm.key + i) % 12 for i in SCALES[scale]}
    pool = [p for p in range(low, high + 1) if p % 12 in scale_pcs]
    prev = pool[len(pool) // 2]
    direction = 1 if rng.random() < 0.5 else -1
    out: Phrase = []
    for b, rhythm in enumerate(rhythms):
        notes = grid(rhythm, bpb, swing=swing)
        for j, (on, dur, sym) in enumerate(notes):
            pos = (start_bar + b) * bpb + on
            pcs = harm.at(pos)
            cadence = b == len(rhythms) - 1 and j == len(notes) - 1
            if cadence or abs(on - round(on)) < 1e-6:
                targets = {pcs[0]} if cadence else set(pcs)
                cands = [p for p in range(low, high + 1) if p % 12 in targets]
                # small intervals along the current direction; repeated notes and big
                # leaps are allowed but rarer
                cost = [
                    abs(p - prev) + (4.0 if (p - prev) * direction < 0 else 0.0)
                    + (5.0 if p == prev else 0.0) + (4.0 if abs(p - prev) > 7 else 0.0)
                    + 3 * rng.random() for p in cands
                ]
                pitch = cands[int(np.argmin(cost))]
            else:
                i = int(np.argmin([abs(p - prev) for p in pool]))
                step = direction * (1 if rng.random() < 0.75 else 2)
                pitch = pool[int(np.clip(i + step, 0, len(pool) - 1))]
            if pitch >= high - 2 or pitch <= low + 2 or rng.random() < 0.2:
                direction = -1 if pitch >= high - 2 else 1 if pitch <= low + 2 else -direction
            # a slight lift on the strong beats, as phrasing does, but no hammered downbeats
            accent = 1.06 if on == 0 else 1.03 if abs(on - round(on)) < 1e-6 else 1.0
            out.append((b * bpb + on, dur, pitch, vel * accent * LEVEL[sym]))
            prev = pitch
    return out


def harmonise(phrase: Phrase, key: int, scale: str, steps: int) -> Phrase:
    """The phrase moved ``steps`` scale degrees (-2: a third below), as a second horn plays it."""
    pool = [p for p in range(128) if (p - key) % 12 in SCALES[scale]]
    out: Phrase = []
    for pos, dur, pitch, vel in phrase:
        i = bisect.bisect_left(pool, pitch)
        out.append((pos, dur, pool[max(0, min(len(pool) - 1, i + steps))], vel))
    return out


def place(
    song: Song, part: Part, phrase: Phrase, bar: int, *, transpose: int = 0, vel_scale: float = 1.0,
    legato: float = 0.95, offset_ms: float = 0.0, bars: int | None = None,
) -> None:
    """Play a phrase from ``bar``; ``bars`` keeps only its first bars."""
    for pos, dur, pitch, vel in phrase:
        if bars is not None and pos >= bars * song.bpb - 1e-6:
            continue
        song.add(part, bar * song.bpb + pos, dur * legato, pitch + transpose, vel * vel_scale,
                 offset_ms=offset_ms)



# --------------------------------------------------------------------------- output


def check_against_pretty_midi(song: Song, midi_path: Path) -> None:
    """Abort unless pretty_midi reads the same beats and downbeats from the written file."""
    pm = pretty_midi.PrettyMIDI(str(midi_path))
    ours_b, ours_d = song.beat_times(), song.downbeat_times()
    theirs_b = pm.get_beats()
    theirs_d = pm.get_downbeats()
    theirs_d = theirs_d[theirs_d <= ours_b[-1] + 1e-6]
    if len(theirs_b) < len(ours_b) or len(theirs_d) != len(ours_d):
        raise RuntimeError(f"{song.name}: pretty_midi counts {len(theirs_b)} beats/"
                           f"{len(theirs_d)} downbeats, expected {len(ours_b)}/{len(ours_d)}")
    err = max(np.max(np.abs(theirs_b[: len(ours_b)] - ours_b)), np.max(np.abs(theirs_d - ours_d)))
    if err > 1e-3:
        raise RuntimeError(f"{song.name}: beats disagree with pretty_midi by {err * 1000:.2f} ms")


def render_audio(song: Song, midi_path: Path, soundfont: str) -> np.ndarray:
    """The song's MIDI file rendered by fluidsynth: mono float64 at ``SAMPLE_RATE``,
    cut or padded to the song's duration, faded out over the last half second and
    peak-normalised to -1 dBFS."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        # -ni: no shell, no MIDI input; -q: quiet; float output so that loud passages never
        # clip before the peak normalisation below
        done = subprocess.run(
            ["fluidsynth", "-ni", "-q", "-g", "0.5", "-r", str(SAMPLE_RATE), "-O", "float",
             "-T", "wav", "-F", str(raw), soundfont, str(midi_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        if done.returncode != 0 or not raw.exists():
            raise RuntimeError(f"fluidsynth failed on {midi_path}: {done.stderr.strip()}")
        audio, sr = sf.read(raw, dtype="float64", always_2d=True)
    if sr != SAMPLE_RATE:
        raise RuntimeError(f"fluidsynth wrote {sr} Hz, expected {SAMPLE_RATE}")
    y = np.asarray(audio.mean(axis=1))
    n = round(song.duration() * SAMPLE_RATE)
    y = np.pad(y[:n], (0, max(0, n - len(y))))
    fade = int(0.5 * SAMPLE_RATE)
    y[-fade:] *= np.linspace(1.0, 0.0, fade)
    return y * (0.89 / max(1e-9, float(np.max(np.abs(y)))))


def render(song: Song, midi_path: Path, wav_path: Path, soundfont: str) -> None:
    """:func:`render_audio` written as a 16-bit mono WAV."""
    sf.write(wav_path, render_audio(song, midi_path, soundfont), SAMPLE_RATE, subtype="PCM_16")


def write_times(path: Path, times: np.ndarray) -> None:
    path.write_text("".join(f"{t:.6f}\n" for t in times))

