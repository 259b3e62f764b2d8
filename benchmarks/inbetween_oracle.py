"""How far can choosing among simple in-between strategies go? An upper bound.

For every keyframe pair of an evaluation folder (the layout of ``douga eval
inbetween``), each in-between is made seven ways: crossfade, flow, hold A, hold B,
a cut half-way (A then B), and flow and crossfade with eased timing (t^3 / (t^3 +
(1-t)^3): slow out of A, fast through the middle, slow into B). Besides each
strategy's own PSNR and frame accuracy (SSIM >= 0.9) it prints two oracles that
look at the true frames, which no generator can: the best strategy per pair (by
mean PSNR) and the best per frame (the highest PSNR and, separately, the highest
SSIM any strategy reaches on it). A third oracle also lets every frame take flow's
or the crossfade's picture at any time between the keyframes (t' = 1/40 … 39/40),
which perfect timing (easing, holds, fast moves) could reach. If even that misses
a target, no choice of strategy or timing can reach it; only new pictures can
(drawings the keyframes do not contain).

    python benchmarks/inbetween_oracle.py data/inbetween_eval_real
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

from douga.generators.flow import FlowGenerator
from douga.generators.simple import CrossfadeGenerator
from douga.images import load_image
from douga.metrics.inbetween import find_sequences, psnr, ssim

Strategy = Callable[[np.ndarray, np.ndarray, list[float]], list[np.ndarray]]

# the times at which the timing oracle may show flow's or the crossfade's picture
ANY_TIME = [k / 40 for k in range(1, 40)]


def _eased(t: float) -> float:
    return t**3 / (t**3 + (1.0 - t) ** 3)


def _strategies() -> dict[str, Strategy]:
    flow, crossfade = FlowGenerator(), CrossfadeGenerator()

    def fade(a: np.ndarray, b: np.ndarray, ts: list[float]) -> list[np.ndarray]:
        return list(crossfade.inbetween(a, b, ts))

    return {
        "crossfade": fade,
        "flow": lambda a, b, ts: list(flow.inbetween(a, b, ts)),
        "hold A": lambda a, b, ts: [a] * len(ts),
        "hold B": lambda a, b, ts: [b] * len(ts),
        "cut half-way": lambda a, b, ts: [a if t < 0.5 else b for t in ts],
        "flow, eased": lambda a, b, ts: list(flow.inbetween(a, b, [_eased(t) for t in ts])),
        "crossfade, eased": lambda a, b, ts: fade(a, b, [_eased(t) for t in ts]),
    }


def _summary(scores: list[tuple[float, float]]) -> str:
    p = np.array(scores)
    return f"{p[:, 0].mean():6.2f} dB  {100 * np.mean(p[:, 1] >= 0.9):5.1f} %"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("directory")
    args = ap.parse_args()
    strategies = _strategies()
    scores: dict[str, list[tuple[float, float]]] = {name: [] for name in strategies}
    best_pair: list[tuple[float, float]] = []
    best_frame: list[tuple[float, float]] = []
    best_timing: list[tuple[float, float]] = []
    for seq in find_sequences(args.directory):
        for a, b in seq.pairs():
            ka, kb = load_image(seq.frames[a]), load_image(seq.frames[b])
            ts = [k / (b - a) for k in range(1, b - a)]
            truth = [load_image(seq.frames[a + k]) for k in range(1, b - a)]
            pair = {name: [(psnr(ref, img), ssim(ref, img))
                           for ref, img in zip(truth, make(ka, kb, ts), strict=True)]
                    for name, make in strategies.items()}
            for name, s in pair.items():
                scores[name] += s
            best_pair += max(pair.values(), key=lambda s: float(np.mean([v[0] for v in s])))
            # every strategy's picture at any time t' (flow and crossfade; holds are t' = 0, 1)
            pictures = [img for name in ("flow", "crossfade")
                        for img in strategies[name](ka, kb, ANY_TIME)]
            for ref, frame in zip(truth, zip(*pair.values(), strict=True), strict=True):
                best = np.max(frame, axis=0)
                best_frame.append((float(best[0]), float(best[1])))
                timed = np.max([best] + [(psnr(ref, img), ssim(ref, img)) for img in pictures],
                               axis=0)
                best_timing.append((float(timed[0]), float(timed[1])))
        print(f"scored {seq.name}", flush=True)
    print(f"\n{len(best_frame)} in-betweens: mean PSNR, frame accuracy (SSIM >= 0.9)")
    for name, s in scores.items():
        print(f"  {name:24s} {_summary(s)}")
    print(f"  {'oracle: best per pair':24s} {_summary(best_pair)}")
    print(f"  {'oracle: best per frame':24s} {_summary(best_frame)}")
    print(f"  {'oracle: + any timing':24s} {_summary(best_timing)}")


if __name__ == "__main__":
    main()
