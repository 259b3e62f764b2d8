"""Tests for douga.metrics.sync: visual beats, beat alignment and keyframe timing, measured
on small videos made in the test with PyAV (no media files)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import soundfile as sf

from douga.errors import InputError
from douga.metrics.sync import (
    SyncResult,
    beat_alignment,
    evaluate_sync,
    find_visual_beats,
    format_report,
)
from douga.music.musicmap import MusicMap
from douga.timeline.model import FrameSpec
from tests.synth_audio import SR, drum_pattern

FPS = 24


# ----------------------------------------------------------------------- fixtures


def write_video(path: Path, frames: list[np.ndarray], *, fps: int = FPS) -> Path:
    """H.264 mp4 of uint8 RGB frames, as the renderer writes (yuv420p)."""
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": "18", "preset": "ultrafast"}
        for i, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def music_map(beats: list[float], downbeats: list[float], duration: float) -> MusicMap:
    return MusicMap(duration=duration, tempo=120.0, tempo_curve=[], beats=beats,
                    downbeats=downbeats, meter=4, onsets=[], onset_strength=[], sections=[],
                    beat_intensity=[])


def flash_video(path: Path, flash_frames: list[int], *, n: int, w: int = 160,
                h: int = 96) -> Path:
    """A soft blob drifting smoothly over a gradient, with a decaying flash on each frame given."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bg = np.stack([40 + xx, 60 + yy, 120 + 0.3 * (xx - yy)], axis=-1)
    frames = []
    for i in range(n):
        cx = 30 + 100 * (0.5 - 0.5 * np.cos(2 * np.pi * i / n))  # smooth, sub-pixel motion
        blob = np.exp(-((xx - cx) ** 2 + (yy - h / 2) ** 2) / (2 * 12.0**2))[..., None]
        img = bg * (1 - blob) + np.array([230, 60, 50], np.float32) * blob
        since = [i - f for f in flash_frames if 0 <= i - f < 4]
        if since:
            a = 0.6 * 0.5 ** since[0]
            img = img * (1 - a) + 255 * a
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    return write_video(path, frames)


def pose_image(pose: float, size: int = 200) -> np.ndarray:
    """A cel-style figure (flat colours, dark outlines); ``pose`` moves it and swings its arm."""
    img = np.full((size, size, 3), (200, 220, 240), np.uint8)
    cv2.rectangle(img, (0, int(size * 0.72)), (size, size), (120, 170, 110), -1)
    cx = round(size * (0.3 + 0.15 * pose))
    s = size / 200
    head = (cx, int(70 * s))
    cv2.circle(img, head, int(32 * s), (240, 210, 190), -1, cv2.LINE_AA)
    cv2.circle(img, head, int(32 * s), (30, 30, 30), 2, cv2.LINE_AA)
    cv2.ellipse(img, (cx, int(135 * s)), (int(28 * s), int(45 * s)), 0, 0, 360, (60, 80, 160),
                -1, cv2.LINE_AA)
    ang = np.deg2rad(-40 + 60 * pose)
    shoulder = (cx + int(20 * s), int(115 * s))
    hand = (int(shoulder[0] + 70 * s * np.cos(ang)), int(shoulder[1] - 70 * s * np.sin(ang)))
    cv2.line(img, shoulder, hand, (30, 30, 30), int(9 * s), cv2.LINE_AA)
    return img


def letterbox(img: np.ndarray, w: int, h: int) -> np.ndarray:
    """Contain on black, written independently of the module under test."""
    side = min(w, h)
    out = np.zeros((h, w, 3), np.uint8)
    small = cv2.resize(img, (side, side), interpolation=cv2.INTER_AREA)
    x0, y0 = (w - side) // 2, (h - side) // 2
    out[y0 : y0 + side, x0 : x0 + side] = small
    return out


def zoom(img: np.ndarray, scale: float) -> np.ndarray:
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), 0, scale)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def shake(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    h, w = img.shape[:2]
    m = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], dtype=np.float32)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


VW, VH = 256, 144
POSES = [0.0, 1.0, 2.0]
PLANNED = [0, 24, 48]
N_FRAMES = 72


def frame_specs(keys: list[int], *, n: int = N_FRAMES) -> list[FrameSpec]:
    """A plan's frame list: keyframes on ``keys``, in-betweens on twos whose ``t``
    accelerates into every beat (12 frames), as douga's planner times them."""
    specs: list[FrameSpec] = []
    for i in range(n):
        k = max(j for j in range(len(keys)) if keys[j] <= i)
        if i == keys[k]:
            specs.append(FrameSpec("key", k, k, 0.0))
        elif k + 1 == len(keys):
            specs.append(FrameSpec("hold", k, k, 0.0))
        elif (i - keys[k]) % 2:  # on twos: every other frame repeats the drawing before
            specs.append(FrameSpec("hold", specs[-1].a, specs[-1].b, specs[-1].t))
        else:
            beats = (i - keys[k]) / (keys[k + 1] - keys[k]) * 2  # two beats per segment
            whole, v = divmod(beats, 1.0)
            t = (whole + 0.5 * v + 0.5 * v * v) / 2
            specs.append(FrameSpec("between", k, k + 1, t))
    return specs


def keyframe_video(path: Path, *, shown: list[int] = PLANNED, poses: list[float] = POSES,
                   crossfade: bool = False, slip: int = 0, flash_at: int | None = None,
                   zoom_at: int | None = None, shake_at: int | None = None,
                   caption: bool = False) -> Path:
    """Keyframes on ``shown`` frames with in-betweens drawn at in-between poses (as a flow
    generator would make them) or cross-faded; optional flash, zoom punch and shake.

    ``slip`` frames are repeated (or, when negative, dropped) at frame 12, as a broken
    renderer would: everything after it runs late (or early). ``caption`` draws a line
    of lyric-like text over every frame.
    """
    frames = []
    for i, spec in enumerate(frame_specs(shown)):
        if crossfade:
            a, b = (letterbox(pose_image(poses[k]), VW, VH) for k in (spec.a, spec.b))
            img = np.rint((1 - spec.t) * a + spec.t * b).astype(np.uint8)
        else:
            pose = poses[spec.a] + spec.t * (poses[spec.b] - poses[spec.a])
            img = letterbox(pose_image(pose), VW, VH)
        if flash_at is not None and 0 <= i - flash_at < 4:
            al = 0.7 * 0.5 ** (i - flash_at)
            img = np.clip(img * (1 - al) + 255 * al, 0, 255).astype(np.uint8)
        if zoom_at is not None and 0 <= i - zoom_at < 5:
            img = zoom(img, 1 + 0.08 * 0.6 ** (i - zoom_at))
        if shake_at is not None and 0 <= i - shake_at < 6:
            k = i - shake_at
            img = shake(img, 5 * 0.6**k * (-1) ** k, 2 * 0.6**k)
        if caption:
            img = img.copy()
            for color, width in (((0, 0, 0), 5), ((255, 255, 255), 2)):
                cv2.putText(img, "petals drifting down", (30, 128), cv2.FONT_HERSHEY_SIMPLEX,
                            0.8, color, width, cv2.LINE_AA)
        frames.append(img)
    frames = frames[:12] + [frames[12]] * slip + frames[12 - min(slip, 0):]
    frames = (frames + [frames[-1]] * N_FRAMES)[:N_FRAMES]
    return write_video(path, frames)


def write_plan(folder: Path, *, poses: list[float] = POSES,
               effects: Sequence[tuple[int, str]] = (), with_frames: bool = True) -> Path:
    """A Timeline JSON; the first image path is absolute, the others relative to the plan."""
    kf = folder / "kf"
    kf.mkdir(exist_ok=True)
    keyframes = []
    for i, (pose, frame) in enumerate(zip(poses, PLANNED, strict=True)):
        cv2.imwrite(str(kf / f"{i}.png"), cv2.cvtColor(pose_image(pose), cv2.COLOR_RGB2BGR))
        keyframes.append({
            "index": i, "image": str(kf / f"{i}.png") if i == 0 else f"kf/{i}.png",
            "time": frame / FPS, "frame": frame, "anchor": None if i == 0 else f"{i}:1",
            "anchor_time": frame / FPS, "cut": False,
        })
    plan = {"fps": float(FPS), "frame_count": N_FRAMES, "keyframes": keyframes,
            "frames": [asdict(f) for f in frame_specs(PLANNED)] if with_frames else [],
            "effects": [{"frame": f, "kind": kind, "strength": 0.8} for f, kind in effects]}
    path = folder / "plan.json"
    path.write_text(json.dumps(plan))
    return path


KF_MAP = music_map([0.5 * k for k in range(6)], [0.0, 2.0], N_FRAMES / FPS)


@pytest.fixture(scope="module")
def click_song(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    y, beats, _ = drum_pattern(bpm=120.0, seconds=8.0)
    path = tmp_path_factory.mktemp("song") / "click.wav"
    sf.write(path, y, SR)
    return path, beats


# ------------------------------------------------------------------- visual beats


def test_steady_motion_on_twos_has_no_visual_beat() -> None:
    rng = np.random.default_rng(0)
    change = np.zeros(240)
    change[::2] = 0.01 * (1 + 0.05 * rng.standard_normal(120))  # a drawing every 2 frames
    change[1::2] = 0.0002  # codec noise of the holds
    frames, _ = find_visual_beats(change, fps=FPS)
    assert frames.size == 0


def test_motion_accelerating_into_each_beat_peaks_on_the_beats() -> None:
    # the planner's pulse: speed 0.5 at the start of a beat, 1.5 as the beat arrives
    v = (np.arange(240) % 12 + 0.5) / 12
    change = 0.01 * (0.5 + v)
    change = np.roll(change, 1)  # the fastest step lands on frames 12, 24, ...
    frames, strength = find_visual_beats(change, fps=FPS)
    assert frames.tolist() == list(range(12, 240, 12))
    assert np.all(strength > 1.3)


def test_cut_and_flash_in_a_hold_are_single_visual_beats() -> None:
    change = np.full(120, 0.0003)
    change[30] = 0.3  # a cut
    change[70:75] = [0.4, 0.2, 0.1, 0.05, 0.025]  # a flash fading out
    frames, _ = find_visual_beats(change, fps=FPS)
    assert frames.tolist() == [30, 70]


def test_find_visual_beats_edge_cases() -> None:
    assert find_visual_beats([], fps=FPS)[0].size == 0
    assert find_visual_beats(np.zeros(50), fps=FPS)[0].size == 0
    with pytest.raises(InputError, match="fps"):
        find_visual_beats(np.zeros(5), fps=0)


# ---------------------------------------------------------------- beat alignment


def test_beat_alignment_definition() -> None:
    beats = np.arange(0.5, 10, 0.5)
    exact = beat_alignment(beats, beats, fps=FPS, downbeats=beats[::4])
    assert exact.score == pytest.approx(1.0)
    assert exact.accents_on_beat == 1.0 and exact.downbeats_with_accent == 1.0
    late = beat_alignment(beats, beats + 3 / FPS, fps=FPS)  # d = 3 frames = sigma
    assert late.score == pytest.approx(np.exp(-0.5))
    assert late.accents_on_beat == 0.0
    # 1.5 frames is still on the beat; 2 frames is not
    assert beat_alignment(beats, beats + 1.5 / FPS, fps=FPS).accents_on_beat == 1.0
    assert beat_alignment(beats, beats + 2 / FPS, fps=FPS).accents_on_beat == 0.0


def test_beat_alignment_empty_inputs_are_well_formed() -> None:
    none_seen = beat_alignment([0.5, 1.0], [], fps=FPS, downbeats=[0.5])
    assert none_seen.score == 0.0 and none_seen.accents_on_beat is None
    assert none_seen.downbeats_with_accent == 0.0
    silent = beat_alignment([], [1.0], fps=FPS)
    assert silent.score is None and silent.accents_on_beat == 0.0
    # beats after the end of the video do not count
    cut_short = beat_alignment([0.5, 1.0, 30.0], [0.5, 1.0], fps=FPS, duration=2.0)
    assert cut_short.n_music_beats == 2 and cut_short.score == pytest.approx(1.0)


# ------------------------------------------------------------- whole videos: beats


def test_flashes_on_the_click_track_beats_align(tmp_path: Path,
                                                click_song: tuple[Path, np.ndarray]) -> None:
    song, beats = click_song
    n = 8 * FPS
    video = flash_video(tmp_path / "on.mp4", [round(b * FPS) for b in beats], n=n)
    result = evaluate_sync(video, audio=song)
    a = result.alignment
    assert result.frame_count == n and result.fps == FPS
    assert [b.frame for b in result.visual_beats] == [round(b * FPS) for b in beats]
    assert a.score is not None and a.score > 0.85  # the tracker may add a beat past the last
    assert a.accents_on_beat == 1.0
    assert a.downbeats_with_accent is not None and a.downbeats_with_accent >= 0.9
    assert result.audio == str(song) and result.keyframes == []


def test_flashes_half_a_beat_off_score_low(tmp_path: Path,
                                           click_song: tuple[Path, np.ndarray]) -> None:
    song, beats = click_song
    video = flash_video(tmp_path / "off.mp4", [round(b * FPS) + 6 for b in beats], n=8 * FPS)
    a = evaluate_sync(video, audio=song).alignment
    assert a.score is not None and a.score < 0.25
    assert a.accents_on_beat == 0.0 and a.downbeats_with_accent == 0.0


# --------------------------------------------------------- whole videos: keyframes


def test_keyframes_on_their_planned_frames(tmp_path: Path) -> None:
    plan = write_plan(tmp_path)
    video = keyframe_video(tmp_path / "kf.mp4")
    result = evaluate_sync(video, music_map=KF_MAP, plan=plan)
    assert [k.shown_frame for k in result.keyframes] == PLANNED
    assert [k.offset_frames for k in result.keyframes] == [0.0, 0.0, 0.0]
    assert [k.method for k in result.keyframes] == ["arrival", "trajectory", "trajectory"]
    assert all(k.match > 0.99 and not k.ambiguous for k in result.keyframes)
    s = result.keyframe_summary
    assert s is not None
    assert (s.n_measured, s.n_within_one_frame, s.max_abs_offset_ms) == (3, 3, 0.0)


@pytest.mark.parametrize(("slip", "crossfade"), [(2, False), (-1, False), (1, True), (0, True)])
def test_keyframes_shown_off_their_frames_are_reported(tmp_path: Path, slip: int,
                                                       crossfade: bool) -> None:
    # cross-faded in-betweens converge on the keyframe: the frames before it are 88 % there
    plan = write_plan(tmp_path)
    video = keyframe_video(tmp_path / "slip.mp4", slip=slip, crossfade=crossfade)
    result = evaluate_sync(video, music_map=KF_MAP, plan=plan)
    assert [k.shown_frame for k in result.keyframes] == [0, 24 + slip, 48 + slip]
    assert [k.frame_error for k in result.keyframes] == [0, slip, slip]
    late = result.keyframes[1]
    assert late.offset_frames == pytest.approx(slip)
    assert late.offset_ms == pytest.approx(slip * 1000 / FPS, abs=0.01)


def test_plan_without_frame_list_finds_the_arrival(tmp_path: Path) -> None:
    plan = write_plan(tmp_path, with_frames=False)
    video = keyframe_video(tmp_path / "late.mp4", shown=[0, 26, 48])
    result = evaluate_sync(video, music_map=KF_MAP, plan=plan)
    assert [k.shown_frame for k in result.keyframes] == [0, 26, 48]
    assert {k.method for k in result.keyframes} == {"arrival"}
    s = result.keyframe_summary
    assert s is not None and s.n_within_one_frame == 2
    assert s.max_abs_offset_frames == pytest.approx(2.0)


def test_flash_zoom_punch_and_shake_on_keyframes_do_not_move_them(tmp_path: Path) -> None:
    plan = write_plan(tmp_path, effects=[(24, "flash"), (48, "zoom")])
    video = keyframe_video(tmp_path / "fx.mp4", flash_at=24, zoom_at=48)
    result = evaluate_sync(video, music_map=KF_MAP, plan=plan)
    assert [k.shown_frame for k in result.keyframes] == PLANNED
    assert not any(k.ambiguous for k in result.keyframes)
    plan = write_plan(tmp_path, effects=[(24, "zoom"), (24, "shake")])
    video = keyframe_video(tmp_path / "shake.mp4", zoom_at=24, shake_at=24)
    result = evaluate_sync(video, music_map=KF_MAP, plan=plan)
    assert [k.shown_frame for k in result.keyframes] == PLANNED


def test_lyric_text_over_the_keyframes_does_not_hide_them(tmp_path: Path) -> None:
    plan = write_plan(tmp_path)
    video = keyframe_video(tmp_path / "caption.mp4", caption=True)
    result = evaluate_sync(video, music_map=KF_MAP, plan=plan)
    assert [k.shown_frame for k in result.keyframes] == PLANNED
    assert all(k.match > 0.95 for k in result.keyframes)


def test_keyframe_equal_to_its_neighbour_is_ambiguous(tmp_path: Path) -> None:
    poses = [0.0, 1.0, 1.0]
    plan = write_plan(tmp_path, poses=poses)
    video = keyframe_video(tmp_path / "same.mp4", poses=poses)
    result = evaluate_sync(video, music_map=KF_MAP, plan=plan)
    assert [k.ambiguous for k in result.keyframes] == [False, False, True]
    assert result.keyframes[2].offset_ms is None
    s = result.keyframe_summary
    assert s is not None and (s.n_measured, s.n_ambiguous) == (2, 1)


def test_result_is_json_and_report_is_text(tmp_path: Path) -> None:
    plan = write_plan(tmp_path)
    video = keyframe_video(tmp_path / "kf.mp4", shown=[0, 26, 48])
    result = evaluate_sync(video, music_map=KF_MAP, plan=plan)
    assert isinstance(result, SyncResult)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["keyframes"][1]["frame_error"] == 2
    assert data["alignment"]["sigma_frames"] == 3.0
    text = format_report(result)
    assert "beat alignment score" in text and "+83.3" in text and "1.png" in text
    assert "2/3 within 1 frame" in text


# ------------------------------------------------------------------------- errors


def test_missing_video(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    with pytest.raises(InputError, match=r"nope\.mp4: file not found") as e:
        evaluate_sync(missing, music_map=KF_MAP)
    assert "\n" not in str(e.value)


def test_not_a_video(tmp_path: Path, click_song: tuple[Path, np.ndarray]) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 20)
    with pytest.raises(InputError, match=r"notes\.mp4: not a readable video") as e:
        evaluate_sync(text, music_map=KF_MAP)
    assert "\n" not in str(e.value)
    song, _ = click_song
    with pytest.raises(InputError, match=r"click\.wav: has no video stream"):
        evaluate_sync(song, music_map=KF_MAP)


def test_missing_audio_plan_or_image(tmp_path: Path) -> None:
    video = flash_video(tmp_path / "v.mp4", [12], n=24)
    with pytest.raises(InputError, match=r"song\.wav: file not found") as e:
        evaluate_sync(video, audio=tmp_path / "song.wav")
    assert "\n" not in str(e.value)
    with pytest.raises(InputError, match=r"plan\.json: file not found"):
        evaluate_sync(video, music_map=KF_MAP, plan=tmp_path / "plan.json")
    plan = write_plan(tmp_path)
    (tmp_path / "kf" / "2.png").unlink()
    with pytest.raises(InputError, match=r"2\.png: file not found"):
        evaluate_sync(video, music_map=KF_MAP, plan=plan)


@pytest.mark.parametrize("slip", [0, 2])
def test_keyframes_under_the_renderers_own_effects_and_lyrics(tmp_path: Path,
                                                              slip: int) -> None:
    # a zoom punch and shake on one keyframe, a flash on the other, and a lyric line
    # fading over both, drawn by douga's FrameEffects; the plan says how (as `douga
    # render` writes it), so the check draws the same on the keyframes
    from douga.effects import EffectStyle, FrameEffects
    from douga.music.lyrics import LyricLine
    from douga.timeline.model import EffectEvent

    events = [EffectEvent(24, "zoom", 0.9), EffectEvent(24, "shake", 0.8),
              EffectEvent(48, "flash", 0.9)]
    lyrics = [LyricLine(0.8, 2.4, "petals drifting down")]
    fx = FrameEffects(events, fps=FPS, style=EffectStyle(), lyrics=lyrics)
    frames = []
    for i, spec in enumerate(frame_specs(PLANNED)):
        pose = POSES[spec.a] + spec.t * (POSES[spec.b] - POSES[spec.a])
        frames.append(fx.apply(letterbox(pose_image(pose), VW, VH), i))
    frames = frames[:12] + [frames[12]] * slip + frames[12:]
    video = write_video(tmp_path / "fx.mp4", frames[:N_FRAMES])
    plan_path = write_plan(tmp_path, effects=[(24, "zoom"), (24, "shake"), (48, "flash")])
    plan = json.loads(plan_path.read_text())
    plan["effects"] = [{"frame": e.frame, "kind": e.kind, "strength": e.strength}
                       for e in events]
    plan["extra"] = {"effect_style": EffectStyle().model_dump(mode="json"),
                     "lyrics": [{"start": 0.8, "end": 2.4, "text": "petals drifting down"}]}
    plan_path.write_text(json.dumps(plan))
    result = evaluate_sync(video, music_map=KF_MAP, plan=plan_path)
    assert [k.shown_frame for k in result.keyframes] == [0, 24 + slip, 48 + slip]
