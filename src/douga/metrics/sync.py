"""Sync check on a rendered video: visual beats, beat alignment and keyframe timing.

Everything is measured on the *decoded* video (DESIGN.md, "Metrics"), so a renderer
that drops, repeats or shifts frames, or muxes the song off its pictures, is caught;
the plan only says what to look for.

* **Visual beats** are local maxima of frame-to-frame change: the mean absolute
  difference of consecutive thumbnails (RGB, :data:`THUMB_WIDTH` px wide, in 0..1).
  A frame is a visual beat when its change is the largest within ±0.1 s, at least
  :data:`MIN_CHANGE`, and at least :data:`PEAK_RATIO` times the median change of the
  moving frames within ±0.5 s. Held frames (on twos or threes) do not count in that
  median, so the drawing changes of a hold are not each a peak; steady in-between
  motion stays under the ratio, while cuts, flashes, zoom punches and keyframe
  arrivals (the planner's easing accelerates into every beat) rise above it.
* **Beat alignment score** (after Bailando): the mean over music beats of
  ``exp(-d² / (2σ²))``, ``d`` the distance in frames from the beat to the nearest
  visual beat, ``σ`` = 3 frames. Music beats come from analysing the song.
* **Accents on beats**: the share of visual beats within :data:`TOLERANCE_FRAMES`
  (±1.5 frames, 62.5 ms at 24 fps: one frame of placement slack plus half a frame of
  rounding a beat time to a frame, inside the ±70 ms beat-tracking window) of a music
  beat, and the share of downbeats with a visual beat within the same tolerance.
* **Keyframe sync** (with a plan): each keyframe image is fitted to the video size as
  the renderer fits it and compared, in gray at :data:`MATCH_WIDTH` px, with the
  frames near its planned frame. Pictures are normalised (zero mean, unit norm), so a
  flash, a blend with white, changes nothing; where the plan schedules a zoom punch
  or a shake, the keyframe is also tried zoomed and the frame's shift undone. A plan
  written by ``douga render`` also says how its effects and lyric lines are drawn
  (``extra["effect_style"]`` and ``extra["lyrics"]``): near them the keyframes are
  compared with the frame after the renderer's own effects and lyrics are drawn on
  them, as many frames late (-4..4) as best explains the video, so an overlay does
  not pull the measurement and a renderer running late is still caught.

  When is a keyframe *shown*? The planner eases every in-between into its keyframe,
  so the frames just before it are already 90-99 % of the way there and an encoder
  smears what is left over a frame or two: "the best-matching frame" is off by one
  or two frames as often as not. Instead each frame near the keyframe is split by
  least squares into shares of the previous keyframe, this one and the next one, and
  the measured share of the previous keyframe is fitted to the share the plan's
  frame list gives, delayed by a whole number of frames (with a free gain, a small
  codec lag and a faint residue). The best delay is the frame error; a step in
  mismatch (a cut, a hold) times keyframes the fit cannot (the first one, a plan
  without a frame list). The offset from the musical anchor is reported in ms and
  frames.

Frames are streamed: only the previous thumbnail and the templates of the keyframes
near the decoder are held.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import numpy as np

from douga.errors import InputError
from douga.images import FIT_MODES, FitMode, check_image, fit_image, load_image
from douga.music.musicmap import MusicMap
from douga.timeline.model import FrameSpec, KeyframePlacement, Timeline

if TYPE_CHECKING:
    from douga.effects import FrameEffects

__all__ = [
    "BASELINE_SECONDS",
    "MATCH_WIDTH",
    "MIN_CHANGE",
    "NEIGHBOURHOOD_SECONDS",
    "PEAK_RATIO",
    "SEARCH_SECONDS",
    "SIGMA_FRAMES",
    "THUMB_WIDTH",
    "TOLERANCE_FRAMES",
    "BeatAlignment",
    "KeyframeSummary",
    "KeyframeSync",
    "SyncResult",
    "VisualBeat",
    "beat_alignment",
    "check_video",
    "evaluate_sync",
    "find_visual_beats",
    "format_report",
]

log = logging.getLogger(__name__)

#: Progress callback: (stage, fraction in 0..1).
ProgressFn = Callable[[str, float], None]
#: Times in seconds, as a list or a 1-D array.
Times = Sequence[float] | np.ndarray

VIDEO_FORMATS = "mp4, mkv, mov, webm"
_EXPECTED = f"expected a video file ({VIDEO_FORMATS})"

THUMB_WIDTH = 160  # px; enough to see a cut, a flash or a moving limb, cheap to compare
SIGMA_FRAMES = 3.0  # σ of the beat alignment score (DESIGN.md)
TOLERANCE_FRAMES = 1.5  # a visual accent this close to a beat is "on" it
PEAK_RATIO = 1.3  # a visual beat changes this much more than the moving frames around it
MIN_CHANGE = 0.002  # mean |difference| (0..1) below which a frame is a hold (≈ 0.5 of 255)
NEIGHBOURHOOD_SECONDS = 0.1  # a visual beat is the largest change within ± this
BASELINE_SECONDS = 0.5  # the "moving frames around it" lie within ± this
SEARCH_SECONDS = 1.0  # a keyframe is looked for within ± this of its planned frame
# keyframes are matched in gray at this width: a near in-between differs from its
# keyframe by a pixel or two of outline, which a 160 px thumbnail averages away
MATCH_WIDTH = 320
#: Zoom factors a keyframe is also compared at: a zoom punch scales the keyframe frame.
ZOOM_SCALES = tuple(round(1.0 + 0.01 * i, 2) for i in range(25))  # 1.00 .. 1.24
# a zoom punch or shake scheduled by the plan may still move the picture this long after
EFFECT_SECONDS = 0.5
MAX_SHAKE = 0.05  # largest shake looked for, as a share of the picture width
MIN_MATCH = 0.9  # best correlation below which a keyframe counts as not shown
# the match leaves out this share of worst-fitting pixels: lyric text drawn over the
# keyframe must not hide it
TRIM_SHARE = 0.15
# at its arrival the mismatch (1 - correlation) drops at least this many times
CLEAR_DROP = 2.0
# mismatch at which two pictures look the same: drops below it are not arrivals (the
# codec noise of a hold, or a zoom punch relaxing into the plain keyframe)
SAME_PICTURE = 0.002
SAME_KEYFRAME = 0.998  # neighbouring keyframes correlating this well cannot be told apart
# timing fit: delays tried (± this, at least _MIN_DELAY_FRAMES), frames fitted around
# the planned frame (± this, at least _MIN_SUPPORT_FRAMES), codec lags tried
_DELAY_SECONDS, _MIN_DELAY_FRAMES = 0.25, 6
_SUPPORT_SECONDS, _MIN_SUPPORT_FRAMES = 1 / 3, 8
_LAGS = (0.0, 0.1, 0.2, 0.3)
_LAG_TAPS = 6
# shares are capped at this in the fit: far from the keyframe the share a warped
# in-between shows is no longer proportional to the planned one
_SHARE_CAP = 0.5
# how late (frames) the plan's effects may be drawn when they are matched to the video
EFFECT_SHIFTS = tuple(range(-4, 5))


# ------------------------------------------------------------------------ results


@dataclass(frozen=True)
class VisualBeat:
    """A local maximum of frame-to-frame change."""

    frame: int
    time: float  # seconds, frame / fps
    change: float  # mean absolute difference from the previous frame, 0..1
    strength: float  # change ÷ median change of the moving frames around it


@dataclass(frozen=True)
class BeatAlignment:
    """How the visual beats sit on the music's beats.

    Shares are ``None`` when there is nothing to share out (no visual beats, no
    downbeats); the score is ``None`` when the song has no beats inside the video.
    """

    score: float | None  # mean over music beats of exp(-d²/(2σ²)), 0..1
    accents_on_beat: float | None  # share of visual beats within the tolerance of a beat
    downbeats_with_accent: float | None  # share of downbeats with a visual beat within it
    n_music_beats: int
    n_downbeats: int
    n_visual_beats: int
    n_accents_on_beat: int
    n_downbeats_with_accent: int
    mean_distance_frames: float | None  # mean over music beats of d
    sigma_frames: float
    tolerance_frames: float


@dataclass(frozen=True)
class KeyframeSync:
    """When one planned keyframe is shown in the video.

    ``shown_frame`` is ``None`` when the keyframe was not found near its planned
    frame. ``ambiguous`` marks a keyframe whose arrival cannot be seen: it is already
    on screen where its search window starts (a keyframe equal to its neighbour, or a
    pinned first keyframe held from frame 0). ``shown_frame`` is then the first frame
    it was seen on, the offsets are ``None``, and the summary leaves it out.
    ``method`` says how the frame was found: "trajectory" (the in-between into it
    fitted to the plan's frame list), "arrival" (the frame where the picture snaps to
    the keyframe) or "none" (not found).
    """

    index: int
    image: str
    anchor: str | None  # "bar:beat", None for a keyframe placed in free time
    anchor_time: float  # seconds
    planned_frame: int  # in video frames
    shown_frame: int | None
    shown_time: float | None  # shown_frame / fps
    offset_ms: float | None  # (shown_time - anchor_time) in ms
    offset_frames: float | None  # (shown_time - anchor_time) * fps
    frame_error: int | None  # shown_frame - planned_frame
    match: float  # best correlation with the keyframe near its frame (worst pixels left out)
    ambiguous: bool
    method: str  # "trajectory", "arrival" or "none"


@dataclass(frozen=True)
class KeyframeSummary:
    """Offsets over the keyframes that were found and are not ambiguous."""

    n_keyframes: int
    n_measured: int
    n_missing: int
    n_ambiguous: int
    n_within_one_frame: int  # |offset_frames| <= 1
    max_abs_offset_ms: float | None
    mean_abs_offset_ms: float | None
    max_abs_offset_frames: float | None
    mean_abs_offset_frames: float | None


@dataclass(frozen=True)
class SyncResult:
    """Everything ``douga eval sync`` reports about one video."""

    video: str
    audio: str | None  # where the music beats came from (None: a given MusicMap)
    plan: str | None
    fps: float
    frame_count: int
    width: int
    height: int
    duration: float  # seconds, frame_count / fps
    visual_beats: list[VisualBeat]
    alignment: BeatAlignment
    keyframes: list[KeyframeSync]  # empty without a plan
    keyframe_summary: KeyframeSummary | None  # None without a plan

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (nested dicts, lists, numbers, strings and None)."""
        return asdict(self)


# ------------------------------------------------------------------- visual beats


def find_visual_beats(
    change: Sequence[float] | np.ndarray,
    *,
    fps: float,
    ratio: float = PEAK_RATIO,
    min_change: float = MIN_CHANGE,
    neighbourhood_seconds: float = NEIGHBOURHOOD_SECONDS,
    baseline_seconds: float = BASELINE_SECONDS,
) -> tuple[np.ndarray, np.ndarray]:
    """Pick the visual beats from a frame-to-frame change signal.

    Parameters
    ----------
    change : sequence of float
        ``change[i]`` is the change from frame ``i - 1`` to frame ``i`` (mean absolute
        difference, 0..1); ``change[0]`` is ignored.
    fps : float
        Frame rate, to turn the windows below into frames.
    ratio : float
        A peak must be at least ``ratio`` times the median change of the moving
        frames (change ≥ ``min_change``) within ±``baseline_seconds``, itself excluded.
    min_change : float
        Changes below this are holds or codec noise: never a peak, not in the median.
    neighbourhood_seconds : float
        A peak is the largest change within ± this (at least ±1 frame); the first of
        equal values wins. The last frames, closer than this to the end, are no peaks.
    baseline_seconds : float
        Half-width of the window of the median.

    Returns
    -------
    frames : np.ndarray
        int64 frame indices of the visual beats, increasing.
    strength : np.ndarray
        float64, change ÷ median change around each peak (``min_change`` stands in
        for the median where nothing around it moves).
    """
    c = np.asarray(change, dtype=np.float64).ravel()
    if not (fps > 0 and math.isfinite(fps)):
        raise InputError(f"fps: got {fps!r}; expected a positive frame rate")
    if not (ratio >= 1.0 and math.isfinite(ratio)):
        raise InputError(f"ratio: got {ratio!r}; expected a number >= 1")
    n = c.size
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    c = np.nan_to_num(c, nan=0.0)
    c[0] = 0.0
    w = max(1, round(neighbourhood_seconds * fps))
    half = max(w + 1, round(baseline_seconds * fps))
    moving = c >= min_change
    frames: list[int] = []
    strengths: list[float] = []
    # the last w frames cannot be told from the rise to a peak cut off by the end
    for i in np.flatnonzero(moving[: n - w]).tolist():
        lo, hi = max(0, i - w), i + w + 1
        if c[i] < float(c[lo:hi].max()) or (i > lo and c[i] <= float(c[lo:i].max())):
            continue
        blo, bhi = max(0, i - half), min(n, i + half + 1)
        around = np.concatenate((c[blo:i][moving[blo:i]], c[i + 1 : bhi][moving[i + 1 : bhi]]))
        baseline = max(float(np.median(around)), min_change) if around.size else min_change
        if c[i] >= ratio * baseline:
            frames.append(i)
            strengths.append(float(c[i] / baseline))
    return np.asarray(frames, dtype=np.int64), np.asarray(strengths, dtype=np.float64)


# ---------------------------------------------------------------- beat alignment


def beat_alignment(
    music_beats: Times,
    visual_beats: Times,
    *,
    fps: float,
    downbeats: Times = (),
    duration: float | None = None,
    sigma_frames: float = SIGMA_FRAMES,
    tolerance_frames: float = TOLERANCE_FRAMES,
) -> BeatAlignment:
    """Score how visual beats sit on music beats (DESIGN.md, "Metrics").

    Parameters
    ----------
    music_beats, visual_beats : sequence of float
        Times in seconds.
    fps : float
        Frame rate: distances are measured in frames.
    downbeats : sequence of float
        Downbeat times in seconds.
    duration : float, optional
        Only music beats and downbeats in ``[0, duration + half a frame)`` count (the
        video's length; the song may run on).
    sigma_frames : float
        σ of the Gaussian, in frames (3 by the definition).
    tolerance_frames : float
        A visual beat within this many frames of a music beat is on the beat; a
        downbeat with a visual beat within it carries an accent.

    Returns
    -------
    BeatAlignment
        With no visual beat the score is 0; with no music beat it is ``None``.
    """
    if not (fps > 0 and math.isfinite(fps)):
        raise InputError(f"fps: got {fps!r}; expected a positive frame rate")
    if not sigma_frames > 0:
        raise InputError(f"sigma_frames: got {sigma_frames!r}; expected a positive number")
    end = math.inf if duration is None else duration + 0.5 / fps

    def frames_of(times: Times) -> np.ndarray:
        t = np.asarray(times, dtype=np.float64).ravel()
        t = t[np.isfinite(t)]
        return np.sort(t[(t >= 0) & (t < end)]) * fps

    beats, downs, visual = frames_of(music_beats), frames_of(downbeats), frames_of(visual_beats)
    d_beats = _nearest_distance(beats, visual)
    d_visual = _nearest_distance(visual, beats)
    d_downs = _nearest_distance(downs, visual)
    eps = 1e-6  # frame times from float seconds land a hair off the integer
    on_beat = int(np.count_nonzero(d_visual <= tolerance_frames + eps))
    carried = int(np.count_nonzero(d_downs <= tolerance_frames + eps))
    score = (
        float(np.mean(np.exp(-(d_beats**2) / (2 * sigma_frames**2)))) if beats.size else None
    )
    return BeatAlignment(
        score=score,
        accents_on_beat=on_beat / visual.size if visual.size else None,
        downbeats_with_accent=carried / downs.size if downs.size else None,
        n_music_beats=int(beats.size),
        n_downbeats=int(downs.size),
        n_visual_beats=int(visual.size),
        n_accents_on_beat=on_beat,
        n_downbeats_with_accent=carried,
        mean_distance_frames=float(np.mean(d_beats)) if beats.size and visual.size else None,
        sigma_frames=float(sigma_frames),
        tolerance_frames=float(tolerance_frames),
    )


def _nearest_distance(points: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Distance from each point to the nearest target (inf when there is no target)."""
    if not targets.size:
        return np.full(points.shape, np.inf)
    targets = np.sort(targets)
    right = np.clip(np.searchsorted(targets, points), 0, targets.size - 1)
    left = np.clip(right - 1, 0, targets.size - 1)
    return np.minimum(np.abs(targets[right] - points), np.abs(targets[left] - points))


# ----------------------------------------------------------------- decoding


@dataclass(frozen=True)
class _Scan:
    fps: float
    width: int
    height: int
    frame_count: int
    change: np.ndarray  # (frame_count,), change[0] = 0


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: file not found; {_EXPECTED}")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; {_EXPECTED}")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty (0 bytes); {_EXPECTED}")


def _short(e: BaseException) -> str:
    msg = getattr(e, "strerror", None) or str(e)
    return str(msg).strip() or type(e).__name__


def _open_video(path: Path) -> av.container.InputContainer:
    _check_file(path)
    try:
        container = av.open(str(path), mode="r")
    except PermissionError:
        raise InputError(f"{path}: permission denied; cannot read the file") from None
    except (av.FFmpegError, ValueError, OSError) as e:
        raise InputError(f"{path}: not a readable video file ({_short(e)}); {_EXPECTED}") from None
    if not container.streams.video:
        container.close()
        raise InputError(f"{path}: has no video stream; {_EXPECTED}")
    if container.format.name.endswith("_pipe") or container.format.name == "image2":
        container.close()
        raise InputError(f"{path}: is a still image, not a video; {_EXPECTED}")
    return container


def _video_info(path: Path, *, needs_audio: bool = False) -> tuple[float, int, int]:
    """(fps, width, height) from the header, without decoding; ``needs_audio``: the
    video's own audio track is to be analysed, so it must have one."""
    with _open_video(path) as container:
        if needs_audio and not container.streams.audio:
            raise InputError(f"{path}: has no audio track; expected the song given with "
                             "--audio SONG")
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        width, height = int(stream.width or 0), int(stream.height or 0)
    if not (fps > 0 and math.isfinite(fps)):
        raise InputError(f"{path}: the video stream has no frame rate; {_EXPECTED}")
    if width <= 0 or height <= 0:
        raise InputError(f"{path}: the video stream has no picture size; {_EXPECTED}")
    return fps, width, height


def check_video(path: str | Path) -> None:
    """An InputError naming ``path`` unless it is a video with a frame rate and a size."""
    _video_info(Path(path))


def _thumb_size(width: int, height: int, thumb_width: int) -> tuple[int, int]:
    tw = max(8, min(int(thumb_width), width))
    th = max(8, round(height * tw / width))
    return tw, th


def _thumb(frame: av.VideoFrame, size: tuple[int, int], fmt: str) -> np.ndarray:
    """A decoded frame, small, as uint8 (H, W, 3) for "rgb24" or (H, W) for "gray".

    swscale's area filter averages the codec noise away while it shrinks.
    """
    small = frame.reformat(width=size[0], height=size[1], format=fmt, interpolation="AREA")
    return np.asarray(small.to_ndarray(), dtype=np.uint8)


# 8-bit formats whose first plane is the luma, one byte a pixel
_LUMA_FIRST = frozenset(
    {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "gray"}
)


def _gray_thumb(frame: av.VideoFrame, size: tuple[int, int]) -> np.ndarray:
    """A decoded frame's luma, shrunk with an area filter to ``size``: uint8 (H, W).

    H.264 frames already carry their luma plane: shrinking it directly costs a quarter
    of a swscale conversion. The limited range of video luma (16..235) does not matter
    to a correlation.
    """
    import cv2

    if frame.format.name not in _LUMA_FIRST:
        return _thumb(frame, size, "gray")
    plane = frame.planes[0]
    h, w = frame.height, frame.width
    stride = plane.line_size
    luma = np.frombuffer(memoryview(plane), np.uint8)[: stride * h].reshape(h, stride)
    return np.asarray(cv2.resize(luma[:, :w], size, interpolation=cv2.INTER_AREA), np.uint8)


def _normalise(pictures: np.ndarray) -> np.ndarray:
    """(n, ...) pictures → (n, pixels) float32 with zero mean and unit norm per picture.

    A dot product of two rows is then their correlation, which a flash (a blend
    with white: an affine change of every pixel) leaves unchanged. A flat picture has
    no pattern to correlate and comes back as zeros.
    """
    x = pictures.astype(np.float32).reshape(pictures.shape[0], -1)
    x -= x.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    flat = norm[:, 0] <= 1e-6
    x /= np.where(norm > 1e-6, norm, 1.0)
    x[flat] = 0.0
    return x


# ------------------------------------------------------------------- keyframes


# luma weights of R, G, B: what a video's Y plane holds (up to its limited range)
_BT709 = (0.2126, 0.7152, 0.0722)
_BT601 = (0.299, 0.587, 0.114)


def _luma_weights(frame: av.VideoFrame) -> tuple[float, float, float]:
    """The luma weights a decoded frame was encoded with: BT.709 when tagged so
    (douga's renderer tags it), BT.601 otherwise (FFmpeg's default)."""
    return _BT709 if int(getattr(frame, "colorspace", 2) or 2) == 1 else _BT601


def _zoom_templates(fitted: np.ndarray, match: tuple[int, int],
                    luma: tuple[float, float, float],
                    scales: Sequence[float] = ZOOM_SCALES) -> np.ndarray:
    """The fitted keyframe zoomed about the centre by each of :data:`ZOOM_SCALES`.

    Returns (len(ZOOM_SCALES), pixels) normalised gray pictures at the match size,
    gray being the ``luma`` weighting of R, G and B the video's Y plane holds.
    Zooming the small picture (a magnification, so no detail is lost that the shrunk
    video frame still has) is as good as zooming the full frame, and far cheaper.
    """
    import cv2  # imported on use: only keyframe matching needs it

    w, h = match
    small = cv2.resize(fitted, match, interpolation=cv2.INTER_AREA).astype(np.float32)
    base = np.ascontiguousarray(small @ np.asarray(luma, dtype=np.float32))
    zoomed = []
    for s in scales:
        m = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), 0.0, float(s))
        zoomed.append(
            cv2.warpAffine(base, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        )
    return _normalise(np.stack(zoomed))


def _resolve_image(image: str, plan_path: Path) -> Path:
    """A plan's image path: absolute, else relative to the plan file, else to the cwd."""
    p = Path(image).expanduser()
    if p.is_absolute():
        return p
    beside = plan_path.parent / p
    if beside.exists() or not p.exists():
        return beside
    return p


def _arrival(mismatch: np.ndarray, *, at_start: bool) -> tuple[int, bool]:
    """Index in ``mismatch`` where the keyframe arrives, and whether that is ambiguous.

    The best match may lie anywhere in a hold (and a zoom punch relaxing into the
    keyframe matches best at its end); the arrival is the sharpest relative drop in
    mismatch at or before the best match, differences below :data:`SAME_PICTURE` (or
    below the best match's own noise) not counting. Without a clear drop the keyframe
    already showed before the window: that is the first frame at the start of the
    video, and ambiguous anywhere else.
    """
    m = np.where(np.isfinite(mismatch), mismatch, np.inf)
    best = int(np.argmin(m))
    floor = max(SAME_PICTURE, float(m[best]))
    if best == 0:
        return 0, not at_start
    seg = np.log(np.minimum(m[: best + 1], 4.0) + floor)
    drops = seg[:-1] - seg[1:]  # drops[k]: from frame k to frame k + 1
    k = int(np.argmax(drops))
    if drops[k] < math.log(CLEAR_DROP):
        return 0, not at_start
    return k + 1, False


def _unshake(gray: np.ndarray, rows: np.ndarray) -> np.ndarray | None:
    """A shaken frame moved back into place, normalised; ``None`` when it did not move.

    The shift is found by phase correlation against every fourth row of the
    keyframe's zoom templates (a zoom punch may come with the shake, and a shift is
    only found against a template of about the right zoom), keeping the clearest
    response. A shift under a quarter pixel or past :data:`MAX_SHAKE` of the width is
    left alone.
    """
    import cv2

    h, w = gray.shape
    frame = gray.astype(np.float32)
    window = cv2.createHanningWindow((w, h), cv2.CV_32F)
    best_response, dx, dy = -1.0, 0.0, 0.0
    for row in rows[::4]:
        # phaseCorrelate windows its inputs in place: hand it copies
        (x, y), response = cv2.phaseCorrelate(row.reshape(h, w).copy(), frame.copy(), window)
        if response > best_response:
            best_response, dx, dy = float(response), float(x), float(y)
    if math.hypot(dx, dy) < 0.25 or math.hypot(dx, dy) > MAX_SHAKE * w:
        return None
    back = np.array([[1.0, 0.0, -dx], [0.0, 1.0, -dy]], dtype=np.float32)
    moved = cv2.warpAffine(frame, back, (w, h), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REFLECT)
    return _normalise(moved[None])[0]


def _trimmed_correlation(z: np.ndarray, template: np.ndarray) -> float:
    """Correlation of two normalised pictures over all but their worst-fitting pixels.

    The :data:`TRIM_SHARE` of pixels that differ most from the fitted template (lyric
    text over the picture, a logo) are left out and the rest correlated afresh.
    """
    rho = float(template @ z)
    residual = np.abs(z - rho * template)
    keep = residual <= np.quantile(residual, 1.0 - TRIM_SHARE)
    a, b = z[keep], template[keep]
    a, b = a - a.mean(), b - b.mean()
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm > 1e-9 else rho


class _Templates:
    """Zoom templates of the plan's keyframes, built on first use.

    Only keyframes near the decoder are needed at any time; :meth:`release_before`
    drops the ones it has passed, so a long plan never holds all of them.
    """

    def __init__(self, images: Sequence[Path], *, size: tuple[int, int],
                 match: tuple[int, int], fit: FitMode,
                 effects: FrameEffects | None = None) -> None:
        self.images, self.size, self.match, self.fit = list(images), size, match, fit
        self.effects = effects
        self.luma = _BT601  # set from the first decoded frame, before any template
        self.cache: dict[int, np.ndarray] = {}
        self.fitted: dict[int, np.ndarray] = {}
        self.drawn_cache: dict[tuple[int, int], np.ndarray] = {}

    def _fitted(self, index: int) -> np.ndarray:
        if index not in self.fitted:
            self.fitted[index] = fit_image(load_image(self.images[index]), *self.size,
                                           mode=self.fit)
        return self.fitted[index]

    def get(self, index: int) -> np.ndarray:
        if index not in self.cache:
            self.cache[index] = _zoom_templates(self._fitted(index), self.match, self.luma)
        return self.cache[index]

    def drawn(self, index: int, frame: int) -> np.ndarray:
        """(1, pixels): keyframe ``index`` with the plan's effects of video frame
        ``frame`` drawn on it, as the renderer draws them (flash, zoom punch, shake)."""
        assert self.effects is not None
        if not self.effects.touches(frame):  # nothing drawn: the plain template
            return self.get(index)[:1]
        key = (index, frame)
        if key not in self.drawn_cache:
            picture = self.effects.apply(self._fitted(index), frame)
            self.drawn_cache[key] = _zoom_templates(picture, self.match, self.luma,
                                                    scales=(1.0,))
        return self.drawn_cache[key]

    def release_before(self, index: int) -> None:
        for key in [k for k in self.cache if k < index]:
            del self.cache[key]
        for key in [k for k in self.fitted if k < index]:
            del self.fitted[key]
        for pair in [p for p in self.drawn_cache if p[0] < index]:
            del self.drawn_cache[pair]


@dataclass(frozen=True)
class _Target:
    """A planned keyframe being looked for in frames ``lo..hi`` of the video."""

    index: int  # position in the plan's keyframe list
    planned: int  # planned frame, in video frames
    lo: int
    hi: int


class _Track:
    """What the scan measures for one target, frame by frame over its window.

    ``columns`` are the keyframes the pictures near the target are mixed from: the
    previous one, the target, the next one (neighbours equal to the target, or to
    each other, are left out: they cannot be told apart). For every frame the
    normalised picture is split by least squares into shares of those keyframes.
    """

    def __init__(self, target: _Target, templates: _Templates | None, n_keyframes: int) -> None:
        """``templates`` None: a window the video never reached, nothing to load."""
        self.target = target
        n = target.hi - target.lo + 1
        k = target.index
        plain = {
            i: templates.get(i)[0]
            for i in (k - 1, k, k + 1)
            if templates is not None and 0 <= i < n_keyframes
        }
        columns = [k]
        for i in (k - 1, k + 1):
            if i in plain and all(float(plain[i] @ plain[c]) < SAME_KEYFRAME for c in columns):
                columns.append(i)
        self.columns = tuple(sorted(columns))
        self.key_column = self.columns.index(k)
        self.mismatch = np.full(n, np.inf)
        self.match = np.full(n, -1.0)  # trimmed correlation, see _trimmed_correlation
        self.shares = np.full((n, len(self.columns)), np.nan)
        # shift -> frame -> (mismatch, match, shares, residual) with the plan's effects
        # drawn that many frames late
        self._drawn: dict[int, dict[int, tuple[float, float, np.ndarray | None, float]]] = {}

    def measure(self, index: int, gray: np.ndarray, z: np.ndarray, templates: _Templates,
                *, zoomed: bool, shaken: bool) -> None:
        z0 = z
        key_rows = templates.get(self.target.index)
        rows = key_rows if zoomed else key_rows[:1]
        corr = rows @ z
        if shaken:
            moved = _unshake(gray, rows)
            if moved is not None:
                corr_moved = rows @ moved
                if corr_moved.max() > corr.max():
                    z, corr = moved, corr_moved
        best = int(np.argmax(corr))
        # the same zoom for every keyframe: a zoom punch scales the whole in-between
        basis = np.stack([templates.get(c)[best] for c in self.columns])
        i = index - self.target.lo
        self.mismatch[i], self.match[i], shares, _ = _measured(z, rows[best], basis)
        if shares is not None:
            self.shares[i] = shares
        fx = templates.effects
        if fx is not None and any(fx.touches(index - e) for e in EFFECT_SHIFTS):
            # the plan's effects and lyrics drawn on the keyframes as the renderer draws
            # them, as if the video ran e frames behind the plan; :meth:`settle` keeps
            # the e that explains the frames best
            for e in EFFECT_SHIFTS:
                drawn = np.concatenate([templates.drawn(c, index - e) for c in self.columns])
                self._drawn.setdefault(e, {})[i] = _measured(z0, drawn[self.key_column], drawn)

    def settle(self) -> None:
        """Use the effect-drawn measurements on the frames near the plan's effects, with
        the effects drawn as late as they best explain those frames (a renderer running
        late draws its effects late too: the keyframe's own delay is fitted after)."""
        if not self._drawn:
            return
        best = min(self._drawn, key=lambda e: (sum(d[3] for d in self._drawn[e].values()),
                                               abs(e)))
        for i, (mismatch, match, shares, _) in self._drawn[best].items():
            self.mismatch[i], self.match[i] = mismatch, match
            if shares is not None:
                self.shares[i] = shares


def _measured(z: np.ndarray, key: np.ndarray,
              basis: np.ndarray) -> tuple[float, float, np.ndarray | None, float]:
    """Mismatch and (trimmed) match with the keyframe ``key``, and the split of ``z``
    into shares of the ``basis`` pictures with its residual norm (None and infinity
    for a flat keyframe: nothing to split by)."""
    mismatch = max(1.0 - float(key @ z), 0.0)
    match = _trimmed_correlation(z, key)
    try:
        coef = np.linalg.solve(basis @ basis.T, basis @ z)
    except np.linalg.LinAlgError:
        return mismatch, match, None, math.inf
    residual = float(np.linalg.norm(z - coef @ basis))
    total = float(coef.sum())
    return mismatch, match, (coef / total if abs(total) > 1e-6 else None), residual


def _planned_shares(frames: Sequence[FrameSpec], columns: Sequence[int]) -> np.ndarray:
    """Share of each column keyframe in each planned frame; NaN rows for other pictures.

    A FrameSpec is keyframe ``a`` (kind key or a hold of it), or ``(1 - t) a + t b``.
    """
    out = np.full((len(frames), len(columns)), np.nan)
    where = {c: i for i, c in enumerate(columns)}
    for f, spec in enumerate(frames):
        mix = {spec.a: 1.0} if spec.a == spec.b or spec.kind == "key" else {
            spec.a: 1.0 - spec.t, spec.b: spec.t}
        if set(mix) <= set(where):
            out[f] = 0.0
            for c, share in mix.items():
                out[f, where[c]] += share
    return out


def _lagged(x: np.ndarray, lag: float) -> np.ndarray:
    """``x`` (frames along axis 0) as a codec that carries ``lag`` of each frame into the
    next shows it: an exponential smear, normalised over :data:`_LAG_TAPS` frames."""
    if lag == 0.0:
        return x
    out = np.zeros_like(x)
    for k in range(_LAG_TAPS):
        out[k:] += (1.0 - lag) * lag**k * x[: len(x) - k]
    return out / (1.0 - lag**_LAG_TAPS)


def _residual(measured: np.ndarray, expected: np.ndarray) -> float:
    """Squared error of ``measured ≈ gain * expected + residue`` fitted with both ≥ 0.

    The gain stands for how a warped in-between's share differs from its ``t``; the
    residue for the faint trace of the previous picture an encoder leaves where it
    skips small changes (a percent or two that fades over many frames).
    """
    design = np.stack([expected, np.ones_like(expected)], axis=1)
    coef, *_ = np.linalg.lstsq(design, measured, rcond=None)
    gain, residue = float(coef[0]), float(coef[1])
    if gain < 0 or residue < 0:
        # the best fit with one of them at zero
        fits = []
        ee = float(expected @ expected)
        if ee > 1e-12:
            g = max(float(measured @ expected) / ee, 0.0)
            fits.append(float(np.sum((measured - g * expected) ** 2)))
        r = max(float(measured.mean()), 0.0)
        fits.append(float(np.sum((measured - r) ** 2)))
        return min(fits)
    return float(np.sum((measured - gain * expected - residue) ** 2))


def _fit_delay(track: _Track, frames: Sequence[FrameSpec], *, plan_fps: float,
               fps: float) -> int | None:
    """Frames by which the video runs behind the plan around one keyframe.

    The share of the previous keyframe measured in the frames around the planned
    frame is compared, by least squares (see :func:`_residual`), with the share the
    plan's frame list gives, delayed by a whole number of frames and smeared by a
    small codec lag. The delay that fits best is the answer; ``None`` when the plan
    has no frame list, the keyframe has no previous one it can be told from, or
    nothing around it moves, or the best delay is at the end of the range tried.
    """
    t = track.target
    reach = max(_MIN_DELAY_FRAMES, round(_DELAY_SECONDS * fps))
    half = max(_MIN_SUPPORT_FRAMES, round(_SUPPORT_SECONDS * fps))
    lo, hi = max(t.lo, t.planned - half), min(t.hi, t.planned + half)
    if not frames or hi - lo < 3 or len(track.columns) < 2:
        return None
    support = np.arange(lo, hi + 1)
    measured = np.minimum(track.shares[support - t.lo], _SHARE_CAP)
    planned = _planned_shares(frames, track.columns)
    # only the approach (the previous keyframe's share running out) times the arrival:
    # the departure would time it late, as an encoder skips the small changes at the
    # slow start of the next in-between and the picture leaves a few frames late
    k = track.key_column
    if k == 0:
        return None
    others = [k - 1]
    best: tuple[float, int] | None = None
    moving = False
    # smallest delays first: among equal fits the one nearest the plan wins
    for delay in sorted(range(-reach, reach + 1), key=abs):
        src = np.floor((support - delay) * plan_fps / fps + 0.5).astype(np.int64)
        ok = (src >= 0) & (src < len(frames))
        expected = np.where(ok[:, None], planned[np.clip(src, 0, len(frames) - 1)], np.nan)
        valid = np.isfinite(expected)
        moving = moving or bool(np.nanmax(np.where(valid, expected, 0.0)[:, others]) > 0.02)
        for lag in _LAGS:
            smeared = np.minimum(_lagged(np.where(valid, expected, 0.0), lag), _SHARE_CAP)
            residual, count = 0.0, 0
            for c in others:
                mask = valid[:, c] & np.isfinite(measured[:, c])
                if np.count_nonzero(mask) < 3:
                    continue
                m, e = measured[mask, c], smeared[mask, c]
                residual += _residual(m, e)
                count += int(np.count_nonzero(mask))
            if count and (best is None or residual / count < best[0] - 1e-12):
                best = (residual / count, delay)
    # a best delay at the end of the range may lie beyond it: leave it to the arrival
    if best is None or not moving or abs(best[1]) == reach:
        return None
    return best[1]


def _scan_video(
    path: Path,
    *,
    thumb: tuple[int, int],
    match: tuple[int, int],
    targets: Sequence[_Target],
    templates: _Templates,
    zoomed: frozenset[int] = frozenset(),
    shaken: frozenset[int] = frozenset(),
    progress: ProgressFn | None,
) -> tuple[_Scan, list[_Track]]:
    """Decode the video once: the change signal, and every keyframe's measurements.

    Frames in ``zoomed`` are compared with the keyframes at every zoom factor, frames
    in ``shaken`` also after undoing their shift; elsewhere only the plain keyframe
    counts, so that the in-betweens of a camera move are not taken for a keyframe.
    """
    pending = sorted(targets, key=lambda t: t.lo)
    n_keyframes = len(targets)
    active: list[_Track] = []
    tracks: dict[int, _Track] = {}
    nxt = 0
    changes: list[float] = []
    prev: np.ndarray | None = None
    with _open_video(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        width, height = int(stream.width or 0), int(stream.height or 0)
        expected = int(stream.frames or 0) or None
        index = -1
        try:
            for frame in container.decode(stream):
                index += 1
                if index == 0:
                    templates.luma = _luma_weights(frame)
                pixels = _thumb(frame, thumb, "rgb24").astype(np.int16)
                changes.append(
                    0.0 if prev is None else float(np.mean(np.abs(pixels - prev))) / 255.0
                )
                prev = pixels
                while nxt < len(pending) and pending[nxt].lo <= index:
                    track = _Track(pending[nxt], templates, n_keyframes)
                    tracks[track.target.index] = track
                    active.append(track)
                    nxt += 1
                active = [tr for tr in active if tr.target.hi >= index]
                if active:
                    gray = _gray_thumb(frame, match)
                    z = _normalise(gray[None])[0]
                    for tr in active:
                        tr.measure(index, gray, z, templates, zoomed=index in zoomed,
                                   shaken=index in shaken)
                    templates.release_before(min(tr.target.index for tr in active) - 1)
                if progress is not None and expected and index % 64 == 0:
                    progress("decoding", min(index / expected, 1.0))
        except av.FFmpegError as e:
            if index < 0:
                raise InputError(
                    f"{path}: cannot decode the video ({_short(e)}); {_EXPECTED}"
                ) from None
            log.warning("%s: video ends early at frame %d (%s)", path, index + 1, _short(e))
    if not changes:
        raise InputError(f"{path}: no video frames decode; {_EXPECTED}")
    for track in tracks.values():
        track.settle()
    # a window the video never reached still gets its (empty) track
    for t in pending[nxt:]:
        tracks[t.index] = _Track(t, None, n_keyframes)
    scan = _Scan(fps=fps, width=width, height=height, frame_count=len(changes),
                 change=np.asarray(changes, dtype=np.float64))
    return scan, [tracks[t.index] for t in targets]


def _targets(
    placements: Sequence[KeyframePlacement], *, fps: float, search_seconds: float
) -> list[_Target]:
    """Where to look for each keyframe: ± ``search_seconds``, never into a neighbour."""
    planned = [math.floor(kp.time * fps + 0.5) for kp in placements]
    reach = max(1, round(search_seconds * fps))
    out = []
    for i in range(len(placements)):
        lo, hi = max(0, planned[i] - reach), planned[i] + reach
        # an equal neighbour would match on its own planned frame
        if i > 0:
            lo = max(lo, planned[i - 1] + 1)
        if i + 1 < len(placements):
            hi = min(hi, planned[i + 1] - 1)
        out.append(_Target(i, planned[i], lo, max(hi, lo)))
    return out


def _plan_effects(timeline: Timeline, *, fps: float) -> FrameEffects | None:
    """The renderer's effects and lyric text for the plan, drawn the way the plan's
    ``extra["effect_style"]`` and ``extra["lyrics"]`` (written by ``douga render``)
    say; None when the plan has no style (then zooms and shakes are searched for
    instead) or its frame rate is not the video's."""
    from douga.effects import EffectStyle, FrameEffects
    from douga.music.lyrics import LyricLine

    style = timeline.extra.get("effect_style")
    if not isinstance(style, dict) or abs(timeline.fps - fps) > 1e-3:
        return None
    try:
        lyrics = [LyricLine(**ln) for ln in timeline.extra.get("lyrics", [])]
        return FrameEffects(timeline.effects, fps=fps, style=EffectStyle.model_validate(style),
                            lyrics=lyrics)
    except (ValueError, TypeError, KeyError, InputError) as e:
        log.warning("the plan's effect style cannot be drawn (%s); searching for zooms and "
                    "shakes instead", e)
        return None


def _moved_frames(timeline: Timeline, *, fps: float) -> tuple[frozenset[int], frozenset[int]]:
    """Video frames a planned zoom punch or shake may still move: (zoomed, shaken)."""
    reach = round(EFFECT_SECONDS * fps)
    moved: dict[str, set[int]] = {"zoom": set(), "shake": set()}
    for e in timeline.effects:
        if e.kind in moved:
            start = math.floor(e.frame / timeline.fps * fps + 0.5)
            moved[e.kind].update(range(start, start + reach + 1))
    return frozenset(moved["zoom"]), frozenset(moved["shake"])


def _keyframe_sync(
    placements: Sequence[KeyframePlacement], tracks: Sequence[_Track], timeline: Timeline,
    *, fps: float,
) -> list[KeyframeSync]:
    out = []
    for kp, tr in zip(placements, tracks, strict=True):
        t = tr.target
        match = float(tr.match.max()) if tr.match.size else -1.0
        shown: int | None = None
        ambiguous = False
        method = "none"
        if match >= MIN_MATCH:
            delay = _fit_delay(tr, timeline.frames, plan_fps=timeline.fps, fps=fps)
            if delay is not None:
                shown, method = t.planned + delay, "trajectory"
            else:
                # a keyframe planned on frame 0 arrives with the video; one planned later
                # but on screen from frame 0 (a pinned first keyframe) has no arrival
                k, ambiguous = _arrival(tr.mismatch, at_start=t.lo == 0 and t.planned == 0)
                shown, method = t.lo + k, "arrival"
        row = KeyframeSync(
            index=int(kp.index), image=str(kp.image), anchor=kp.anchor,
            anchor_time=float(kp.anchor_time), planned_frame=t.planned, shown_frame=shown,
            shown_time=None if shown is None else round(shown / fps, 6),
            offset_ms=None, offset_frames=None, frame_error=None,
            match=round(match, 4), ambiguous=ambiguous, method=method,
        )
        if shown is not None and not ambiguous:
            offset = shown / fps - float(kp.anchor_time)
            row = replace(
                row, offset_ms=round(offset * 1000.0, 2), offset_frames=round(offset * fps, 3),
                frame_error=shown - t.planned,
            )
        out.append(row)
    return out


def _summarise(rows: Sequence[KeyframeSync]) -> KeyframeSummary:
    good = [r for r in rows if r.shown_frame is not None and not r.ambiguous]
    ms = np.abs([r.offset_ms for r in good if r.offset_ms is not None])
    fr = np.abs([r.offset_frames for r in good if r.offset_frames is not None])
    return KeyframeSummary(
        n_keyframes=len(rows),
        n_measured=len(good),
        n_missing=sum(r.shown_frame is None for r in rows),
        n_ambiguous=sum(r.shown_frame is not None and r.ambiguous for r in rows),
        # a hair of slack: anchor times are stored rounded, frame times are exact
        n_within_one_frame=int(np.count_nonzero(fr <= 1.0 + 1e-3)),
        max_abs_offset_ms=round(float(ms.max()), 2) if ms.size else None,
        mean_abs_offset_ms=round(float(ms.mean()), 2) if ms.size else None,
        max_abs_offset_frames=round(float(fr.max()), 3) if fr.size else None,
        mean_abs_offset_frames=round(float(fr.mean()), 3) if fr.size else None,
    )


# ----------------------------------------------------------------------- driver


def evaluate_sync(
    video: str | Path,
    *,
    audio: str | Path | None = None,
    music_map: MusicMap | None = None,
    plan: str | Path | None = None,
    fit: FitMode = "contain",
    thumb_width: int = THUMB_WIDTH,
    match_width: int = MATCH_WIDTH,
    search_seconds: float = SEARCH_SECONDS,
    sigma_frames: float = SIGMA_FRAMES,
    tolerance_frames: float = TOLERANCE_FRAMES,
    progress: ProgressFn | None = None,
) -> SyncResult:
    """Check a rendered video against the music (and the plan): ``douga eval sync``.

    Parameters
    ----------
    video : str or Path
        The rendered video (any container and codec FFmpeg decodes).
    audio : str or Path, optional
        The song; its beats and downbeats come from
        :func:`douga.music.analyze.analyze_music`. Without ``audio`` and ``music_map``
        the video's own audio track is analysed.
    music_map : MusicMap, optional
        A ready analysis (``douga analyze --json``) to take the beats from instead.
    plan : str or Path, optional
        A Timeline JSON (``douga plan --json``): each keyframe is looked for near its
        planned frame. Image paths may be absolute or relative to the plan file.
    fit : {"contain", "cover", "stretch"}
        How the renderer fitted keyframes of another size (the project's ``fit``);
        see :func:`douga.images.fit_image`.
    thumb_width : int
        Width in pixels of the RGB thumbnails the frame-to-frame change is measured on.
    match_width : int
        Width in pixels of the gray pictures keyframes are matched at.
    search_seconds : float
        A keyframe is looked for within ± this of its planned frame (and never past
        its neighbours' planned frames).
    sigma_frames, tolerance_frames : float
        As in :func:`beat_alignment`.
    progress : callable, optional
        ``progress(stage, fraction)``, fraction in 0..1.

    Returns
    -------
    SyncResult

    Raises
    ------
    InputError
        A missing or unreadable video, audio, plan or keyframe image (the message
        names the file), or a video without frames.

    Notes
    -----
    Frames are counted in presentation order from the first decoded one, at the
    stream's average rate: a constant-rate video, as douga renders, is assumed.
    """

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    video_path = Path(video)
    # fail fast, before the analysis
    fps, width, height = _video_info(video_path, needs_audio=audio is None and music_map is None)
    if fit not in FIT_MODES:
        raise InputError(f"fit: got {fit!r}; expected one of {', '.join(FIT_MODES)}")
    if not (search_seconds > 0 and math.isfinite(search_seconds)):
        raise InputError(f"search_seconds: got {search_seconds!r}; expected a positive time")
    thumb = _thumb_size(width, height, thumb_width)
    match = _thumb_size(width, height, match_width)
    plan_path = Path(plan) if plan is not None else None
    timeline: Timeline | None = None
    placements: list[KeyframePlacement] = []
    targets: list[_Target] = []
    images: list[Path] = []
    zoomed: frozenset[int] = frozenset()
    shaken: frozenset[int] = frozenset()
    effects: FrameEffects | None = None
    if plan_path is not None:
        timeline = Timeline.load(plan_path)
        if abs(timeline.fps - fps) > 1e-3:
            log.warning(
                "%s: planned at %g fps but %s plays at %g fps; matching by time",
                plan_path, timeline.fps, video_path, fps,
            )
        placements = list(timeline.keyframes)
        images = [_resolve_image(str(kp.image), plan_path) for kp in placements]
        for image in images:
            check_image(image)  # a missing picture fails now, not minutes into decoding
        targets = _targets(placements, fps=fps, search_seconds=search_seconds)
        zoomed, shaken = _moved_frames(timeline, fps=fps)
        effects = _plan_effects(timeline, fps=fps)
    templates = _Templates(images, size=(width, height), match=match, fit=fit,
                           effects=effects)

    source: str | None
    mm: MusicMap
    if music_map is not None:
        mm, source = music_map, None
    else:
        from douga.music.analyze import analyze_music

        source_path = Path(audio) if audio is not None else video_path
        if audio is None:
            log.info("%s: no song given; analysing the video's own audio track", video_path)
        mm = analyze_music(source_path, progress=progress)
        source = str(source_path)

    report("decoding", 0.0)
    scan, tracks = _scan_video(video_path, thumb=thumb, match=match, targets=targets,
                               templates=templates, zoomed=zoomed, shaken=shaken,
                               progress=progress)
    fps = scan.fps or fps
    frames, strengths = find_visual_beats(scan.change, fps=fps)
    beats = [
        VisualBeat(
            frame=int(f), time=round(f / fps, 6), change=round(float(scan.change[f]), 5),
            strength=round(float(s), 3),
        )
        for f, s in zip(frames, strengths, strict=True)
    ]
    duration = scan.frame_count / fps
    if audio is not None and abs(mm.duration - duration) > 0.5 + 0.02 * duration:
        raise InputError(f"--audio {audio}: lasts {mm.duration:.2f} s but {video_path} "
                         f"{duration:.2f} s; expected the song the video was rendered from")
    alignment = beat_alignment(
        list(mm.beats), frames / fps, fps=fps, downbeats=list(mm.downbeats), duration=duration,
        sigma_frames=sigma_frames, tolerance_frames=tolerance_frames,
    )
    rows = (
        _keyframe_sync(placements, tracks, timeline, fps=fps) if timeline is not None else []
    )
    report("done", 1.0)
    return SyncResult(
        video=str(video_path),
        audio=source,
        plan=str(plan_path) if plan_path is not None else None,
        fps=fps,
        frame_count=scan.frame_count,
        width=scan.width or width,
        height=scan.height or height,
        duration=round(duration, 6),
        visual_beats=beats,
        alignment=alignment,
        keyframes=rows,
        keyframe_summary=_summarise(rows) if timeline is not None else None,
    )


# ----------------------------------------------------------------------- report


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100.0 * x:.1f}%"


def format_report(result: SyncResult) -> str:
    """A plain-text report (no markup): alignment numbers, then a row per keyframe."""
    a = result.alignment
    lines = [
        f"{result.video}: {result.frame_count} frames at {result.fps:g} fps "
        f"({result.duration:.2f} s, {result.width}x{result.height})",
        f"visual beats: {a.n_visual_beats}   music beats: {a.n_music_beats}   "
        f"downbeats: {a.n_downbeats}",
        f"beat alignment score (sigma {a.sigma_frames:g} frames): "
        + ("-" if a.score is None else f"{a.score:.3f}"),
        f"visual accents on a beat (within {a.tolerance_frames:g} frames): "
        f"{_pct(a.accents_on_beat)} ({a.n_accents_on_beat}/{a.n_visual_beats}; target >= 90%)",
        f"downbeats carrying an accent: {_pct(a.downbeats_with_accent)} "
        f"({a.n_downbeats_with_accent}/{a.n_downbeats}; target >= 90%)",
    ]
    s = result.keyframe_summary
    if s is None:
        return "\n".join(lines)
    lines.append("")
    head = (
        f"{'kf':>3}  {'anchor':>8}  {'anchor s':>9}  {'planned':>7}  {'shown':>6}  "
        f"{'offset ms':>9}  {'frames':>7}  {'match':>5}  {'how':>10}  image"
    )
    lines += [head, "-" * len(head)]
    for r in result.keyframes:
        shown = "-" if r.shown_frame is None else str(r.shown_frame)
        ms = "-" if r.offset_ms is None else f"{r.offset_ms:+.1f}"
        fr = "-" if r.offset_frames is None else f"{r.offset_frames:+.2f}"
        note = (
            "  (ambiguous: no visible arrival)" if r.ambiguous
            else "  (not found)" if r.shown_frame is None else ""
        )
        lines.append(
            f"{r.index:>3}  {r.anchor or '-':>8}  {r.anchor_time:9.3f}  {r.planned_frame:>7}  "
            f"{shown:>6}  {ms:>9}  {fr:>7}  {r.match:5.3f}  {r.method:>10}  "
            f"{Path(r.image).name}{note}"
        )
    lines.append("-" * len(head))
    if s.n_measured:
        lines.append(
            f"keyframe offset: max {s.max_abs_offset_ms:.1f} ms ({s.max_abs_offset_frames:.2f} "
            f"frames), mean {s.mean_abs_offset_ms:.1f} ms ({s.mean_abs_offset_frames:.2f} frames); "
            f"{s.n_within_one_frame}/{s.n_measured} within 1 frame (target: all)"
        )
    else:
        lines.append("keyframe offset: no keyframe could be measured")
    if s.n_missing or s.n_ambiguous:
        lines.append(
            f"not found: {s.n_missing}; ambiguous (already on screen before its frame, "
            f"left out of the offsets): {s.n_ambiguous}"
        )
    return "\n".join(lines)
