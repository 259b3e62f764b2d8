"""Sync of rendered videos with their music: the demo, and the demo's keyframes cut to
other songs (the pieces of the beat-tracking evaluation set).

    .venv/bin/python benchmarks/bench_sync.py                       # demo song only
    .venv/bin/python benchmarks/bench_sync.py data/beat_eval_seed0  # + every piece there
    .venv/bin/python benchmarks/bench_sync.py data/beat_eval_seed0 --only waltz ska

For each song a project is written with the demo's keyframes and lyrics (the demo's
own song, or the piece's WAV in its place), rendered by ``render_project`` with the
``flow`` generator and effects on, and checked by ``evaluate_sync`` with the plan it
followed: the same path as ``douga render`` then ``douga eval sync VIDEO --plan``.
Prints, per song: keyframes within ±1 frame of their anchors, the largest offset,
the share of visual accents on beats, the share of downbeats carrying an accent and
the beat alignment score (targets: every keyframe, ≥ 90 %, ≥ 90 %).

``--plain`` renders the same projects without effects and lyrics: the keyframes'
timing measured on pictures that nothing covers (no accents to count then).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from douga.demo import write_demo_project
from douga.metrics.sync import evaluate_sync
from douga.pipeline import RenderSettings, render_project
from douga.project import load_project


def pct(x: float | None) -> str:
    return "  -  " if x is None else f"{100 * x:5.1f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("songs", nargs="?", type=Path, help="a folder of NAME.wav (optional)")
    ap.add_argument("--only", nargs="+", default=None, help="piece names to keep")
    ap.add_argument("--size", default="640x360", help="video size (default 640x360)")
    ap.add_argument("--keyframes", type=int, default=8)
    ap.add_argument("--plain", action="store_true", help="no effects and no lyrics")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    songs: list[tuple[str, Path | None]] = [("demo", None)]
    if args.songs is not None:
        songs += [(p.stem, p) for p in sorted(args.songs.glob("*.wav"))
                  if args.only is None or p.stem in args.only]
    print(f"{'song':15s} {'kf ±1':>7s} {'max off':>8s} {'on beat':>8s} {'downbeats':>9s} "
          f"{'score':>6s}")
    ok_all = True
    with tempfile.TemporaryDirectory() as tmp:
        for name, wav in songs:
            folder = Path(tmp) / name
            project_file = write_demo_project(folder, n_keyframes=args.keyframes, width=width,
                                              height=height)
            if wav is not None:
                shutil.copyfile(wav, folder / "song.wav")
            if args.plain:
                text = project_file.read_text().replace("lyrics: lyrics.lrc", "effects: none")
                project_file.write_text(text)
            video = folder / "video.mp4"
            _, timeline = render_project(load_project(project_file), video,
                                         settings=RenderSettings(generator="flow", cache=False))
            plan = folder / "video.plan.json"
            timeline.save(plan)
            result = evaluate_sync(video, audio=folder / "song.wav", plan=plan)
            s, a = result.keyframe_summary, result.alignment
            assert s is not None
            within = f"{s.n_within_one_frame}/{s.n_measured}"
            worst = "-" if s.max_abs_offset_frames is None else f"{s.max_abs_offset_frames:.2f}"
            ok = s.n_within_one_frame == s.n_measured and s.n_missing == 0 and (args.plain or (
                (a.accents_on_beat or 0) >= 0.9 and (a.downbeats_with_accent or 0) >= 0.9))
            ok_all &= ok
            score = "-" if a.score is None else f"{a.score:.3f}"
            print(f"{name:15s} {within:>7s} {worst:>8s} {pct(a.accents_on_beat):>8s} "
                  f"{pct(a.downbeats_with_accent):>9s} {score:>6s}{'' if ok else '  (missed)'}",
                  flush=True)
    print("every song meets the targets" if ok_all else "some songs miss a target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
