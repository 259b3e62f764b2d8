"""douga studio: the Gradio app behind ``douga ui``.

One page, top to bottom as the work goes: pick or create a project folder, upload
the song, keyframes and lyrics, edit the keyframe schedule (order, text, pins, cuts),
analyse (the waveform with beats, downbeats, sections and where each keyframe lands),
choose a generator (those missing weights are listed with the reason), render a
preview or the full video with progress, and download the video, ``project.yaml``
and the plan JSON. Every handler turns douga's errors into a message in the page; the
app keeps running. The logic lives in :mod:`douga.ui.workspace`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from douga.errors import DougaError, MissingDependency
from douga.ui.workspace import (
    AUDIO_SUFFIXES,
    MAX_BYTES,
    SCHEDULE_COLUMNS,
    Workspace,
    generator_status,
    schedule_rows,
)

__all__ = ["build_app", "launch"]


def _gradio() -> Any:
    try:
        import gradio as gr
    except ImportError:
        raise MissingDependency("douga ui needs Gradio: pip install 'douga[ui]'") from None
    return gr


def _generators_text(statuses: list[Any]) -> str:
    lines = ["| generator | status |", "|---|---|"]
    for s in statuses:
        lines.append(f"| {s.name} | {'available' if s.available else 'unavailable: ' + s.reason} |")
    return "\n".join(lines)


def build_app(root: str | Path, *, name: str = "untitled") -> Any:
    """The Gradio Blocks app on the workspace ``root`` (starting in its folder ``name``)."""
    gr = _gradio()
    from douga.project import IMAGE_SUFFIXES, LYRICS_SUFFIXES

    def workspace(folder: str) -> Workspace:
        try:
            return Workspace(root, folder or "untitled")
        except DougaError as e:
            raise gr.Error(str(e)) from None

    def view(ws: Workspace) -> tuple[Any, ...]:
        """Everything the page shows of the project: folder, message, table, style, output,
        generator menu and their status."""
        project = ws.project()
        statuses = generator_status(project)
        usable = [s.name for s in statuses if s.available]
        chosen = project.generator if project and project.generator in usable else "flow"
        rows = schedule_rows(project) if project else []
        message = (f"**{ws.folder.relative_to(ws.root)}**: " + (
            f"{len(project.keyframes)} keyframes, song `{project.audio.name}`"
            + (f", lyrics `{project.lyrics.name}`" if project.lyrics else "")
            if project else "new project: upload a song and keyframes"))
        out = project.output if project else None
        here = str(ws.folder.relative_to(ws.root))
        return (gr.update(choices=sorted({*ws.listing(), here}), value=here), message, rows,
                (project.style or "") if project else "",
                out.width if out else 1280, out.height if out else 720, out.fps if out else 24,
                gr.update(choices=usable, value=chosen), _generators_text(statuses))

    def guarded(fn: Any) -> Any:
        @functools.wraps(fn)  # Gradio reads the signature (for gr.Progress) through it
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except DougaError as e:
                raise gr.Error(str(e), print_exception=False) from None
        return run

    @guarded
    def open_folder(folder: str) -> tuple[Any, ...]:
        ws = workspace(folder)
        if ws.project_file.is_file():
            ws.open(folder)
        return view(ws)

    @guarded
    def add_files(folder: str, song: str | None, keyframes: list[str] | None,
                  lyrics: str | None) -> tuple[Any, ...]:
        ws = workspace(folder)
        ws.add(song=song or None, keyframes=keyframes or [], lyrics=lyrics or None)
        return view(ws)

    @guarded
    def save_settings(folder: str, rows: Any, style: str, width: float, height: float,
                      fps: float, generator: str | None) -> tuple[Any, ...]:
        ws = workspace(folder)
        table = rows.values.tolist() if hasattr(rows, "values") else list(rows or [])
        for label, value in (("width", width), ("height", height), ("fps", fps)):
            if value is None:
                raise DougaError(f"{label}: empty; expected a number")
        ws.edit(table, style=(style or "").strip() or None, generator=generator or None,
                output={"width": int(width), "height": int(height), "fps": float(fps)})
        return view(ws)

    @guarded
    def analyse(folder: str, progress: Any = gr.Progress()) -> tuple[str, str]:
        from douga.music.analyze import analyze_music
        from douga.music.audio import load_audio
        from douga.plots import plot_analysis
        from douga.timeline import placement_position, plan_timeline

        ws = workspace(folder)
        project = ws.project()
        if project is None:
            raise DougaError("no project yet: upload a song and keyframes first")
        y, sr = load_audio(project.audio)
        mm = analyze_music((y, sr), progress=lambda stage, f: progress(f, desc=stage))
        tl = plan_timeline(project, mm, effects=not project.effects.is_none)
        mm.save(ws.folder / "analysis.json")
        tl.save(ws.folder / "plan.json")
        png = ws.folder / "analysis.png"
        plot_analysis(mm, y, sr, png, timeline=tl)
        lines = [f"**{mm.tempo:.1f} BPM**, {mm.meter} beats a bar, {mm.duration:.2f} s, "
                 f"{len(mm.beats)} beats, {len(mm.sections)} sections", "",
                 "| # | image | bar:beat | seconds | frame | cut |", "|---|---|---|---|---|---|"]
        for k in tl.keyframes:
            lines.append(f"| {k.index + 1} | {Path(k.image).name} | "
                         f"{placement_position(k, mm)} | {k.time:.2f} | "
                         f"{k.frame} | {'cut' if k.cut else ''} |")
        return str(png), "\n".join(lines)

    def render(folder: str, generator: str | None, preview: bool,
               progress: Any) -> tuple[str, list[str]]:
        from douga.pipeline import RenderSettings, render_project

        ws = workspace(folder)
        project = ws.project()
        if project is None:
            raise DougaError("no project yet: upload a song and keyframes first")
        out = ws.folder / ("preview.mp4" if preview else "video.mp4")
        settings = RenderSettings(generator=generator or None, preview=preview)
        _, timeline = render_project(project, out, settings=settings,
                                     progress=lambda stage, f: progress(f, desc=stage))
        plan = out.with_suffix(".plan.json")
        timeline.save(plan)
        return str(out), [str(out), str(ws.project_file), str(plan)]

    @guarded
    def render_preview(folder: str, generator: str | None,
                       progress: Any = gr.Progress()) -> tuple[str, list[str]]:
        return render(folder, generator, True, progress)

    @guarded
    def render_full(folder: str, generator: str | None,
                    progress: Any = gr.Progress()) -> tuple[str, list[str]]:
        return render(folder, generator, False, progress)

    with gr.Blocks(title="douga studio") as app:
        gr.Markdown("# douga studio\nSong + keyframes + text → a beat-synchronised MAD.")
        with gr.Row():
            folder = gr.Dropdown(choices=[name], value=name, allow_custom_value=True,
                                 label="Project folder (inside the workspace): pick one or "
                                       "type a new name", elem_id="folder", scale=3)
            open_btn = gr.Button("Open or create", elem_id="open", scale=1)
        message = gr.Markdown(elem_id="message")
        with gr.Row():
            song = gr.File(label="Song", file_types=list(AUDIO_SUFFIXES), elem_id="song")
            keyframes = gr.File(label="Keyframes (drag to reorder)", file_count="multiple",
                                elem_id="keyframes", file_types=list(IMAGE_SUFFIXES),
                                allow_reordering=True)
            lyrics = gr.File(label="Lyrics (LRC or SRT)", file_types=list(LYRICS_SUFFIXES),
                             elem_id="lyrics")
        add_btn = gr.Button("Add to project", elem_id="add", variant="primary")
        schedule = gr.Dataframe(headers=SCHEDULE_COLUMNS, interactive=True, elem_id="schedule",
                                datatype=["number", "str", "str", "str", "bool", "str"],
                                label="Keyframe schedule: order sets the sequence; at pins "
                                      "(bar:beat or 12.5s); an empty image drops the row")
        with gr.Row():
            style = gr.Textbox(label="Style", elem_id="style", scale=3)
            width = gr.Number(label="Width", value=1280, precision=0, elem_id="width")
            height = gr.Number(label="Height", value=720, precision=0, elem_id="height")
            fps = gr.Number(label="fps", value=24, elem_id="fps")
        with gr.Row():
            generator = gr.Dropdown(label="Generator", choices=["flow"], value="flow",
                                    elem_id="generator")
            generators = gr.Markdown(elem_id="generators")
        save_btn = gr.Button("Save schedule and settings", elem_id="save")
        analyse_btn = gr.Button("Analyse", elem_id="analyse")
        summary = gr.Markdown(elem_id="summary")
        plot = gr.Image(label="Analysis: waveform, beats, downbeats, sections, keyframes",
                        type="filepath", elem_id="plot")
        with gr.Row():
            preview_btn = gr.Button("Preview render", elem_id="preview")
            full_btn = gr.Button("Full render", elem_id="full", variant="primary")
        video = gr.Video(label="Video", elem_id="video")
        downloads = gr.File(label="Downloads: video, project.yaml, plan JSON",
                            file_count="multiple", elem_id="downloads")

        shown = [folder, message, schedule, style, width, height, fps, generator, generators]
        app.load(open_folder, inputs=[folder], outputs=shown)
        open_btn.click(open_folder, inputs=[folder], outputs=shown)
        add_btn.click(add_files, inputs=[folder, song, keyframes, lyrics], outputs=shown)
        save_btn.click(save_settings, outputs=shown,
                       inputs=[folder, schedule, style, width, height, fps, generator])
        analyse_btn.click(analyse, inputs=[folder], outputs=[plot, summary])
        preview_btn.click(render_preview, inputs=[folder, generator], outputs=[video, downloads])
        full_btn.click(render_full, inputs=[folder, generator], outputs=[video, downloads])
    return app


def launch(root: str | Path, *, host: str = "127.0.0.1", port: int = 7860,
           name: str = "untitled", block: bool = True) -> Any:
    """Start the app on ``host:port`` serving only files inside ``root``."""
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    app = build_app(root, name=name)
    app.queue()
    app.launch(server_name=host, server_port=port, allowed_paths=[str(Path(root).resolve())],
               max_file_size=max(MAX_BYTES.values()), prevent_thread_lock=not block,
               show_error=True, quiet=True)
    return app
