"""`douga dataset build`: synthetic episodes (known shots, known subtitles) -> clip data set."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from typer.testing import CliRunner

from douga.cli import app
from douga.errors import InputError, MissingDependency
from douga.training.clips import SPLITS, ClipDataset, split_of_scene
from douga.training.scenes import (
    SceneClipSettings,
    SceneStats,
    build_clip_dataset,
    caption_between,
    clip_lengths,
    iter_video_clips,
    load_captions,
    parse_frame_size,
)

FPS = 24
W, H = 160, 96
# (RGB colour, frames): a red shot, a blue one, a green one, and a yellow flash too short
# to keep (8 frames < 0.5 s). Every shot moves, so that its frames are not all the same.
SHOTS = [((200, 40, 40), 40), ((40, 60, 200), 31), ((40, 170, 60), 55), ((230, 220, 40), 8)]
STARTS = [0, 40, 71, 126]
# clips expected: (scene, first frame, length): 38 frames -> 19 + 19; 29 -> 25 (4 left
# over: 29 frames cannot be split into 15-25); 53 -> 17 + 18 + 18; the flash: none
CLIPS = [(0, 2, 19), (0, 21, 19), (1, 42, 25), (2, 73, 17), (2, 90, 18), (2, 108, 18)]
SRT = """1
00:00:00,000 --> 00:00:00,500
<i>red</i> shot

2
00:00:01,800 --> 00:00:02,500
blue
shot

3
00:00:03,800 --> 00:00:04,600
green one

4
00:00:04,000 --> 00:00:04,200
and two
"""
CAPTIONS = ["red shot", "", "blue shot", "", "green one and two", "green one"]

runner = CliRunner()


def invoke(*args: str | Path):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args])


def shot_frame(k: int, i: int) -> np.ndarray:
    color, _ = SHOTS[k]
    img = np.empty((H, W, 3), np.uint8)
    img[:] = color
    if k == 0:  # a white box sliding right
        img[30:60, 10 + 2 * i : 34 + 2 * i] = 255
    elif k == 1:  # stripes scrolling up
        img[((np.arange(H) + i) // 6) % 2 == 0] = (90, 110, 230)
    elif k == 2:  # a dark ball rolling right
        yy, xx = np.mgrid[:H, :W]
        img[(yy - 48) ** 2 + (xx - 20 - 2 * i) ** 2 < 15**2] = (20, 40, 20)
    else:  # a wipe
        img[:, : 40 + 5 * i] = (250, 240, 90)
    return img


def write_video(path: Path, shots: list[int] | None = None) -> Path:
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.options = {"crf": "16", "preset": "ultrafast"}
        for k in shots if shots is not None else range(len(SHOTS)):
            for i in range(SHOTS[k][1]):
                c.mux(s.encode(av.VideoFrame.from_ndarray(shot_frame(k, i), format="rgb24")))
        c.mux(s.encode())
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("episodes")
    (d / "ep01.srt").write_text(SRT, encoding="utf-8")
    return write_video(d / "ep01.mp4"), d / "ep01.srt"


def read_all(out: Path) -> dict[str, list[tuple[np.ndarray, str, int]]]:
    return {s: [(c.frames, c.text, c.scene) for c in ClipDataset(out, s)] for s in SPLITS}


# ------------------------------------------------------------ cutting
@pytest.mark.parametrize(("n", "lengths"), [
    (10, []), (15, [15]), (25, [25]), (29, [25]), (30, [15, 15]), (31, [15, 16]),
    (33, [16, 17]), (50, [25, 25]), (51, [17, 17, 17]), (52, [17, 17, 18]), (75, [25] * 3),
])
def test_clip_lengths_follow_the_ganime_table(n: int, lengths: list[int]) -> None:
    assert clip_lengths(n, min_frames=15, max_frames=25) == lengths


def test_clip_lengths_waste_only_what_cannot_be_split() -> None:
    for n in range(200):
        got = clip_lengths(n, min_frames=15, max_frames=25)
        assert all(15 <= x <= 25 for x in got)
        assert sum(got) == n or n < 15 or 26 <= n <= 29  # from 30 on, nothing is lost
        assert n - sum(got) < 25


def test_scenes_and_clips_of_a_video(media: tuple[Path, Path]) -> None:
    video, _ = media
    stats = SceneStats()
    clips = list(iter_video_clips(video, stats=stats))
    assert stats.cuts == STARTS[1:]  # a cut exactly where each shot begins
    assert (stats.frames, stats.scenes, stats.scenes_used) == (134, 4, 3)
    assert [(c.scene, c.first_frame, len(c.frames)) for c in clips] == CLIPS
    for c in clips:
        assert c.frames.dtype == np.uint8 and c.frames.shape[1:] == (64, 128, 3)
        # every frame is from the clip's own shot: the first two frames after a cut are gone
        colour = c.frames.reshape(-1, 3).mean(axis=0)
        assert np.abs(colour - SHOTS[c.scene][0]).max() < 40, (c.scene, colour)
        assert c.start == pytest.approx(c.first_frame / FPS)
        assert c.end == pytest.approx((c.first_frame + len(c.frames)) / FPS)


def test_a_long_scene_streams_clips_ahead(media: tuple[Path, Path]) -> None:
    video, _ = media
    settings = SceneClipSettings(height=16, width=32)
    small = list(iter_video_clips(video, settings=settings, max_buffer_frames=10))
    # the buffer holds at least 4 clips; the green scene (53 frames) sends one clip ahead
    assert [(c.scene, c.first_frame, len(c.frames)) for c in small] == CLIPS
    assert small[0].frames.shape[1:] == (16, 32, 3)


def test_a_damaged_packet_cuts_the_scene(media: tuple[Path, Path], tmp_path: Path) -> None:
    video, _ = media
    with av.open(str(video)) as c:
        packets = [(p.pos, p.size) for p in c.demux(video=0) if p.size]
    pos, size = packets[100]  # a frame in the middle of the green shot
    data = bytearray(video.read_bytes())
    data[pos + 4 : pos + size] = b"\xff" * (size - 4)
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    stats = SceneStats()
    clips = list(iter_video_clips(damaged, stats=stats))
    assert stats.damaged_packets == 1 and stats.frames == 133
    assert stats.cuts == [40, 71, 100, 125]  # no clip spans the hole
    assert all(15 <= len(c.frames) <= 25 for c in clips)
    assert not any(c.first_frame < 100 < c.first_frame + len(c.frames) for c in clips)


def test_captions_from_srt_and_ass(media: tuple[Path, Path], tmp_path: Path) -> None:
    _, srt = media
    caps = load_captions(srt)
    assert [c.text for c in caps] == ["red shot", "blue shot", "green one", "and two"]
    assert caption_between(caps, 3.75, 4.5) == "green one and two"
    ass = tmp_path / "ep.ass"
    ass.write_text(
        "[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\nFormat: Name, Fontname, Fontsize\n"
        "Style: Default,Arial,20\n\n[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
        "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,{\\i1}Hello{\\i0}\\Nthere\n"
        "Comment: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,a note\n", encoding="utf-8")
    assert [(c.start, c.end, c.text) for c in load_captions(ass)] == [(1.0, 2.0, "Hello there")]


# ------------------------------------------------------------ the data set
def test_build_writes_a_readable_split_data_set(media: tuple[Path, Path], tmp_path: Path) -> None:
    video, srt = media
    out = tmp_path / "ds"
    result = invoke("dataset", "build", video, "--subs", srt, "--out", out,
                    "--val", "0.4", "--test", "0.4")
    assert result.exit_code == 0, result.output
    assert "1 video(s)" in result.stdout and "3 of 4 scenes" in result.stdout
    assert str(out) in result.stdout.replace("\n", "")
    meta = json.loads((out / "dataset.json").read_text())
    assert (meta["height"], meta["width"], meta["fps"]) == (64, 128, 24.0)
    settings = meta["info"]["settings"]
    assert (settings["threshold"], settings["min_scene"], settings["skip_frames"]) == (15, 0.5, 2)
    record = meta["info"]["videos"][0]
    assert record["cuts"] == STARTS[1:] and record["scenes"] == 4
    assert sum(record["clips"].values()) == len(CLIPS)

    clips = read_all(out)
    assert sum(len(v) for v in clips.values()) == len(CLIPS)
    seen: dict[int, str] = {}
    got: dict[int, list[tuple[int, str]]] = {}
    for split, items in clips.items():
        for frames, text, scene in items:
            assert 15 <= len(frames) <= 25 and frames.shape[1:] == (64, 128, 3)
            assert split == split_of_scene(f"ep01.mp4#{scene}", val=0.4, test=0.4)
            assert seen.setdefault(scene, split) == split  # no scene in two splits
            colour = frames.reshape(-1, 3).mean(axis=0)
            assert np.abs(colour - SHOTS[scene][0]).max() < 40
            got.setdefault(scene, []).append((len(frames), text))
    # a scene's clips stay in order in its split: lengths and captions as expected
    want: dict[int, list[tuple[int, str]]] = {}
    for (scene, _, length), text in zip(CLIPS, CAPTIONS, strict=True):
        want.setdefault(scene, []).append((length, text))
    assert got == want
    assert len(set(seen.values())) >= 2  # the fractions above spread three scenes


def test_build_is_deterministic(media: tuple[Path, Path], tmp_path: Path) -> None:
    video, srt = media
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        build_clip_dataset([video], out, subtitles=[srt],
                           settings=SceneClipSettings(height=32, width=48, fit="stretch"))
    assert (a / "dataset.json").read_text() == (b / "dataset.json").read_text()
    ra, rb = read_all(a), read_all(b)
    for split in SPLITS:
        assert len(ra[split]) == len(rb[split])
        for (fa, ta, sa), (fb, tb, sb) in zip(ra[split], rb[split], strict=True):
            assert np.array_equal(fa, fb) and (ta, sa) == (tb, sb)
            assert fa.shape[1:] == (32, 48, 3)


def test_two_videos_number_scenes_apart(media: tuple[Path, Path], tmp_path: Path) -> None:
    video, _ = media
    other = write_video(tmp_path / "ep02.mp4", shots=[2, 0])
    out = tmp_path / "ds"
    seen: list[tuple[str, float]] = []
    report = build_clip_dataset([video, other], out,
                                progress=lambda stage, f: seen.append((stage, f)))
    assert (report.videos, report.scenes, report.scenes_used) == (2, 6, 5)
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert seen[0][0] == "ep01.mp4 (1/2)" and seen[-1][0] == "ep02.mp4 (2/2)"
    records = json.loads((out / "dataset.json").read_text())["info"]["videos"]
    assert [r["first_scene"] for r in records] == [0, 4]
    assert records[1]["cuts"] == [55]
    scenes = {c.scene for s in SPLITS for c in ClipDataset(out, s)}
    assert scenes == {0, 1, 2, 4, 5}


# ------------------------------------------------------------ bad input
def assert_error(result, out: Path, mentions: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, (result.exit_code, result.output)
    errors = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: "), result.stderr
    assert mentions in errors[0], errors[0]
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


def test_bad_inputs_exit_2_and_leave_nothing(media: tuple[Path, Path], tmp_path: Path) -> None:
    video, srt = media
    out = tmp_path / "ds"
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 20)
    truncated = tmp_path / "cut.mp4"
    truncated.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    bad_subs = tmp_path / "bad.srt"
    bad_subs.write_text("just some words\n")
    tiny = write_video(tmp_path / "tiny.mp4", shots=[3])
    cases = [
        ((tmp_path / "nope.mp4",), "nope.mp4"),
        ((text,), "notes.mp4"),
        ((truncated,), "cut.mp4"),
        ((video, tiny), "tiny.mp4: no usable scene"),
        ((video, "--subs", srt, "--subs", srt), "--subs: 2 subtitle file(s) for 1 video(s)"),
        ((video, video, "--subs", srt), "--subs: 1 subtitle file(s) for 2 video(s)"),
        ((video, "--subs", bad_subs), "bad.srt"),
        ((video, "--size", "64"), "--size 64"),
        ((video, "--size", "4x128"), "--size 4x128"),
        ((video, "--min-frames", "30"), "--min-frames 30 > --max-frames 25"),
    ]
    for args, mentions in cases:
        assert_error(invoke("dataset", "build", *args, "--out", out), out, mentions)


def test_existing_out_needs_overwrite(media: tuple[Path, Path], tmp_path: Path) -> None:
    video, _ = media
    out = tmp_path / "ds"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = invoke("dataset", "build", video, "--out", out)
    assert result.exit_code == 2 and "already exists" in result.stderr
    result = invoke("dataset", "build", video, "--out", out, "--overwrite")
    assert result.exit_code == 2 and "not a clip data set" in result.stderr
    assert (out / "keep.txt").read_text() == "mine"
    (out / "keep.txt").unlink()
    assert invoke("dataset", "build", video, "--out", out, "--overwrite").exit_code == 0
    assert invoke("dataset", "build", video, "--out", out, "--overwrite").exit_code == 0
    assert len(ClipDataset(out, "train")) + len(ClipDataset(out, "val")) + len(
        ClipDataset(out, "test")) == len(CLIPS)


def test_missing_scenedetect_says_what_to_install(
    media: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "scenedetect", None)
    monkeypatch.setitem(sys.modules, "scenedetect.scene_manager", None)
    with pytest.raises(MissingDependency, match=r"pip install --no-deps scenedetect==0\.7\.2"):
        build_clip_dataset([media[0]], tmp_path / "ds")
    assert not (tmp_path / "ds").exists()


def test_settings_and_size_checks() -> None:
    assert parse_frame_size("64x128") == (64, 128)
    assert parse_frame_size(" 32 X 48 ") == (32, 48)
    for bad in ("64", "x128", "64x", "64*128", "-1x5"):
        with pytest.raises(InputError, match="--size"):
            parse_frame_size(bad)
    with pytest.raises(InputError, match="--threshold"):
        SceneClipSettings(threshold=0)
    with pytest.raises(InputError, match="--fit"):
        SceneClipSettings(fit="crop")  # type: ignore[arg-type]


def test_help_has_examples() -> None:
    result = invoke("dataset", "build", "--help")
    assert result.exit_code == 0
    assert "Examples" in result.output and "douga dataset build" in result.output
    assert "HEIGHTxWIDTH" in result.output
