"""``douga dataset ...``: build the clip data sets the learned models train on.

Every command writes the format of :mod:`douga.training.clips` (shards of uint8
clips with captions, split by scene), atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from douga.cli.common import _console, _examples, _guarded, _progress

dataset_app = typer.Typer(
    help="Build clip data sets for the learned generator (videos, moving digits, cel).",
    no_args_is_help=True,
)

# options every data set command shares
Out = Annotated[Path, typer.Option(
    "--out", "-o", help="The data set folder to create.", show_default=False)]
Clips = Annotated[int, typer.Option("--clips", help="Clips in all (over all splits).")]
Seed = Annotated[int, typer.Option("--seed", help="Same seed, same data set.")]
Side = Annotated[int, typer.Option("--size", help="Frame side in pixels (square frames).")]
Val = Annotated[float, typer.Option(
    "--val", help="Share of scenes for validation (each synthetic clip is its own scene).")]
Test = Annotated[float, typer.Option("--test", help="Share of scenes for test.")]
Overwrite = Annotated[bool, typer.Option(
    "--overwrite", help="Replace an existing data set at --out.")]


# ------------------------------------------------------------ dataset build (videos)
@dataset_app.command("build", epilog=_examples(
    "douga dataset build ep01.mkv ep02.mkv --out data/anime",
    "douga dataset build ep01.mkv ep02.mkv --subs ep01.ass --subs ep02.srt --out data/anime",
    "douga dataset build ep*.mkv --out data/anime-128 --size 128x256 --threshold 20",
))
@_guarded
def build(
    videos: Annotated[list[Path], typer.Argument(
        help="Video files (anime episodes), any format FFmpeg reads.", show_default=False)],
    out: Out,
    subs: Annotated[list[Path] | None, typer.Option(
        "--subs", help="An SRT/ASS file per video, in the same order (repeat the option); "
        "the subtitle lines overlapping a clip become its caption.", show_default=False)
    ] = None,
    threshold: Annotated[float, typer.Option(
        "--threshold", help="Cut threshold of PySceneDetect's ContentDetector "
        "(lower finds more cuts).")] = 15.0,
    min_scene: Annotated[float, typer.Option(
        "--min-scene", help="Drop scenes shorter than this many seconds.")] = 0.5,
    min_frames: Annotated[int, typer.Option("--min-frames", help="Shortest clip, frames.")
    ] = 15,
    max_frames: Annotated[int, typer.Option("--max-frames", help="Longest clip, frames.")
    ] = 25,
    size: Annotated[str, typer.Option(
        "--size", help="Clip frame size HEIGHTxWIDTH in pixels (64x128: 64 high, 128 wide).")
    ] = "64x128",
    fit: Annotated[str, typer.Option(
        "--fit", help="Other aspect ratios: cover (crop the overflow), stretch, or contain "
        "(black bars).")] = "cover",
    val: Val = 0.1,
    test: Test = 0.1,
    overwrite: Overwrite = False,
) -> None:
    """Cut videos into a clip data set: scenes (PySceneDetect), then 15-25-frame clips.

    Each scene loses its first two frames (often still the previous shot) and is cut
    into consecutive clips of --min-frames to --max-frames, as even as possible;
    scenes too short for one clip are dropped. Scenes go to train/val/test whole.
    """
    from douga.training.scenes import SceneClipSettings, build_clip_dataset, parse_frame_size

    height, width = parse_frame_size(size)
    settings = SceneClipSettings(
        threshold=threshold, min_scene=min_scene, min_frames=min_frames,
        max_frames=max_frames, height=height, width=width, fit=fit,  # type: ignore[arg-type]
        val=val, test=test)
    with _progress("cutting clips", eta=True) as progress:
        report = build_clip_dataset(videos, out, subtitles=subs, settings=settings,
                                    overwrite=overwrite, progress=progress)
    c = report.clips
    _console().print(
        f"wrote {escape(str(report.out))}: {report.videos} video(s), {report.scenes_used} of "
        f"{report.scenes} scenes used, clips train {c['train']} / val {c['val']} / "
        f"test {c['test']} ({report.frames} frames at {height}x{width})")


# ------------------------------------------------- synthetic sets (moving digits, cel)
def _synthetic_summary(out: Path, counts: dict[str, int], frames: int, size: int) -> None:
    _console().print(
        f"wrote {escape(str(out))}: {sum(counts.values())} clips, train {counts['train']} / "
        f"val {counts['val']} / test {counts['test']} ({frames} frames at {size}x{size})")


@dataset_app.command("moving-digits", epilog=_examples(
    "douga dataset moving-digits --out data/digits",
    "douga dataset moving-digits --out data/digits-1k --clips 1000 --seed 1",
    "douga dataset moving-digits --out data/digits-96 --size 96 --frames 24 --digits 3",
))
@_guarded
def moving_digits(
    out: Out,
    clips: Clips = 10000,
    seed: Seed = 0,
    frames: Annotated[int, typer.Option("--frames", help="Frames per clip (at least 3).")] = 20,
    size: Side = 64,
    digits: Annotated[int, typer.Option("--digits", help="Moving digits per clip (1-10).")] = 2,
    val: Val = 0.1,
    test: Test = 0.1,
    overwrite: Overwrite = False,
) -> None:
    """Moving-MNIST-style clips: white digits bouncing on black, with a caption of the motion.

    Digits come from Pillow's bundled font at random sizes, stroke widths and small
    tilts; the caption says where each digit goes and where it bounces ("the 3 moves
    right and down, bounces off the bottom wall and moves right and up; the 7 moves left").
    """
    from douga.training.moving_digits import write_moving_digits

    with _progress("generating", eta=True) as progress:
        counts = write_moving_digits(out, clips=clips, seed=seed, frames=frames, size=size,
                                     digits=digits, val=val, test=test, overwrite=overwrite,
                                     progress=progress)
    _synthetic_summary(out, counts, frames, size)


@dataset_app.command("cel", epilog=_examples(
    "douga dataset cel --out data/cel",
    "douga dataset cel --out data/cel-1k --clips 1000 --seed 1",
    "douga dataset cel --out data/cel-96 --size 96 --frames 24",
))
@_guarded
def cel(
    out: Out,
    clips: Clips = 10000,
    seed: Seed = 0,
    frames: Annotated[int, typer.Option("--frames", help="Frames per clip (at least 6).")] = 20,
    size: Side = 64,
    val: Val = 0.1,
    test: Test = 0.1,
    overwrite: Overwrite = False,
) -> None:
    """Captioned cel animation: flat-colour figures that move as their captions say.

    Captions come in groups whose alternatives share the first and last frame but
    not the path ("the red ball hops over to the right" / "slides to the right" /
    "swoops down and over to the right"; moves up / down / left / right and comes
    back, or stays still; circles or spins clockwise / counterclockwise), so only
    the text tells a model which in-betweens to draw.
    douga.training.cel.measure_alternative tells from frames which one happened.
    """
    from douga.training.cel import write_cel

    with _progress("generating", eta=True) as progress:
        counts = write_cel(out, clips=clips, seed=seed, frames=frames, size=size, val=val,
                           test=test, overwrite=overwrite, progress=progress)
    _synthetic_summary(out, counts, frames, size)
