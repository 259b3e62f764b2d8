"""Build douga's beat-tracking evaluation set: pieces composed in code, rendered with fluidsynth.

Usage::

    python benchmarks/beat_eval_set.py --out data/beat_eval [--seed 0] [--soundfont SF2] [--jobs N]

For every piece it writes ``NAME.mid``, ``NAME.wav`` (mono, 22050 Hz, 16-bit),
``NAME.beats.txt`` and ``NAME.downbeats.txt`` (one time in seconds per line), the
folder layout that ``douga eval beats DIR`` and ``benchmarks/bench_beats.py`` score.
Everything is deterministic from ``--seed`` and the soundfont (fluidsynth renders
a MIDI file to the same samples every time).

Ground truth
------------
The reference beats are the *notated* beats of the score, mapped to seconds
through the MIDI tempo map (the analyser sees only the audio). Humanisation
(a few ms of timing jitter, swing, a laid-back snare) moves the notes, never the
beats, as in a hand-annotated recording. Beat convention:

* simple meters (2/4, 3/4, 4/4): one beat per quarter note;
* compound meters (6/8, 9/8, 12/8): the beat is the DOTTED QUARTER, the beat a
  listener taps, so 6/8 has 2 beats per bar, 9/8 has 3 and 12/8 has 4;
* a fermata is written as a very slow tempo for the held beats, so the
  reference beats pause with the music and resume with it;
* beats run from the first note to the final chord's downbeat, pickup-free:
  every bar starts on a downbeat, and ``NAME.downbeats.txt`` holds the first
  beat of every bar.

The times are computed from the tempo map by this script and checked against
``pretty_midi``'s ``get_beats``/``get_downbeats`` of the written MIDI file (which
also counts dotted quarters in compound meters); a mismatch over 1 ms aborts.

The pieces
----------
=================  =====  =============================================================
name               meter  traits
=================  =====  =============================================================
pop_rock           4/4    pop-rock, steady 118 BPM, drums, bass, guitars, sax lead
waltz              3/4    Viennese waltz ~164 BPM with the lilt (early 2nd beat), no drums
jig                6/8    Irish jig, 116 dotted-quarter BPM, running eighths, bodhran
ballad_68          6/8    slow ballad, 52 dotted-quarter BPM (eighths at 156), rubato
slip_jig           9/8    slip jig, 3 beats of 3 eighths per bar, 100 BPM, harp and whistle
reggae             4/4    one-drop reggae, 76 BPM, loud skank on 2 and 4, no kick on 1
ska                4/4    ska, 156 BPM, loud upstrokes and open hats on every off-beat
funk               4/4    funk, 102 BPM, syncopated 16th bass/clav, off-beat brass stabs
tempo_jump         4/4    half-time rock ballad 90 BPM, then a sudden jump to 136 BPM
accelerando        2/4    klezmer-style dance accelerating 84 -> 160 BPM, final ritardando
fermata_pop        4/4    pop ballad 84 BPM with two fermatas (band holds a chord, beat stops)
quiet_intro        4/4    synth-pop 122 BPM after a 10 s pianissimo pad-and-piano intro
chorale            4/4    string chorale ~60 BPM, rubato, a fermata on every cadence
sonatina           4/4    classical piano sonatina, Alberti bass, ~126 BPM with rubato
nocturne           3/4    piano nocturne ~63 BPM, strong rubato, pedal, ornaments
drum_and_bass      4/4    drum and bass, 172 BPM, two-step break, reese bass, pad intro
downtempo          4/4    trip-hop, 70 BPM, swung 16th hats, laid-back snare, Rhodes
jazz_swing         4/4    jazz blues in F, 152 BPM, ride spang-a-lang, walking bass
shuffle_blues      12/8   slow 12/8 blues shuffle, 64 dotted-quarter BPM, organ, guitar
=================  =====  =============================================================

Needs the ``fluidsynth`` command line program and a General MIDI soundfont
(Debian: ``apt-get install fluidsynth fluid-soundfont-gm``; the default is
``/usr/share/sounds/sf2/FluidR3_GM.sf2``), plus ``mido``, ``pretty_midi``,
``numpy`` and ``soundfile``.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from douga.training.score import (
    SOUNDFONTS,
    Harmony,
    Song,
    arpeggio_bar,
    bass_bar,
    check_against_pretty_midi,
    comp_bar,
    drum_bar,
    harmonise,
    melody,
    place,
    ramp,
    render,
    rubato,
    spread,
    steady,
    voicing,
    write_times,
)

# --------------------------------------------------------------------------- the pieces

PIECES: list[Callable[[np.random.Generator], Song]] = []


def piece(fn: Callable[[np.random.Generator], Song]) -> Callable[[np.random.Generator], Song]:
    PIECES.append(fn)
    return fn


ROCK = {"kick": "x... .... x.x. ....", "snare": ".... x... .... x...", "hat": "x.o. x.o. x.o. x.o."}


@piece
def pop_rock(rng: np.random.Generator) -> Song:
    s = Song("pop_rock", "pop-rock, steady 118 BPM, full kit", "4/4", 21, steady(118), rng=rng)
    verse, chorus = "I V vi IV " * 2, "IV I V vi IV I V V "
    harm = Harmony(4, "I I " + verse + chorus + "IV V I", s.bpb)  # E major
    drums = s.part("drums", 0, drums=True, jitter_ms=3)
    bass = s.part("bass", 33)
    gtr = s.part("guitar", 29, volume=72, pan=36)
    keys = s.part("piano", 0, volume=80, pan=92)
    lead = s.part("lead", 65, volume=104, reverb=60)
    chorus_drums = {**ROCK, "hat": "o.o. o.o. o.o. o.o.", "ride": "x.x. x.x. x.x. x.x."}
    for bar in range(20):
        pat = {"hat": "x.o. x.o. x.o. x.o."} if bar < 2 else ROCK if bar < 10 else chorus_drums
        if bar in (9, 17):  # fill into the next section
            pat = {**ROCK, "snare": ".... x... xoxo XxXx", "hat": "x.o. x.o. ...."}
        if bar in (2, 10, 18):
            pat = {**pat, "crash": "X..."}
        drum_bar(s, drums, bar, pat)
        if bar >= 2:
            bass_bar(s, bass, bar, harm, "R.R.R.R.R.R.R.R." if bar < 10 else "R.R.5.8.R.R.5.a.")
        gtr_pat = "x.o.x.o.x.o.x.o." if bar < 10 else "X.....x...x.x..."
        comp_bar(s, gtr, bar, harm, gtr_pat, center=52, vel=80, power=bar < 10, strum_ms=9)
        if bar >= 10:
            comp_bar(s, keys, bar, harm, "x-------x-------", center=66, vel=70)
    a = melody(rng, harm, 2, ["..x-x-x-x---x-x-", "x---x-x-x-x-----", "..x-x-x-x---x-xx",
                              "x-----x-x-------"], bpb=4, scale="major", low=64, high=81, vel=92)
    b = melody(rng, harm, 10, ["x---x-x-x---x---", "x-x-x---x-------", "x---x-x-x---x-x-",
                               "x-x-x-----------"] * 2,
               bpb=4, scale="major", low=66, high=85, vel=98)
    place(s, lead, a, 2)
    place(s, lead, a, 6)
    place(s, lead, b, 10)
    drum_bar(s, drums, 20, {"kick": "X...", "crash": "X..."})
    bass_bar(s, bass, 20, harm, "R---")
    comp_bar(s, gtr, 20, harm, "X---", center=52, vel=90, strum_ms=12)
    comp_bar(s, keys, 20, harm, "x---", center=66, vel=80)
    return s


@piece
def waltz(rng: np.random.Generator) -> Song:
    # The Viennese lilt: beat 2 comes early, beat 1 is short (written in the tempo map,
    # so the reference beats follow the dancers, not a metronome).
    lilt = (0.93, 1.05, 1.02)

    def tempo(pos: float) -> float:
        base = 164 * (1 - 0.12 * ramp(pos, 28 * 3, 35 * 3, 0, 1))
        base *= 1 - 0.07 * max(0.0, (pos % 24 - 21) / 3)  # breath at each 8-bar phrase
        return base / lilt[int(pos) % 3]

    s = Song("waltz", "Viennese waltz ~164 BPM with lilt, no drums", "3/4", 37, tempo, rng=rng)
    p1 = "I I V7 V7 V7 V7 I I I I IV IV ii V7 I I "
    p2 = "vi vi ii ii V7 V7 I I IV IV I vi ii V7 I I "
    harm = Harmony(2, p1 + p2 + "IV V7 I I I", s.bpb)  # D major
    bass = s.part("pizzicato bass", 45, volume=110, jitter_ms=6)
    strings = s.part("strings", 48, volume=82, pan=80)
    horn = s.part("horn", 60, volume=70, pan=40)
    flute = s.part("flute", 73, volume=100, reverb=55)
    violin = s.part("violin", 40, volume=92, pan=50, reverb=55)
    for bar in range(36):
        bass_bar(s, bass, bar, harm, "R....." if bar % 2 == 0 else "5.....", low=38, vel=96)
        after_beat = "..x.x." if bar % 4 != 3 else "..x.o."
        comp_bar(s, strings, bar, harm, after_beat, center=64, vel=66, n=3)
        if bar % 4 == 0:
            comp_bar(s, horn, bar, harm, "x-----", center=60, vel=52, n=2)
    rh = ["x-----", "x-x-x-", "x---x-", "x-xxx-", "x-----", "x-x-x-", "x---x-", "x-----"]
    a = melody(rng, harm, 0, rh * 2, bpb=3, scale="major", low=66, high=86, vel=86)
    b = melody(rng, harm, 16, [rh[1], rh[3], rh[2], rh[0]] * 4, bpb=3, scale="major",
               low=64, high=84, vel=88)
    place(s, flute, a, 0)
    place(s, violin, b, 16)
    place(s, flute, b, 16, transpose=12, vel_scale=0.7)
    coda = melody(rng, harm, 32, ["x-x-x-", "x---x-", "x-xxx-", "x-----"], bpb=3, scale="major",
                  low=66, high=86, vel=84)
    place(s, violin, coda, 32)
    comp_bar(s, strings, 36, harm, "x-----", center=64, vel=80)
    bass_bar(s, bass, 36, harm, "R.....", low=38, vel=100)
    return s


@piece
def jig(rng: np.random.Generator) -> Song:
    s = Song("jig", "Irish jig, 116 BPM dotted quarter, running eighths", "6/8", 33, steady(116),
             rng=rng)
    part_a, part_b = "I I IV V I I IV-V I ", "I IV I V I IV V I "
    harm = Harmony(2, (part_a * 2) + (part_b * 2) + "I", s.bpb)  # D major
    fiddle = s.part("fiddle", 40, volume=104, pan=50, jitter_ms=6)
    flute = s.part("flute", 73, volume=88, pan=80, jitter_ms=7)
    guitar = s.part("guitar", 25, volume=84, pan=30)
    bodhran = s.part("bodhran", 0, drums=True, volume=96, jitter_ms=5)
    rh = ["xxxxxx", "x-xx-x", "x-xxxx", "xxxx-x", "x-xx-x", "xxxxxx", "x-xx-x", "x--x--"]
    a = melody(rng, harm, 0, rh, bpb=2, scale="major", low=62, high=86, vel=88)
    b = melody(rng, harm, 16, [rh[2], rh[0], rh[3], rh[1], rh[0], rh[2], rh[5], rh[7]],
               bpb=2, scale="major", low=66, high=88, vel=90)
    for rep, bar in enumerate((0, 8)):
        place(s, fiddle, a, bar)
        place(s, fiddle, b, bar + 16)
        if rep == 1:
            place(s, flute, a, bar, transpose=12, vel_scale=0.8)
            place(s, flute, b, bar + 16, vel_scale=0.85)
    for bar in range(32):
        comp_bar(s, guitar, bar, harm, "x.ox.o", center=58, vel=78, strum_ms=10)
        if bar >= 4:
            drum_bar(s, bodhran, bar, {"tom_lo": "x.gxog" if bar % 2 else "xogx.g",
                                       "floor": "o.....", "tom_hi": "..g..g"}, vel=86)
    comp_bar(s, guitar, 32, harm, "X-----", center=58, vel=90, strum_ms=14)
    s.add(fiddle, 32 * 2, 2, 74, 96)
    drum_bar(s, bodhran, 32, {"tom_lo": "X....."})
    return s


@piece
def ballad_68(rng: np.random.Generator) -> Song:
    tempo = rubato(52, rng, depth=0.03, phrase_beats=8, phrase_rit=0.08, final_beat=32,
                   final_rit=0.25)
    s = Song("ballad_68", "6/8 ballad, 52 BPM dotted quarter, rubato", "6/8", 17, tempo, rng=rng,
             tempo_step=0.5)
    harm = Harmony(8, "I vi IV V I iii IV V vi IV I V IV V I I I", s.bpb)  # Ab major
    piano = s.part("piano", 0, volume=96, jitter_ms=7)
    pad = s.part("strings", 49, volume=64, pan=84)
    clar = s.part("clarinet", 71, volume=100, reverb=60)
    drums = s.part("drums", 0, drums=True, volume=78, jitter_ms=4)
    for bar in range(16):
        arpeggio_bar(s, piano, bar, harm, "xoxoxo", [0, 1, 2, 3, 2, 1], low=44, vel=66, hold=1.6)
        if bar >= 3:
            comp_bar(s, pad, bar, harm, "x-----", center=62, vel=60)
        if bar >= 8:
            drum_bar(s, drums, bar, {"kick": "x.....", "rim": "...x..", "hat": "gggggg"}, vel=80)
    rh = ["x--x-x", "x-----", "x-xx--", "x--x--", "..xx-x", "x-----", "x-xx-x", "x-----"]
    phrase = melody(rng, harm, 1, rh + rh[:7], bpb=2, scale="major", low=63, high=82, vel=80)
    place(s, clar, phrase, 1)
    arpeggio_bar(s, piano, 16, harm, "x-----", [0], low=44, vel=70, hold=3)
    comp_bar(s, piano, 16, harm, "x-----", center=66, vel=64)
    comp_bar(s, pad, 16, harm, "x-----", center=62, vel=62)
    return s


@piece
def slip_jig(rng: np.random.Generator) -> Song:
    s = Song("slip_jig", "9/8 slip jig, 100 BPM dotted quarter, 3 beats per bar", "9/8", 25,
             steady(100), rng=rng)
    part_a, part_b = "i i bVII bVII i IV bVII i ", "i bVII i IV i bVII IV i "
    harm = Harmony(4, part_a + part_b + part_a + "i", s.bpb)  # E dorian
    whistle = s.part("whistle", 78, volume=100, reverb=60, jitter_ms=6)
    harp = s.part("harp", 46, volume=88, pan=40)
    cello = s.part("cello", 42, volume=78, pan=86)
    bodhran = s.part("bodhran", 0, drums=True, volume=88)
    rh = ["x-xx-xx-x", "xxxx-xx-x", "x-xx-xxxx", "x-xx-xx--", "xxxxxxx-x", "x-xx-xx-x",
          "xxxx-xxxx", "x--x--x--"]
    a = melody(rng, harm, 0, rh, bpb=3, scale="dorian", low=64, high=88, vel=90)
    b = melody(rng, harm, 8, rh[2:] + rh[:2], bpb=3, scale="dorian", low=64, high=88, vel=92)
    place(s, whistle, a, 0)
    place(s, whistle, b, 8)
    place(s, whistle, a, 16)
    for bar in range(24):
        arpeggio_bar(s, harp, bar, harm, "xoo xoo xoo", [0, 3, 2, 1, 4, 2, 0, 3, 5], low=40,
                     vel=72, hold=1.5)
        if bar % 2 == 0:
            s.chord(cello, bar * 3, 5.8, spread(harm.at(bar * 3), 36)[:2], 64)
        if bar >= 4:
            drum_bar(s, bodhran, bar, {"tom_lo": "x.gx.gx.g", "floor": "o..o....."}, vel=84)
    arpeggio_bar(s, harp, 24, harm, "x-- --- ---", [0], low=40, vel=80, hold=3)
    s.chord(cello, 72, 3, spread(harm.at(72), 36)[:2], 70)
    s.add(whistle, 72, 2.5, 76, 90)
    return s


@piece
def reggae(rng: np.random.Generator) -> Song:
    s = Song("reggae", "one-drop reggae, 76 BPM, loud skank on 2 and 4, no kick on 1", "4/4", 15,
             steady(76), rng=rng)
    harm = Harmony(9, "i iv i v " * 3 + "i iv i", s.bpb)  # A minor
    drums = s.part("drums", 0, drums=True, jitter_ms=4)
    bass = s.part("bass", 33, volume=118, jitter_ms=7)
    skank = s.part("skank guitar", 27, volume=108, pan=34, reverb=20)
    organ = s.part("organ", 16, volume=78, pan=94)
    horn = s.part("melodica", 22, volume=96, reverb=55)
    one_drop = {"kick": ".... .... X... ....", "rim": ".... .... X... ....",
                "hat": "o.g. o.g. o.g. o.gx"}
    for bar in range(14):
        fill = {**one_drop, "snare": "........ ..gg xXxX"}
        drum_bar(s, drums, bar, one_drop if bar % 4 != 3 else fill)
        # the bass rests on the one: the drop is on beat 3
        riff = "..R-5-R. 8-..3-R." if bar % 2 else "..R-R-5. R-..5-a."
        bass_bar(s, bass, bar, harm, riff, low=33, vel=100)
        comp_bar(s, skank, bar, harm, ".... X... .... X...", center=66, vel=96, staccato=0.4,
                 strum_ms=6)
        comp_bar(s, organ, bar, harm, "..x...x...x...x.", center=62, vel=72, staccato=0.6)
    a = melody(rng, harm, 2, ["x-----x-x-x-----", "..x-x-x---x-----", "x-x-x-x-x---x---",
                              "x---------------"], bpb=4, scale="minor", low=64, high=81, vel=84)
    place(s, horn, a, 2)
    place(s, horn, a, 6)
    place(s, horn, a, 10)
    bass_bar(s, bass, 14, harm, "R---", low=33)
    comp_bar(s, skank, 14, harm, "X---", center=66, vel=96)
    drum_bar(s, drums, 14, {"kick": "x...", "rim": "x..."})
    return s


@piece
def ska(rng: np.random.Generator) -> Song:
    s = Song("ska", "ska, 156 BPM, loud upstrokes and open hats on every off-beat", "4/4", 25,
             steady(156), rng=rng)
    harm = Harmony(10, "I vi ii V I IV V I " * 3 + "I", s.bpb)  # Bb major
    drums = s.part("drums", 0, drums=True, jitter_ms=3)
    bass = s.part("bass", 33, volume=86)
    guitar = s.part("guitar", 27, volume=112, pan=30, reverb=20)
    piano = s.part("piano", 1, volume=100, pan=98, reverb=20)
    trumpet = s.part("trumpet", 56, volume=100, pan=56)
    sax = s.part("sax", 65, volume=90, pan=72)
    trombone = s.part("trombone", 57, volume=86, pan=44)
    for bar in range(24):
        drum_bar(s, drums, bar, {"kick": "o...o...", "snare": "..x...x.", "open": ".X.X.X.X"},
                 vel=90)
        bass_bar(s, bass, bar, harm, "R35a", low=34, vel=74)  # walking quarters, played softly
        comp_bar(s, guitar, bar, harm, ".X.X.X.X", center=66, vel=94, staccato=0.35)
        comp_bar(s, piano, bar, harm, ".x.x.x.x", center=72, vel=92, staccato=0.35)
    rh = ["x-x-x-..x-x-x---", "..x-x-x-x---x---", "x-x-x-..x-x-x-x-", "x-----..x-------"]
    a = melody(rng, harm, 8, rh * 2, bpb=4, scale="major", low=67, high=84, vel=92)
    for bar in (8, 16):
        place(s, trumpet, a, bar)
        place(s, sax, harmonise(a, 10, "major", -2), bar, vel_scale=0.85)  # a third below
        place(s, trombone, a, bar, transpose=-12, vel_scale=0.8)
    drum_bar(s, drums, 24, {"kick": "X...", "crash": "X..."})
    comp_bar(s, guitar, 24, harm, "X---", center=66, vel=100)
    bass_bar(s, bass, 24, harm, "R---", low=34)
    s.add(trumpet, 96, 3, 82, 100)
    return s


@piece
def funk(rng: np.random.Generator) -> Song:
    s = Song("funk", "funk, 102 BPM, syncopated 16ths, loud off-beat brass stabs", "4/4", 19,
             steady(102), rng=rng)
    harm = Harmony(4, "i7 i7 IV7 i7 " * 4 + "IV7 V7 i7", s.bpb)  # E dorian vamp
    drums = s.part("drums", 0, drums=True, jitter_ms=3)
    bass = s.part("slap bass", 36, volume=112, jitter_ms=4)
    clav = s.part("clavinet", 7, volume=94, pan=30)
    brass = s.part("brass", 61, volume=112, pan=84, reverb=30)
    guitar = s.part("guitar", 28, volume=80, pan=100)
    groove = {"kick": "X..x ..x. ..X. .x..", "snare": ".... X..g .g.. X..g",
              "hat": "xoxo xoxo xoxo xoxo"}
    for bar in range(18):
        fill = {**groove, "snare": ".... X..g .gX. XxXx", "open": ".... .... .... ..x."}
        pat = groove if bar % 4 != 3 else fill
        drum_bar(s, drums, bar, pat, vel=92)
        riff = "R..8 .r5. .R.7 8.r5" if bar % 2 else "R... .R8. r.R. 7.5a"
        bass_bar(s, bass, bar, harm, riff, low=28, vel=96, staccato=0.6)
        comp_bar(s, clav, bar, harm, ".x.X .x.x .X.x .x.X", center=64, vel=72, n=3, staccato=0.4)
        if bar >= 4:
            comp_bar(s, guitar, bar, harm, "..x. ..xg ..x. ..xg", center=70, vel=70, n=2,
                     staccato=0.3)
        if bar >= 2 and bar % 2 == 0:  # stabs on the "and" of 2 and the "a" of 3
            comp_bar(s, brass, bar, harm, ".... ..X. ...X ....", center=68, vel=98, n=4,
                     staccato=0.5)
    drum_bar(s, drums, 18, {"kick": "X...", "crash": "X..."})
    comp_bar(s, brass, 18, harm, "X---", center=68, vel=100, n=4)
    bass_bar(s, bass, 18, harm, "R---", low=28)
    return s


@piece
def tempo_jump(rng: np.random.Generator) -> Song:
    def tempo(pos: float) -> float:
        return 90.0 if pos < 8 * 4 else 136.0  # the band kicks into double time at bar 9

    s = Song("tempo_jump", "half-time rock ballad 90 BPM, sudden jump to 136 BPM", "4/4", 21, tempo,
             rng=rng)
    harm = Harmony(2, "i bVI bIII bVII " * 2 + "i bVI bIII bVII iv bVI bVII bVII " * 1
                   + "i bVI bIII bVII i", s.bpb)  # D minor
    drums = s.part("drums", 0, drums=True, jitter_ms=3)
    bass = s.part("bass", 34, volume=104)
    gtr = s.part("guitar", 30, volume=70, pan=30)
    piano = s.part("piano", 0, volume=90, pan=90)
    lead = s.part("lead guitar", 29, volume=96, reverb=60)
    for bar in range(20):
        if bar < 8:  # half-time: the snare on 3 only
            pat = {"kick": "x... .... .... ..x.", "snare": ".... .... x... ....",
                   "hat": "x.x. x.x. x.x. x.x."}
            if bar == 7:
                pat = {**pat, "snare": ".... .... x.xx XxXX", "tom_lo": "........ .... x.x."}
            bass_bar(s, bass, bar, harm, "R-------R---5---", low=26)
            arpeggio_bar(s, piano, bar, harm, "xxxx xxxx", [0, 1, 2, 3, 4, 3, 2, 1], low=38, vel=70)
        else:
            pat = {"kick": "X.x. ..x. x.x. ....", "snare": ".... X... .... X...",
                   "hat": "x.x. x.x. x.x. x.x."}
            if bar in (8, 16):
                pat = {**pat, "crash": "X..."}
            if bar == 15:
                pat = {**pat, "snare": ".... X... xxxx XXXX"}
            bass_bar(s, bass, bar, harm, "R.R.R.R.R.R.R.5.", low=26)
            comp_bar(s, gtr, bar, harm, "x.x.x.x.x.x.x.x.", center=50, vel=82, power=True,
                     staccato=0.5)
        drum_bar(s, drums, bar, pat)
    slow = melody(rng, harm, 0, ["x-----x-x-------", "x---x---x-x-x---", "x-------x-----x-",
                                 "x---------------"], bpb=4, scale="minor", low=62, high=81, vel=84)
    fast = melody(rng, harm, 8, ["x-x-x-x-x---x-x-", "x---x-x-x-x-x---", "x-x-x-x-x-------",
                                 "x---x---x-x-----"] * 2,
                bpb=4, scale="minor", low=64, high=86, vel=94)
    place(s, lead, slow, 0)
    place(s, lead, slow, 4)
    place(s, lead, fast, 8)
    place(s, lead, fast, 16, vel_scale=1.05, bars=4)
    drum_bar(s, drums, 20, {"kick": "X...", "crash": "X..."})
    comp_bar(s, gtr, 20, harm, "X---", center=50, vel=100, power=True)
    bass_bar(s, bass, 20, harm, "R---", low=26)
    return s


@piece
def accelerando(rng: np.random.Generator) -> Song:
    def tempo(pos: float) -> float:
        bpm = ramp(pos, 8, 56, 84, 160)  # bars 5-28 accelerate, like a hora gathering speed
        return bpm * (1 - 0.33 * ramp(pos, 64, 72, 0, 1))  # broad ritardando into the last chord

    s = Song("accelerando", "2/4 klezmer dance accelerating 84 -> 160 BPM, final ritardando", "2/4",
             37, tempo, rng=rng)
    harm = Harmony(2, "i i iv iv V7 V7 i i " * 2 + "iv iv i i V7 V7 i i " * 2 + "i i iv V7 i",
                   s.bpb)  # D harmonic minor
    tuba = s.part("tuba", 58, volume=100)
    accordion = s.part("accordion", 21, volume=84, pan=40)
    clarinet = s.part("clarinet", 71, volume=104, reverb=50)
    viola = s.part("viola", 41, volume=82, pan=90)
    drums = s.part("drums", 0, drums=True, volume=86, jitter_ms=4)
    rh = ["x-x-x-x-", "xxxxx-x-", "x-xxx-x-", "x-----x-", "xxxxxxxx", "x-x-xxx-", "x-xxx---",
          "x-------"]
    a = melody(rng, harm, 0, rh * 2, bpb=2, scale="harmonic", low=62, high=86, vel=90)
    b = melody(rng, harm, 16, rh[4:] + rh[:4] + rh[4:] + rh[:4], bpb=2, scale="harmonic",
               low=62, high=88, vel=92)
    place(s, clarinet, a, 0)
    place(s, clarinet, b, 16)
    place(s, viola, b, 16, transpose=-12, vel_scale=0.8)
    coda = melody(rng, harm, 32, ["xxxxxxxx", "x-x-x-x-", "x-xxx-x-", "x-------"], bpb=2,
                  scale="harmonic", low=62, high=86, vel=92)
    place(s, clarinet, coda, 32)
    for bar in range(36):
        oom = "R.5." if bar % 2 == 0 else "R.a."
        bass_bar(s, tuba, bar, harm, oom, low=33, vel=90, staccato=0.7)
        comp_bar(s, accordion, bar, harm, "..x...x.", center=64, vel=74, staccato=0.5)
        if bar >= 8:
            drum_bar(s, drums, bar, {"kick": "x...x...", "snare": "..o...o.", "tamb": "..x...x."})
    bass_bar(s, tuba, 36, harm, "R---", low=33)
    comp_bar(s, accordion, 36, harm, "X---", center=64, vel=90)
    drum_bar(s, drums, 36, {"kick": "X...", "crash": "X..."})
    s.add(clarinet, 72, 2, 74, 100)
    return s


@piece
def fermata_pop(rng: np.random.Generator) -> Song:
    # Fermatas: the band holds the chord at bar 7 (beats 1-2) and bar 13 (beats 3-4);
    # the held beats last 2.2-3x as long, so the reference beats wait as a conductor would.
    holds = {6 * 4: 3.0, 6 * 4 + 1: 2.2, 12 * 4 + 2: 2.8, 12 * 4 + 3: 1.6}
    s = Song("fermata_pop", "pop ballad 84 BPM with two fermatas", "4/4", 17, steady(84), rng=rng,
             fermatas=holds)
    harm = Harmony(0, "I V vi IV I V IV I V vi IV ii V I vi-IV V I", s.bpb)  # C major
    drums = s.part("drums", 0, drums=True, jitter_ms=3)
    bass = s.part("bass", 34, volume=100)
    ep = s.part("electric piano", 4, volume=94, pan=40)
    strings = s.part("strings", 48, volume=70, pan=88)
    voice = s.part("voice lead", 85, volume=96, reverb=60)
    groove = {"kick": "x... ..x. x... ....", "snare": ".... x... .... x...",
              "hat": "x.x. x.x. x.x. x.x."}
    for bar in range(16):
        if bar == 6:  # hit and hold on beat 1, then the drummer counts the band back in
            drum_bar(s, drums, bar, {"kick": "X... .... .... ....", "crash": "X...............",
                                     "snare": ".... .... xxxx XXXX"})
            bass_bar(s, bass, bar, harm, "R------- ........", low=28)
            comp_bar(s, ep, bar, harm, "X------- ........", center=62, vel=88)
            comp_bar(s, strings, bar, harm, "x------- ........", center=70, vel=80)
            continue
        if bar == 12:  # the stop on beat 3, held, then straight into the last chorus
            drum_bar(s, drums, bar, {**groove, "snare": ".... x... .... ....",
                                     "crash": ".... .... X... ...."})
            bass_bar(s, bass, bar, harm, "R.R.R.5.R-------", low=28)
            comp_bar(s, ep, bar, harm, "x...x...X-------", center=62, vel=80)
            comp_bar(s, strings, bar, harm, "x-------x-------", center=70, vel=74)
            continue
        drum_bar(s, drums, bar, groove if bar > 1 else {"hat": groove["hat"]})
        bass_bar(s, bass, bar, harm, "R...R.R.R...5..." if bar % 2 else "R-....R.R---5-a.", low=28)
        comp_bar(s, ep, bar, harm, "x..x..x.x..x..x.", center=62, vel=70, staccato=0.8)
        if bar >= 7:
            comp_bar(s, strings, bar, harm, "x-------x-------", center=70, vel=64)
    rh = ["..x-x-x-x---x---", "x-x-x-----..x-x-", "x---x-x-x-x-x---", "x---------------"]
    a = melody(rng, harm, 0, rh + rh[:2], bpb=4, scale="major", low=64, high=81, vel=86)
    b = melody(rng, harm, 7, rh[2:] + rh[:3], bpb=4, scale="major", low=67, high=84, vel=92)
    tag = melody(rng, harm, 13, rh[1:], bpb=4, scale="major", low=64, high=81, vel=86)
    place(s, voice, a, 0)
    place(s, voice, b, 7)
    s.add(voice, 12 * 4 + 2, 2, 74, 90)  # the singer holds through the stop
    place(s, voice, tag, 13)
    drum_bar(s, drums, 16, {"kick": "X...", "crash": "X..."})
    bass_bar(s, bass, 16, harm, "R---", low=28)
    comp_bar(s, ep, 16, harm, "X---", center=62, vel=90)
    comp_bar(s, strings, 16, harm, "x---", center=70, vel=80)
    return s


@piece
def quiet_intro(rng: np.random.Generator) -> Song:
    s = Song("quiet_intro", "synth-pop 122 BPM after a 10 s pianissimo intro", "4/4", 23,
             steady(122), rng=rng)
    harm = Harmony(5, "i bVI bIII bVII " * 5 + "i bVI i", s.bpb)  # F minor
    pad = s.part("pad", 89, volume=80, reverb=90)
    piano = s.part("piano", 0, volume=70, reverb=90, jitter_ms=12)
    drums = s.part("drums", 0, drums=True, jitter_ms=2)
    bass = s.part("synth bass", 38, volume=100, jitter_ms=2)
    pluck = s.part("pluck", 84, volume=70, pan=90, jitter_ms=2)
    lead = s.part("lead", 81, volume=84, reverb=60, jitter_ms=3)
    for bar in range(5):  # the intro: a soft pad and a few stray piano notes, no pulse to speak of
        comp_bar(s, pad, bar, harm, "x---------------", center=60, vel=34)
        for on in sorted(rng.choice([0, 1.5, 2, 2.5, 3.5], size=2, replace=False)):
            tone = voicing(harm.at(bar * 4 + on), 74)[int(rng.integers(0, 3))]
            s.add(piano, bar * 4 + on, 1.5, tone, 30 + 8 * rng.random())
    four = {"kick": "x... x... x... x...", "clap": ".... x... .... x...",
            "open": "..x. ..x. ..x. ..x.", "hat": "x.x. x.x. x.x. x.x."}
    build_up = {"kick": four["kick"], "hat": "..x. ..x. ..x. ..x."}
    for bar in range(5, 22):
        drum_bar(s, drums, bar, four if bar >= 7 else build_up, vel=88)
        # the trance-style bass sits on the off-beat eighths
        bass_bar(s, bass, bar, harm, ".R.R.R.R.R.R.R.R", low=29, vel=90, staccato=0.5)
        comp_bar(s, pad, bar, harm, "x-------x-------", center=62, vel=58)
        arpeggio_bar(s, pluck, bar, harm, "x.xx x.xx x.xx x.xx", [0, 2, 1, 2, 3], low=60, vel=62,
                     close=True)
    rh = ["x---x-x-x---x---", "x-x---x-x-------", "x---x-x-x-x-x---", "x-----------....",
          "x-x-x-x-x---x-x-", "x---x---x-x-----", "x-x-x-x-x---x---", "x---------------"]
    a = melody(rng, harm, 9, rh, bpb=4, scale="minor", low=65, high=84, vel=92)
    place(s, lead, a, 9)
    place(s, lead, a, 17, transpose=12, vel_scale=0.85, bars=5)
    comp_bar(s, pad, 22, harm, "x---", center=62, vel=64)
    bass_bar(s, bass, 22, harm, "R---", low=29)
    drum_bar(s, drums, 22, {"kick": "X...", "crash": "X..."})
    return s


@piece
def chorale(rng: np.random.Generator) -> Song:
    phrases = [  # one chord per beat, a cadence held over the last two beats of each 2-bar phrase
        "I IV I V vi IV V V", "vi ii V I IV ii V V", "I V vi iii IV I V V", "vi IV I V I IV I I",
        "IV V iii vi ii IV V V",
    ]
    holds = {p * 8 + 7: 1.9 for p in range(len(phrases))}  # fermata on each cadence chord
    tempo = rubato(60, rng, depth=0.05, phrase_beats=8, phrase_rit=0.15, final_beat=40)
    s = Song("chorale", "string chorale ~60 BPM, rubato, fermata on every cadence", "4/4", 11,
             tempo, rng=rng, fermatas=holds, tempo_step=0.5)
    bars = [w.replace(" ", "-") for w in _pairs(" ".join(phrases))]
    harm = Harmony(7, " ".join(bars) + " I", s.bpb)  # G major
    upper = s.part("violins", 48, volume=92, pan=50, reverb=70, jitter_ms=9)
    viola = s.part("viola", 41, volume=84, pan=70, reverb=70, jitter_ms=9)
    cello = s.part("cello", 42, volume=96, pan=80, reverb=70, jitter_ms=9)
    bass_pitch = 43
    prev: list[int] | None = None
    for beat in range(41):
        pcs = harm.at(beat)
        cadence = beat % 8 in (6, 7)
        if beat % 8 == 7:  # the cadence chord is held from beat 7
            continue
        dur = 4.0 if beat == 40 else 2.0 if beat % 8 == 6 else 1.0
        root = _nearest(pcs[0], bass_pitch)
        prev = voicing(pcs, prev or 64, n=3)
        if abs(np.mean(prev) - 66) > 6:
            prev = voicing(pcs, 66, n=3)
        vel = 70 + 12 * math.sin(math.pi * (beat % 8) / 8) - (6 if cadence else 0)
        s.add(cello, beat, dur * 0.97, root, vel + 4)
        s.add(viola, beat, dur * 0.97, prev[0], vel - 4)
        s.chord(upper, beat, dur * 0.97, prev[1:], vel)
        leap = _nearest(harm.at(beat + 1)[0], root) - root
        if not cadence and abs(leap) in (3, 4) and beat + 1 < 40:  # a passing tone fills the third
            s.add(cello, beat + 0.5, 0.48, root + int(np.sign(leap)) * 2, vel - 8)
        bass_pitch = root
    return s


def _nearest(pc: int, pitch: int) -> int:
    """The bass pitch of class ``pc`` nearest to ``pitch``, kept within the cello's low range."""
    return min((p for p in range(36, 56) if p % 12 == pc), key=lambda p: abs(p - pitch))


def _pairs(text: str) -> list[str]:
    """Group one-chord-per-beat symbols into bars of four (for the chorale's Harmony)."""
    words = text.split()
    return [" ".join(words[i : i + 4]) for i in range(0, len(words), 4)]


@piece
def sonatina(rng: np.random.Generator) -> Song:
    tempo = rubato(126, rng, depth=0.04, phrase_beats=16, phrase_rit=0.12, final_beat=80)
    s = Song("sonatina", "classical piano sonatina ~126 BPM, Alberti bass, rubato", "4/4", 21,
             tempo, rng=rng, tempo_step=0.5)
    # C major: a half cadence, a modulating middle, the opening again (recapitulation), the close
    harm = Harmony(0, "I I V7 I IV I V7-I V  vi ii V7 I IV ii-V7 I-IV V7  I I V7 I I", s.bpb)
    right = s.part("right hand", 0, volume=100, pan=70, jitter_ms=8)
    left = s.part("left hand", 0, volume=88, pan=58, jitter_ms=8, velocity_sd=4)
    for bar in range(20):
        arpeggio_bar(s, left, bar, harm, "x-o-x-o-x-o-x-o-", [0, 2, 1, 2], low=48, vel=64,
                     close=True, hold=0.95)
    rh = ["x---x-x-x---x---", "x-x-x-x-xxxx----", "x---x---x-x-x-x-", "x-------x-------",
          "xxxxxxxxx---x---", "x-x-x-x-x---x---", "x---xxxxx---x---", "x---------------"]
    a = melody(rng, harm, 0, rh, bpb=4, scale="major", low=67, high=91, vel=84)
    b = melody(rng, harm, 8, [rh[4], rh[1], rh[5], rh[3], rh[2], rh[6], rh[4], rh[7]], bpb=4,
               scale="major", low=69, high=93, vel=88)
    place(s, right, a, 0)
    place(s, right, b, 8)
    place(s, right, a, 16, bars=4)
    s.chord(left, 80, 3, [36, 48], 70)
    s.chord(right, 80, 3, [64, 67, 72], 76)
    return s


@piece
def nocturne(rng: np.random.Generator) -> Song:
    tempo = rubato(63, rng, depth=0.10, phrase_beats=12, phrase_rit=0.25, final_beat=48,
                   final_rit=0.4)
    s = Song("nocturne", "piano nocturne ~63 BPM, strong rubato, pedal, ornaments", "3/4", 17,
             tempo, rng=rng, tempo_step=0.5)
    harm = Harmony(3, "I vi ii V7 I IV V7 I vi iii IV ii I V7 V7 I I", s.bpb)  # Eb major
    right = s.part("right hand", 0, volume=100, pan=70, reverb=70, jitter_ms=12)
    left = s.part("left hand", 0, volume=82, pan=58, reverb=70, jitter_ms=10)
    for bar in range(16):
        s.pedal(left, bar * 3 + 0.05, False)
        s.pedal(left, bar * 3 + 0.15, True)  # re-pedal just after the bass note, as pianists do
        arpeggio_bar(s, left, bar, harm, "x-o-o-o-o-o-", [0, 1, 3, 2, 4, 1], low=36, vel=62,
                     hold=1.2)
    rh = ["x-------x-x-", "x-----xxxx--", "x-----x-----", "x---x-x-----", "x-------xxxx",
          "x-----x-x-x-", "x---------x-", "x-----------"]
    a = melody(rng, harm, 0, rh, bpb=3, scale="major", low=67, high=91, vel=80)
    b = melody(rng, harm, 8, [rh[1], rh[4], rh[0], rh[5], rh[2], rh[4], rh[6], rh[7]], bpb=3,
               scale="major", low=70, high=94, vel=84)
    place(s, right, a, 0, legato=1.05)
    place(s, right, b, 8, legato=1.05)
    s.pedal(left, 48.05, False)
    s.pedal(left, 48.15, True)
    s.chord(left, 48, 3, [39, 46, 51], 64)
    s.chord(right, 48, 3, [67, 70, 75], 70)
    return s


@piece
def drum_and_bass(rng: np.random.Generator) -> Song:
    s = Song("drum_and_bass", "drum and bass, 172 BPM, two-step break, pad intro", "4/4", 29,
             steady(172), rng=rng)
    harm = Harmony(5, "i i bVI bVI bIII bIII bVII bVII " * 3 + "i i bVI bVII i", s.bpb)  # F minor
    drums = s.part("drums", 0, drums=True, jitter_ms=2)
    reese = s.part("reese bass", 39, volume=104, jitter_ms=2)
    pad = s.part("pad", 91, volume=78, reverb=90)
    stab = s.part("stab", 81, volume=70, pan=90, jitter_ms=2)
    two_step = {"kick": "X... .... ..x. ....", "snare": ".... X..g .g.. X...",
                "hat": "x.x. x.x. x.x. x.xx", "ride": "..o. ..o. ..o. ..o."}
    for bar in range(28):
        comp_bar(s, pad, bar, harm, "x---------------", center=62, vel=62)
        if bar < 4:
            drum_bar(s, drums, bar, {"hat": "x.o. x.o. x.o. x.o."}, vel=70)
            continue
        pat = two_step if bar % 8 != 7 else {**two_step, "snare": ".... X..g .gxg XxXX"}
        if bar % 8 == 4:
            pat = {**pat, "crash": "X..."}
        drum_bar(s, drums, bar, pat, vel=96)
        line = "R--------- R----5" if bar % 2 else "R-------------8-"
        bass_bar(s, reese, bar, harm, line, low=29, vel=92, staccato=0.98)
        if bar >= 12:
            comp_bar(s, stab, bar, harm, "..x. .... .x.. ..x.", center=70, vel=72, n=3,
                     staccato=0.3)
    drum_bar(s, drums, 28, {"kick": "X...", "crash": "X..."})
    comp_bar(s, pad, 28, harm, "x---", center=62, vel=70)
    bass_bar(s, reese, 28, harm, "R---", low=29)
    return s


@piece
def downtempo(rng: np.random.Generator) -> Song:
    s = Song("downtempo", "trip-hop 70 BPM, swung 16ths, laid-back snare", "4/4", 13, steady(70),
             rng=rng)
    harm = Harmony(2, "i7 i7 bVImaj7 v7 i7 i7 bVImaj7 bVII i7 iv7 bVImaj7 v7 i", s.bpb)  # D minor
    drums = s.part("drums", 0, drums=True, jitter_ms=4)
    bass = s.part("bass", 32, volume=110)
    rhodes = s.part("rhodes", 4, volume=88, pan=40, reverb=60)
    vibes = s.part("vibraphone", 11, volume=92, pan=86, reverb=70)
    beat = {"kick": "X... ...x .x.. ....", "snare": ".... X... .... X..g",
            "hat": "xoxo xoxo xoxo xoxo"}
    for bar in range(12):
        pat = beat if bar else {"hat": beat["hat"]}
        drum_bar(s, drums, bar, pat, vel=90, swing=0.3, late_ms={"snare": 18})
        line = "R------. ..5-R-.." if bar % 2 else "R-----.R ----7-8-"
        bass_bar(s, bass, bar, harm, line, low=33, vel=96, swing=0.3)
        comp_bar(s, rhodes, bar, harm, "x------- ..x-----", center=62, vel=70, n=4, swing=0.3)
    rh = ["..x-x-x-x-------", "....x-x-x---x---", "..x-x-x-x-x-x---", "x---------------"]
    a = melody(rng, harm, 4, rh * 2, bpb=4, scale="dorian", low=65, high=84, vel=80, swing=0.3)
    place(s, vibes, a, 4, offset_ms=10)
    bass_bar(s, bass, 12, harm, "R---", low=33)
    comp_bar(s, rhodes, 12, harm, "x---", center=62, vel=74, n=4)
    drum_bar(s, drums, 12, {"kick": "X..."})
    return s


@piece
def jazz_swing(rng: np.random.Generator) -> Song:
    s = Song("jazz_swing", "jazz blues in F, 152 BPM swing, walking bass", "4/4", 25, steady(152),
             rng=rng)
    blues = "I7 IV7 I7 I7 IV7 IV7 I7 VI7 ii7 V7 I7 V7 "
    harm = Harmony(5, blues * 2 + "I7", s.bpb)  # F
    drums = s.part("drums", 0, drums=True, jitter_ms=4, velocity_sd=7)
    bass = s.part("upright bass", 32, volume=110)
    piano = s.part("piano", 0, volume=80, pan=36)
    sax = s.part("tenor sax", 66, volume=100, reverb=50)
    # triplet grid, 3 steps per beat: the ride's "spang-a-lang" and the swung eighths
    ride = "x..x.xx..x.x"
    for bar in range(24):
        comping = "...... ..g..." if rng.random() < 0.5 else "..g... ...g.."
        drum_bar(s, drums, bar, {"ride": ride, "pedal": "...x.....x..", "snare": comping}, vel=80)
        bass_bar(s, bass, bar, harm, "R35a" if bar % 2 else "R38a", low=29, vel=88, staccato=0.95)
        charleston = "x....x......" if bar % 2 else "..x..x......"
        comp_bar(s, piano, bar, harm, charleston, center=62, vel=64, n=4, staccato=0.4)
    rh = ["x-xx-xx-x---", "..xx-xx-xx-x", "x-xx-x---x-x", "x-----------", "x-xx-xx-xx-x",
          "x--x--x-----", "..x..xx-xx-x", "x--x-------."]
    head = melody(rng, harm, 0, rh + rh[:4], bpb=4, scale="blues", low=60, high=80, vel=88)
    solo = melody(rng, harm, 12, rh[4:] + rh, bpb=4, scale="mixolydian",
                  low=58, high=82, vel=92)
    place(s, sax, head, 0, legato=0.9)
    place(s, sax, solo, 12, legato=0.85)
    drum_bar(s, drums, 24, {"ride": "x...", "kick": "x...", "crash": "X..."})
    bass_bar(s, bass, 24, harm, "R---", low=29)
    comp_bar(s, piano, 24, harm, "x---", center=62, vel=70, n=4)
    return s


@piece
def shuffle_blues(rng: np.random.Generator) -> Song:
    s = Song("shuffle_blues", "12/8 slow blues shuffle, 64 BPM dotted quarter", "12/8", 13,
             steady(64), rng=rng)
    harm = Harmony(9, "I7 IV7 I7 I7 IV7 IV7 I7 I7 V7 IV7 I7 V7 I7", s.bpb)  # A
    drums = s.part("drums", 0, drums=True, jitter_ms=5)
    bass = s.part("bass", 33, volume=104)
    organ = s.part("organ", 17, volume=76, pan=30, reverb=50)
    guitar = s.part("guitar", 26, volume=100, pan=70, reverb=50)
    for bar in range(12):
        hats = "xox xox xox xox" if bar % 4 != 3 else "xox xox xox xxx"
        drum_bar(s, drums, bar, {"kick": "x....xx.....", "snare": "...x.....x..", "hat": hats},
                 vel=88)
        bass_bar(s, bass, bar, harm, "R-3 5-3 8-7 5-3", low=33, vel=92)
        comp_bar(s, organ, bar, harm, "x-- --- x-- -..", center=64, vel=62, n=4)
    rh = ["..x x-x x-- ---", "x-- x-x x-x ...", "..x xxx x-- ---", "x-- --- --- ..."]
    a = melody(rng, harm, 0, rh * 3, bpb=4, scale="blues", low=64, high=84, vel=90)
    place(s, guitar, a, 0)
    drum_bar(s, drums, 12, {"kick": "X...", "crash": "X..."})
    bass_bar(s, bass, 12, harm, "R---", low=33)
    comp_bar(s, organ, 12, harm, "x---", center=64, vel=70, n=4)
    s.add(guitar, 48, 2, 76, 96)
    return s


# --------------------------------------------------------------------------- build



def build(out: Path, *, seed: int, soundfont: str, jobs: int) -> list[Song]:
    out.mkdir(parents=True, exist_ok=True)
    songs = []
    for compose in PIECES:
        # one generator per piece, keyed by its name: adding a piece never changes the others
        rng = np.random.default_rng([seed, zlib.crc32(compose.__name__.encode())])
        song = compose(rng)
        midi = out / f"{song.name}.mid"
        song.write_midi(midi)
        check_against_pretty_midi(song, midi)
        write_times(out / f"{song.name}.beats.txt", song.beat_times())
        write_times(out / f"{song.name}.downbeats.txt", song.downbeat_times())
        songs.append(song)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(lambda s: render(s, out / f"{s.name}.mid", out / f"{s.name}.wav", soundfont),
                      songs))
    return songs


def summary(song: Song) -> str:
    beats = song.beat_times()
    bpm = 60.0 / np.diff(beats)
    meter = f"{song.meter.numerator}/{song.meter.denominator}"
    return (f"{song.name:<14} {meter:<5} {song.bpb} beats/bar  {song.duration():5.1f} s  "
            f"{len(beats):3d} beats  "
            f"{np.min(bpm):5.1f}-{np.max(bpm):5.1f} BPM  {song.traits}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("data/beat_eval"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--soundfont", default=next((f for f in SOUNDFONTS if Path(f).exists()), None))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="parallel fluidsynth renders (default: one per CPU)")
    args = ap.parse_args(argv)
    if shutil.which("fluidsynth") is None:
        sys.exit("fluidsynth not found: apt-get install fluidsynth")
    if not args.soundfont or not Path(args.soundfont).exists():
        sys.exit(f"soundfont {args.soundfont!r} not found: apt-get install fluid-soundfont-gm")
    t0 = time.perf_counter()
    songs = build(args.out, seed=args.seed, soundfont=args.soundfont, jobs=args.jobs)
    for song in songs:
        print(summary(song))
    total = sum(s.duration() for s in songs)
    print(f"{len(songs)} pieces, {total:.0f} s of audio, built in {time.perf_counter() - t0:.1f} s "
          f"-> {args.out} (seed {args.seed}, {Path(args.soundfont).name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
