"""Audio decoding: any song file → float32 samples at the analysis rate.

Every format goes through PyAV (FFmpeg's decoders ship inside the ``av`` wheel), so
wav, flac, mp3, ogg/vorbis, opus and m4a/aac are decoded by one code path and no
system ffmpeg is needed. Resampling uses soxr at the same quality librosa uses by
default (``soxr_hq``), so a song loaded here analyses exactly like one loaded with
``librosa.load``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import av
import numpy as np
import soxr

from douga.errors import InputError

__all__ = ["AUDIO_FORMATS", "audio_duration", "load_audio"]

log = logging.getLogger(__name__)

#: What we tell a user we expect; FFmpeg reads many more, and we do not refuse them.
AUDIO_FORMATS = "wav, flac, mp3, ogg, opus, m4a"
_EXPECTED = f"expected an audio file ({AUDIO_FORMATS})"

# Full-scale value of each integer sample format (FFmpeg's names, planar 'p' suffix removed).
_INT_FULL_SCALE = {"u8": 128.0, "s16": 32768.0, "s32": 2147483648.0, "s64": 9.223372036854776e18}


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: file not found; {_EXPECTED}")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; {_EXPECTED}")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty (0 bytes); {_EXPECTED}")


def _open(path: Path) -> av.container.InputContainer:
    _check_file(path)
    try:
        return av.open(str(path), mode="r")
    except PermissionError:
        raise InputError(f"{path}: permission denied; cannot read the file") from None
    except (av.FFmpegError, ValueError, OSError) as e:
        raise InputError(f"{path}: not a readable audio file ({_short(e)}); {_EXPECTED}") from None


def _short(e: BaseException) -> str:
    """FFmpeg error text without the errno and file name PyAV appends."""
    msg = getattr(e, "strerror", None) or str(e)
    return str(msg).strip() or type(e).__name__


def _frame_to_float(frame: av.AudioFrame) -> np.ndarray:
    """Samples of one decoded frame as float32, shape (channels, samples)."""
    arr = frame.to_ndarray()
    fmt = frame.format
    channels = frame.layout.nb_channels
    if not fmt.is_planar:
        # packed formats come back as (1, samples * channels), interleaved
        arr = arr.reshape(-1, channels).T
    base = fmt.name.removesuffix("p")
    # order="C": the transposed packed view would otherwise stay column-major, and the
    # downmix over channels then runs several times slower
    if base in _INT_FULL_SCALE:
        out = arr.astype(np.float32, order="C")
        if base == "u8":
            out -= 128.0
        out *= np.float32(1.0 / _INT_FULL_SCALE[base])
        return out
    return arr.astype(np.float32, order="C", copy=False)


def load_audio(
    path: str | Path, *, sr: int | None = 22050, mono: bool = True
) -> tuple[np.ndarray, int]:
    """Decode a song file and resample it.

    Parameters
    ----------
    path : str or Path
        Any audio file FFmpeg can read (wav, flac, mp3, ogg/vorbis, opus, m4a/aac, and
        the audio track of a video file). The first audio stream is used.
    sr : int or None, keyword-only
        Output sample rate in Hz; ``None`` keeps the file's own rate. Default 22050,
        the rate librosa analyses at.
    mono : bool, keyword-only
        Average the channels into one (as ``librosa.load`` does). Default True.

    Returns
    -------
    samples : np.ndarray
        float32 in [-1, 1]; shape ``(n,)`` when ``mono``, else ``(channels, n)``.
        A file with no samples gives an empty array (``(0,)`` or ``(channels, 0)``).
    sr : int
        The sample rate of ``samples`` in Hz.

    Raises
    ------
    InputError
        The file is missing, is not audio, has no audio stream, or cannot be decoded.

    Notes
    -----
    A damaged packet in the middle of a file is skipped with a logged warning, the
    way FFmpeg itself plays such files; a file in which nothing decodes is an error.
    """
    p = Path(path)
    if sr is not None and (isinstance(sr, bool) or not isinstance(sr, int) or sr <= 0):
        raise InputError(f"sr: got {sr!r}; expected a positive integer sample rate in Hz")

    with _open(p) as container:
        if not container.streams.audio:
            raise InputError(f"{p}: has no audio stream; {_EXPECTED}")
        stream = container.streams.audio[0]
        if stream.codec_context is None:
            raise InputError(f"{p}: audio codec cannot be decoded; {_EXPECTED}")
        decoder = _StreamDecoder(p, stream, mono=mono)
        decoder.run(container)
        header_seconds = _header_duration(container, stream)

    rate = decoder.rate
    x = decoder.samples()
    # generous slack: a VBR mp3 without a Xing header only estimates its duration
    if header_seconds and rate and x.shape[-1] < (0.9 * header_seconds - 0.1) * rate:
        log.warning(
            "%s: decoded %.2f s of audio but the header says %.2f s; the file may be truncated",
            p, x.shape[-1] / rate, header_seconds,
        )
    out_rate = sr if sr is not None else rate
    if x.shape[-1] and rate != out_rate:
        # soxr wants (samples, channels); its output follows the input's layout
        y = soxr.resample(x if x.ndim == 1 else x.T, rate, out_rate, quality="HQ")
        x = y if y.ndim == 1 else y.T
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not np.isfinite(x).all():
        raise InputError(f"{p}: has samples that are not numbers (NaN or infinity); {_EXPECTED}")
    # lossy decoders and the resampler's ringing overshoot full scale slightly
    np.clip(x, -1.0, 1.0, out=x)
    return x, int(out_rate)


class _StreamDecoder:
    """Decodes one audio stream into float32 chunks, surviving damaged packets.

    Frames are placed by their timestamps: where damaged packets were dropped, the gap
    is filled with silence so that everything after it stays at the right time (the
    planner syncs pictures to these sample positions, and players keep timestamps).
    """

    # a jump larger than this is a broken timestamp, not lost audio; do not fill it
    MAX_GAP_SECONDS = 30.0

    def __init__(self, path: Path, stream: av.AudioStream, *, mono: bool) -> None:
        self.path = path
        self.stream = stream
        self.mono = mono
        cc = stream.codec_context
        self.rate = int(stream.rate or cc.sample_rate or 0)
        self.channels = int(cc.layout.nb_channels or 1)
        self.layout = cc.layout.name
        self.chunks: list[np.ndarray] = []  # (n,) when mono, else (channels, n)
        self.pending: list[np.ndarray] = []  # (channels, n) frames not yet downmixed
        self.position = 0  # samples emitted so far, at self.rate
        tb = stream.time_base
        self.tb = (tb.numerator, tb.denominator) if tb is not None else None
        self.origin: int | None = None  # timestamp (in samples) of the first frame
        self.first = True
        self.converter: av.AudioResampler | None = None
        self.bad_packets = 0

    def run(self, container: av.container.InputContainer) -> None:
        stream = self.stream
        try:
            # demux ends with an empty packet, which flushes the decoder's last frames
            for packet in container.demux(stream):
                try:
                    frames = stream.decode(packet)
                except av.FFmpegError as e:
                    self._bad_packet(e)
                    continue
                for frame in frames:
                    self._take(frame)
            if self.converter is not None:
                for f in self.converter.resample(None):
                    self._append(f)
        except av.FFmpegError as e:
            if self.first:
                raise InputError(
                    f"{self.path}: cannot decode audio ({_short(e)}); {_EXPECTED}"
                ) from None
            log.warning(
                "%s: audio stream ends early (%s); using what decoded", self.path, _short(e)
            )
        if self.bad_packets and self.first:
            raise InputError(f"{self.path}: audio data is corrupt, nothing decodes; {_EXPECTED}")
        if self.bad_packets > 1:
            log.warning("%s: skipped %d damaged audio packets", self.path, self.bad_packets)

    def samples(self) -> np.ndarray:
        self._flush()
        if self.chunks:
            return np.concatenate(self.chunks, axis=-1)
        return np.zeros((0,) if self.mono else (self.channels, 0), dtype=np.float32)

    def _bad_packet(self, e: BaseException) -> None:
        self.bad_packets += 1
        if self.bad_packets == 1:
            log.warning("%s: skipping a damaged audio packet (%s)", self.path, _short(e))

    def _take(self, frame: av.AudioFrame) -> None:
        if self.first:
            self.first = False
            self.rate = int(frame.sample_rate or self.rate)
            self.channels = frame.layout.nb_channels
            self.layout = frame.layout.name
        if frame.sample_rate != self.rate or frame.layout.nb_channels != self.channels:
            # the stream changes rate or layout midway (chained ogg, some broadcasts):
            # bring the rest to the first frame's shape
            if self.converter is None:
                self.converter = av.AudioResampler(
                    format="fltp", layout=self.layout, rate=self.rate
                )
            for f in self.converter.resample(frame):
                self._append(f)
            return
        self._fill_gap(frame)
        self._append(frame)

    def _fill_gap(self, frame: av.AudioFrame) -> None:
        if frame.pts is None or self.tb is None:
            return
        # integer arithmetic: Fraction maths per frame costs more than the decoding
        at = (frame.pts * self.tb[0] * self.rate) // self.tb[1]
        if self.origin is None:
            self.origin = at - self.position
            return
        gap = at - self.origin - self.position
        # one millisecond of slack: timestamps in coarse time bases round
        if self.rate // 1000 < gap <= self.MAX_GAP_SECONDS * self.rate:
            self.pending.append(np.zeros((self.channels, gap), dtype=np.float32))
            self.position += gap

    def _append(self, frame: av.AudioFrame) -> None:
        a = _frame_to_float(frame)
        self.pending.append(a)
        self.position += a.shape[-1]
        if len(self.pending) >= 512:
            self._flush()

    def _flush(self) -> None:
        """Move pending frames into ``chunks``, downmixing them in one vectorised step
        (per-frame numpy calls would cost more than the decoding itself)."""
        if not self.pending:
            return
        block = np.concatenate(self.pending, axis=1)
        self.pending = []
        if self.mono:
            block = block[0] if block.shape[0] == 1 else block.mean(axis=0, dtype=np.float32)
        self.chunks.append(block)


def _header_duration(container: av.container.InputContainer, stream: av.AudioStream) -> float:
    """Duration in seconds the file's header claims, or 0.0 when it claims none."""
    if stream.duration is not None and stream.time_base is not None:
        return max(float(stream.duration * stream.time_base), 0.0)
    if container.duration is not None:
        return max(container.duration / av.time_base, 0.0)
    return 0.0


def audio_duration(path: str | Path) -> float:
    """Duration of a song in seconds, read from the file's header when it has one.

    For compressed formats the header's figure can differ from the decoded length by a
    few tens of milliseconds (encoder delay and padding); files without a usable header
    are decoded to count their samples.

    Raises
    ------
    InputError
        The file is missing, is not audio or has no audio stream.
    """
    p = Path(path)
    with _open(p) as container:
        if not container.streams.audio:
            raise InputError(f"{p}: has no audio stream; {_EXPECTED}")
        seconds = _header_duration(container, container.streams.audio[0])
    if seconds > 0:
        return seconds
    x, rate = load_audio(p, sr=None, mono=True)
    return x.shape[-1] / rate if rate else 0.0
