"""Beat-tracking quality: douga's analyser against librosa's default, on an annotated folder.

    .venv/bin/python benchmarks/beat_eval_set.py --out data/beat_eval     # build the set once
    .venv/bin/python benchmarks/bench_beats.py data/beat_eval [--json OUT] [--only librosa]

For every ``NAME.wav`` of the folder (with ``NAME.beats.txt`` and optional
``NAME.downbeats.txt``) it prints beat F-measure (±70 ms, first 5 s skipped), CMLt,
AMLt and downbeat F-measure, per piece and as means, for

(a) douga: ``douga.music.analyze.analyze_music`` (skipped, with a note, when that
    module cannot be imported yet), and
(b) the baseline: ``librosa.beat.beat_track(y=y, sr=sr, units='time')`` with
    librosa's defaults on ``librosa.load(path)`` (22050 Hz mono). librosa finds no
    downbeats, so the baseline's downbeats are every 4th beat from the first one.

``--json OUT`` also writes every number (and the versions used) as JSON.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from douga.errors import DougaError
from douga.metrics.beats import (
    Analyzer,
    PieceScore,
    douga_analyzer,
    format_table,
    score_folder,
    summarize,
)


def librosa_baseline(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """librosa's default beat tracker; downbeats = every 4th beat from the first (a naive guess)."""
    import librosa

    y, sr = librosa.load(path)
    _, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
    return beats, beats[::4]


def douga_available() -> str | None:
    """None when douga's analyser can be imported, else the reason it cannot."""
    try:
        module = importlib.import_module("douga.music.analyze")
    except ImportError as e:
        return f"{type(e).__name__}: {e}"
    if not hasattr(module, "analyze_music"):
        return "douga.music.analyze has no analyze_music"
    return None


def to_json(scores: list[PieceScore]) -> dict[str, object]:
    return {
        "pieces": [
            {
                "name": s.name,
                "beats": asdict(s.beats),
                "downbeats": None if s.downbeats is None else asdict(s.downbeats),
                "seconds": s.seconds,
            }
            for s in scores
        ],
        "means": asdict(summarize(scores)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("folder", type=Path, help="folder of NAME.wav + NAME.beats.txt")
    ap.add_argument("--json", type=Path, help="also write all scores to this JSON file")
    ap.add_argument("--only", choices=["douga", "librosa"], help="run one analyser only")
    args = ap.parse_args()

    analysers: dict[str, Analyzer] = {}
    if args.only in (None, "douga"):
        reason = douga_available()
        if reason is None:
            analysers["douga"] = douga_analyzer
        else:
            print(f"douga analyser not available ({reason}); running the baseline only\n")
    if args.only in (None, "librosa"):
        analysers["librosa"] = librosa_baseline

    results: dict[str, list[PieceScore]] = {}
    tty = sys.stderr.isatty()
    for label, analyze in analysers.items():

        def show(done: int, total: int, name: str, label: str = label) -> None:
            if tty:
                print(f"\r[{label}] {done}/{total} {name:<24}", end="", file=sys.stderr, flush=True)

        try:
            results[label] = score_folder(args.folder, analyze=analyze, progress=show)
        except DougaError as e:
            print(f"\nerror: {e}", file=sys.stderr)
            return 2
        if tty:
            print(file=sys.stderr)
        title = "douga (analyze_music)" if label == "douga" else (
            "librosa baseline (beat_track defaults; downbeats = every 4th beat)")
        print(f"{title}\n{format_table(results[label])}\n")

    for label, scores in results.items():
        m = summarize(scores)
        down = "-" if m.downbeat_f_measure is None else f"{m.downbeat_f_measure:.3f}"
        print(f"{label:<8} mean over {m.n_pieces} pieces: F {m.f_measure:.3f}  CMLt {m.cmlt:.3f}  "
              f"AMLt {m.amlt:.3f}  downbeat F {down}  ({m.seconds:.1f} s analysing)")

    if args.json:
        from importlib.metadata import version

        payload = {
            "folder": str(args.folder),
            "metric": "mir_eval.beat: F-measure (+-70 ms), CMLt, AMLt; beats before 5 s ignored",
            "baseline_downbeats": "librosa: every 4th beat from the first",
            "versions": {"python": platform.python_version(), "librosa": version("librosa"),
                         "mir_eval": version("mir_eval"), "numpy": version("numpy")},
            "analysers": {label: to_json(scores) for label, scores in results.items()},
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
