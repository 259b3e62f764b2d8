"""Clip data sets cut from videos, GANime's recipe: scenes, then 15-25-frame clips.

Each video is decoded once. Every frame goes to PySceneDetect's ``ContentDetector``
(threshold 15; no merging of short scenes, which are dropped instead: the thesis ran
``scenedetect --min-scene-len=0.5s --drop-short-scenes detect-content --threshold=15``),
and, resized, into the buffer of the current scene. When a cut is found the scene is
finished: its first two frames are dropped (they often still show the previous shot),
and what is left is cut into consecutive clips (:func:`clip_lengths`). A subtitle line
overlapping a clip's time span becomes (part of) its caption. Clips are written with
:class:`~douga.training.clips.ClipWriter`, split by scene.

Memory stays bounded: only the current scene is held, at the output size, and a scene
longer than the buffer limit sends full-length clips ahead as it streams.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from douga.errors import InputError, MissingDependency
from douga.images import FIT_MODES, FitMode, fit_image
from douga.training.clips import SPLITS, ClipWriter, split_of_scene

__all__ = [
    "BuildReport", "Caption", "SceneClipSettings", "SceneStats", "VideoClip",
    "build_clip_dataset", "caption_between", "clip_lengths", "iter_video_clips",
    "load_captions", "parse_frame_size", "probe_video",
]

log = logging.getLogger(__name__)

VIDEO_FORMATS = "mp4, mkv, webm, mov, avi"
_EXPECTED = f"expected a video file ({VIDEO_FORMATS})"
SCENEDETECT_INSTALL = "pip install --no-deps scenedetect==0.7.2 platformdirs tqdm"
_BUFFER_BYTES = 256 * 2**20  # frames of one scene held before clips are sent ahead


@dataclass(frozen=True)
class SceneClipSettings:
    """How videos become clips; the defaults are the GANime thesis' settings.

    ``threshold``: a frame whose ``ContentDetector`` score (mean HSV difference to the
    previous frame) reaches it starts a scene. ``min_scene``: shorter scenes (seconds)
    are dropped. ``min_frames``..``max_frames``: clip lengths. ``skip_frames``: dropped
    at the start of every scene. ``height`` x ``width``: clip frame size in pixels;
    ``fit``: how other aspect ratios get there (``cover`` crops the overflow, see
    :func:`douga.images.fit_image`). ``val``, ``test``: fractions of scenes.
    """

    threshold: float = 15.0
    min_scene: float = 0.5
    min_frames: int = 15
    max_frames: int = 25
    skip_frames: int = 2
    height: int = 64
    width: int = 128
    fit: FitMode = "cover"
    val: float = 0.1
    test: float = 0.1

    def __post_init__(self) -> None:
        if not (math.isfinite(self.threshold) and 0 < self.threshold <= 255):
            raise InputError(f"--threshold {self.threshold}: expected a number in (0, 255]")
        if not (math.isfinite(self.min_scene) and self.min_scene >= 0):
            raise InputError(f"--min-scene {self.min_scene}: expected seconds >= 0")
        if self.min_frames < 2:
            raise InputError(f"--min-frames {self.min_frames}: expected at least 2 frames")
        if self.max_frames < self.min_frames:
            raise InputError(f"--min-frames {self.min_frames} > --max-frames "
                             f"{self.max_frames}: expected min <= max")
        if self.skip_frames < 0:
            raise InputError(f"skip_frames {self.skip_frames}: expected >= 0")
        if not (8 <= self.height <= 4096 and 8 <= self.width <= 4096):
            raise InputError(f"--size {self.height}x{self.width}: expected HEIGHTxWIDTH, "
                             "each 8 to 4096 pixels")
        if self.fit not in FIT_MODES:
            raise InputError(f"--fit {self.fit}: expected one of {', '.join(FIT_MODES)}")
        split_of_scene("", val=self.val, test=self.test)  # checks the fractions


def parse_frame_size(text: str) -> tuple[int, int]:
    """``"64x128"`` (height x width, as in numpy shapes) -> ``(64, 128)``."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if m is None:
        raise InputError(f"--size {text}: expected HEIGHTxWIDTH in pixels, e.g. 64x128")
    return int(m.group(1)), int(m.group(2))


def clip_lengths(n: int, *, min_frames: int, max_frames: int) -> list[int]:
    """Lengths of the consecutive clips cut from ``n`` frames, in order.

    The fewest clips that fit, of nearly equal length (GANime's table: 30 -> 15+15,
    51 -> 17+17+17), so nothing is wasted whenever ``n`` can be split into clips of
    ``min_frames`` to ``max_frames``. When it cannot (26..29 frames for 15-25), the
    first full-length clips are kept and the rest, fewer than ``max_frames`` frames,
    dropped. ``n < min_frames`` gives no clip.
    """
    if n < min_frames:
        return []
    k = -(-n // max_frames)
    base, extra = divmod(n, k)
    if base < min_frames:  # then no split of n into k or fewer clips exists
        return [max_frames] * (k - 1)
    return [base] * (k - extra) + [base + 1] * extra


# ---------------------------------------------------------------- subtitles
@dataclass(frozen=True)
class Caption:
    """One subtitle line: ``start``/``end`` in seconds, plain text on one line."""

    start: float
    end: float
    text: str


def load_captions(path: str | Path, *, fps: float | None = None) -> list[Caption]:
    """Read an SRT or ASS file (anything pysubs2 reads) into plain, one-line captions.

    ASS override tags (``{\\i1}``) are stripped, line breaks (``\\N``) become spaces;
    comments and empty lines are skipped. ``fps`` is only used by frame-based formats.
    """
    try:
        import pysubs2
    except ImportError:
        raise MissingDependency("--subs needs pysubs2: install it with `pip install pysubs2`"
                                ) from None
    p = Path(path)
    expected = "expected a subtitle file (SRT or ASS, UTF-8)"
    if not p.is_file():
        raise InputError(f"{p}: {'is a folder' if p.is_dir() else 'file not found'}; {expected}")
    try:
        subs = pysubs2.load(str(p), encoding="utf-8-sig", fps=fps)
    except (pysubs2.Pysubs2Error, ValueError, KeyError, IndexError, OSError) as e:
        why = "not UTF-8 text" if isinstance(e, UnicodeDecodeError) else e or type(e).__name__
        raise InputError(f"{p}: not a readable subtitle file ({why}); {expected}") from None
    out = []
    for event in subs.events:
        text = " ".join(event.plaintext.split())
        if not event.is_comment and text and event.end > event.start:
            out.append(Caption(event.start / 1000.0, event.end / 1000.0, text))
    out.sort(key=lambda c: (c.start, c.end))
    return out


def caption_between(captions: Sequence[Caption], start: float, end: float) -> str:
    """The texts of the captions overlapping ``[start, end)`` seconds, joined by spaces."""
    texts: list[str] = []
    for c in captions:
        if c.start < end and c.end > start and c.text not in texts:
            texts.append(c.text)
    return " ".join(texts)


# ---------------------------------------------------------------- videos
def _scenedetect() -> tuple[Any, Any, Any]:
    try:
        from scenedetect import ContentDetector, FrameTimecode
        from scenedetect.scene_manager import compute_downscale_factor
    except ImportError:
        raise MissingDependency(
            f"douga dataset build needs PySceneDetect: install with `{SCENEDETECT_INSTALL}` "
            "(it requires the GUI OpenCV, which would shadow the headless build)"
        ) from None
    return ContentDetector, FrameTimecode, compute_downscale_factor


def _open_video(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise InputError(f"{path}: file not found; {_EXPECTED}")
    if not path.is_file():
        raise InputError(f"{path}: not a file; {_EXPECTED}")
    try:
        container = av.open(str(path), mode="r")
    except PermissionError:
        raise InputError(f"{path}: permission denied; cannot read the file") from None
    except (av.FFmpegError, ValueError, OSError) as e:
        why = str(getattr(e, "strerror", None) or e).strip() or type(e).__name__
        raise InputError(f"{path}: not a readable video file ({why}); {_EXPECTED}") from None
    if not container.streams.video:
        container.close()
        raise InputError(f"{path}: has no video stream; {_EXPECTED}")
    return container


@dataclass(frozen=True)
class VideoInfo:
    """What the header of a video says: frame rate, picture size, about how many frames."""

    path: Path
    rate: Fraction
    width: int
    height: int
    frames: int


def probe_video(path: str | Path) -> VideoInfo:
    """Open a video and read its header (no decoding); InputError if it is not a video."""
    p = Path(path)
    with _open_video(p) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        width, height = int(stream.width or 0), int(stream.height or 0)
        seconds = (float(stream.duration * stream.time_base) if stream.duration and
                   stream.time_base else (container.duration or 0) / 1e6)
        frames = int(stream.frames or 0) or round(seconds * float(rate or 0))
    if not rate or not (0 < float(rate) < 1000):
        raise InputError(f"{p}: the video stream has no frame rate; {_EXPECTED}")
    if width <= 0 or height <= 0:
        raise InputError(f"{p}: the video stream has no picture size; {_EXPECTED}")
    return VideoInfo(p, Fraction(rate), width, height, max(frames, 1))


@dataclass(frozen=True)
class VideoClip:
    """A clip: ``frames`` (T, H, W, 3) uint8 RGB; ``scene``, its scene's index among all
    scenes detected in the video (dropped ones included); ``first_frame``, the video frame
    number of ``frames[0]``; ``start``/``end``, its time span in seconds."""

    frames: np.ndarray
    scene: int
    first_frame: int
    start: float
    end: float


@dataclass
class SceneStats:
    """What :func:`iter_video_clips` found in one video (complete once it is exhausted)."""

    frames: int = 0
    cuts: list[int] = field(default_factory=list)  # frame numbers that start a scene
    scenes: int = 0
    scenes_used: int = 0
    longest_scene: int = 0
    clips: int = 0
    clip_frames: int = 0
    damaged_packets: int = 0


@dataclass
class _Scene:
    index: int
    first: int  # video frame number of the scene's first frame
    length: int = 0  # frames seen, the skipped ones included
    frames: list[np.ndarray] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    used: bool = False


def _packets_decoded(
    container: av.container.InputContainer, stream: av.VideoStream, stats: SceneStats
) -> Iterator[tuple[av.VideoFrame, bool]]:
    """Decoded frames, each with True when damaged packets were skipped just before it."""
    packets = container.demux(stream)
    damaged = False
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.FFmpegError:  # a truncated file: keep what came before
            stats.damaged_packets += 1
            return
        try:
            frames = packet.decode()
        except av.FFmpegError:
            stats.damaged_packets += 1
            damaged = True
            continue
        for frame in frames:
            yield frame, damaged
            damaged = False


def iter_video_clips(
    path: str | Path,
    *,
    settings: SceneClipSettings = SceneClipSettings(),
    stats: SceneStats | None = None,
    on_frame: Callable[[int], None] | None = None,
    max_buffer_frames: int | None = None,
) -> Iterator[VideoClip]:
    """Decode a video once and yield its clips in order (see the module docstring).

    Parameters
    ----------
    path
        The video file.
    settings
        Scene detection, clip length and frame size.
    stats
        Filled in as the video is read. Frame numbers (``cuts``, ``first_frame``) count
        the decoded frames; where a damaged packet was skipped a scene is cut.
    on_frame
        Called now and then with the number of frames decoded so far.
    max_buffer_frames
        Frames of one scene held in memory (default: 256 MB worth, at least
        ``4 * max_frames``). A longer scene sends ``max_frames`` clips ahead; only its
        tail is then split evenly.
    """
    import cv2

    content_detector, frame_timecode, downscale_factor = _scenedetect()
    s = settings
    st = stats if stats is not None else SceneStats()
    info = probe_video(path)
    fps = float(info.rate)
    min_scene_frames = s.min_scene * fps - 1e-6
    cap = max_buffer_frames or _BUFFER_BYTES // (s.height * s.width * 3)
    cap = max(cap, 4 * s.max_frames, math.ceil(min_scene_frames) + 2 * s.max_frames)

    def clip(scene: _Scene, n: int) -> VideoClip:
        frames = np.stack(scene.frames[:n])
        first = scene.first + scene.length - len(scene.frames)
        out = VideoClip(frames, scene.index, first, scene.times[0], scene.times[n - 1] + 1 / fps)
        del scene.frames[:n], scene.times[:n]
        scene.used = True
        st.clips += 1
        st.clip_frames += n
        return out

    def finish(scene: _Scene) -> Iterator[VideoClip]:
        st.scenes += 1
        st.longest_scene = max(st.longest_scene, scene.length)
        if scene.length >= min_scene_frames:
            for n in clip_lengths(len(scene.frames), min_frames=s.min_frames,
                                  max_frames=s.max_frames):
                yield clip(scene, n)
        st.scenes_used += scene.used

    scene = _Scene(index=0, first=0)
    detector: Any = None
    det_size = (0, 0)
    t0: float | None = None
    index = -1
    with _open_video(info.path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame, damaged in _packets_decoded(container, stream, st):
            index += 1
            w, h = frame.width, frame.height
            # swscale first shrinks by a whole factor (box averaging, while it converts to
            # RGB: 5x faster than full-size RGB at 1080p); cv2's INTER_AREA does the rest
            f = max(1, math.floor(min(max(w, h) / 256, w / (2 * s.width), h / (2 * s.height))))
            rgb = frame.to_ndarray(format="rgb24", width=round(w / f), height=round(h / f),
                                   interpolation="AREA")
            if frame.time is None:
                t = index / fps
            else:  # seconds from the first frame, the time subtitles count from
                t0 = frame.time if t0 is None else t0
                t = frame.time - t0
            # the detector sees what SceneManager would feed it: BGR, about 256 px wide
            factor = downscale_factor(max(w, h))
            size = (max(1, round(w / factor)), max(1, round(h / factor)))
            small = rgb if size == rgb.shape[1::-1] else cv2.resize(
                rgb, size, interpolation=cv2.INTER_LINEAR)
            small = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
            new_scene = damaged
            if detector is None or size != det_size:  # a new picture size is a new shot
                # min_scene_len=0: cuts are not merged, short scenes are dropped below
                detector = content_detector(threshold=s.threshold, min_scene_len=0)
                det_size, new_scene = size, new_scene or index > 0
            cuts = detector.process_frame(frame_timecode(index, info.rate), small)
            if (cuts or new_scene) and scene.length:
                yield from finish(scene)
                st.cuts.append(index)
                scene = _Scene(index=scene.index + 1, first=index)
            scene.length += 1
            if scene.length > s.skip_frames:
                scene.frames.append(fit_image(rgb, s.width, s.height, mode=s.fit))
                scene.times.append(t)
            if len(scene.frames) >= cap:
                yield clip(scene, s.max_frames)
            st.frames = index + 1
            if on_frame is not None and index % 32 == 0:
                on_frame(index + 1)
    if index < 0:
        raise InputError(f"{info.path}: no frame could be decoded; {_EXPECTED}")
    yield from finish(scene)
    if st.damaged_packets:
        log.warning("%s: %d damaged packet(s) skipped; a scene was cut at each",
                    info.path, st.damaged_packets)


# ---------------------------------------------------------------- data set
@dataclass(frozen=True)
class BuildReport:
    """What :func:`build_clip_dataset` wrote."""

    out: Path
    videos: int
    scenes: int
    scenes_used: int
    clips: dict[str, int]
    frames: int


def _video_names(videos: Sequence[Path]) -> list[str]:
    """File names; paths below the videos' common folder where two names are the same."""
    names = [p.name for p in videos]
    if len(set(names)) < len(names):
        full = [os.path.abspath(p) for p in videos]
        root = os.path.commonpath([os.path.dirname(f) for f in full])
        names = [Path(os.path.relpath(f, root)).as_posix() for f in full]
        for i, n in enumerate(names):
            if n in names[:i]:
                raise InputError(f"{videos[i]}: given twice; expected each video once")
    return names


def _check_out(out: Path, overwrite: bool) -> None:
    if not out.exists():
        return
    if not overwrite:
        raise InputError(f"{out}: already exists; expected a new folder (or --overwrite)")
    if not out.is_dir():
        raise InputError(f"{out}: is a file; expected a folder for the data set")
    if any(out.iterdir()) and not (out / "dataset.json").is_file():
        raise InputError(f"{out}: a folder that is not a clip data set; --overwrite only "
                         "replaces a data set (or an empty folder)")


def build_clip_dataset(
    videos: Sequence[str | Path],
    out: str | Path,
    *,
    subtitles: Sequence[str | Path] | None = None,
    settings: SceneClipSettings = SceneClipSettings(),
    overwrite: bool = False,
    progress: Callable[[str, float], None] | None = None,
) -> BuildReport:
    """Cut videos into a clip data set at ``out`` (format: :mod:`douga.training.clips`).

    Parameters
    ----------
    videos
        Video files (anime episodes).
    out
        The folder to create; nothing is left there when this fails.
    subtitles
        One SRT/ASS file per video, in the same order, or None. A clip's caption is the
        text of every subtitle line overlapping its time span.
    settings
        See :class:`SceneClipSettings`.
    overwrite
        Replace an existing data set at ``out``.
    progress
        Called with (stage, fraction done).

    Returns
    -------
    BuildReport
        What was written. ``dataset.json`` records the settings and, per video, its
        :class:`SceneStats` and ``first_scene``: a clip's scene id is ``first_scene`` +
        its scene's index in the video.

    Raises
    ------
    InputError
        A video is missing, unreadable or has no scene long enough for a clip; the
        subtitle files do not match the videos or cannot be read; ``out`` exists.
    MissingDependency
        PySceneDetect (or, with subtitles, pysubs2) is not installed.
    """
    _scenedetect()  # a missing PySceneDetect is reported before anything is read
    import scenedetect

    paths, out, s = [Path(v) for v in videos], Path(out), settings
    if not paths:
        raise InputError("no video given; expected one or more video files")
    if subtitles is not None and len(subtitles) != len(paths):
        raise InputError(f"--subs: {len(subtitles)} subtitle file(s) for {len(paths)} "
                         "video(s); expected one per video, in the same order (or none)")
    _check_out(out, overwrite)
    names = _video_names(paths)
    infos = [probe_video(p) for p in paths]
    subs = list(subtitles) if subtitles is not None else [None] * len(paths)
    captions = [load_captions(f, fps=float(i.rate)) if f is not None else []
                for f, i in zip(subs, infos, strict=True)]
    fps = float(infos[0].rate)
    for i in infos[1:]:
        if abs(float(i.rate) - fps) > 0.01 * fps:
            log.warning("%s: %.3f fps; the data set says %.3f (the first video's)",
                        i.path, float(i.rate), fps)
    total = sum(i.frames for i in infos)
    records: list[dict[str, Any]] = []
    info = {"source": "videos", "videos": records, "settings": {
        "detector": "content", "scenedetect": scenedetect.__version__, **asdict(s)}}
    done = scene_base = 0
    with ClipWriter(out, height=s.height, width=s.width, fps=fps, info=info,
                    overwrite=overwrite) as writer:
        for k, (name, vinfo) in enumerate(zip(names, infos, strict=True)):
            stage = f"{name} ({k + 1}/{len(paths)})"
            report = _frames_progress(progress, stage, done, vinfo.frames, total)
            st = SceneStats()
            per_split = dict.fromkeys(SPLITS, 0)
            for c in iter_video_clips(vinfo.path, settings=s, stats=st, on_frame=report):
                split = split_of_scene(f"{name}#{c.scene}", val=s.val, test=s.test)
                text = caption_between(captions[k], c.start, c.end)
                writer.add(split, c.frames, text=text, scene=scene_base + c.scene)
                per_split[split] += 1
            if st.clips == 0:
                need = max(math.ceil(s.min_scene * float(vinfo.rate) - 1e-6),
                           s.skip_frames + s.min_frames)
                raise InputError(
                    f"{vinfo.path}: no usable scene ({st.scenes} scene(s) in {st.frames} "
                    f"frames, the longest {st.longest_scene}); a clip needs a scene of at "
                    f"least {need} frames ({s.skip_frames} dropped + --min-frames "
                    f"{s.min_frames}, and --min-scene {s.min_scene:g} s); try a lower "
                    "--min-frames or --min-scene, or a higher --threshold")
            records.append({
                "name": name, "path": str(vinfo.path), "fps": float(vinfo.rate),
                "width": vinfo.width, "height": vinfo.height, "first_scene": scene_base,
                "subtitles": None if subs[k] is None else str(subs[k]),
                "captions": len(captions[k]), **asdict(st), "clips": per_split})
            scene_base += st.scenes
            done += vinfo.frames
            report(vinfo.frames)
        counts = writer.counts()
    return BuildReport(out=out, videos=len(paths), scenes=scene_base,
                       scenes_used=sum(r["scenes_used"] for r in records), clips=counts,
                       frames=sum(r["clip_frames"] for r in records))


def _frames_progress(progress: Callable[[str, float], None] | None, stage: str, done: int,
                     frames: int, total: int) -> Callable[[int], None]:
    """Frames decoded in one video -> fraction of all videos' (estimated) frames."""
    def report(n: int) -> None:
        if progress is not None:
            progress(stage, (done + min(n, frames)) / max(total, 1))
    return report
