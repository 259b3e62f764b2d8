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
from douga.generators.base import generator_takes
from douga.guided.settings import GuidanceSpec
from douga.images import fit_image, load_image
from douga.music.musicmap import MusicMap
from douga.project import Project, SamplingSpec
from douga.render import (
    DEFAULT_PRESET,
    RenderReport,
    Shot,
    image_digest,
    shot_key,
    write_shots,
    write_video,
)
from douga.timeline.model import FrameSpec, Timeline

__all__ = [
    "PREVIEW_HEIGHT",
    "RenderSettings",
    "build_shots",
    "render_guided",
    "render_project",
    "render_size",
]

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
    temperature: float | None = None  # None: the project's `sampling` (for `learned`)
    top_k: int | None = None
    preview: bool = False  # fast low-resolution draft
    cache: bool = True  # keep finished shots in a cache beside the output


def make_generator(name: str, checkpoint: Path | None, *,
                   guidance: GuidanceSpec | None = None,
                   sampling: SamplingSpec | None = None) -> Generator:
    """The named generator, given the model checkpoint, the guidance settings and the
    sampling settings when it takes them."""
    options: dict[str, object] = {}
    if checkpoint is not None:
        if not generator_takes(name, "checkpoint"):
            raise InputError(f"checkpoint {checkpoint}: generator {name!r} reads no model "
                             "checkpoint; expected the learned generator (or no checkpoint)")
        options["checkpoint"] = checkpoint
    if guidance is not None and generator_takes(name, "guidance"):
        options["guidance"] = guidance
    if sampling is not None:
        options.update({k: v for k, v in sampling.model_dump().items()
                        if generator_takes(name, k)})
    return get_generator(name, **options)


def sampling_for(name: str, base: SamplingSpec, *, temperature: float | None = None,
                 top_k: int | None = None) -> SamplingSpec:
    """``base`` (the project's sampling) with the command line's ``--temperature`` and
    ``--top-k`` where given; giving one to a generator that does not sample is an error."""
    given = {k: v for k, v in (("temperature", temperature), ("top_k", top_k)) if v is not None}
    for key in given:
        if not generator_takes(name, key):
            raise InputError(f"--{key.replace('_', '-')}: generator {name!r} does not sample; "
                             "expected the learned generator")
    return base.model_copy(update=given)


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


def _mp4_path(out_path: str | Path) -> Path:
    out = Path(out_path)
    if out.suffix.lower() != ".mp4":
        raise InputError(f"{out}: expected an output path ending in .mp4")
    return out


def _reporter(progress: ProgressFn | None) -> ProgressFn:
    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    return report


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
    out = _mp4_path(out_path)
    report = _reporter(progress)

    name = settings.generator or project.generator
    # the project's checkpoint is for the generators that take one; a --checkpoint given
    # with a generator that takes none is an error (make_generator says so)
    checkpoint = settings.checkpoint or (
        project.checkpoint if generator_takes(name, "checkpoint") else None)
    sampling = sampling_for(name, project.sampling, temperature=settings.temperature,
                            top_k=settings.top_k)
    generator = make_generator(name, checkpoint, guidance=project.guidance, sampling=sampling)
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


def render_guided(
    project: Project,
    out_path: str | Path,
    *,
    music_map: MusicMap | None = None,
    preview: bool = False,
    device: str | None = None,
    progress: ProgressFn | None = None,
) -> RenderReport:
    """Render a Music2Video / VQGAN-CLIP video of the whole song from ``guidance:``.

    The song is analysed and cut into segments; each segment's images are optimised
    towards its lyric or sound and its scheduled prompts; keyframes, if any, are shown
    on their planned frames and the images start from and run up to them. Frames are
    scaled to the output size, beat effects and lyric text are drawn, and the video
    is written with the song.

    Parameters
    ----------
    project : Project
        Needs ``guidance.clip``; see :class:`douga.guided.settings.GuidanceSpec`.
    out_path : str or Path
        The mp4, written atomically.
    music_map, preview, device, progress : keyword-only
        A ready analysis; a 360-line draft; the torch device; ``progress(stage,
        fraction)`` with stages "analysing", "guiding", "render".
    """
    import cv2

    from douga.guided.music2video import KeyImage, music_video_snapshots, segment_targets
    from douga.guided.segments import plan_segments
    from douga.guided.video import frames_from_snapshots
    from douga.guided.weights import load_guidance_models, new_guided_image
    from douga.music.analyze import analyze_music
    from douga.music.audio import load_audio
    from douga.music.lyrics import load_lyrics
    from douga.timeline import plan_timeline
    from douga.timeline.effects import schedule_effects

    out = _mp4_path(out_path)
    report = _reporter(progress)
    spec = project.guidance
    models = load_guidance_models(spec, device=device)
    samples, rate = load_audio(project.audio)
    lyrics = load_lyrics(project.lyrics) if project.lyrics is not None else []
    if music_map is None:
        music_map = analyze_music((samples, rate),
                                  progress=lambda s, f: report("analysing", f))
    width, height = render_size(project, preview=preview)
    fps = project.output.fps
    frame_count = max(1, round(music_map.duration * fps))
    guided = new_guided_image(models, spec, width=width, height=height, seed=project.seed)
    opt_h, opt_w = guided.param.size

    keys: list[KeyImage] = []
    events = ([] if project.effects.is_none else
              schedule_effects(music_map, [], fps=fps, frame_count=frame_count))
    if project.keyframes:
        timeline = plan_timeline(project, music_map, effects=not project.effects.is_none)
        events = list(timeline.effects)
        frame_count = timeline.frame_count
        shown = _load_keyframes(project, (width, height))
        for placement, picture in zip(timeline.keyframes, shown, strict=True):
            small = cv2.resize(picture, (opt_w, opt_h), interpolation=cv2.INTER_AREA)
            keys.append(KeyImage(placement.frame / fps, small, picture))
    segments = plan_segments(music_map, samples, rate, lyrics=lyrics, spec=spec)
    targets = segment_targets(segments, models.guide, samples=samples, rate=rate,
                              audio_encoder=models.audio, consistency=spec.consistency)
    log.info("guided video: %d segments, %d images", len(segments),
             sum(s.images for s in segments))
    snapshots = music_video_snapshots(segments, targets, guided, spec=spec, keyframes=keys,
                                      progress=lambda f: report("guiding", f))
    effects = FrameEffects(events, fps=fps, style=project.effects, lyrics=lyrics)

    def frames() -> Iterator[np.ndarray]:
        for i, image in enumerate(frames_from_snapshots(snapshots, fps=fps,
                                                        frame_count=frame_count)):
            if image.shape[:2] != (height, width):
                image = cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC)
            yield effects.apply(image, i)

    return write_video(out, frames(), fps=fps, audio=project.audio, frame_count=frame_count,
                       width=width, height=height,
                       crf=PREVIEW_CRF if preview else project.output.crf,
                       preset=PREVIEW_PRESET if preview else DEFAULT_PRESET,
                       progress=progress)
