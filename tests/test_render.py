"""Tests for the video writer and the per-shot cache (douga.render).

Every check decodes the written mp4 with PyAV; frames and audio are made in code.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import soundfile as sf

from douga import render
from douga.errors import DougaError, InputError
from douga.render import (
    AAC_PREFIX,
    Shot,
    ShotCache,
    image_digest,
    shot_key,
    write_shots,
    write_video,
)
from douga.timeline.model import EffectEvent, FrameSpec
from tests.faults import denied, full_disk

W, H, FPS, SR = 160, 96, 24, 44100
REPO = Path(__file__).resolve().parents[1]


def moving_frames(n: int, seed: int = 0) -> Iterator[np.ndarray]:
    """Smooth colour waves panning 2 px per frame (deterministic for a seed)."""
    yy, xx = np.mgrid[0:H, 0 : W + 2 * n]
    base = np.stack(
        [128 + 90 * np.sin(xx / 9.0 + seed), 128 + 90 * np.cos(yy / 7.0 + seed),
         128 + 90 * np.sin((xx + yy) / 13.0)], axis=-1,
    ).astype(np.uint8)
    for i in range(n):
        yield np.ascontiguousarray(base[:, 2 * i : 2 * i + W])


def tone(seconds: float, *, sr: int = SR, channels: int = 2) -> tuple[np.ndarray, int]:
    t = np.arange(round(seconds * sr)) / sr
    x = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return np.stack([x] * channels), sr


def probe(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        info: dict[str, Any] = {
            "duration": (c.duration or 0) / av.time_base,
            "codec": v.codec_context.name,
            "pix_fmt": v.codec_context.pix_fmt,
            "rate": v.average_rate,
            "size": (v.codec_context.width, v.codec_context.height),
            "audio": [(a.codec_context.name, a.rate, a.channels,
                       float((a.duration or 0) * (a.time_base or 0))) for a in c.streams.audio],
        }
        info["frames"] = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return info


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-12)))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "partial" in p.name)


# --------------------------------------------------------------------------- write_video


def test_write_video_decodes_with_song_length_h264_and_aac(tmp_path: Path) -> None:
    out = tmp_path / "v.mp4"
    stages: list[tuple[str, float]] = []
    report = write_video(out, moving_frames(60), fps=FPS, audio=tone(2.5),
                         progress=lambda s, f: stages.append((s, f)))
    info = probe(out)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["rate"] == FPS and info["size"] == (W, H)
    assert len(info["frames"]) == 60 == report.frame_count
    assert abs(info["duration"] - 2.5) <= 1 / FPS
    [(codec, rate, channels, seconds)] = info["audio"]
    assert (codec, rate, channels) == ("aac", SR, 2)
    assert abs(seconds - 2.5) <= 1 / FPS
    # the pictures survive: frames in order, close to the source
    ref = list(moving_frames(60))
    assert min(psnr(a, b) for a, b in zip(ref, info["frames"], strict=True)) > 30
    assert stages[-1] == ("render", 1.0) and [s for s, _ in stages[:2]] == ["audio", "audio"]
    fractions = [f for s, f in stages if s == "render"]
    assert fractions == sorted(fractions)
    assert leftovers(tmp_path) == []
    # moov before mdat ("faststart"): players can start before the download ends
    head = out.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (head.find(b"mdat") == -1
                                         or head.find(b"moov") < head.find(b"mdat"))


def test_song_file_is_cut_to_the_video_and_odd_rates_and_channels_work(tmp_path: Path) -> None:
    song = tmp_path / "song.wav"
    x, _ = tone(3.0, sr=22050, channels=1)
    sf.write(song, x[0], 22050)
    out = tmp_path / "v.mp4"
    write_video(out, moving_frames(48), fps=FPS, audio=song)  # song 3 s, video 2 s
    [(codec, rate, channels, seconds)] = probe(out)["audio"]
    assert (codec, rate, channels) == ("aac", 22050, 1)
    assert abs(seconds - 2.0) <= 1 / FPS

    # 6 channels at a rate AAC lacks: downmixed to stereo, resampled to 48 kHz;
    # a song shorter than the video is padded with silence
    six, _ = tone(1.5, sr=37800, channels=6)
    write_video(out, moving_frames(48), fps=FPS, audio=(six, 37800))
    [(codec, rate, channels, seconds)] = probe(out)["audio"]
    assert (codec, rate, channels) == ("aac", 48000, 2)
    assert abs(seconds - 2.0) <= 1 / FPS


def test_fractional_fps_and_no_audio(tmp_path: Path) -> None:
    out = tmp_path / "v.mp4"
    write_video(out, moving_frames(30), fps=24000 / 1001, audio=None)
    info = probe(out)
    assert info["rate"] == Fraction(24000, 1001)
    assert len(info["frames"]) == 30 and info["audio"] == []
    assert abs(info["duration"] - 30 * 1001 / 24000) <= 1001 / 24000


def test_frame_iterator_error_leaves_no_partial_file_and_keeps_old_output(tmp_path: Path) -> None:
    out = tmp_path / "v.mp4"
    out.write_bytes(b"previous render")

    def broken() -> Iterator[np.ndarray]:
        for i, f in enumerate(moving_frames(40)):
            if i == 20:
                raise RuntimeError("generator failed")
            yield f

    with pytest.raises(RuntimeError, match="generator failed"):
        write_video(out, broken(), fps=FPS, audio=tone(2.0))
    assert out.read_bytes() == b"previous render"
    assert leftovers(tmp_path) == []

    # an OSError of the frame source is its own, not "cannot write the video"
    def unreadable() -> Iterator[np.ndarray]:
        yield from moving_frames(3)
        raise PermissionError(errno.EACCES, "Permission denied", "kf/02.png")

    with pytest.raises(PermissionError, match=r"kf/02\.png"):
        write_video(out, unreadable(), fps=FPS, audio=None)
    shots = [Shot(shot_key("ok"), 3, lambda: moving_frames(3)),
             Shot(shot_key("bad"), 4, unreadable)]
    with pytest.raises(PermissionError, match=r"kf/02\.png"):
        write_shots(out, shots, fps=FPS, width=W, height=H, audio=None,
                    cache_dir=tmp_path / "cache")
    assert out.read_bytes() == b"previous render"
    assert leftovers(tmp_path) == [] == leftovers(tmp_path / "cache")
    assert len(ShotCache(tmp_path / "cache").keys()) == 1  # the good shot is kept


def test_bad_frames_and_settings_are_clear_errors(tmp_path: Path) -> None:
    out = tmp_path / "v.mp4"
    frames = list(moving_frames(5))
    frames[3] = frames[3][:, :, :2]
    with pytest.raises(DougaError, match=r"frame 3: .*expected uint8 96×160×3"):
        write_video(out, frames, fps=FPS, audio=None)
    with pytest.raises(DougaError, match="got 5 frames; expected 6"):
        write_video(out, moving_frames(5), fps=FPS, audio=None, frame_count=6)
    with pytest.raises(InputError, match="width: got 161"):
        write_video(out, [np.zeros((96, 161, 3), np.uint8)], fps=FPS, audio=None)
    with pytest.raises(InputError, match="preset: got 'turbo'"):
        write_video(out, moving_frames(2), fps=FPS, audio=None, preset="turbo")
    with pytest.raises(InputError, match="crf"):
        write_video(out, moving_frames(2), fps=FPS, audio=None, crf=60)
    assert not out.exists() and leftovers(tmp_path) == []


def test_unwritable_output_paths_name_the_path(tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    with pytest.raises(InputError, match=r"notes\.txt/v\.mp4: .*is not a folder"):
        write_video(a_file / "v.mp4", moving_frames(3), fps=FPS, audio=None)
    with pytest.raises(InputError, match="does not exist"):
        write_video(tmp_path / "nope" / "v.mp4", moving_frames(3), fps=FPS, audio=None)
    with pytest.raises(InputError, match="is a folder"):
        write_video(tmp_path, moving_frames(3), fps=FPS, audio=None)


def test_permission_denied_and_disk_full_become_input_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # we run as root, where chmod does not deny; make the writer's open fail instead
    out = tmp_path / "v.mp4"

    monkeypatch.setattr(render, "_open_container", denied)
    with pytest.raises(InputError, match=rf"{out}: permission denied"):
        write_video(out, moving_frames(10), fps=FPS, audio=tone(1.0))
    assert not out.exists() and leftovers(tmp_path) == []

    monkeypatch.setattr(render, "_open_container", full_disk(after=8))
    with pytest.raises(InputError, match=rf"{out}: no space left on the device"):
        write_video(out, moving_frames(40), fps=FPS, audio=tone(2.0))
    assert not out.exists() and leftovers(tmp_path) == []
    with pytest.raises(InputError, match="no space left"):
        write_shots(out, make_shots([10, 10, 10]), fps=FPS, width=W, height=H, audio=None,
                    cache_dir=tmp_path / "cache")
    assert not out.exists() and leftovers(tmp_path) == [] == leftovers(tmp_path / "cache")


# --------------------------------------------------------------------------- shot cache


class Counter:
    def __init__(self) -> None:
        self.calls: list[int] = []


def make_shots(lengths: list[int], counter: Counter | None = None,
               salt: dict[int, str] | None = None) -> list[Shot]:
    """Shots of moving frames; ``salt`` changes the key (and the content) of some shots."""
    shots = []
    for i, n in enumerate(lengths):
        extra = (salt or {}).get(i, "")
        seed = i + (100 if extra else 0)

        def frames(i: int = i, n: int = n, seed: int = seed) -> Iterator[np.ndarray]:
            if counter is not None:
                counter.calls.append(i)
            return moving_frames(n, seed)

        shots.append(Shot(shot_key("test-shot", i, n, extra), n, frames))
    return shots


LENGTHS = [9, 1, 2, 14, 22]  # 1- and 2-frame shots have no B-frame delay; the others do


def decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def test_shots_render_once_then_come_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    counter = Counter()
    out = tmp_path / "v.mp4"
    stages: list[str] = []
    first = write_shots(out, make_shots(LENGTHS, counter), fps=FPS, width=W, height=H,
                        audio=tone(2.0), cache_dir=cache,
                        progress=lambda s, f: stages.append(s))
    assert counter.calls == [0, 1, 2, 3, 4]
    assert (first.shots_rendered, first.shots_cached, first.frames_rendered) == (5, 0, 48)
    assert stages[0] == "audio" and "render" in stages and stages[-1] == "mux"
    info = probe(out)
    assert len(info["frames"]) == sum(LENGTHS) == first.frame_count
    assert abs(info["duration"] - 2.0) <= 1 / FPS
    assert info["audio"][0][0] == "aac" and abs(info["audio"][0][3] - 2.0) <= 1 / FPS
    ref = [f for i, n in enumerate(LENGTHS) for f in moving_frames(n, i)]
    assert min(psnr(a, b) for a, b in zip(ref, info["frames"], strict=True)) > 30

    counter.calls.clear()
    again = write_shots(out, make_shots(LENGTHS, counter), fps=FPS, width=W, height=H,
                        audio=tone(2.0), cache_dir=cache)
    assert counter.calls == [] and (again.shots_rendered, again.shots_cached) == (0, 5)
    assert all(np.array_equal(a, b) for a, b in zip(info["frames"], decode(out), strict=True))
    assert sorted(ShotCache(cache).keys()) == sorted(first.segment_keys)
    assert leftovers(tmp_path) == [] == leftovers(cache)


def decode_audio(path: Path) -> tuple[np.ndarray, int | None]:
    with av.open(str(path)) as c:
        frames = list(c.decode(audio=0))
        return np.concatenate([f.to_ndarray() for f in frames], axis=1), frames[0].pts


def aac_entries(cache: Path) -> list[str]:
    entries = ShotCache(cache).keys()
    return [k for k in entries if k.startswith(AAC_PREFIX)]


def test_the_song_track_is_cached_and_muxed_as_the_streamed_writer_does(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    song = tone(2.0)
    write_shots(tmp_path / "c.mp4", make_shots(LENGTHS), fps=FPS, width=W, height=H,
                audio=song, cache_dir=cache)
    write_shots(tmp_path / "s.mp4", make_shots(LENGTHS), fps=FPS, width=W, height=H,
                audio=song, cache_dir=None)
    (cached, start), (streamed, start_s) = (decode_audio(tmp_path / n)
                                            for n in ("c.mp4", "s.mp4"))
    assert start == start_s and np.array_equal(cached, streamed)
    entry = aac_entries(cache)
    assert len(entry) == 1
    # a rerun takes the track from the cache; another song (or length) is a new entry
    stamp = ShotCache(cache).path(entry[0]).stat().st_mtime_ns
    write_shots(tmp_path / "c.mp4", make_shots(LENGTHS), fps=FPS, width=W, height=H,
                audio=song, cache_dir=cache)
    assert ShotCache(cache).path(entry[0]).stat().st_mtime_ns == stamp
    write_shots(tmp_path / "c.mp4", make_shots(LENGTHS[:3]), fps=FPS, width=W, height=H,
                audio=song, cache_dir=cache)
    assert len(aac_entries(cache)) == 2
    assert leftovers(cache) == []


def test_changing_one_shot_renders_only_that_shot(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    out = tmp_path / "v.mp4"
    write_shots(out, make_shots(LENGTHS), fps=FPS, width=W, height=H, audio=None,
                cache_dir=cache)
    counter = Counter()
    report = write_shots(out, make_shots(LENGTHS, counter, salt={3: "edited keyframe"}),
                         fps=FPS, width=W, height=H, audio=None, cache_dir=cache)
    assert counter.calls == [3] and (report.shots_rendered, report.shots_cached) == (1, 4)
    frames = decode(out)
    edited = list(moving_frames(14, 103))
    assert min(psnr(a, b) for a, b in zip(edited, frames[12:26], strict=True)) > 30
    # the old segment stays until pruned
    assert ShotCache(cache).prune(keep=report.segment_keys) == 1
    # encoder settings are part of the key: another CRF renders everything again
    counter.calls.clear()
    write_shots(out, make_shots(LENGTHS, counter), fps=FPS, width=W, height=H, audio=None,
                cache_dir=cache, crf=30)
    assert counter.calls == [0, 1, 2, 3, 4]


def test_duplicate_and_damaged_shots(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    out = tmp_path / "v.mp4"
    counter = Counter()
    shots = make_shots([6, 6], counter)
    shots.append(shots[0])  # the same shot again: rendered once, used twice
    report = write_shots(out, shots, fps=FPS, width=W, height=H, audio=None, cache_dir=cache)
    assert counter.calls == [0, 1] and len(decode(out)) == 18
    # a truncated segment (power loss) is detected and made again
    seg = ShotCache(cache).path(report.segment_keys[1])
    seg.write_bytes(seg.read_bytes()[:200])
    counter.calls.clear()
    write_shots(out, shots, fps=FPS, width=W, height=H, audio=None, cache_dir=cache)
    assert counter.calls == [1]


def test_a_shot_with_the_wrong_frame_count_is_an_error(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    bad = Shot(shot_key("bad"), 5, lambda: moving_frames(4))
    with pytest.raises(DougaError, match="made 4 frames; expected 5"):
        write_shots(tmp_path / "v.mp4", [bad], fps=FPS, width=W, height=H, audio=None,
                    cache_dir=cache)
    assert ShotCache(cache).keys() == [] and leftovers(cache) == []
    assert not (tmp_path / "v.mp4").exists()


def test_without_a_cache_the_shots_are_streamed(tmp_path: Path) -> None:
    out = tmp_path / "v.mp4"
    counter = Counter()
    report = write_shots(out, make_shots(LENGTHS, counter), fps=FPS, width=W, height=H,
                         audio=tone(2.0), cache_dir=None)
    assert counter.calls == [0, 1, 2, 3, 4] and report.segment_keys == ()
    assert len(decode(out)) == 48


def test_shot_key_hashes_content() -> None:
    img = np.zeros((4, 4, 3), np.uint8)
    spec = [FrameSpec("between", 0, 1, 0.25), EffectEvent(3, "flash", 0.5)]
    k = shot_key(image_digest(img), spec, "flow", 1, {"style": "watercolor"})
    assert k == shot_key(image_digest(img.copy()), spec, "flow", 1, {"style": "watercolor"})
    img2 = img.copy()
    img2[0, 0, 0] = 1
    assert k != shot_key(image_digest(img2), spec, "flow", 1, {"style": "watercolor"})
    assert k != shot_key(image_digest(img), [FrameSpec("between", 0, 1, 0.25000001)], "flow", 1,
                         {"style": "watercolor"})
    assert shot_key(img) == shot_key(img.copy()) != shot_key(img2)
    with pytest.raises(TypeError):
        shot_key(object())


# --------------------------------------------------------------------------- kill -9


_CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, {repo!r})
import tests.test_render as t
from douga.render import Shot, write_shots

def slow(shot):
    def frames():
        for f in shot.frames():
            time.sleep(0.03)
            yield f
    return Shot(shot.key, shot.frame_count, frames)

write_shots(Path(sys.argv[1]), [slow(s) for s in t.make_shots(t.LENGTHS)], fps=t.FPS,
            width=t.W, height=t.H, audio=t.tone(2.0), cache_dir=Path(sys.argv[2]))
"""


def shot_entries(cache: Path) -> list[str]:
    entries = ShotCache(cache).keys()
    return [k for k in entries if not k.startswith(AAC_PREFIX)]


def test_kill_9_then_rerun_gives_identical_frames(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    out = tmp_path / "v.mp4"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD.format(repo=str(REPO)), str(out), str(cache)],
        # other heap contents in the child: an encoder reading uninitialised memory shows
        env={**os.environ, "PYTHONPATH": str(REPO / "src"), "MALLOC_PERTURB_": "85"},
    )
    deadline = time.monotonic() + 20
    # kill once two shots are complete and the third is on its way (index 3: 14 frames)
    while time.monotonic() < deadline and child.poll() is None:
        if cache.is_dir() and len(shot_entries(cache)) >= 3:
            break
        time.sleep(0.01)
    assert child.poll() is None, "the child finished before it could be killed"
    time.sleep(0.1)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert not out.exists()
    done = len(shot_entries(cache))
    assert 3 <= done < len(LENGTHS)

    counter = Counter()
    resumed = write_shots(out, make_shots(LENGTHS, counter), fps=FPS, width=W, height=H,
                          audio=tone(2.0), cache_dir=cache)
    assert resumed.shots_cached == done and counter.calls == list(range(done, len(LENGTHS)))
    assert leftovers(cache) == [] and leftovers(tmp_path) == []

    fresh = tmp_path / "fresh.mp4"
    write_shots(fresh, make_shots(LENGTHS), fps=FPS, width=W, height=H, audio=tone(2.0),
                cache_dir=tmp_path / "cache2")
    a, b = decode(out), decode(fresh)
    assert len(a) == len(b) == sum(LENGTHS)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
