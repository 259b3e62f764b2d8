"""Bad input and faults at the command line: one ``error:`` line, exit code 2, and nothing
half-written (what a review of every command found missing)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from douga.cli import main
from douga.demo import write_demo_project
from douga.errors import InputError
from douga.music.musicmap import MusicMap
from douga.timeline.model import Timeline
from tests.test_cli import assert_one_line_error, invoke

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bad") / "proj"
    write_demo_project(out, seconds=8.0, width=160, height=96, n_keyframes=3)
    return out / "project.yaml"


def _images(folder: Path) -> tuple[Path, Path]:
    a = np.zeros((48, 64, 3), np.uint8)
    a[10:30, 10:30] = 255
    pa, pb = folder / "a.png", folder / "b.png"
    Image.fromarray(a).save(pa)
    Image.fromarray(np.roll(a, 6, axis=1)).save(pb)
    return pa, pb


def _edited(project: Path, folder: Path, **changes: object) -> Path:
    """A copy of the project file beside the original, with top-level keys changed."""
    import yaml

    data = yaml.safe_load(project.read_text())
    data.update(changes)
    path = project.parent / f"{folder.name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


# ------------------------------------------------------------------ audio
def test_audio_with_nan_samples_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nan.wav"
    sf.write(path, np.full(22050, np.nan, np.float32), 22050, subtype="FLOAT")
    assert_one_line_error(invoke("analyze", path), mentions="nan.wav: has samples that are "
                                                            "not numbers")


def test_silent_song_is_analysed_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(22050 * 2, np.float32), 22050)
    result = invoke("analyze", path)
    assert result.exit_code == 0
    assert "is silent" in result.stderr and "spaced evenly" in result.stderr


# ------------------------------------------------------------------ the plan JSON, MusicMap
def test_timeline_json_is_checked() -> None:
    good = {"fps": 24, "frame_count": 2, "keyframes": [], "effects": [], "frames": []}
    Timeline.from_dict(good)
    for change, field in [({"fps": "twelve"}, "malformed"), ({"fps": -12}, "fps"),
                          ({"frame_count": 0}, "frame_count"),
                          ({"frames": [{"kind": "key", "a": 0, "b": 0, "t": 0.0}]}, "frame_count")]:
        with pytest.raises(InputError, match=field):
            Timeline.from_dict({**good, **change}, source="p.json")
    far = {"index": 0, "image": "a.png", "time": 0.0, "frame": 99, "anchor": None,
           "anchor_time": 0.0}
    with pytest.raises(InputError, match="keyframe 0: frame 99"):
        Timeline.from_dict({**good, "keyframes": [far]}, source="p.json")


def test_music_map_json_is_checked() -> None:
    good = {"duration": 4.0, "tempo": 120.0, "tempo_curve": [], "beats": [0.5, 1.0],
            "downbeats": [0.5], "meter": 4, "onsets": [], "sections": [],
            "beat_intensity": [1.0, 1.0]}
    MusicMap.from_dict(good)
    for change, field in [({"beats": [0.5, float("nan")]}, "beats"),
                          ({"beats": [1.0, 0.5]}, "beats"), ({"meter": 0}, "meter"),
                          ({"duration": -1}, "duration")]:
        with pytest.raises(InputError, match=field):
            MusicMap.from_dict({**good, **change})


def test_a_beat_past_the_bar_is_refused() -> None:
    mm = MusicMap(duration=10.0, tempo=120.0, tempo_curve=[], beats=[0.5 * i for i in range(20)],
                  downbeats=[0.0, 2.0, 4.0], meter=4, onsets=[], onset_strength=[], sections=[],
                  beat_intensity=[1.0] * 20)
    assert mm.time_at(2, 4.5) == pytest.approx(3.75)
    with pytest.raises(InputError, match="1:9: a bar of this song has 4 beats"):
        mm.time_at(1, 9)


def test_eval_sync_with_a_malformed_plan(project: Path, tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    assert invoke("render", project, "-o", video, "--preview", "--no-cache").exit_code == 0
    plan = json.loads((tmp_path / "v.plan.json").read_text())
    bad = tmp_path / "bad.plan.json"
    bad.write_text(json.dumps({**plan, "fps": "twelve"}))
    assert_one_line_error(invoke("eval", "sync", video, "--plan", bad), mentions="bad.plan.json")
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(2205, np.float32), 22050)
    assert_one_line_error(invoke("eval", "sync", video, "--audio", short),
                          mentions="expected the song the video was rendered from")


def test_eval_sync_on_a_still_image(tmp_path: Path) -> None:
    fake = tmp_path / "still.mp4"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(fake, format="PNG")
    assert_one_line_error(invoke("eval", "sync", fake), mentions="is a still image")


# ------------------------------------------------------------------ outputs
def test_outputs_are_checked_before_the_work(project: Path, tmp_path: Path) -> None:
    (tmp_path / "v.plan.json").mkdir()
    assert_one_line_error(invoke("render", project, "-o", tmp_path / "v.mp4", "--no-cache"),
                          mentions="v.plan.json: is a folder")
    assert not (tmp_path / "v.mp4").exists()
    (tmp_path / "plot.png").mkdir()
    result = invoke("plan", project, "--json", tmp_path / "p.json", "--plot",
                    tmp_path / "plot.png")
    assert_one_line_error(result, mentions="plot.png: is a folder")
    assert not (tmp_path / "p.json").exists()


def test_json_outputs_are_readable_by_others(project: Path, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        out = tmp_path / "plan.json"
        assert invoke("plan", project, "--json", out).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_folder_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = invoke("demo", "--out", blocker / "demo", "--no-video", "--seconds", "6")
    assert_one_line_error(result, mentions="Not a directory")


def test_demo_does_not_write_over_a_users_folder(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "project.yaml").write_text("audio: song.wav\n")
    result = invoke("demo", "--out", mine, "--no-video", "--seconds", "6")
    assert_one_line_error(result, mentions="holds files that douga demo did not write")
    assert (mine / "project.yaml").read_text() == "audio: song.wav\n"
    demo = tmp_path / "demo"
    for _ in range(2):  # an earlier demo's folder is written over
        assert invoke("demo", "--out", demo, "--no-video", "--seconds", "6").exit_code == 0
    (demo / ".douga-demo").unlink()  # a demo from before the mark: known by its project file
    assert invoke("demo", "--out", demo, "--no-video", "--seconds", "6").exit_code == 0


def test_inbetween_refuses_a_longer_earlier_sequence(tmp_path: Path) -> None:
    a, b = _images(tmp_path)
    out = tmp_path / "out"
    assert invoke("inbetween", a, b, "--frames", "6", "--out", out).exit_code == 0
    assert_one_line_error(invoke("inbetween", a, b, "--frames", "3", "--out", out),
                          mentions="already holds 0003.png")
    assert invoke("inbetween", a, b, "--frames", "6", "--out", out).exit_code == 0


# ------------------------------------------------------------------ inputs checked early
def test_plan_checks_the_generator_and_the_font(project: Path, tmp_path: Path) -> None:
    bad = _edited(project, tmp_path / "gen", generator="nope")
    assert_one_line_error(invoke("plan", bad), mentions="'nope': unknown")
    font = _edited(project, tmp_path / "font", effects={"font": "kf/01.png"})
    assert_one_line_error(invoke("plan", font), mentions="effects.font")


def test_a_checkpoint_for_a_generator_without_one(project: Path, tmp_path: Path) -> None:
    result = invoke("render", project, "-o", tmp_path / "v.mp4", "--checkpoint", tmp_path)
    assert_one_line_error(result, mentions="generator 'flow' reads no model checkpoint")
    result = invoke("render", project, "-o", tmp_path / "v.mp4", "--temperature", "0.5")
    assert_one_line_error(result, mentions="--temperature: generator 'flow' does not sample")
    assert not (tmp_path / "v.mp4").exists()


def test_new_checks_the_files(tmp_path: Path) -> None:
    a, _ = _images(tmp_path)
    text = tmp_path / "song.wav"
    text.write_text("not audio")
    assert_one_line_error(invoke("new", tmp_path / "p", "--song", text, "--images", str(a)),
                          mentions="song.wav")
    assert not (tmp_path / "p" / "project.yaml").exists()


def test_eval_inbetween_needs_frames_between_keyframes(tmp_path: Path) -> None:
    seq = tmp_path / "seq"
    seq.mkdir()
    for i in range(3):
        Image.fromarray(np.full((16, 16, 3), 40 * i, np.uint8)).save(seq / f"{i:04d}.png")
    (seq / "keyframes.txt").write_text("0\n1\n2\n")
    assert_one_line_error(invoke("eval", "inbetween", seq), mentions="no frames between")
    (seq / "keyframes.txt").write_text("\ufeff0\n2\n")  # a BOM, as Windows editors write
    assert invoke("eval", "inbetween", seq, "--generators", "hold").exit_code == 0
    assert_one_line_error(invoke("eval", "inbetween", seq / "0000.png"),
                          mentions="is a file, not a folder")


# ------------------------------------------------------------------ the real entry point
def _main(args: list[str], capsys: pytest.CaptureFixture[str],
          monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["douga", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    return int(exit_.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize("args, says", [
    (["inbetween", "a.png", "b.png", "--frames", "1", "--out", "x"], "'--frames'"),
    (["inbetween", "a.png"], "Missing argument"),
    (["--bogus"], "No such option"),
    (["bogus"], "No such command"),
])
def test_usage_errors_are_one_line(args: list[str], says: str, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    code, err = _main(args, capsys, monkeypatch)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: douga") and says in lines[0], err


def test_main_exits_with_the_command_code(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    assert _main(["--version"], capsys, monkeypatch)[0] == 0
    code, err = _main(["analyze", str(tmp_path / "nope.wav")], capsys, monkeypatch)
    assert code == 2 and err.startswith("error: ") and "nope.wav" in err


_TERM_CHILD = """
import sys
sys.argv = ["douga", "render", sys.argv[1], "-o", sys.argv[2], "--no-cache"]
from douga.cli import main
main()
"""


def test_sigterm_stops_a_render_cleanly(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    write_demo_project(folder, seconds=30.0, width=320, height=180, n_keyframes=4)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-c", _TERM_CHILD, str(folder / "project.yaml"), str(out_dir / "v.mp4")],
        env={**os.environ, "PYTHONPATH": str(REPO / "src")}, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        if any(p.name.endswith(".partial.mp4") for p in out_dir.iterdir()):
            break
        time.sleep(0.02)
    assert child.poll() is None, "the render ended before it could be stopped"
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert err.strip().splitlines()[-1] == "error: interrupted"
    assert list(out_dir.iterdir()) == []


def test_frames_that_fail_half_way_leave_no_folder(tmp_path: Path) -> None:
    from douga.images import save_frames

    def frames():  # type: ignore[no-untyped-def]
        yield np.zeros((8, 8, 3), np.uint8)
        raise InputError("the generator gave up")

    with pytest.raises(InputError, match="gave up"):
        save_frames(frames(), tmp_path / "new" / "out")
    assert not (tmp_path / "new" / "out").exists()


def test_export_checks_the_video(project: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video at all" * 10)
    result = invoke("export", project, "--otio", tmp_path / "mad.otio", "--video", garbage)
    assert_one_line_error(result, mentions="garbage.mp4")
    assert not (tmp_path / "mad.otio").exists()
