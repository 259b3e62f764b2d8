"""Speed and memory of the video writer alone (douga.render), on synthetic moving frames.

Each configuration runs in a fresh process so that its peak RSS is its own:

* ``stream``: :func:`douga.render.write_video`, one encoder, no cache;
* ``cache-cold``: :func:`douga.render.write_shots` into an empty shot cache (every shot
  encoded to its own segment, then the segments remuxed with the AAC track);
* ``cache-warm``: the same call again, every shot from the cache (remux + AAC only).

Frames are cel-like pictures (flat colours, dark outlines, a soft background) panning and
zooming, with a figure moving across them; they are made on the fly (~1–3 ms a frame, in
the producer thread, overlapped with encoding as in a real render). ``--synth-ms`` adds
simulated synthesis work per frame (OpenCV, which releases the GIL, as the flow generator
does) to show that encoding overlaps with it.

Usage::

    .venv/bin/python benchmarks/bench_render.py                 # 720p and 1080p, 30 s each
    .venv/bin/python benchmarks/bench_render.py --sizes 1280x720 --seconds 60 --synth-ms 20

Prints one line per run: frames/s (wall), CPU ms per frame, wall time ÷ video duration,
peak RSS, output size.
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from douga.render import DEFAULT_CRF, DEFAULT_PRESET, Shot, shot_key, write_shots, write_video

FPS = 24


@functools.cache
def cel_canvas(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A picture twice the output size: flat colour shapes with outlines on a gradient."""
    rng = np.random.default_rng(seed)
    h, w = 2 * height, 2 * width
    # built row by row: full-size float temporaries would dominate the peak RSS measured
    x = np.arange(w, dtype=np.float32)
    canvas = np.empty((h, w, 3), np.uint8)
    for y in range(h):
        canvas[y, :, 0] = 200 + 40 * np.sin(x / w * 3)
        canvas[y, :, 1] = 190 + 40 * np.cos(y / h * 4)
        canvas[y, :, 2] = 220 + 30 * np.sin((x + y) / (w + h) * 5)
    line = max(2, height // 240)
    for _ in range(120):
        colour = tuple(int(c) for c in rng.integers(30, 255, 3))
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(h // 40, h // 6)), int(rng.integers(h // 40, h // 6)))
        angle = float(rng.uniform(0, 180))
        cv2.ellipse(canvas, centre, axes, angle, 0, 360, colour, -1, cv2.LINE_AA)
        cv2.ellipse(canvas, centre, axes, angle, 0, 360, (25, 20, 30), line, cv2.LINE_AA)
    return canvas


def moving_frames(width: int, height: int, n: int, *, synth_ms: float = 0.0,
                  start: int = 0) -> Iterator[np.ndarray]:
    canvas = cel_canvas(width, height)  # read only: cached across shots
    busy = np.zeros((height, width, 3), np.uint8)
    for i in range(start, start + n):
        # pan over the canvas and zoom slowly in and out: every pixel moves every frame
        zoom = 1.0 + 0.15 * np.sin(i / 40.0)
        cx = width + 0.6 * width * np.sin(i / 90.0)
        cy = height + 0.6 * height * np.cos(i / 70.0)
        m = np.array([[zoom, 0, width / 2 - zoom * cx], [0, zoom, height / 2 - zoom * cy]],
                     dtype=np.float32)
        frame = cv2.warpAffine(canvas, m, (width, height), flags=cv2.INTER_LINEAR)
        # a "character" crossing the frame, drawn fresh each frame
        x = int((i * 7) % (width + 200)) - 100
        y = int(height * (0.5 + 0.2 * np.sin(i / 9.0)))
        cv2.circle(frame, (x, y), height // 8, (250, 220, 200), -1, cv2.LINE_AA)
        cv2.circle(frame, (x, y), height // 8, (20, 20, 20), max(2, height // 240), cv2.LINE_AA)
        if synth_ms > 0:
            t0 = time.perf_counter()
            while (time.perf_counter() - t0) * 1000 < synth_ms:
                cv2.GaussianBlur(frame, (9, 9), 0, dst=busy)
        yield frame


def tone(seconds: float, sr: int = 48000) -> tuple[np.ndarray, int]:
    t = np.arange(round(seconds * sr)) / sr
    x = (0.2 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 2 * t)))
    return np.stack([x, np.roll(x, 50)]).astype(np.float32), sr


def run_one(args: argparse.Namespace) -> dict[str, object]:
    width, height = (int(v) for v in args.size.split("x"))
    n = round(args.seconds * FPS)
    work = Path(args.workdir)
    out = work / f"bench_{args.size}.mp4"
    cache = work / f"cache_{args.size}"
    audio = tone(n / FPS)
    t0, c0 = time.perf_counter(), time.process_time()
    if args.mode == "stream":
        write_video(out, moving_frames(width, height, n, synth_ms=args.synth_ms), fps=FPS,
                    audio=audio, frame_count=n, crf=args.crf, preset=args.preset)
    else:
        shots = []
        for start in range(0, n, args.shot_frames):
            count = min(args.shot_frames, n - start)

            def frames(start: int = start, count: int = count) -> Iterator[np.ndarray]:
                return moving_frames(width, height, count, synth_ms=args.synth_ms, start=start)

            shots.append(Shot(shot_key("bench", start, count), count, frames))
        report = write_shots(out, shots, fps=FPS, width=width, height=height, audio=audio,
                             cache_dir=cache, crf=args.crf, preset=args.preset)
        assert report.shots_cached == (len(shots) if args.mode == "cache-warm" else 0)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "size": args.size, "mode": args.mode, "frames": n, "preset": args.preset, "crf": args.crf,
        "synth_ms": args.synth_ms, "wall_s": round(wall, 2), "fps": round(n / wall, 1),
        "cpu_ms_per_frame": round(cpu / n * 1000, 1),
        "realtime_factor": round(wall / (n / FPS), 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "file_kib_per_s": round(out.stat().st_size / 1024 / (n / FPS)),
    }


def generation_cost(size: str, frames: int = 96) -> float:
    width, height = (int(v) for v in size.split("x"))
    it = moving_frames(width, height, frames)
    next(it)
    t0 = time.perf_counter()
    for _ in it:
        pass
    return (time.perf_counter() - t0) / (frames - 1) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1280x720,1920x1080")
    ap.add_argument("--modes", default="stream,cache-cold,cache-warm")
    ap.add_argument("--seconds", type=float, default=30.0, help="video length per run")
    ap.add_argument("--shot-frames", type=int, default=180,
                    help="frames per shot in the cache modes (180: 24 keyframes over 180 s)")
    ap.add_argument("--synth-ms", type=float, default=0.0,
                    help="simulated synthesis work per frame, in ms")
    ap.add_argument("--crf", type=int, default=DEFAULT_CRF)
    ap.add_argument("--preset", default=DEFAULT_PRESET)
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--size", help=argparse.SUPPRESS)
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args)))
        return

    work = Path(tempfile.mkdtemp(prefix="douga-bench-render-"))
    try:
        for size in args.sizes.split(","):
            print(f"{size}: making a frame alone costs {generation_cost(size):.1f} ms "
                  "(included below, in the producer thread)", flush=True)
            for mode in args.modes.split(","):
                cmd = [sys.executable, __file__, "--one", "--size", size, "--mode", mode,
                       "--workdir", str(work), "--seconds", str(args.seconds),
                       "--shot-frames", str(args.shot_frames), "--synth-ms", str(args.synth_ms),
                       "--crf", str(args.crf), "--preset", args.preset]
                done = subprocess.run(cmd, capture_output=True, text=True, check=True)
                r = json.loads(done.stdout.strip().splitlines()[-1])
                print(f"  {r['mode']:<10} {r['frames']} frames  {r['fps']:6.1f} frames/s  "
                      f"{r['cpu_ms_per_frame']:5.1f} CPU ms/frame  "
                      f"wall/duration {r['realtime_factor']:.3f}  "
                      f"peak RSS {r['peak_rss_mb']} MB  {r['file_kib_per_s']} KiB/s of video",
                      flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
