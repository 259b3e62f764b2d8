"""``douga export``: the plan for video editors (OpenTimelineIO) and animators (timesheet CSV)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from douga.cli.common import ProjectArg, _console, _guarded, _music_map, _progress, _save
from douga.errors import InputError

__all__ = ["export"]


@_guarded
def export(
    project: ProjectArg,
    otio_out: Annotated[Path | None, typer.Option(
        "--otio", help="Write an OpenTimelineIO timeline (.otio) here.")] = None,
    xsheet_out: Annotated[Path | None, typer.Option(
        "--xsheet", help="Write the anime timesheet (.csv) here.")] = None,
    analysis: Annotated[Path | None, typer.Option(
        "--analysis", help="Reuse a MusicMap JSON of the project's song.")] = None,
    video: Annotated[Path | None, typer.Option(
        "--video", help="The rendered video: in-between clips of the .otio point into it.")
    ] = None,
) -> None:
    """Export the plan for video editors (.otio) and animators (timesheet CSV).

    The .otio timeline has keyframe holds and in-betweens as clips, the song, and beats,
    downbeats, sections and lyrics as markers; the timesheet has one row per frame with
    the drawing, its timing and any effect.
    """
    from douga.export.otio import otio_text
    from douga.export.xsheet import xsheet_text
    from douga.jsonio import write_text_atomic
    from douga.music.lyrics import load_lyrics
    from douga.project import load_project
    from douga.timeline import plan_timeline

    if otio_out is None and xsheet_out is None:
        raise InputError("nothing to export: give --otio OUT.otio and/or --xsheet OUT.csv")
    if otio_out is not None and otio_out.suffix.lower() != ".otio":
        raise InputError(f"--otio {otio_out}: expected a file name ending in .otio")
    if video is not None:
        from douga.metrics.sync import check_video

        check_video(video)  # the .otio points into it: a missing or broken file fails now
    proj = load_project(project)
    lyrics = load_lyrics(proj.lyrics) if proj.lyrics is not None else []
    with _progress("analysing") as progress:
        mm = _music_map(proj.audio, analysis=analysis, song=proj.audio,
                        progress=lambda s, f: progress("analysing", f))
    tl = plan_timeline(proj, mm, effects=not proj.effects.is_none)
    if otio_out is not None:
        text = otio_text(tl, mm, song=proj.audio, keyframe_images=proj.keyframe_images(),
                         lyrics=lyrics, video=video.resolve() if video else None,
                         name=proj.base_dir.name or "douga")
        _save(lambda p: write_text_atomic(p, text), otio_out)
        _console().print(f"wrote {escape(str(otio_out))}")
    if xsheet_out is not None:
        sheet = xsheet_text(tl, mm, lyrics)
        _save(lambda p: write_text_atomic(p, sheet), xsheet_out)
        _console().print(f"wrote {escape(str(xsheet_out))}: {tl.frame_count} frames")
