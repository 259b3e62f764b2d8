"""What both trainers share: Accelerate set-up, resumable checkpoints, logs, sample grids.

A run folder looks like::

    OUT/config.yaml        the config the run was started with (copied)
    OUT/checkpoint/        the latest training state (models, optimisers, step), atomic
    OUT/metrics.jsonl      one JSON object per logged step
    OUT/samples/*.png      sample grids
    OUT/curves.png         the logged losses against the step (redrawn with every sample grid)
    OUT/model/             the exported model(s), loadable by douga

Training runs the same code on a CPU, on one GPU or, launched with ``accelerate
launch``, on many GPUs or nodes. Rerunning the same command resumes from
``OUT/checkpoint``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from douga.errors import DougaError, InputError
from douga.training.config import LoopSettings

ProgressFn = Callable[[str, float], None]
CHECKPOINT = "checkpoint"


def make_accelerator(settings: LoopSettings) -> Any:
    """An ``accelerate.Accelerator`` (mixed precision only where there is a GPU)."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    if settings.threads:
        torch.set_num_threads(settings.threads)
    precision = settings.mixed_precision if torch.cuda.is_available() else "no"
    acc = Accelerator(mixed_precision=precision)
    set_seed(settings.seed)
    return acc


def save_checkpoint(acc: Any, out: Path, step: int, extra: dict[str, Any] | None = None) -> None:
    """Save the whole training state to ``out/checkpoint``, atomically (temp folder + rename)."""
    acc.wait_for_everyone()
    if not acc.is_main_process:
        acc.wait_for_everyone()
        return
    final = out / CHECKPOINT
    tmp = out / f".{CHECKPOINT}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    acc.save_state(str(tmp), safe_serialization=True)
    (tmp / "progress.json").write_text(json.dumps({"step": step, **(extra or {})}))
    old = out / f".{CHECKPOINT}.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    acc.wait_for_everyone()


def resume(acc: Any, out: Path) -> dict[str, Any]:
    """Load ``out/checkpoint`` if there is one; returns its progress record (``{}`` if none)."""
    folder = out / CHECKPOINT
    if not (folder / "progress.json").is_file():
        return {}
    try:
        record = json.loads((folder / "progress.json").read_text())
        acc.load_state(str(folder))
    except Exception as e:  # torch, safetensors and json each fail their own way
        raise InputError(
            f"{folder}: cannot resume from it ({type(e).__name__}: {str(e).splitlines()[0]}); "
            "expected the checkpoint of a run of this same config (move the folder away to "
            "start over)") from None
    if not isinstance(record, dict):
        raise InputError(f"{folder / 'progress.json'}: expected a JSON object")
    return record


class MetricLog:
    """Appends one JSON line per logged step to ``out/metrics.jsonl`` (main process only)."""

    def __init__(self, out: Path, *, enabled: bool) -> None:
        self.path = out / "metrics.jsonl"
        self.enabled = enabled
        self._start = time.perf_counter()

    def write(self, step: int, values: dict[str, float]) -> None:
        """Append one record; a loss that is not finite stops training (before a broken
        model is saved)."""
        bad = [k for k, v in values.items() if not math.isfinite(float(v))]
        if bad:
            raise DougaError(f"training diverged at step {step}: {bad[0]} is "
                             f"{float(values[bad[0]])}; expected finite losses (lower train.lr "
                             "or the loss weights; the last checkpoint is kept)")
        if not self.enabled:
            return
        record = {"step": step, "time": round(time.perf_counter() - self._start, 2)}
        record.update({k: round(float(v), 6) for k, v in values.items()})
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


def save_grid(rows: list[np.ndarray], path: Path) -> None:
    """Save rows of uint8 (N, H, W, 3) images as one PNG grid (1-pixel gaps)."""
    from PIL import Image

    n = max(r.shape[0] for r in rows)
    h, w = rows[0].shape[1:3]
    grid = np.full((len(rows) * (h + 1), n * (w + 1), 3), 255, dtype=np.uint8)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            grid[i * (h + 1): i * (h + 1) + h, j * (w + 1): j * (w + 1) + w] = img
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid).save(path)


def plot_curves(out: Path, keys: tuple[str, ...]) -> None:
    """Draw ``keys`` of ``out/metrics.jsonl`` against the step into ``out/curves.png``."""
    path = out / "metrics.jsonl"
    if not path.is_file():
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        points = [(r["step"], r[key]) for r in rows if key in r]
        if points:
            ax.plot(*zip(*points, strict=True), lw=1)
        ax.set_title(key)
        ax.set_xlabel("step")
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=80)
    plt.close(fig)


class Eta:
    """Progress fraction and a remaining-time estimate from the steps done so far."""

    def __init__(self, total: int, start: int) -> None:
        self.total, self.start = total, start
        self.t0 = time.perf_counter()

    def text(self, step: int) -> str:
        done = step - self.start
        if done <= 0:
            return ""
        left = (time.perf_counter() - self.t0) / done * (self.total - step)
        return f"ETA {int(left // 60)}:{int(left % 60):02d}"
