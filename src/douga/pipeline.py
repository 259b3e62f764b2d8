"""The render pipeline: project → analysis → plan → in-betweens → effects → video.

This is the only module that chains the stages. Each shot (the frames from one
keyframe up to the next) is made independently, so the renderer can cache it under a
key of everything its frames depend on: an interrupted render resumes where it
stopped, and editing one keyframe renders only the shots that show it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from douga.effects import FrameEffects
from douga.errors import InputError
from douga.generators import Generator, PairContext, get_generator
from douga.images import fit_image, load_image
from douga.music.musicmap import MusicMap
from douga.project import Project
from douga.render import DEFAULT_PRESET, RenderReport, Shot, image_digest, shot_key, write_shots
from douga.timeline.model import FrameSpec, Timeline

__all__ = ["PREVIEW_HEIGHT", "RenderSettings", "build_shots", "render_project", "render_size"]

log = logging.getLogger(__name__)

ProgressFn = Callable[[str, float], None]

PREVIEW_HEIGHT = 360  # a draft: a quarter of the pixels of 720p
PREVIEW_PRESET = "ultrafast"
PREVIEW_CRF = 26


@dataclass(frozen=True)
class RenderSettings:
    """How to render, beyond what the project file says (CLI flags beat the project)."""

    generator: str | None = None  # None: the project's generator
    checkpoint: Path | None = None  # None: the project's checkpoint (for `learned`)
    preview: bool = False  # fast low-resolution draft
    cache: bool = True  # keep finished shots in a cache beside the output


def make_generator(name: str, checkpoint: Path | None) -> Generator:
    """The named generator, given the model checkpoint when there is one."""
    return get_generator(name) if checkpoint is None else get_generator(name, checkpoint=checkpoint)


def render_size(project: Project, *, preview: bool) -> tuple[int, int]:
    """Output (width, height): the project's, or for a preview scaled to 360 lines (even)."""
    w, h = project.output.width, project.output.height
    if not preview or h <= PREVIEW_HEIGHT:
        return w, h
    scale = PREVIEW_HEIGHT / h
    return max(2, round(w * scale / 2) * 2), PREVIEW_HEIGHT


def _load_keyframes(project: Project, size: tuple[int, int]) -> list[np.ndarray]:
    return [fit_image(load_image(kf.image), size[0], size[1], mode=project.fit)
            for kf in project.keyframes]


def _shot_bounds(frames: Sequence[FrameSpec]) -> list[tuple[int, int]]:
    """[start, end) of each shot: a new shot starts on every keyframe frame."""
    starts = [i for i, f in enumerate(frames) if f.kind == "key"]
    if not starts or starts[0] != 0:
        starts = [0, *starts]
    ends = [*starts[1:], len(frames)]
    return list(zip(starts, ends, strict=True))


def _context(project: Project, a: int, b: int, duration: float) -> PairContext:
    return PairContext(
        text_a=project.keyframes[a].text or "",
        text_b=project.keyframes[b].text or "",
        style=project.style or "",
        seed=project.seed,
        hints={"duration": duration},
    )


def _shot_frames(
    specs: Sequence[FrameSpec],
    first: int,
    *,
    images: Sequence[np.ndarray],
    generator: Generator,
    effects: FrameEffects,
    project: Project,
    fps: float,
) -> Iterator[np.ndarray]:
    """The frames of one shot, in order: keys, in-betweens (streamed per pair) and holds."""
    pending: dict[tuple[int, int], Iterator[np.ndarray]] = {}
    for (a, b) in {(s.a, s.b) for s in specs if s.kind == "between"}:
        ts = [s.t for s in specs if s.kind == "between" and (s.a, s.b) == (a, b)]
        n = sum(1 for s in specs if (s.a, s.b) == (a, b)) + 1
        pending[(a, b)] = generator.inbetween(
            images[a], images[b], ts, context=_context(project, a, b, n / fps))
    drawing = images[specs[0].a]
    for offset, spec in enumerate(specs):
        if spec.kind == "key":
            drawing = images[spec.a]
        elif spec.kind == "between":
            drawing = next(pending[(spec.a, spec.b)])
        yield effects.apply(drawing, first + offset)


def build_shots(
    project: Project,
    timeline: Timeline,
    images: Sequence[np.ndarray],
    *,
    generator: Generator,
    effects: FrameEffects,
) -> list[Shot]:
    """The video as cacheable shots; a shot's key covers every input of its frames."""
    digests = [image_digest(img) for img in images]
    shots = []
    for start, end in _shot_bounds(timeline.frames):
        specs = timeline.frames[start:end]
        used = sorted({s.a for s in specs} | {s.b for s in specs if s.kind == "between"})
        texts = [project.keyframes[i].text or "" for i in used]
        key = shot_key(
            "douga-shot", generator.name, generator.version, [digests[i] for i in used],
            [(s.kind, s.a - used[0], s.b - used[0], s.t) for s in specs],
            texts, project.style or "", project.seed, timeline.fps,
            effects.signature(start, end - 1),
        )

        def frames(specs: Sequence[FrameSpec] = specs, first: int = start) -> Iterable[np.ndarray]:
            return _shot_frames(specs, first, images=images, generator=generator,
                                effects=effects, project=project, fps=timeline.fps)

        shots.append(Shot(key=key, frame_count=end - start, frames=frames))
    return shots


def render_project(
    project: Project,
    out_path: str | Path,
    *,
    settings: RenderSettings | None = None,
    music_map: MusicMap | None = None,
    progress: ProgressFn | None = None,
) -> tuple[RenderReport, Timeline]:
    """Render a project to an mp4: analyse the song, plan, make every frame, encode.

    Parameters
    ----------
    project : Project
        A loaded project (``douga.project.load_project``).
    out_path : str or Path
        The mp4 to write; written atomically (never a partial file there).
    settings : RenderSettings, keyword-only
        Generator override, preview and cache switches.
    music_map : MusicMap, keyword-only
        A ready analysis of the project's song; analysed here when None.
    progress : callable, keyword-only
        ``progress(stage, fraction)``, stages "analysing", "planning", "render", "mux".

    Returns
    -------
    (RenderReport, Timeline)
        What was written, and the plan it followed.
    """
    from douga.music.analyze import analyze_music
    from douga.music.lyrics import load_lyrics
    from douga.timeline import plan_timeline

    settings = settings or RenderSettings()
    out = Path(out_path)
    if out.suffix.lower() != ".mp4":
        raise InputError(f"{out}: expected an output path ending in .mp4")

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    generator = make_generator(settings.generator or project.generator,
                               settings.checkpoint or project.checkpoint)
    size = render_size(project, preview=settings.preview)
    images = _load_keyframes(project, size)
    lyrics = load_lyrics(project.lyrics) if project.lyrics is not None else []
    if music_map is None:
        music_map = analyze_music(project.audio, progress=lambda s, f: report("analysing", f))
    report("planning", 0.0)
    timeline = plan_timeline(project, music_map, effects=not project.effects.is_none)
    # how effects and lyrics are drawn, so that `douga eval sync` can draw them too
    timeline.extra["effect_style"] = project.effects.model_dump(mode="json")
    timeline.extra["lyrics"] = [asdict(line) for line in lyrics]
    effects = FrameEffects(timeline.effects, fps=timeline.fps, style=project.effects,
                           lyrics=lyrics)
    shots = build_shots(project, timeline, images, generator=generator, effects=effects)
    cache_dir = out.parent / ".douga-cache" if settings.cache else None
    result = write_shots(
        out, shots, fps=timeline.fps, width=size[0], height=size[1], audio=project.audio,
        cache_dir=cache_dir,
        crf=PREVIEW_CRF if settings.preview else project.output.crf,
        preset=PREVIEW_PRESET if settings.preview else DEFAULT_PRESET,
        progress=progress,
    )
    log.info("rendered %s: %d shots made, %d from the cache", out, result.shots_rendered,
             result.shots_cached)
    return result, timeline
