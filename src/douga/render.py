"""Video writer: frames + song → H.264/AAC mp4, streamed, atomic, with a per-shot cache.

Two entry points:

* :func:`write_video` streams any iterable of frames through one libx264 encoder and
  muxes the song as AAC into ``OUT`` (no cache).
* :func:`write_shots` takes the video as a sequence of :class:`Shot` (a run of frames
  between keyframes or cuts, with a key that hashes everything its frames depend on,
  see :func:`shot_key`) and keeps each encoded shot in a :class:`ShotCache`; shots
  already in the cache are not made again.

Both write ``.OUT.PID.partial.mp4`` beside the target and ``os.replace`` it at the
end, so the output path never holds a partial file; the temp file is deleted on any
exception, and leftovers of killed runs (dead PID) are deleted by the next run.
Encoding runs in a worker thread fed through a bounded queue: libx264, the RGB→YUV
conversion (swscale) and muxing release the GIL in PyAV, so frame synthesis
(numpy/OpenCV) and encoding use both cores.

Cache design (measured, 1280×720 synthetic moving content, 2 cores, CPU per frame):
libx264 ``veryfast`` CRF 18 costs ~19 ms; a lossless FFV1 cache would add ~22 ms to
encode and ~15–30 ms to decode every frame again for the final pass (and ~270 KiB per
frame on disk, 1+ GB for a 3-minute song), i.e. more than doubling the encoding cost.
So each shot is encoded **once**, as an independent H.264 segment (a small mp4
starting with an IDR frame, same encoder settings), and the final mp4 is made by
remuxing the segments' packets (no re-encode) beside the AAC track's.

* Resume after ``kill -9``: a segment appears under its final name only when complete
  (temp + rename), so a rerun renders exactly the missing shots. x264 is
  deterministic for a fixed thread count (the default ``threads=2`` does not depend on
  the machine) once its macroblock tree is off (see ``_X264_PARAMS``), so a resumed
  render has the same segments, hence bit-identical frames, as an uninterrupted one.
* Editing a keyframe changes the keys of the shots that use it, and only they are
  rendered again.
* The song's AAC track is a cache entry too (key ``aac-…``, from the samples and the
  video's length), encoded in a background thread while the shots render; the final
  pass is then a remux of packets only (milliseconds per shot).

The price is an IDR frame at every shot start, where a cut or keyframe usually puts an
I-frame anyway (+4 % file size with 1-second shots). ``benchmarks/bench_render.py``
measures the whole writer (RGB→YUV, x264, AAC, muxing) at ~23 CPU ms a frame at 720p
and ~50 at 1080p, the same with or without the cache; re-muxing a fully cached video
costs 0.7 ms a frame. Colours are converted with BT.709 (limited range) and tagged so.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import asdict, dataclass, is_dataclass, replace
from fractions import Fraction
from itertools import chain
from pathlib import Path
from typing import Any

import av
import numpy as np
import soxr
from av.video.reformatter import ColorRange, Colorspace, Interpolation, VideoReformatter

from douga.errors import DougaError, InputError

__all__ = [
    "DEFAULT_CRF",
    "DEFAULT_PRESET",
    "DEFAULT_THREADS",
    "DEFAULT_TUNE",
    "X264_PRESETS",
    "X264_TUNES",
    "AudioSource",
    "ProgressCallback",
    "RenderReport",
    "Shot",
    "ShotCache",
    "image_digest",
    "shot_key",
    "write_shots",
    "write_video",
]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, float], None]
"""``progress(stage, fraction)``; stages in order: "audio", "render", "mux" (cache only)."""

AudioSource = str | Path | tuple[np.ndarray, int] | None
"""A song file, or ``(samples, sample_rate)`` with float samples ``(n,)`` or ``(channels, n)``."""

DEFAULT_CRF = 18
DEFAULT_PRESET = "veryfast"  # ~19 ms/frame at 720p, smaller files than superfast or faster
DEFAULT_TUNE: str | None = "animation"  # flat colour areas, sharp lines; same speed
DEFAULT_THREADS = 2  # fixed, not os.cpu_count(): x264's bits depend on it (cache identity)
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                "slower", "veryslow", "placebo")
X264_TUNES = ("film", "animation", "grain", "stillimage", "psnr", "ssim", "fastdecode",
              "zerolatency")
AUDIO_BIT_RATE = 192_000  # stereo; mono gets 2/3 of it
_AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025,
              8000, 7350)
_QUEUE_FRAMES = 8  # frames between synthesis and encoder: 50 MB at 1080p
_SEGMENT_FORMAT = 1  # bump when the segment layout changes; it is part of every cache key
# x264's macroblock tree reads uninitialised memory (at 160×96, 320×180, 854×480,
# 960×540... not at 640×360 or 1280×720): the same frames encoded in two processes, or
# with MALLOC_PERTURB_ set differently, gave different bits. Without it x264's output is
# a function of its input and settings alone, which the shot cache needs (a resumed
# render must equal an uninterrupted one). Cost at 720p: ~8 % larger files at equal
# PSNR, about the same speed.
_X264_PARAMS = "no-mbtree=1"


# --------------------------------------------------------------------------- public data


@dataclass(frozen=True)
class Shot:
    """One run of output frames that is cached as a unit.

    Attributes
    ----------
    key
        Digest of everything the shot's frames depend on (see :func:`shot_key`): the
        keyframe images, the frame specs, generator name and version, effect events,
        lyric lines, style... Output size, fps and encoder settings are added by
        :func:`write_shots`.
    frame_count
        Number of frames the shot has (>= 1).
    frames
        Called only when the shot is not cached; returns an iterable of exactly
        ``frame_count`` uint8 H×W×3 RGB frames.
    """

    key: str
    frame_count: int
    frames: Callable[[], Iterable[np.ndarray]]


@dataclass(frozen=True)
class RenderReport:
    """What a render wrote and how much work it did."""

    path: Path
    width: int
    height: int
    fps: float
    frame_count: int
    duration: float  # seconds, frame_count / fps
    frames_rendered: int  # frames made by the frame source in this run
    shots_rendered: int
    shots_cached: int
    segment_keys: tuple[str, ...]  # cache entries used, in order; empty without a cache
    seconds: float  # wall-clock time of the call


def shot_key(*parts: object) -> str:
    """SHA-256 hex digest of ``parts``, for :attr:`Shot.key`.

    Parts may be str, int, float, bool, None, bytes, numpy arrays (hashed by dtype,
    shape and content), dataclasses (such as ``FrameSpec`` or ``EffectEvent``), and
    lists, tuples and dicts of these. Floats are hashed exactly (their ``repr``). A
    ``Path`` is hashed as its text, not its content: hash the image (``image_digest``).
    """
    text = json.dumps(parts, default=_canonical, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def image_digest(image: np.ndarray) -> str:
    """SHA-256 hex digest of an image's dtype, shape and pixels (compute once per keyframe)."""
    a = np.ascontiguousarray(image)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.data)
    return h.hexdigest()


def _canonical(obj: object) -> object:
    if isinstance(obj, np.ndarray):
        return {"ndarray": image_digest(obj)}
    if isinstance(obj, bytes | bytearray | memoryview):
        return {"bytes": hashlib.sha256(bytes(obj)).hexdigest()}
    if isinstance(obj, np.generic):
        return obj.item()
    if is_dataclass(obj) and not isinstance(obj, type):
        return {"dataclass": type(obj).__name__, **asdict(obj)}
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=repr)
    raise TypeError(f"shot_key: cannot hash a {type(obj).__name__}")


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class _Settings:
    width: int
    height: int
    fps: Fraction
    crf: int
    preset: str
    tune: str | None
    threads: int

    def x264_options(self) -> dict[str, str]:
        opts = {"crf": str(self.crf), "preset": self.preset, "x264-params": _X264_PARAMS}
        if self.tune:
            opts["tune"] = self.tune
        return opts

    def tag(self) -> list[object]:
        """Everything besides the shot's content that changes a segment's bits."""
        return [_SEGMENT_FORMAT, self.width, self.height, str(self.fps), self.crf, self.preset,
                self.tune, self.threads, _X264_PARAMS, av.__version__,
                av.library_versions["libavcodec"]]


def _settings(width: int | None, height: int | None, fps: float, crf: int, preset: str,
              tune: str | None, threads: int) -> _Settings:
    if isinstance(fps, bool) or not isinstance(fps, int | float) or not 0 < fps <= 240:
        raise InputError(f"fps: got {fps!r}; expected a frame rate in (0, 240]")
    if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= 51:
        raise InputError(f"crf: got {crf!r}; expected an integer 0..51 (lower is better)")
    if preset not in X264_PRESETS:
        raise InputError(f"preset: got {preset!r}; expected one of {', '.join(X264_PRESETS)}")
    if tune is not None and tune not in X264_TUNES:
        raise InputError(f"tune: got {tune!r}; expected None or one of {', '.join(X264_TUNES)}")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InputError(f"threads: got {threads!r}; expected a positive integer")
    for name, v in (("width", width), ("height", height)):
        if v is not None and (not isinstance(v, int) or v < 2 or v % 2):
            raise InputError(f"output {name}: got {v!r}; H.264 in yuv420p needs an even "
                             "number of pixels >= 2")
    # 23.976 → 24000/1001 exactly, so frame times do not drift over a song
    rate = Fraction(fps).limit_denominator(1001)
    return _Settings(width or 0, height or 0, rate, crf, preset, tune, threads)


# --------------------------------------------------------------------------- audio


@dataclass(frozen=True)
class _Audio:
    samples: np.ndarray  # float32 (channels, n), channels 1 or 2
    rate: int


def _load_audio(audio: AudioSource) -> _Audio | None:
    if audio is None:
        return None
    if isinstance(audio, str | Path):
        from douga.music.audio import load_audio

        x, rate = load_audio(audio, sr=None, mono=False)
    else:
        try:
            x, rate = np.asarray(audio[0]), audio[1]
        except (TypeError, IndexError, ValueError):
            raise InputError("audio: expected a file path or (samples, sample_rate)") from None
        if isinstance(rate, bool) or not isinstance(rate, int | np.integer) or rate <= 0:
            raise InputError(f"audio sample rate: got {rate!r}; expected a positive integer")
        if x.dtype == np.int16:
            x = x.astype(np.float32) / 32768.0
        if x.ndim not in (1, 2) or not np.issubdtype(x.dtype, np.floating):
            raise InputError(f"audio samples: got dtype {x.dtype} shape {x.shape}; expected "
                             "float (n,) or (channels, n)")
    x = np.atleast_2d(np.asarray(x, dtype=np.float32))
    rate = int(rate)
    if x.shape[0] > 8:
        raise InputError(f"audio samples: got shape {x.shape}, {x.shape[0]} channels; expected "
                         "(channels, n) with at most 8 channels")
    if x.shape[0] > 2:
        x = _downmix_to_stereo(x, rate)
    if rate not in _AAC_RATES:
        x = np.ascontiguousarray(soxr.resample(x.T, rate, 48000, quality="HQ").T)
        rate = 48000
    # a new array (never the caller's), without NaN or overshoot for the AAC encoder
    x = np.clip(np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)
    return _Audio(np.ascontiguousarray(x, dtype=np.float32), rate)


# FFmpeg's channel order for these layouts is what a multichannel file decodes to
_LAYOUTS = {3: "3.0", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


def _downmix_to_stereo(x: np.ndarray, rate: int) -> np.ndarray:
    """FFmpeg's downmix of the usual layout for this many channels (centre kept)."""
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(x), format="fltp",
                                       layout=_LAYOUTS[x.shape[0]])
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=rate)
    out = [f.to_ndarray() for f in resampler.resample(frame) + resampler.resample(None)]
    return np.concatenate(out, axis=1) if out else np.zeros((2, 0), np.float32)


class _AacPackets:
    """The packets of an audio-only mp4 (the cached AAC track), muxed as a stream of
    another container in step with its video."""

    def __init__(self, container: av.container.OutputContainer, path: Path) -> None:
        self._source = av.open(str(path))
        src = self._source.streams.audio[0]
        self.stream = container.add_stream_from_template(src)
        self._packets = (pk for pk in self._source.demux(src) if pk.size)
        self._next: av.Packet | None = next(self._packets, None)

    def __enter__(self) -> _AacPackets:
        return self

    def __exit__(self, *exc: object) -> None:
        self._source.close()

    def until(self, seconds: float | None) -> list[av.Packet]:
        """The packets that start before ``seconds`` (None: all that are left)."""
        out = []
        while self._next is not None and (
            seconds is None or (self._next.pts or 0) * self._next.time_base < seconds
        ):
            self._next.stream = self.stream
            out.append(self._next)
            self._next = next(self._packets, None)
        return out


class _AacTrack:
    """The song as an AAC stream, encoded in step with the video and cut to its length."""

    def __init__(self, container: av.container.OutputContainer, audio: _Audio) -> None:
        self.audio = audio
        channels = audio.samples.shape[0]
        self.stream = container.add_stream("aac", rate=audio.rate)
        self.stream.layout = "stereo" if channels == 2 else "mono"
        self.stream.bit_rate = AUDIO_BIT_RATE if channels == 2 else AUDIO_BIT_RATE * 2 // 3
        self.stream.time_base = Fraction(1, audio.rate)
        self.pos = 0  # samples encoded

    def encode_until(self, seconds: float) -> list[av.Packet]:
        return self._encode(round(seconds * self.audio.rate), final=False)

    def finish(self, seconds: float) -> list[av.Packet]:
        end = round(seconds * self.audio.rate)
        n = self.audio.samples.shape[1]
        if abs(n - end) > self.audio.rate * 0.05:
            log.warning("audio lasts %.3f s but the video %.3f s; the audio is %s", n /
                        self.audio.rate, seconds, "cut" if n > end else "padded with silence")
        return self._encode(end, final=True) + list(self.stream.encode(None))

    def _encode(self, end: int, *, final: bool) -> list[av.Packet]:
        packets: list[av.Packet] = []
        x = self.audio.samples
        step = 1024  # one AAC frame
        while self.pos < end and (final or self.pos + step <= end):
            stop = min(self.pos + step, end)
            chunk = x[:, self.pos:stop]
            if chunk.shape[1] < stop - self.pos:  # song shorter than the video: silence
                pad = np.zeros((x.shape[0], stop - self.pos - chunk.shape[1]), np.float32)
                chunk = np.concatenate([chunk, pad], axis=1)
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp",
                                               layout=self.stream.layout.name)
            frame.sample_rate = self.audio.rate
            frame.pts = self.pos
            frame.time_base = self.stream.time_base
            packets.extend(self.stream.encode(frame))
            self.pos = stop
        return packets


# --------------------------------------------------------------------------- video


def _open_container(path: Path, *, faststart: bool) -> av.container.OutputContainer:
    """Open an mp4 for writing (one place, so tests can make it fail)."""
    opts: dict[str, str] = {"movflags": "+faststart"} if faststart else {}
    return av.open(str(path), mode="w", format="mp4", container_options=opts)


def _add_h264(container: av.container.OutputContainer, s: _Settings) -> av.VideoStream:
    stream = container.add_stream("libx264", rate=s.fps)
    stream.width, stream.height, stream.pix_fmt = s.width, s.height, "yuv420p"
    stream.codec_context.time_base = 1 / s.fps
    stream.options.update(s.x264_options())
    cc = stream.codec_context
    # frame threads, x264's own default (PyAV asks for slices, which compress worse);
    # a fixed count, because x264's bits depend on it
    cc.thread_type = "FRAME"
    cc.thread_count = s.threads
    # tag what _H264.encode converts to (BT.709, limited range) so that players and
    # decoders convert back with the same matrix
    cc.colorspace, cc.color_range, cc.color_primaries, cc.color_trc = 1, 1, 1, 1
    return stream


class _H264:
    """Converts RGB frames to BT.709 yuv420p and encodes them with libx264."""

    def __init__(self, container: av.container.OutputContainer, s: _Settings) -> None:
        self.stream = _add_h264(container, s)
        self.reformatter = VideoReformatter()
        self.count = 0

    def encode(self, rgb: av.VideoFrame) -> list[av.Packet]:
        # area-averaged chroma: +0.5 dB on cel edges over bilinear, same speed
        yuv = self.reformatter.reformat(rgb, format="yuv420p", dst_colorspace=Colorspace.ITU709,
                                        dst_color_range=ColorRange.MPEG,
                                        interpolation=Interpolation.AREA)
        yuv.pts = self.count
        self.count += 1
        return list(self.stream.encode(yuv))

    def flush(self) -> list[av.Packet]:
        return list(self.stream.encode(None))


def _to_frame(image: np.ndarray, index: int, s: _Settings) -> av.VideoFrame:
    """Copy one RGB frame out of the caller's buffer (it may reuse it) into a VideoFrame."""
    a = np.asarray(image)
    if a.dtype != np.uint8 or a.shape != (s.height, s.width, 3):
        raise DougaError(f"frame {index}: got an array of dtype {a.dtype} and shape {a.shape}; "
                         f"expected uint8 {s.height}×{s.width}×3 RGB (the output size)")
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(a), format="rgb24")


# --------------------------------------------------------------------------- worker thread

_STOP = object()
_ABORT = object()


class _Aborted(Exception):
    pass


class _Worker:
    """Runs ``consume(items)`` in a thread fed by a bounded queue.

    An error in the worker is raised in the producer at its next ``put``; ``abort``
    makes ``items`` raise inside the worker, so its ``finally`` blocks clean up.
    """

    def __init__(self, consume: Callable[[Iterator[Any]], None], *, name: str) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(_QUEUE_FRAMES)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(consume,), name=name,
                                        daemon=True)
        self._thread.start()

    def _items(self) -> Iterator[Any]:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if item is _ABORT:
                raise _Aborted
            yield item

    def _run(self, consume: Callable[[Iterator[Any]], None]) -> None:
        try:
            consume(self._items())
        except _Aborted:
            return
        except BaseException as e:
            self._error = e
            # keep taking items so that the producer never blocks on a full queue
            while True:
                item = self._queue.get()
                if item is _STOP or item is _ABORT:
                    break

    def put(self, item: Any) -> None:
        if self._error is not None:
            raise self._error
        self._send(item)

    def _send(self, item: Any) -> None:
        while self._thread.is_alive():
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        self.put(_STOP)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        self._send(_ABORT)
        self._thread.join()


# --------------------------------------------------------------------------- files and errors


def _partial_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.partial.mp4")


def _remove_stale_partials(folder: Path, prefix: str) -> None:
    """Delete temp files that runs killed with -9 left behind (their PID is gone)."""
    with contextlib.suppress(OSError):
        for p in folder.glob(f"{glob.escape(prefix)}*.partial.mp4"):
            pid = p.name[len(prefix):].split(".")[0]
            if pid.isdigit() and not _pid_alive(int(pid)):
                p.unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _io_error(path: Path, e: BaseException, what: str) -> InputError | None:
    code = getattr(e, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT):
        return InputError(f"{path}: no space left on the device while writing {what}; "
                          "free some disk space or write to another folder")
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return InputError(f"{path}: permission denied; cannot write {what} in {path.parent}")
    if code == errno.ENOENT:
        return InputError(f"{path}: folder {path.parent} does not exist; cannot write {what}")
    if code == errno.ENOTDIR:
        return InputError(f"{path}: {path.parent} is not a folder; cannot write {what}")
    if code == errno.EISDIR:
        return InputError(f"{path}: is a folder; expected a file path for {what}")
    return None


@contextlib.contextmanager
def _clear_io_errors(path: Path, what: str) -> Iterator[None]:
    """Turn disk-full and permission errors (Python's or FFmpeg's) into InputError."""
    try:
        yield
    except (OSError, av.FFmpegError) as e:
        err = _io_error(path, e, what)
        if err is None:
            raise
        raise err from e


def _check_target(path: Path) -> None:
    """Fail before rendering, not after, when the output cannot be written."""
    if path.is_dir():
        raise InputError(f"{path}: is a folder; expected a file path for the video")
    probe = _partial_path(path)
    with _clear_io_errors(path, "the video"):
        probe.touch()
    probe.unlink(missing_ok=True)
    _remove_stale_partials(path.parent, f".{path.name}.")


@contextlib.contextmanager
def _closing(
    container: av.container.OutputContainer,
) -> Iterator[av.container.OutputContainer]:
    """Close (write the trailer) on success; on failure close quietly, the file is deleted."""
    try:
        yield container
    except BaseException:
        with contextlib.suppress(Exception):
            container.close()
        raise
    container.close()


def _report(progress: ProgressCallback | None, stage: str, fraction: float) -> None:
    if progress is not None:
        progress(stage, min(max(fraction, 0.0), 1.0))


# --------------------------------------------------------------------------- write_video


def write_video(
    out_path: str | Path,
    frames: Iterable[np.ndarray],
    *,
    fps: float,
    audio: AudioSource,
    frame_count: int | None = None,
    width: int | None = None,
    height: int | None = None,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
    tune: str | None = DEFAULT_TUNE,
    threads: int = DEFAULT_THREADS,
    progress: ProgressCallback | None = None,
) -> RenderReport:
    """Encode a stream of frames to an H.264 mp4 with the song as AAC.

    Parameters
    ----------
    out_path : str or Path
        The mp4 to write; replaced atomically when complete, untouched on failure.
    frames : iterable of np.ndarray
        uint8 H×W×3 RGB frames, consumed one at a time (never all in memory). The
        writer copies each frame, so the caller may reuse its buffer.
    fps : float, keyword-only
        Frame rate (23.976 is stored as 24000/1001).
    audio : str, Path, (samples, sample_rate) or None, keyword-only
        The song; it is cut (or padded with silence) to the video's duration
        ``frame count / fps``. Kept at its sample rate when AAC allows it (else 48 kHz),
        mono or stereo (more channels are downmixed), AAC at 192 kbit/s stereo.
    frame_count : int, optional, keyword-only
        The number of frames expected; checked, and used for progress. Defaults to
        ``len(frames)`` when it has one, else progress follows the song's duration.
    width, height : int, optional, keyword-only
        Output size; defaults to the first frame's. Both must be even.
    crf, preset, tune, threads : keyword-only
        libx264 quality (0–51, lower is better), speed preset, tune (None for none)
        and thread count.
    progress : callable, optional, keyword-only
        ``progress(stage, fraction)`` with stages "audio" then "render".

    Returns
    -------
    RenderReport

    Raises
    ------
    InputError
        Bad settings, an unreadable song, or an output that cannot be written
        (permission denied, disk full, missing folder); the message names the path.
    DougaError
        A frame of the wrong size or type, or not ``frame_count`` frames.
    """
    t0 = time.perf_counter()
    out = Path(out_path)
    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise DougaError(f"{out}: no frames to write; a video needs at least one frame")
    shape = np.shape(first)
    if width is None or height is None:
        height, width = (int(shape[0]), int(shape[1])) if len(shape) == 3 else (0, 0)
    s = _settings(width, height, fps, crf, preset, tune, threads)
    _check_target(out)
    _report(progress, "audio", 0.0)
    song = _load_audio(audio)
    _report(progress, "audio", 1.0)
    total = frame_count if frame_count is not None else (
        len(frames) if isinstance(frames, Sized) else 0)
    if not total and song is not None:
        total = round(song.samples.shape[1] / song.rate * s.fps)

    tmp = _partial_path(out)
    stats = {"frames": 0}

    def consume(items: Iterator[av.VideoFrame]) -> None:
        with _clear_io_errors(out, "the video"), \
                _closing(_open_container(tmp, faststart=True)) as container:
            video = _H264(container, s)
            track = _AacTrack(container, song) if song is not None else None
            for frame in items:
                container.mux(video.encode(frame))
                if track is not None:
                    container.mux(track.encode_until(video.count / float(s.fps)))
            container.mux(video.flush())
            if track is not None:
                container.mux(track.finish(video.count / float(s.fps)))
            stats["frames"] = video.count

    try:
        # errors of the frame source pass unchanged; the writer's own (in the worker)
        # arrive as InputError when the disk is full or the folder is not writable
        worker = _Worker(consume, name="douga-encoder")
        try:
            n = 0
            for n, image in enumerate(chain([first], it), start=1):
                worker.put(_to_frame(image, n - 1, s))
                if total:
                    _report(progress, "render", n / total if n < total else 0.999)
            if frame_count is not None and n != frame_count:
                raise DougaError(f"{out}: got {n} frames; expected {frame_count}")
            worker.finish()
        except BaseException:
            worker.abort()
            raise
        with _clear_io_errors(out, "the video"):
            os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _report(progress, "render", 1.0)
    return RenderReport(out, s.width, s.height, float(fps), stats["frames"],
                        stats["frames"] / float(s.fps), stats["frames"], 0, 0, (),
                        time.perf_counter() - t0)


# --------------------------------------------------------------------------- shot cache


@dataclass(frozen=True)
class _Segment:
    path: Path
    frames: int
    delay: int  # frames between decode and presentation order (B-frames)


class ShotCache:
    """A folder of encoded shots: one H.264 mp4 per shot, named by its segment key.

    Files appear only complete (written to a temp name, then renamed), so a folder
    left by a killed render holds only usable shots. Entries are never deleted
    automatically; :meth:`prune` removes those a render no longer uses.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        with _clear_io_errors(self.directory, "the shot cache"):
            self.directory.mkdir(parents=True, exist_ok=True)
        _remove_stale_partials(self.directory, ".")

    def path(self, key: str) -> Path:
        """Where the segment for ``key`` lives."""
        return self.directory / f"{key}.mp4"

    def keys(self) -> list[str]:
        """Keys of all complete segments in the folder."""
        return sorted(p.stem for p in self.directory.glob("*.mp4") if not p.name.startswith("."))

    def prune(self, *, keep: Iterable[str]) -> int:
        """Delete every segment whose key is not in ``keep``; return how many."""
        keep_set = set(keep)
        gone = [k for k in self.keys() if k not in keep_set]
        for k in gone:
            self.path(k).unlink(missing_ok=True)
        return len(gone)

    def _inspect(self, key: str, frame_count: int, fps: Fraction) -> _Segment | None:
        """The complete, readable segment of ``frame_count`` frames under ``key``, or None."""
        p = self.path(key)
        if not p.is_file():
            return None
        frames, delay = -1, 0
        try:
            with av.open(str(p)) as c:
                stream = c.streams.video[0]
                first = next(pk for pk in c.demux(stream) if pk.size)
                frames = stream.frames
                delay = max(0, -round((first.dts or 0) * _time_base(stream) * fps))
        except (av.FFmpegError, OSError, IndexError, StopIteration, TypeError):
            pass
        if frames != frame_count:
            log.warning("%s: damaged shot segment; rendering the shot again", p)
            p.unlink(missing_ok=True)
            return None
        return _Segment(p, frames, delay)


def _time_base(stream: av.VideoStream) -> Fraction:
    if stream.time_base is None:
        raise av.InvalidDataError(errno.EINVAL, "stream without a time base")
    return stream.time_base


def write_shots(
    out_path: str | Path,
    shots: Sequence[Shot],
    *,
    fps: float,
    width: int,
    height: int,
    audio: AudioSource,
    cache_dir: str | Path | None,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
    tune: str | None = DEFAULT_TUNE,
    threads: int = DEFAULT_THREADS,
    progress: ProgressCallback | None = None,
) -> RenderReport:
    """Write the video shot by shot, reusing shots already in the cache.

    Parameters
    ----------
    out_path : str or Path
        The mp4 to write (atomically, as :func:`write_video`).
    shots : sequence of Shot
        The whole video in order; their ``frame_count`` sum is the video's length.
    fps, width, height : keyword-only
        Frame rate and output size (even).
    audio : keyword-only
        The song, as for :func:`write_video`.
    cache_dir : str, Path or None, keyword-only
        Folder of the :class:`ShotCache` (created if needed). ``None`` streams all
        shots through :func:`write_video` without caching.
    crf, preset, tune, threads, progress : keyword-only
        As for :func:`write_video`; they are part of every segment's key. Progress
        stages: "audio", "render" (fraction of the frames that must be made),
        "mux" (joining the shots).

    Returns
    -------
    RenderReport
        With the shots made and reused, and the segment keys (for :meth:`ShotCache.prune`).

    Raises
    ------
    InputError
        Bad settings, an unreadable song, or an output or cache folder that cannot be
        written; the message names the path.
    DougaError
        A shot that does not make ``frame_count`` frames of the output size.
    """
    t0 = time.perf_counter()
    out = Path(out_path)
    s = _settings(width, height, fps, crf, preset, tune, threads)
    if not shots:
        raise DougaError(f"{out}: no shots to write; a video needs at least one frame")
    empty = [i for i, shot in enumerate(shots) if shot.frame_count < 1]
    if empty:
        raise DougaError(f"{out}: shots {empty} have no frames; expected frame_count >= 1")
    total = sum(shot.frame_count for shot in shots)
    if cache_dir is None:
        report = write_video(out, chain.from_iterable(shot.frames() for shot in shots),
                             fps=fps, audio=audio, frame_count=total, width=width,
                             height=height, crf=crf, preset=preset, tune=tune,
                             threads=threads, progress=progress)
        return replace(report, shots_rendered=len(shots), seconds=time.perf_counter() - t0)

    cache = ShotCache(cache_dir)
    _check_target(out)
    _report(progress, "audio", 0.0)
    song = _load_audio(audio)
    _report(progress, "audio", 1.0)
    keys = [shot_key(shot.key, shot.frame_count, s.tag()) for shot in shots]
    found: dict[str, _Segment | None] = {}
    work: list[tuple[str, Shot]] = []  # each missing key once, in video order
    for key, shot in zip(keys, shots, strict=True):
        if key not in found:
            found[key] = cache._inspect(key, shot.frame_count, s.fps)
            if found[key] is None:
                work.append((key, shot))
    audio_key, audio_job = _cached_aac(cache, song, total / float(s.fps))
    try:
        made = _render_segments(cache, work, s, progress)
    except BaseException:
        if audio_job is not None:
            audio_job.abort()  # waits: no encoder is left writing into the cache
        raise
    if audio_job is not None:
        audio_job.finish()
    segments: dict[str, _Segment] = {}
    for key, shot in zip(keys, shots, strict=True):
        seg = found[key] or cache._inspect(key, shot.frame_count, s.fps)
        if seg is None:
            raise DougaError(f"{cache.path(key)}: a shot just written does not read back; "
                             "is another render using this cache folder?")
        segments[key] = seg
    _report(progress, "render", 1.0)
    audio_path = cache.path(audio_key) if audio_key is not None else None
    _mux_segments(out, [segments[k] for k in keys], s, audio_path, progress)
    cached = sum(1 for k in keys if found[k] is not None)
    used = (*keys, audio_key) if audio_key is not None else tuple(keys)
    return RenderReport(out, s.width, s.height, float(fps), total, total / float(s.fps), made,
                        len(shots) - cached, cached, used, time.perf_counter() - t0)


AAC_PREFIX = "aac-"  # cache keys of song tracks; the other keys are shots


def _cached_aac(cache: ShotCache, song: _Audio | None,
                seconds: float) -> tuple[str | None, _Worker | None]:
    """The song's AAC track as a cache entry of its own (an audio-only mp4).

    Returns its key and, when it is not in the cache yet, the worker thread that is
    encoding it (FFmpeg releases the GIL, so it runs beside the shots' rendering).
    """
    if song is None:
        return None, None
    digest = hashlib.sha256(song.samples.tobytes()).hexdigest()
    key = AAC_PREFIX + shot_key("douga-aac", digest, song.rate, song.samples.shape[0],
                                seconds, AUDIO_BIT_RATE)
    final = cache.path(key)
    if final.is_file():
        return key, None

    def encode(items: Iterator[Any]) -> None:
        tmp = final.with_name(f".{os.getpid()}.{key}.partial.mp4")
        try:
            with _clear_io_errors(cache.directory, "the shot cache"):
                with _closing(_open_container(tmp, faststart=False)) as container:
                    track = _AacTrack(container, song)
                    container.mux(track.finish(seconds))
                os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        for _ in items:  # the worker's queue: nothing is ever sent
            pass

    return key, _Worker(encode, name="douga-aac-encoder")


@dataclass(frozen=True)
class _Begin:
    key: str


_END = object()


def _render_segments(cache: ShotCache, work: list[tuple[str, Shot]], s: _Settings,
                     progress: ProgressCallback | None) -> int:
    """Make and encode the missing shots, each to its own segment; return frames made."""
    if not work:
        return 0

    def encode_one(items: Iterator[Any], tmp: Path) -> None:
        # a function of its own, so that one shot's encoder is freed before the next opens
        with _closing(_open_container(tmp, faststart=False)) as container:
            video = _H264(container, s)
            for frame in items:
                if frame is _END:
                    break
                container.mux(video.encode(frame))
            container.mux(video.flush())

    def consume(items: Iterator[Any]) -> None:
        tmp: Path | None = None
        try:
            with _clear_io_errors(cache.directory, "the shot cache"):
                for item in items:
                    assert isinstance(item, _Begin)
                    final = cache.path(item.key)
                    tmp = final.with_name(f".{os.getpid()}.{item.key}.partial.mp4")
                    encode_one(items, tmp)
                    os.replace(tmp, final)
                    tmp = None
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)

    total = sum(shot.frame_count for _, shot in work)
    done = 0
    # errors of the frame source pass unchanged; the writer's arrive as InputError
    worker = _Worker(consume, name="douga-shot-encoder")
    try:
        for key, shot in work:
            worker.put(_Begin(key))
            n = 0
            for n, image in enumerate(shot.frames(), start=1):
                if n > shot.frame_count:
                    break
                worker.put(_to_frame(image, n - 1, s))
                done += 1
                _report(progress, "render", done / total if done < total else 0.999)
            if n != shot.frame_count:
                more = "more than " if n > shot.frame_count else ""
                raise DougaError(f"shot {key[:12]}: its frames() made {more}{n} frames; "
                                 f"expected {shot.frame_count}")
            worker.put(_END)
        worker.finish()
    except BaseException:
        worker.abort()
        raise
    return done


def _mux_segments(out: Path, segments: list[_Segment], s: _Settings, audio: Path | None,
                  progress: ProgressCallback | None) -> None:
    """Join the segments' packets and the AAC track's (no re-encode) into ``out``."""
    delay = max(seg.delay for seg in segments)
    template = next(seg for seg in segments if seg.delay == delay)
    frame_tb = 1 / s.fps
    tmp = _partial_path(out)
    try:
        with _clear_io_errors(out, "the video"):
            with _closing(_open_container(tmp, faststart=True)) as container:
                with av.open(str(template.path)) as t:
                    tstream = t.streams.video[0]
                    extradata = tstream.codec_context.extradata
                    vstream = container.add_stream_from_template(tstream)
                track = (_AacPackets(container, audio) if audio is not None
                         else contextlib.nullcontext(None))
                with track as aac:
                    offset = 0  # first frame of the current segment
                    decoded = 0  # packets muxed so far: the decode-order index
                    for i, seg in enumerate(segments):
                        with av.open(str(seg.path)) as c:
                            stream = c.streams.video[0]
                            if stream.codec_context.extradata != extradata:
                                raise DougaError(f"{seg.path}: H.264 headers differ from the "
                                                 "other shots'; delete the cache folder")
                            to_frames = _time_base(stream) * s.fps
                            for pk in c.demux(stream):
                                if not pk.size or pk.pts is None:
                                    continue
                                pts = offset + round(pk.pts * to_frames)
                                # one dts scheme for all segments: strictly increasing across
                                # joins, and <= pts since no segment's delay exceeds ``delay``
                                dts = decoded - delay
                                if dts > pts:
                                    raise DougaError(f"{seg.path}: unexpected frame order")
                                pk.stream = vstream
                                pk.time_base = frame_tb
                                pk.pts, pk.dts, pk.duration = pts, dts, 1
                                container.mux(pk)
                                decoded += 1
                                if aac is not None:
                                    container.mux(aac.until((dts + 1) / float(s.fps)))
                        offset += seg.frames
                        _report(progress, "mux", (i + 1) / len(segments) * 0.99)
                    if aac is not None:
                        container.mux(aac.until(None))
            os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _report(progress, "mux", 1.0)
