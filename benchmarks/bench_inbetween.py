"""In-betweening quality: every generator against the true frames, beside crossfade.

    .venv/bin/python benchmarks/inbetween_eval_set.py --out data/inbetween_eval   # build the set
    .venv/bin/python benchmarks/bench_inbetween.py data/inbetween_eval [--json OUT]
                                                    [--generators flow,hold]

For every sequence sub-folder (``NAME/0000.png …`` + ``NAME/keyframes.txt``) and
every keyframe pair ``(a, b)`` in it, each generator makes the ``b − a − 1``
in-betweens at ``t = k/(b − a)``; each is compared with the true frame. The
table gives, per sequence and over all frames, mean PSNR (dB), mean SSIM and
frame accuracy (share of frames with SSIM ≥ 0.9), and each generator's PSNR
gain over crossfade. ``--json OUT`` also writes every number, per-frame scores
included (and the versions used), as JSON.

The issue-3 targets for ``flow``: mean PSNR ≥ crossfade + 1.5 dB and frame
accuracy ≥ 90 %; the script prints whether they are met.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np

from douga.errors import DougaError
from douga.metrics.inbetween import BASELINE, InbetweenReport, format_table, score_folder

TARGET_GAIN_DB = 1.5
TARGET_ACCURACY = 0.9


def targets(report: InbetweenReport, generator: str = "flow") -> str | None:
    """One line saying whether ``generator`` meets the issue-3 targets (None if not scored)."""
    if generator not in report.generators:
        return None
    g, base = report.score(generator), report.score(BASELINE)
    gain = g.psnr - base.psnr
    ok_gain, ok_acc = gain >= TARGET_GAIN_DB, g.accuracy >= TARGET_ACCURACY
    return (f"targets for {generator}: PSNR gain {gain:+.2f} dB (>= {TARGET_GAIN_DB}: "
            f"{'met' if ok_gain else 'NOT met'}), frame accuracy {100 * g.accuracy:.1f}% "
            f"(>= {100 * TARGET_ACCURACY:.0f}%: {'met' if ok_acc else 'NOT met'})")


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {"python": platform.python_version(), "numpy": np.__version__,
            "opencv": version("opencv-python-headless"), "scikit-image": version("scikit-image"),
            "machine": platform.machine(), "processor": platform.processor()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("folder", type=Path, help="folder of sequence sub-folders")
    ap.add_argument("--json", type=Path, help="also write all scores to this JSON file")
    ap.add_argument("--generators", help="comma-separated generator names (crossfade is added); "
                    "default: every registered generator")
    ap.add_argument("--seed", type=int, default=0, help="seed passed to the generators")
    args = ap.parse_args(argv)
    names = ([n.strip() for n in args.generators.split(",") if n.strip()]
             if args.generators else None)
    tty = sys.stderr.isatty()

    def show(done: int, total: int, name: str) -> None:
        if tty:
            print(f"\r{done}/{total} pairs  {name:<24}", end="", file=sys.stderr, flush=True)

    try:
        report = score_folder(args.folder, generators=names, seed=args.seed, progress=show)
    except DougaError as e:
        print(f"\nerror: {e}", file=sys.stderr)
        return 2
    if tty:
        print(file=sys.stderr)
    print(format_table(report))
    line = targets(report)
    if line:
        print(line)
    if args.json:
        data = report.to_dict()
        data["versions"] = versions()
        args.json.write_text(json.dumps(data, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
