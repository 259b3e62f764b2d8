"""Audio decoding: every format through PyAV, resampling, downmix, damaged and non-audio files.

All audio is synthesised here: a stereo signal with short clicks at known times is
written as wav/flac (soundfile) and mp3/ogg/opus/m4a (PyAV's encoders), decoded again,
and the clicks must come back at the same times.
"""

from __future__ import annotations

import logging
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
import soxr

from douga.errors import InputError
from douga.music.audio import audio_duration, load_audio

SR = 44100
SECONDS = 2.0
CLICKS = (0.25, 0.75, 1.25, 1.75)


def _signal(sr: int = SR, seconds: float = SECONDS) -> np.ndarray:
    """(2, n) float32: quiet tone, right channel at half level, 1 kHz clicks at CLICKS."""
    n = int(sr * seconds)
    t = np.arange(n) / sr
    left = 0.05 * np.sin(2 * np.pi * 220 * t)
    for c in CLICKS:
        if c >= seconds:
            break
        i = int(c * sr)
        k = np.arange(int(0.01 * sr))
        left[i : i + k.size] += 0.8 * np.sin(2 * np.pi * 1000 * k / sr)
    return np.stack([left, 0.5 * left]).astype(np.float32)


def _encode(path: Path, x: np.ndarray, sr: int, codec: str, fmt: str | None = None,
            options: dict[str, str] | None = None) -> None:
    """Write (channels, n) float32 with one of PyAV's encoders."""
    layout = "stereo" if x.shape[0] == 2 else "mono"
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=sr, layout=layout, options=options or {})
        step = 1024
        for i in range(0, x.shape[1], step):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(x[:, i : i + step]), format="fltp", layout=layout
            )
            frame.sample_rate = sr
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


FORMATS = {
    # name: (writer, tolerance of the decoded length in seconds)
    "song.wav": ("sf", 0.001),
    "song.flac": ("sf", 0.001),
    "song.mp3": (("libmp3lame", None, {}, SR), 0.06),
    "song.ogg": (("vorbis", "ogg", {"strict": "experimental"}, SR), 0.06),
    "song.opus": (("libopus", "ogg", {}, 48000), 0.06),
    "song.m4a": (("aac", "mp4", {}, SR), 0.06),
}


@pytest.fixture(scope="module")
def songs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("songs")
    x = _signal()
    out = {}
    for name, (writer, _) in FORMATS.items():
        path = folder / name
        if writer == "sf":
            sf.write(path, x.T, SR)
        else:
            codec, fmt, options, rate = writer
            y = x if rate == SR else soxr.resample(x.T, SR, rate).T.astype(np.float32)
            _encode(path, np.ascontiguousarray(y), rate, codec, fmt, options)
        out[name] = path
    return out


def _click_times(y: np.ndarray, sr: int) -> list[float]:
    env = np.abs(y)
    found = []
    for c in CLICKS:
        lo = int((c - 0.1) * sr)
        if lo >= y.size:
            break
        found.append((lo + int(np.argmax(env[lo:] > 0.3))) / sr)
    return found


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_format_decodes_in_time(songs: dict[str, Path], name: str) -> None:
    y, sr = load_audio(songs[name])
    assert sr == 22050
    assert y.dtype == np.float32 and y.ndim == 1 and y.flags.c_contiguous
    assert abs(y.size / sr - SECONDS) <= FORMATS[name][1]
    assert np.abs(y).max() <= 1.0
    # no decoder delay may shift the music: the clicks come back where they were put
    for got, want in zip(_click_times(y, sr), CLICKS, strict=True):
        assert abs(got - want) < 0.003, (name, got, want)


@pytest.mark.parametrize("name", list(FORMATS))
def test_duration_matches_decoded_length(songs: dict[str, Path], name: str) -> None:
    assert abs(audio_duration(songs[name]) - SECONDS) <= FORMATS[name][1]


def test_wav_matches_librosa_style_load(songs: dict[str, Path]) -> None:
    x = _signal()
    y, _ = load_audio(songs["song.wav"])
    want = soxr.resample(x.mean(axis=0), SR, 22050, quality="HQ")
    assert y.shape == want.shape
    np.testing.assert_allclose(y, want, atol=2e-4)  # 16-bit quantisation


def test_stereo_and_native_rate(songs: dict[str, Path]) -> None:
    x = _signal()
    y, sr = load_audio(songs["song.flac"], sr=None, mono=False)
    assert sr == SR and y.shape == x.shape and y.dtype == np.float32 and y.flags.c_contiguous
    np.testing.assert_allclose(y, x, atol=1e-4)
    y2, sr2 = load_audio(songs["song.flac"], sr=16000, mono=False)
    assert sr2 == 16000 and y2.shape == (2, int(SECONDS * 16000))
    # mono is the average of the channels (right is half of left → 0.75 × left)
    m, _ = load_audio(songs["song.flac"], sr=None)
    np.testing.assert_allclose(m, 0.75 * x[0], atol=1e-4)


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_sample_formats_scale_to_unit_range(tmp_path: Path, subtype: str) -> None:
    x = _signal(seconds=0.5)
    path = tmp_path / "s.wav"
    sf.write(path, x.T, SR, subtype=subtype)
    y, _ = load_audio(path, sr=None, mono=False)
    tolerance = {"PCM_U8": 1.0 / 64}.get(subtype, 1e-4)
    np.testing.assert_allclose(y, x, atol=tolerance)


def test_mono_file_keeps_a_channel_axis_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "mono.wav"
    sf.write(path, _signal()[0], SR)
    y, _ = load_audio(path, mono=False)
    assert y.shape == (1, int(SECONDS * 22050))
    assert load_audio(path)[0].shape == (int(SECONDS * 22050),)


def test_loud_lossy_audio_stays_in_range(tmp_path: Path) -> None:
    t = np.arange(SR) / SR
    square = np.sign(np.sin(2 * np.pi * 100 * t)).astype(np.float32) * 0.999
    path = tmp_path / "loud.mp3"
    _encode(path, np.stack([square, square]), SR, "libmp3lame")
    y, _ = load_audio(path)
    assert np.abs(y).max() <= 1.0


def test_zero_length_audio_is_empty_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros((0, 2), np.float32), SR)
    y, sr = load_audio(path)
    assert y.shape == (0,) and y.dtype == np.float32 and sr == 22050
    y2, _ = load_audio(path, mono=False)
    assert y2.shape == (2, 0)
    assert audio_duration(path) == 0.0


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"song\.wav: file not found"):
        load_audio(tmp_path / "song.wav")
    with pytest.raises(InputError, match="file not found"):
        audio_duration(tmp_path / "song.wav")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.txt", b"these are not the sounds you are looking for\n" * 50),
        ("song.mp3", np.random.default_rng(0).bytes(20000)),
        ("song.wav", b""),
    ],
)
def test_not_audio(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"expected an audio file \(wav, flac, mp3, ogg") as e:
        load_audio(path)
    assert name in str(e.value)


def test_image_has_no_audio_stream(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "cover.png"
    Image.new("RGB", (8, 8)).save(path)
    with pytest.raises(InputError, match="no audio stream"):
        load_audio(path)
    with pytest.raises(InputError, match="no audio stream"):
        audio_duration(path)


def test_folder_is_not_audio(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="folder"):
        load_audio(tmp_path)


def test_bad_sample_rate(songs: dict[str, Path]) -> None:
    for bad in (0, -1, 22050.5, True):
        with pytest.raises(InputError, match="sr"):
            load_audio(songs["song.wav"], sr=bad)  # type: ignore[arg-type]


def test_truncated_file_decodes_what_is_there(
    songs: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = songs["song.mp3"].read_bytes()
    path = tmp_path / "half.mp3"
    path.write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING, logger="douga.music.audio"):
        y, sr = load_audio(path)
    assert 0.5 < y.size / sr < 1.5
    assert "truncated" in caplog.text
    assert _click_times(y, sr)[0] == pytest.approx(CLICKS[0], abs=0.003)


def test_damaged_packets_are_skipped_and_time_kept(
    songs: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = bytearray(songs["song.mp3"].read_bytes())
    middle = len(data) // 2
    data[middle : middle + 600] = np.random.default_rng(1).bytes(600)
    path = tmp_path / "damaged.mp3"
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="douga.music.audio"):
        y, sr = load_audio(path)
    assert "damaged" in caplog.text
    assert y.size / sr > 0.8 * SECONDS
    assert np.isfinite(y).all()
    # clicks before the damage stay exactly in place
    assert _click_times(y, sr)[0] == pytest.approx(CLICKS[0], abs=0.003)


def test_video_container_uses_its_audio_track(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    x = _signal(seconds=1.0)
    with av.open(str(path), "w") as container:
        video = container.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        audio = container.add_stream("aac", rate=SR, layout="stereo")
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                container.mux(packet)
        for i in range(0, x.shape[1], 1024):
            af = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(x[:, i : i + 1024]), format="fltp", layout="stereo"
            )
            af.sample_rate, af.pts = SR, i
            for packet in audio.encode(af):
                container.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                container.mux(packet)
    y, sr = load_audio(path)
    assert abs(y.size / sr - 1.0) < 0.06
