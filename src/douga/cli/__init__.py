"""The ``douga`` command line: analyze, plan, new, render, inbetween, eval, demo, dataset, train.

Only this module prints, draws progress and chooses exit codes. Every DougaError
becomes one line ``error: <message>`` on stderr and exit code 2; anything else is
a bug, reported in one line with exit code 1. ``douga --debug`` (or
``DOUGA_DEBUG=1``) lets the traceback through instead. Heavy modules (librosa,
matplotlib) are imported inside the commands so that ``douga --help`` is instant.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from douga import __version__
from douga.cli.common import (
    _STATE,
    ProgressFn,
    ProjectArg,
    TemperatureOpt,
    TopKOpt,
    _console,
    _examples,
    _guarded,
    _music_map,
    _one_line,
    _outputs,
    _progress,
    _save,
    _save_json,
    _setup_logging,
    _writable,
)
from douga.cli.dataset import dataset_app
from douga.cli.export import export
from douga.cli.train import train_app
from douga.cli.video import eval_video
from douga.errors import InputError

if TYPE_CHECKING:
    import numpy as np

    from douga.music.musicmap import MusicMap
    from douga.timeline.model import Timeline

__all__ = ["app", "main"]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"douga {__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="douga",
    help="Beat-synchronised anime music videos (MAD/AMV) from a song, keyframes and text.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
eval_app = typer.Typer(
    help="Score douga against ground truth: beats, in-betweens, keyframe sync, video.",
    no_args_is_help=True,
)
app.add_typer(eval_app, name="eval")
app.add_typer(dataset_app, name="dataset")
app.add_typer(train_app, name="train")


@app.callback(epilog="Run [bold]douga COMMAND --help[/] for examples of each command.")
def _root(
    debug: Annotated[bool, typer.Option(
        "--debug", envvar="DOUGA_DEBUG", help="Show full tracebacks and debug logs.")] = False,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """douga: when every keyframe lands on the music, before anything is rendered."""
    _STATE.debug = debug
    _setup_logging(debug)


# ----------------------------------------------------------------- printing
def _print_music_map(mm: MusicMap, *, title: str) -> None:
    out = _console()
    out.print(f"[bold]{escape(title)}[/]")
    out.print(
        f"  tempo {mm.tempo:.1f} BPM · meter {mm.meter}/4 · {len(mm.beats)} beats · "
        f"{len(mm.downbeats)} downbeats · {len(mm.onsets)} onsets · {mm.duration:.2f} s"
    )
    table = Table(title="sections", title_justify="left")
    for name, justify in (("start (s)", "right"), ("end (s)", "right"), ("bar:beat", "right"),
                          ("label", "left"), ("intensity", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for s in mm.sections:
        table.add_row(f"{s.start:.2f}", f"{s.end:.2f}", mm.format_position(s.start),
                      escape(s.label), f"{s.intensity:.2f}")
    if not mm.sections:
        table.add_row("-", "-", "-", "(no sections)", "-")
    out.print(table)


def _print_schedule(tl: Timeline, mm: MusicMap, pinned: list[bool]) -> None:
    from douga.timeline import placement_position

    out = _console()
    table = Table(title=f"keyframe schedule ({tl.frame_count} frames at {tl.fps:g} fps)",
                  title_justify="left")
    for name, justify in (("#", "right"), ("image", "left"), ("bar:beat", "right"),
                          ("seconds", "right"), ("frame", "right"), ("cut", "center"),
                          ("placed", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for k in tl.keyframes:
        pos = placement_position(k, mm)
        if k.index < len(pinned) and pinned[k.index]:
            how = "pinned"
        elif k.frame == 0:
            how = "song start"
        else:
            how = "on the beat" if k.anchor is not None else "free time"
        table.add_row(str(k.index + 1), escape(Path(k.image).name), pos, f"{k.time:.3f}",
                      str(k.frame), "cut" if k.cut else "", how)
    out.print(table)
    out.print("[bold]pacing[/]")
    for line in pacing_lines(tl, mm):
        out.print("  " + escape(line))


def pacing_lines(tl: Timeline, mm: MusicMap) -> list[str]:
    """One line per section: anime timing (ones/twos/threes), keyframes, cuts, effects.

    The timing is the planner's own (``extra["pacing"]``) when the Timeline has it,
    else it is measured from the frames between the first and the last keyframe
    (the last keyframe's hold to the end of the song is not timing).
    """
    spans = [(s.label, s.start, s.end, s.intensity) for s in mm.sections]
    if not spans:
        spans = [("whole song", 0.0, tl.frame_count / tl.fps if tl.fps else 0.0, 0.0)]
    planned = {round(float(p.get("start", -1)), 3): p for p in tl.extra.get("pacing", [])
               if isinstance(p, dict)}
    last_key = max((k.frame for k in tl.keyframes), default=0)
    width = max(len(s[0]) for s in spans)
    lines = []
    for label, start, end, intensity in spans:
        f0, f1 = round(start * tl.fps), min(round(end * tl.fps), tl.frame_count)
        n_key = sum(1 for k in tl.keyframes if f0 <= k.frame < f1)
        n_cut = sum(1 for k in tl.keyframes if f0 <= k.frame < f1 and k.cut)
        n_fx = sum(1 for e in tl.effects if f0 <= e.frame < f1)
        plan = planned.get(round(start, 3))
        if plan is not None and "timing" in plan:
            timing = f"on {plan['timing']}"
            if "hold_frames" in plan:
                hold = float(plan["hold_frames"])
                timing += f" ({hold:g} frame{'' if hold == 1 else 's'} per drawing)"
        else:
            timing = _measured_timing(tl, f0, min(f1, last_key))
        lines.append(
            f"{label:<{width}}  {start:6.2f}-{end:6.2f} s  intensity {intensity:.2f}  {timing}, "
            f"{n_key} keyframe{'s' * (n_key != 1)}, {n_cut} cut{'s' * (n_cut != 1)}, "
            f"{n_fx} effect{'s' * (n_fx != 1)}"
        )
    return lines


def _measured_timing(tl: Timeline, f0: int, f1: int) -> str:
    frames = tl.frames[f0:f1]
    drawings = sum(1 for f in frames if f.kind != "hold")
    if not drawings:
        return "held"
    # anime timing is counted at 24 fps: on twos = each drawing lasts 1/12 s
    per = len(frames) / drawings
    at24 = per * 24.0 / tl.fps
    name = "ones" if at24 < 1.5 else "twos" if at24 < 2.5 else "threes"
    return f"on {name} ({per:.1f} frames per drawing)"


def _check_project_files(proj: Any) -> int:
    """Check every keyframe image and the lyrics now, before minutes of work later.

    Returns the number of lyric lines (0 without lyrics).
    """
    from douga.effects.text import check_font
    from douga.generators.base import generator_takes
    from douga.images import check_image
    from douga.music.lyrics import load_lyrics

    for kf in proj.keyframes:
        check_image(kf.image)
    generator_takes(proj.generator, "checkpoint")  # an unknown name fails now
    if proj.effects.font is not None:
        check_font(proj.effects)
    return len(load_lyrics(proj.lyrics)) if proj.lyrics is not None else 0


def _print_written(report: Any, work: str = "") -> None:
    """One line: what a render wrote, and how long it took against the song."""
    speed = report.seconds / max(report.duration, 1e-9)
    _console().print(
        f"wrote {escape(str(report.path))}: {report.width}x{report.height}, "
        f"{report.fps:g} fps, {report.frame_count} frames ({report.duration:.2f} s); "
        f"{work}{report.seconds:.1f} s ({speed:.2f}x the song's length)")


def _load_song(path: Path, progress: ProgressFn) -> tuple[np.ndarray, int]:
    from douga.music.audio import load_audio

    progress("decoding", 0.0)
    return load_audio(path)


# ----------------------------------------------------------------- commands
@app.command(epilog=_examples(
    "douga analyze song.mp3",
    "douga analyze song.wav --json song.map.json --plot song.png",
))
@_guarded
def analyze(
    song: Annotated[Path, typer.Argument(help="Audio file: wav, flac, mp3, ogg, m4a...")],
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Write the MusicMap (beats, downbeats, sections...) as JSON here.")] = None,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Draw waveform, onset envelope, beats and sections into this PNG.")] = None,
) -> None:
    """Find the tempo, beats, downbeats, meter, sections and intensity of a song."""
    from douga.music.analyze import analyze_music

    _outputs(json_out, plot)

    with _progress("analysing") as progress:
        y, sr = _load_song(song, progress)
        mm = analyze_music((y, sr), progress=progress)
    _print_music_map(mm, title=str(song))
    _write_outputs(mm, y, sr, json_out=json_out, plot=plot)


def _write_outputs(mm: MusicMap, y: np.ndarray | None, sr: int, *, json_out: Path | None,
                   plot: Path | None, timeline: Timeline | None = None) -> None:
    out = _console()
    if json_out is not None:
        _save((timeline or mm).save, json_out)
        out.print(f"wrote {escape(str(json_out))}")
    if plot is not None and y is not None:
        from douga.plots import plot_analysis

        plot_analysis(mm, y, sr, _writable(plot), timeline=timeline)
        out.print(f"wrote {escape(str(plot))}")


@app.command(epilog=_examples(
    "douga plan project.yaml",
    "douga plan project.yaml --json plan.json --plot plan.png",
    "douga plan project.yaml --analysis map.json --cut-at-sections --no-effects",
))
@_guarded
def plan(
    project: ProjectArg,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Write the Timeline (keyframes, frames, effects) as JSON here.")] = None,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Draw the analysis with the keyframe positions into this PNG.")] = None,
    analysis: Annotated[Path | None, typer.Option(
        "--analysis", help="Reuse a MusicMap JSON from `douga analyze --json` "
        "instead of analysing the song again.")] = None,
    cut_at_sections: Annotated[bool, typer.Option(
        "--cut-at-sections", help="Also cut (no in-between) at every section boundary.")] = False,
    effects: Annotated[bool, typer.Option(
        "--effects/--no-effects", help="Schedule flash, zoom-punch and shake events.")] = True,
) -> None:
    """Decide when every keyframe appears, on the beat, and how each section is paced."""
    from douga.project import load_project
    from douga.timeline import plan_timeline

    proj = load_project(project)
    n_lyrics = _check_project_files(proj)
    _outputs(json_out, plot)
    y: np.ndarray | None = None
    sr = 0
    with _progress("analysing") as progress:
        if analysis is None or plot is not None:
            y, sr = _load_song(proj.audio, progress)
        mm = _music_map(proj.audio if y is None else (y, sr), analysis=analysis,
                        song=proj.audio, progress=progress)
    tl = plan_timeline(proj, mm, cut_at_sections=cut_at_sections, effects=effects)
    out = _console()
    out.print(f"[bold]{escape(str(project))}[/]: {len(proj.keyframes)} keyframes on "
              f"{escape(proj.audio.name)} ({mm.tempo:.1f} BPM, {mm.meter}/4, {mm.duration:.2f} s)"
              + (f", {n_lyrics} lyric lines" if proj.lyrics is not None else ""))
    _print_schedule(tl, mm, [k.at is not None for k in proj.keyframes])
    _write_outputs(mm, y, sr, json_out=json_out, plot=plot, timeline=tl)


@app.command(
    epilog=_examples(
        'douga new my_video --song song.mp3 --images "keyframes/*.png"',
        "douga new my_video --song song.wav --images kf/01.png kf/02.png --force",
    ),
    context_settings={"allow_extra_args": True},
)
@_guarded
def new(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Folder for the new project (created).")],
    song: Annotated[Path, typer.Option("--song", help="The song (audio file).")],
    images: Annotated[str, typer.Option(
        "--images", help='Keyframe images: a quoted glob such as "kf/*.png" (sorted by name), '
        "or several files.")],
    force: Annotated[bool, typer.Option(
        "--force", help="Overwrite an existing project.yaml.")] = False,
) -> None:
    """Scaffold a project.yaml from a song and a folder of keyframe images."""
    from douga.project import load_project, new_project

    target = directory / "project.yaml"
    if target.exists() and not force:
        raise InputError(f"{target}: already exists; pass --force to overwrite it")
    # an unquoted glob reaches us expanded by the shell: the extra names are images too
    patterns = [images, *[a for a in ctx.args if not a.startswith("-")]]
    path = new_project(directory, song=song, images=patterns if len(patterns) > 1 else images,
                       overwrite=force)
    proj = load_project(path)
    out = _console()
    out.print(f"wrote {escape(str(path))}: {escape(proj.audio.name)}, "
              f"{len(proj.keyframes)} keyframes, {proj.output.width}x{proj.output.height} "
              f"at {proj.output.fps:g} fps")
    out.print(f"next: [cyan]douga plan {escape(str(path))}[/]")


@eval_app.command("beats", epilog=_examples(
    "douga eval beats data/beat_eval",
    "douga eval beats data/beat_eval --json scores.json",
))
@_guarded
def eval_beats(
    directory: Annotated[Path, typer.Argument(
        help="Folder of NAME.wav + NAME.beats.txt (+ optional NAME.downbeats.txt), "
        "one time in seconds per line.")],
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Write the per-piece scores and the means as JSON here.")] = None,
) -> None:
    """Score beat and downbeat tracking with mir_eval (F-measure ±70 ms, CMLt, AMLt).

    The first 5 s of every piece are skipped, as is usual in beat-tracking evaluation.
    """
    import dataclasses

    from douga.metrics.beats import score_folder, summarize

    _outputs(json_out)

    with _progress("scoring") as progress:
        scores = score_folder(
            directory, progress=lambda done, total, name: progress(name, done / max(total, 1)))
    mean = summarize(scores)
    table = Table(title=f"beat tracking on {escape(str(directory))}", title_justify="left")
    table.add_column("piece")
    for name in ("beat F", "CMLt", "AMLt", "downbeat F", "seconds"):
        table.add_column(name, justify="right")

    def num(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    for s in scores:
        down = s.downbeats.f_measure if s.downbeats is not None else None
        table.add_row(escape(s.name), num(s.beats.f_measure), num(s.beats.cmlt),
                      num(s.beats.amlt), num(down), f"{s.seconds:.1f}")
    table.add_section()
    table.add_row(f"[bold]mean of {mean.n_pieces}[/]", *(f"[bold]{num(x)}[/]" for x in (
        mean.f_measure, mean.cmlt, mean.amlt, mean.downbeat_f_measure)),
        f"{mean.seconds / max(mean.n_pieces, 1):.1f}")
    out = _console()
    out.print(table)
    if json_out is not None:
        payload = {"pieces": [dataclasses.asdict(s) for s in scores],
                   "mean": dataclasses.asdict(mean)}
        _save_json(payload, json_out)
        out.print(f"wrote {escape(str(json_out))}")


@app.command(epilog=_examples(
    "douga render project.yaml",
    "douga render project.yaml -o mad.mp4 --generator crossfade",
    "douga render project.yaml --preview          # fast low-resolution draft",
    "douga render project.yaml --generator learned --checkpoint runs/digits-tf/model",
))
@_guarded
def render(
    project: ProjectArg,
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", help="The mp4 to write (default: video.mp4 beside the project, "
        "preview.mp4 with --preview).")] = None,
    generator: Annotated[str | None, typer.Option(
        "--generator", help="In-betweening generator (default: the project's, else flow).")
    ] = None,
    checkpoint: Annotated[Path | None, typer.Option(
        "--checkpoint", help="Model folder for the learned generator (default: the project's).")
    ] = None,
    temperature: TemperatureOpt = None,
    top_k: TopKOpt = None,
    preview: Annotated[bool, typer.Option(
        "--preview", help="A fast draft at 360 lines with a quick encoder.")] = False,
    cache: Annotated[bool, typer.Option(
        "--cache/--no-cache", help="Keep finished shots in .douga-cache/ beside the video, "
        "so a rerun after an interruption or an edit renders only what changed.")] = True,
) -> None:
    """Render the music video: analyse, plan, in-between, add effects and encode H.264 + AAC.

    The plan it followed is written beside the video as NAME.plan.json (for
    `douga eval sync VIDEO --plan NAME.plan.json`).
    """
    from douga.pipeline import RenderSettings, render_project
    from douga.project import load_project

    proj = load_project(project)
    _check_project_files(proj)
    target = out if out is not None else proj.base_dir / ("preview.mp4" if preview else "video.mp4")
    plan_path = target.with_suffix(".plan.json")
    _outputs(target, plan_path)
    settings = RenderSettings(generator=generator, checkpoint=checkpoint,
                              temperature=temperature, top_k=top_k, preview=preview, cache=cache)
    with _progress("rendering", eta=True) as progress:
        report, timeline = render_project(proj, target, settings=settings, progress=progress)
    _save(timeline.save, plan_path)
    _print_written(report, f"{report.shots_rendered} shots rendered, "
                           f"{report.shots_cached} from the cache; ")
    _console().print(f"plan: {escape(str(plan_path))}")


@app.command(epilog=_examples(
    "douga guided project.yaml -o guided.mp4",
    "douga guided project.yaml --preview",
))
@_guarded
def guided(
    project: Annotated[Path, typer.Argument(help="The project file, with a guidance: key.")],
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", help="The mp4 to write (default: guided.mp4 beside the project, "
        "guided-preview.mp4 with --preview).")] = None,
    preview: Annotated[bool, typer.Option(
        "--preview", help="A draft at 360 lines with a quick encoder.")] = False,
    device: Annotated[str | None, typer.Option(
        "--device", help="torch device such as cpu or cuda (default: cuda when available).")
    ] = None,
) -> None:
    """Make a whole music video from prompts, lyrics and music (VQGAN-CLIP + Music2Video).

    The song is cut into segments at strong beats, sections and lyric lines; each
    segment's images follow its lyric or its sound (Wav2CLIP) and the scheduled
    prompts, as many images per second as the music is intense. Keyframes, if any,
    land on their planned frames. Needs CLIP weights: see `guidance:` in the README.
    """
    from douga.pipeline import render_guided
    from douga.project import load_project

    proj = load_project(project)
    _check_project_files(proj)
    name = "guided-preview.mp4" if preview else "guided.mp4"
    target = out if out is not None else proj.base_dir / name
    _writable(target)
    with _progress("guiding", eta=True) as progress:
        report = render_guided(proj, target, preview=preview, device=device, progress=progress)
    _print_written(report)


@app.command(epilog=_examples(
    "douga inbetween kf/01.png kf/02.png --frames 8 --out between/",
    "douga inbetween a.png b.png --frames 12 --out out/ --generator crossfade",
    "douga inbetween a.png b.png --frames 16 --out out/ --generator learned "
    "--checkpoint runs/digits-tf/model --text 'the ball hops over to the right'",
    "douga inbetween a.png b.png --frames 8 --out out/ --generator clip "
    "--clip models/clip-vit-base-patch32 --text 'cherry blossoms'",
))
@_guarded
def inbetween(
    first: Annotated[Path, typer.Argument(help="Keyframe A (shown on frame 0).")],
    second: Annotated[Path, typer.Argument(help="Keyframe B (shown on frame N).")],
    frames: Annotated[int, typer.Option(
        "--frames", min=2, max=10000, help="N: the keyframes are N frames apart.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for 0001.png … {N-1}.png.")],
    generator: Annotated[str, typer.Option("--generator", help="In-betweening generator.")
    ] = "flow",
    checkpoint: Annotated[Path | None, typer.Option(
        "--checkpoint", help="Model folder for the learned generator.")] = None,
    temperature: TemperatureOpt = None,
    top_k: TopKOpt = None,
    clip: Annotated[Path | None, typer.Option(
        "--clip", help="CLIP checkpoint folder for the clip generator.")] = None,
    text: Annotated[str, typer.Option(
        "--text", help="What happens between the keyframes (for generators that read text).")
    ] = "",
    seed: Annotated[int, typer.Option("--seed", help="Seed for generators that sample.")] = 0,
    fit: Annotated[str, typer.Option(
        "--fit", help="How B is fitted to A's size when they differ: contain, cover, stretch.")
    ] = "contain",
) -> None:
    """Draw the N−1 in-betweens of two keyframes that are N frames apart."""
    from douga.generators import PairContext
    from douga.images import FIT_MODES, fit_image, load_image, save_frames
    from douga.pipeline import make_generator, sampling_for
    from douga.project import SamplingSpec

    if fit not in FIT_MODES:
        raise InputError(f"--fit {fit}: expected one of {', '.join(FIT_MODES)}")
    from douga.guided.settings import GuidanceSpec

    stale = sorted(p.name for p in out.glob("[0-9][0-9][0-9][0-9].png") if int(p.stem) >= frames)
    if stale:
        raise InputError(f"--out {out}: already holds {stale[0]}, past the {frames - 1} frames "
                         "this run writes; expected a folder without an earlier, longer "
                         "sequence (remove it or choose another folder)")
    sampling = sampling_for(generator, SamplingSpec(), temperature=temperature, top_k=top_k)
    gen = make_generator(generator, checkpoint, sampling=sampling,
                         guidance=GuidanceSpec(clip=str(clip)) if clip is not None else None)
    a = load_image(first)
    b = fit_image(load_image(second), a.shape[1], a.shape[0], mode=fit)  # type: ignore[arg-type]

    ts = [k / frames for k in range(1, frames)]
    with _progress("in-betweening") as progress:
        def numbered() -> Iterator[np.ndarray]:
            context = PairContext(text_a=text, text_b=text, seed=seed)
            for k, frame in enumerate(gen.inbetween(a, b, ts, context=context), start=1):
                progress(generator, k / len(ts))
                yield frame

        written = save_frames(numbered(), out, first_index=1)
    _console().print(f"wrote {written} in-betweens ({generator}) to {escape(str(out))}/")


@eval_app.command("inbetween", epilog=_examples(
    "douga eval inbetween data/inbetween_eval",
    "douga eval inbetween data/inbetween_eval --generators flow --json scores.json",
))
@_guarded
def eval_inbetween(
    directory: Annotated[Path, typer.Argument(
        help="Folder of sequences: NAME/0000.png … plus NAME/keyframes.txt "
        "(one keyframe frame index per line).")],
    generators: Annotated[str | None, typer.Option(
        "--generators", help="Comma-separated generator names (default: all); "
        "crossfade is always scored as the baseline.")] = None,
    checkpoint: Annotated[Path | None, typer.Option(
        "--checkpoint", help="Model folder for the learned generator.")] = None,
    temperature: TemperatureOpt = None,
    top_k: TopKOpt = None,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Write every score as JSON here.")] = None,
) -> None:
    """Score in-betweens against the real frames: PSNR, SSIM and frame accuracy (SSIM ≥ 0.9)."""
    from douga.metrics.inbetween import format_table, score_folder

    _outputs(json_out)

    names = [n.strip() for n in generators.split(",") if n.strip()] if generators else None
    with _progress("scoring") as progress:
        report = score_folder(directory, generators=names, checkpoint=checkpoint,
                              sampling={"temperature": temperature, "top_k": top_k},
                              progress=lambda done, total, name: progress(name, done / total))
    _console().print(escape(format_table(report)))
    if json_out is not None:
        _save_json(report.to_dict(), json_out)


@eval_app.command("sync", epilog=_examples(
    "douga eval sync video.mp4 --audio song.wav --plan video.plan.json",
    "douga eval sync video.mp4          # beats from the video's own soundtrack",
))
@_guarded
def eval_sync(
    video: Annotated[Path, typer.Argument(help="A rendered video.")],
    audio: Annotated[Path | None, typer.Option(
        "--audio", help="The song (default: the video's own audio track).")] = None,
    plan: Annotated[Path | None, typer.Option(
        "--plan", help="The Timeline JSON the video was rendered from (`douga render` writes "
        "NAME.plan.json): each keyframe's offset from its musical anchor is measured.")] = None,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Write the full result as JSON here.")] = None,
) -> None:
    """Check a video against its music: keyframe offsets, and visual accents on the beats.

    Visual beats are the peaks of frame-to-frame change in the decoded video; the beat
    alignment score is the mean over music beats of exp(−d²/2σ²), σ = 3 frames.
    """
    from douga.metrics.sync import evaluate_sync, format_report

    _outputs(json_out)

    with _progress("checking sync") as progress:
        result = evaluate_sync(video, audio=audio, plan=plan, progress=progress)
    _console().print(escape(format_report(result)))
    if json_out is not None:
        _save_json(result.to_dict(), json_out)


eval_app.command("video", epilog=_examples(
    "douga eval video data/clips",
    "douga eval video data/clips --generators flow,learned --checkpoint runs/learned --runs 5",
    "douga eval video data/clips --max-clips 50 --inception pt_inception-2015-12-05-6726825d.pth "
    "--i3d rgb_imagenet.pt --json video_scores.json",
))(eval_video)


@app.command(epilog=_examples(
    "douga ui",
    "douga ui --root ~/mads --port 8000",
))
@_guarded
def ui(
    root: Annotated[Path, typer.Option(
        "--root", help="The workspace: the only folder the UI reads and writes (projects are "
        "its sub-folders).")] = Path("."),
    host: Annotated[str, typer.Option(
        "--host", help="Address to listen on; 127.0.0.1 keeps it to this computer.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 7860,
) -> None:
    """Start douga studio, the web UI, at http://HOST:PORT (Ctrl+C stops it)."""
    from douga.ui.app import launch

    if host not in ("127.0.0.1", "localhost", "::1"):
        _console().print(f"[yellow]warning[/]: listening on {escape(host)}: anyone who can "
                         "reach this computer can use douga and the files under --root")
    _console().print(f"douga studio: http://{escape(host)}:{port} (workspace "
                     f"{escape(str(root.resolve()))})")
    launch(root, host=host, port=port)


app.command(name="export", epilog=_examples(
    "douga export project.yaml --otio mad.otio",
    "douga export project.yaml --xsheet timesheet.csv --analysis song.map.json",
    "douga export project.yaml --otio mad.otio --video video.mp4",
))(export)


@app.command(epilog=_examples("douga demo", "douga demo --out /tmp/douga_demo --seed 3"))
@_guarded
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the demo into.")] = Path(
        "demo_out"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the song and drawings.")] = 0,
    seconds: Annotated[float, typer.Option(
        "--seconds", min=6.0, max=600.0, help="Length of the demo song.")] = 40.0,
    video: Annotated[bool, typer.Option(
        "--video/--no-video", help="Render the demo video (demo.mp4).")] = True,
    preview: Annotated[bool, typer.Option(
        "--preview", help="Render a fast low-resolution draft instead.")] = False,
) -> None:
    """Make a demo project (song, keyframes, lyrics) procedurally, analyse, plan and render it."""
    from douga.demo import write_demo_project
    from douga.music.analyze import analyze_music
    from douga.pipeline import RenderSettings, render_project
    from douga.project import load_project
    from douga.timeline import plan_timeline

    console = _console()
    with _progress("demo") as progress:
        progress("writing the demo project", 0.0)
        project_path = write_demo_project(out, seed=seed, seconds=seconds)
        proj = load_project(project_path)
        _check_project_files(proj)
        y, sr = _load_song(proj.audio, progress)
        mm = analyze_music((y, sr), progress=progress)
    _print_music_map(mm, title=f"{proj.audio} (procedural demo song)")
    tl = plan_timeline(proj, mm)
    _print_schedule(tl, mm, [k.at is not None for k in proj.keyframes])
    _write_outputs(mm, y, sr, json_out=out / "analysis.json", plot=out / "analysis.png")
    _write_outputs(mm, y, sr, json_out=out / "plan.json", plot=out / "plan.png", timeline=tl)
    console.print(
        f"wrote the demo project {escape(str(project_path))} with "
        f"{escape(str(proj.audio.name))}, {len(proj.keyframes)} keyframes in "
        f"{escape(str(out / 'kf'))}/ and lyrics.lrc"
    )
    if not video:
        console.print(f"next: [cyan]douga render {escape(str(project_path))}[/]")
        return
    with _progress("rendering the demo", eta=True) as progress:
        report, tl = render_project(proj, out / "demo.mp4", music_map=mm, progress=progress,
                                    settings=RenderSettings(preview=preview))
    _save(tl.save, out / "demo.plan.json")
    console.print(
        f"wrote {escape(str(report.path))}: {report.width}x{report.height}, "
        f"{report.frame_count} frames, {report.duration:.2f} s, rendered in {report.seconds:.1f} s")
    console.print(f"next: [cyan]douga eval sync {escape(str(report.path))} --plan "
                  f"{escape(str(out / 'demo.plan.json'))}[/]")


def main() -> None:
    """Console-script entry point (``douga``)."""
    # `kill` and timeouts send SIGTERM: stop as on Ctrl-C, removing half-written files
    signal.signal(signal.SIGTERM, _terminate)
    try:
        code = app(prog_name="douga", standalone_mode=False)
    except typer.Abort:
        sys.stderr.write("error: aborted\n")
        code = 1
    except Exception as e:
        # click's usage errors (a bad option value, a missing argument), matched by shape:
        # newer typer versions carry their own copy of click
        exit_code = getattr(e, "exit_code", None)
        if not (hasattr(e, "format_message") and isinstance(exit_code, int)):
            raise
        if type(e).__name__ == "NoArgsIsHelpError":  # `douga eval`: the help, as usual
            sys.stderr.write(e.format_message() + "\n")
        else:
            ctx = getattr(e, "ctx", None)
            where = ctx.command_path if ctx is not None else "douga"
            sys.stderr.write(f"error: {where}: {_one_line(e.format_message())} "
                             f"(`{where} -h` lists the options)\n")
        code = exit_code
    sys.exit(code if isinstance(code, int) else 0)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
