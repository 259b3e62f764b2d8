"""Analysis speed: time ``analyze_music`` on a 3-minute song, decoding included.

    .venv/bin/python benchmarks/bench_analysis.py [--seconds 180] [--repeats 3]

The song is douga's procedural demo song, made 3 minutes long and written as WAV
(44.1 kHz stereo) and MP3. One warm-up run first pays the one-time JIT compilation
(numba caches it on disk, so later processes skip it); then the best and median of
``--repeats`` runs are printed, with peak RSS of the process.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import soundfile as sf

from douga.demo import make_demo_song
from douga.music.analyze import analyze_music


def write_mp3(path: Path, stereo: np.ndarray, sr: int) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mp3", rate=sr, layout="stereo")
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(stereo.astype(np.float32)), format="fltp", layout="stereo"
        )
        frame.sample_rate = sr
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=float, default=180.0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    sr = 44100
    song = make_demo_song(seconds=args.seconds, sr=sr)
    stereo = np.stack([song, song]) if song.ndim == 1 else song.T  # (2, n)
    with tempfile.TemporaryDirectory() as tmp:
        wav, mp3 = Path(tmp) / "song.wav", Path(tmp) / "song.mp3"
        sf.write(wav, stereo.T, sr)
        write_mp3(mp3, stereo, sr)
        analyze_music(wav)  # warm-up: JIT compilation and imports
        print(f"song: {args.seconds:.0f} s demo song, 44.1 kHz stereo")
        for path in (wav, mp3):
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                m = analyze_music(path)
                times.append(time.perf_counter() - t0)
            med = statistics.median(times)
            print(
                f"{path.suffix[1:]:>4}: best {min(times):.2f} s, median {med:.2f} s  "
                f"({len(m.beats)} beats, {m.tempo:.1f} BPM, meter {m.meter}, "
                f"{len(m.sections)} sections)"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
