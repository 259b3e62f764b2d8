"""Fast rock for the beat tracker: the 170-200 BPM range of much anime-song pop and rock.

Usage::

    python benchmarks/beat_fast_rock.py --out data/beat_fast_rock
    douga eval beats data/beat_fast_rock

Eight pieces, written and rendered the way ``beat_eval_set.py`` writes its pieces
(FluidSynth, FluidR3 GM; ground truth from the score): a rock kit (kick on 1 and 3 and
the "and" of 3, snare on 2 and 4), eighth-note bass and power chords and a melody,
at 170, 180, 190 and 200 BPM, each plain (hats and guitar on every other eighth
accented) and dense (every eighth strummed by two guitars, closed hats on every
eighth). A check kept apart from the evaluation set: it was written after the
session-7 rules, to look for what they do to fast, dense mixes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import beat_eval_set as E

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"


def fast_rock(rng: np.random.Generator, bpm: int, dense: bool) -> E.Song:
    name = f"rock{bpm}{'_dense' if dense else ''}"
    s = E.Song(name, f"rock {bpm} BPM{' dense eighths' if dense else ''}", "4/4", 21,
               E.steady(bpm), rng=rng)
    harm = E.Harmony(4, "I I " + "vi IV V I " * 4 + "IV V I", s.bpb)
    drums = s.part("drums", 0, drums=True, jitter_ms=3)
    bass = s.part("bass", 33)
    gtr = s.part("guitar", 29, volume=90, pan=36)
    gtr2 = s.part("guitar2", 30, volume=85, pan=90)
    lead = s.part("lead", 65, volume=100, reverb=40)
    kit = {**E.ROCK, "hat": "x.x. x.x. x.x. x.x." if dense else E.ROCK["hat"]}
    strum = "x.x.x.x.x.x.x.x." if dense else "x.o.x.o.x.o.x.o."
    for bar in range(20):
        E.drum_bar(s, drums, bar, kit if bar else {**kit, "crash": "X..."})
        E.bass_bar(s, bass, bar, harm, "R.R.R.R.R.R.R.R.")
        E.comp_bar(s, gtr, bar, harm, strum, center=52, vel=96, power=True, strum_ms=6)
        if dense:
            E.comp_bar(s, gtr2, bar, harm, strum, center=59, vel=90, power=True, strum_ms=6)
    tune = E.melody(rng, harm, 2, ["x-x-x-x-x---x-x-", "x---x-x-x-x-----"] * 2, bpb=4,
                    scale="major", low=64, high=81, vel=92)
    E.place(s, lead, tune, 2)
    E.place(s, lead, tune, 10)
    E.drum_bar(s, drums, 20, {"kick": "X...", "crash": "X..."})  # the last bar: one hit
    E.bass_bar(s, bass, 20, harm, "R---")
    E.comp_bar(s, gtr, 20, harm, "X---", center=52, vel=100, power=True)
    return s


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("data/beat_fast_rock"))
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for bpm in (170, 180, 190, 200):
        for dense in (False, True):
            song = fast_rock(np.random.default_rng(bpm), bpm, dense)
            midi = args.out / f"{song.name}.mid"
            song.write_midi(midi)
            E.check_against_pretty_midi(song, midi)
            E.render(song, midi, args.out / f"{song.name}.wav", SOUNDFONT)
            E.write_times(args.out / f"{song.name}.beats.txt", song.beat_times())
            E.write_times(args.out / f"{song.name}.downbeats.txt", song.downbeat_times())
            print(f"{song.name:14s} {song.traits}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
