"""Speed and memory of a whole ``douga render``: the issue 3 workload.

A 180 s song and 24 keyframes at 24 fps (the procedural demo project, made longer),
rendered with the ``flow`` generator by the ``douga`` command in a fresh process per
run, so that each figure includes start-up, decoding, analysis, planning, in-betweening,
effects, encoding and muxing, and the peak RSS is the render's own.

    .venv/bin/python benchmarks/bench_pipeline.py                 # every configuration
    .venv/bin/python benchmarks/bench_pipeline.py --runs 720p preview --seconds 60

Configurations (``--runs``):

* ``720p``: 1280×720, ``--no-cache`` (target: wall ÷ song ≤ 1.0, stretch 0.5);
* ``1080p``: 1920×1080, ``--no-cache`` (target ≤ 2.0);
* ``preview``: ``--preview`` with the default shot cache, starting empty (target ≤ 0.2);
* ``preview-nocache``: ``--preview --no-cache``;
* ``720p-cached``: 1280×720 again after a full render, every shot from the cache.

Prints one line per run: wall time, wall ÷ song duration, peak RSS (target ≤ 1.5 GB).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from douga.demo import write_demo_project

SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
RUNS = ("720p", "1080p", "preview", "preview-nocache", "720p-cached")
DOUGA = str(Path(sys.executable).with_name("douga"))


# A small launcher per run, so that the peak RSS of its child is this render's alone
# (the benchmark's own RUSAGE_CHILDREN would keep the largest of all runs).
LAUNCH = (
    "import resource, subprocess, sys, time\n"
    "t0 = time.perf_counter()\n"
    "rc = subprocess.run(sys.argv[1:]).returncode\n"
    "wall = time.perf_counter() - t0\n"
    "print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(rc)\n"
)


def render(project: Path, out: Path, *flags: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one ``douga render`` in a child process."""
    done = subprocess.run(
        [sys.executable, "-c", LAUNCH, DOUGA, "render", str(project), "-o", str(out), *flags],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"douga render failed ({done.returncode}):\n{done.stderr}")
    wall, rss_kib = done.stderr.strip().splitlines()[-1].split()
    return float(wall), float(rss_kib) / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS))
    ap.add_argument("--seconds", type=float, default=180.0)
    ap.add_argument("--keyframes", type=int, default=24)
    ap.add_argument("--generator", default="flow")
    args = ap.parse_args()
    print(f"workload: {args.seconds:.0f} s song, {args.keyframes} keyframes, 24 fps, "
          f"generator {args.generator}")
    with tempfile.TemporaryDirectory() as tmp:
        for run in args.runs:
            size = "1080p" if run == "1080p" else "720p"
            w, h = SIZES[size]
            project = write_demo_project(Path(tmp) / size, seconds=args.seconds,
                                         n_keyframes=args.keyframes, width=w, height=h)
            out = Path(tmp) / f"{run}.mp4"
            shutil.rmtree(out.parent / ".douga-cache", ignore_errors=True)
            flags = ["--generator", args.generator]
            if run.startswith("preview"):
                flags.append("--preview")
            if run in ("720p", "1080p", "preview-nocache"):
                flags.append("--no-cache")
            if run == "720p-cached":
                render(project, out, *flags)  # fill the cache
            wall, rss = render(project, out, *flags)
            print(f"{run:16s} {wall:7.1f} s   {wall / args.seconds:5.2f} × song   "
                  f"peak RSS {rss:6.0f} MiB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
