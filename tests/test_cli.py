"""The command line, run in-process with typer's CliRunner on a tiny demo project."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from douga.cli import app
from douga.demo import demo_song_structure, make_demo_song, write_demo_project
from douga.errors import InputError
from tests.faults import denied, full_disk

SECONDS = 8.0
MUSICMAP_KEYS = {"duration", "tempo", "tempo_curve", "beats", "downbeats", "onsets", "meter",
                 "sections", "beat_intensity"}
TIMELINE_KEYS = {"fps", "frame_count", "keyframes", "frames", "effects"}

runner = CliRunner()


def invoke(*args: str | Path, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args], env=env)


def assert_one_line_error(result, *, mentions: str = "") -> str:  # type: ignore[no-untyped-def]
    """Exit code 2, exactly one ``error:`` line on stderr, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert lines[-1] == errors[0]
    assert "Traceback" not in result.output
    assert mentions in errors[0], errors[0]
    return errors[0]


def assert_png(path: Path, size: tuple[int, int] | None = None) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as im:
        im.verify()
    if size is not None:
        with Image.open(path) as im:
            assert im.size == size


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "proj"
    write_demo_project(out, seconds=SECONDS, width=160, height=96)
    return out


@pytest.fixture(scope="module")
def analysis(demo_dir: Path) -> Path:
    """`douga analyze` once; the plan tests reuse its JSON with --analysis."""
    path = demo_dir / "analysis.json"
    result = invoke("analyze", demo_dir / "song.wav", "--json", path)
    assert result.exit_code == 0, result.output
    return path


# ------------------------------------------------------------------- help
@pytest.mark.parametrize("command", [
    [], ["analyze"], ["plan"], ["new"], ["eval"], ["eval", "beats"], ["demo"],
])
def test_help(command: list[str]) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    if command and command != ["eval"]:
        assert "Examples" in result.output
        assert f"douga {' '.join(command)}" in result.output


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.startswith("douga ")


def test_python_m_douga_help() -> None:
    proc = subprocess.run([sys.executable, "-m", "douga", "--help"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "analyze" in proc.stdout and "plan" in proc.stdout


# ---------------------------------------------------------------- analyze
def test_analyze_prints_and_writes(demo_dir: Path, analysis: Path, tmp_path: Path) -> None:
    png = tmp_path / "plots" / "analysis.png"  # the folder is created
    result = invoke("analyze", demo_dir / "song.wav", "--plot", png)
    assert result.exit_code == 0, result.output
    for word in ("BPM", "meter", "beats", "downbeats", "sections", "intensity", "bar:beat"):
        assert word in result.stdout
    data = json.loads(analysis.read_text())
    assert set(data) >= MUSICMAP_KEYS
    assert data["duration"] == pytest.approx(SECONDS, abs=0.01)
    assert 100 < data["tempo"] < 140 and data["meter"] == 4
    assert len(data["beat_intensity"]) == len(data["beats"]) >= 8
    for s in data["sections"]:
        assert {"start", "end", "label", "intensity"} <= set(s)
    assert_png(png, (1600, 600))


def test_analyze_missing_song(tmp_path: Path) -> None:
    result = invoke("analyze", tmp_path / "nope.wav")
    assert_one_line_error(result, mentions="nope.wav")


def test_analyze_corrupt_song(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + bytes(range(256)) * 8)
    assert_one_line_error(invoke("analyze", bad), mentions="bad.wav")
    text = tmp_path / "notes.mp3"
    text.write_text("this is not audio\n" * 20)
    assert_one_line_error(invoke("analyze", text), mentions="notes.mp3")


def test_analyze_silent_song_gives_an_empty_map(tmp_path: Path) -> None:
    import soundfile as sf

    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(22050 * 2, dtype=np.float32), 22050)
    out = tmp_path / "silence.json"
    result = invoke("analyze", path, "--json", out, "--plot", tmp_path / "silence.png")
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["beats"] == [] and data["duration"] == pytest.approx(2.0, abs=0.01)
    assert_png(tmp_path / "silence.png")


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = invoke("--debug", "analyze", tmp_path / "nope.wav")
    assert isinstance(result.exception, InputError)
    result = invoke("analyze", tmp_path / "nope.wav", env={"DOUGA_DEBUG": "1"})
    assert isinstance(result.exception, InputError)


def test_unexpected_error_exits_1_with_a_hint(demo_dir: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import douga.music.analyze

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(douga.music.analyze, "analyze_music", boom)
    result = invoke("analyze", demo_dir / "song.wav")
    assert result.exit_code == 1
    assert "boom" in result.stderr and "--debug" in result.stderr
    assert "Traceback" not in result.output


# ------------------------------------------------------------------- plan
def test_plan_prints_and_writes(demo_dir: Path, tmp_path: Path) -> None:
    out_json, png = tmp_path / "plan.json", tmp_path / "plan.png"
    result = invoke("plan", demo_dir / "project.yaml", "--json", out_json, "--plot", png)
    assert result.exit_code == 0, result.output
    for word in ("keyframe schedule", "bar:beat", "seconds", "frame", "01.png", "pacing", "on "):
        assert word in result.stdout
    data = json.loads(out_json.read_text())
    assert set(data) >= TIMELINE_KEYS
    assert data["fps"] == 24 and data["frame_count"] == round(SECONDS * 24)
    assert len(data["frames"]) == data["frame_count"]
    assert {"kind", "a", "b", "t"} <= set(data["frames"][0])
    kfs = data["keyframes"]
    assert len(kfs) == 7 and kfs[0]["frame"] == 0
    for k in kfs:
        assert {"index", "image", "time", "frame", "anchor"} <= set(k)
    pin = f"{demo_song_structure(seconds=SECONDS).chorus_bar}:1"
    pinned = [k for k in kfs if k["anchor"] == pin]
    assert pinned, (pin, [k["anchor"] for k in kfs])
    assert all({"frame", "kind", "strength"} <= set(e) for e in data["effects"])
    assert_png(png, (1600, 600))


def test_plan_reuses_an_analysis(demo_dir: Path, analysis: Path, tmp_path: Path) -> None:
    out_json = tmp_path / "plan.json"
    result = invoke("plan", demo_dir / "project.yaml", "--analysis", analysis, "--json", out_json,
                    "--cut-at-sections", "--no-effects")
    assert result.exit_code == 0, result.output
    data = json.loads(out_json.read_text())
    assert data["effects"] == []
    assert any(k["cut"] for k in data["keyframes"])


def test_plan_refuses_the_analysis_of_another_song(demo_dir: Path, analysis: Path,
                                                   tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    data = json.loads(analysis.read_text())
    data["duration"] = 99.0
    other.write_text(json.dumps(data))
    assert_one_line_error(invoke("plan", demo_dir / "project.yaml", "--analysis", other),
                          mentions="other.json")


def _project(tmp_path: Path, demo_dir: Path, body: str) -> Path:
    """A project.yaml in tmp_path that uses the demo's song and keyframes."""
    path = tmp_path / "project.yaml"
    path.write_text(body.replace("DEMO", str(demo_dir)))
    return path


GOOD_KEYFRAMES = """keyframes:
  - image: DEMO/kf/01.png
  - image: DEMO/kf/02.png
"""


def test_plan_malformed_yaml(tmp_path: Path, demo_dir: Path) -> None:
    path = _project(tmp_path, demo_dir, "audio: DEMO/song.wav\nkeyframes: [\n  - image: {x\n")
    assert_one_line_error(invoke("plan", path), mentions="project.yaml")


def test_plan_unknown_key(tmp_path: Path, demo_dir: Path) -> None:
    path = _project(tmp_path, demo_dir, "audio: DEMO/song.wav\nstlye: x\n" + GOOD_KEYFRAMES)
    line = assert_one_line_error(invoke("plan", path), mentions="project.yaml")
    assert "stlye" in line


def test_plan_missing_song(tmp_path: Path, demo_dir: Path) -> None:
    path = _project(tmp_path, demo_dir, "audio: DEMO/gone.wav\n" + GOOD_KEYFRAMES)
    assert_one_line_error(invoke("plan", path), mentions="gone.wav")


def test_plan_corrupt_image(tmp_path: Path, demo_dir: Path) -> None:
    (tmp_path / "broken.png").write_bytes((demo_dir / "kf" / "01.png").read_bytes()[:300])
    path = _project(tmp_path, demo_dir, "audio: DEMO/song.wav\nkeyframes:\n"
                    "  - image: DEMO/kf/01.png\n  - image: broken.png\n")
    assert_one_line_error(invoke("plan", path), mentions="broken.png")


def test_plan_missing_image(tmp_path: Path, demo_dir: Path) -> None:
    path = _project(tmp_path, demo_dir, "audio: DEMO/song.wav\nkeyframes:\n"
                    "  - image: DEMO/kf/01.png\n  - image: DEMO/kf/99.png\n")
    assert_one_line_error(invoke("plan", path), mentions="99.png")


def test_plan_malformed_lyrics(tmp_path: Path, demo_dir: Path) -> None:
    (tmp_path / "words.lrc").write_text("[00:01.00]hello\n[00:xx.00 broken\n")
    path = _project(tmp_path, demo_dir, "audio: DEMO/song.wav\nlyrics: words.lrc\n"
                    + GOOD_KEYFRAMES)
    assert_one_line_error(invoke("plan", path), mentions="words.lrc")


def test_plan_missing_project(tmp_path: Path) -> None:
    assert_one_line_error(invoke("plan", tmp_path / "project.yaml"), mentions="project.yaml")


@pytest.mark.parametrize("pins", [("3:1", "2:1"), ("99:1", None), ("2.0s", "1.0s")])
def test_plan_impossible_pins(tmp_path: Path, demo_dir: Path, analysis: Path,
                              pins: tuple[str, str | None]) -> None:
    first, second = pins
    body = f'audio: DEMO/song.wav\nkeyframes:\n  - image: DEMO/kf/01.png\n' \
           f'  - image: DEMO/kf/02.png\n    at: "{first}"\n  - image: DEMO/kf/03.png\n'
    if second is not None:
        body += f'    at: "{second}"\n'
    path = _project(tmp_path, demo_dir, body)
    assert_one_line_error(invoke("plan", path, "--analysis", analysis))


# -------------------------------------------------------------------- new
def test_new_scaffolds_a_project(demo_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "mine"
    result = invoke("new", target, "--song", demo_dir / "song.wav", "--images",
                    f"{demo_dir}/kf/*.png")
    assert result.exit_code == 0, result.output
    path = target / "project.yaml"
    assert path.is_file() and "7 keyframes" in result.stdout
    from douga.project import load_project

    project = load_project(path)
    assert [Path(k.image).name for k in project.keyframes] == [f"{i:02d}.png" for i in range(1, 8)]

    again = invoke("new", target, "--song", demo_dir / "song.wav", "--images",
                   f"{demo_dir}/kf/*.png")
    assert_one_line_error(again, mentions="project.yaml")
    forced = invoke("new", target, "--song", demo_dir / "song.wav", "--images",
                    f"{demo_dir}/kf/0[12].png", "--force")
    assert forced.exit_code == 0, forced.output
    assert len(load_project(path).keyframes) == 2


def test_new_accepts_a_shell_expanded_glob(demo_dir: Path, tmp_path: Path) -> None:
    images = [str(demo_dir / "kf" / f"{i:02d}.png") for i in (1, 2, 3)]
    result = invoke("new", tmp_path / "p", "--song", demo_dir / "song.wav", "--images", *images)
    assert result.exit_code == 0, result.output
    assert "3 keyframes" in result.stdout


def test_new_with_no_matching_images(demo_dir: Path, tmp_path: Path) -> None:
    result = invoke("new", tmp_path / "p", "--song", demo_dir / "song.wav", "--images",
                    f"{tmp_path}/none/*.png")
    assert_one_line_error(result)


# ------------------------------------------------------------------- eval
def test_eval_beats(tmp_path: Path) -> None:
    import soundfile as sf

    folder = tmp_path / "set"
    folder.mkdir()
    for name, bpm in (("a_120", 120.0), ("b_100", 100.0)):
        sf.write(folder / f"{name}.wav", make_demo_song(seconds=10.0, sr=22050, bpm=bpm).mean(1),
                 22050)
        st = demo_song_structure(seconds=10.0, bpm=bpm)
        (folder / f"{name}.beats.txt").write_text("\n".join(f"{t:.4f}" for t in st.beats))
        (folder / f"{name}.downbeats.txt").write_text("\n".join(f"{t:.4f}" for t in st.downbeats))
    out = tmp_path / "scores.json"
    result = invoke("eval", "beats", folder, "--json", out)
    assert result.exit_code == 0, result.output
    for word in ("a_120", "b_100", "beat F", "CMLt", "AMLt", "downbeat F", "mean"):
        assert word in result.stdout
    data = json.loads(out.read_text())
    assert len(data["pieces"]) == 2 and "mean" in data


def test_eval_beats_missing_folder(tmp_path: Path) -> None:
    assert_one_line_error(invoke("eval", "beats", tmp_path / "nothing"), mentions="nothing")


# ------------------------------------------------------------------- demo
def test_demo_writes_project_analysis_and_plan(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = invoke("demo", "--out", out, "--seconds", str(SECONDS), "--preview")
    assert result.exit_code == 0, result.output
    for name in ("project.yaml", "song.wav", "lyrics.lrc", "kf/01.png", "kf/07.png",
                 "analysis.json", "plan.json", "demo.mp4", "demo.plan.json"):
        assert (out / name).is_file(), name
        assert name in result.stdout or name.startswith("kf/") or name == "song.wav"
    assert set(json.loads((out / "analysis.json").read_text())) >= MUSICMAP_KEYS
    assert set(json.loads((out / "plan.json").read_text())) >= TIMELINE_KEYS
    assert_png(out / "analysis.png", (1600, 600))
    assert_png(out / "plan.png", (1600, 600))


# ------------------------------------------------------------------- render: faults
@pytest.mark.parametrize("cache", ["--cache", "--no-cache"])
def test_render_on_a_full_disk(demo_dir: Path, tmp_path: Path, cache: str,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    from douga import render as render_module

    monkeypatch.setattr(render_module, "_open_container", full_disk(after=5))
    out = tmp_path / "v.mp4"
    result = invoke("render", demo_dir / "project.yaml", "-o", out, "--preview", cache)
    # with the cache the first write to fail is a shot's, in the cache folder
    where = tmp_path / ".douga-cache" if cache == "--cache" else out
    assert_one_line_error(result, mentions=f"{where}: no space left on the device")
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name != ".douga-cache"] == []
    if cache == "--cache":
        assert [p.name for p in where.iterdir() if "partial" in p.name] == []


def test_render_where_writing_is_denied(demo_dir: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from douga import render as render_module

    monkeypatch.setattr(render_module, "_open_container", denied)
    out = tmp_path / "v.mp4"
    result = invoke("render", demo_dir / "project.yaml", "-o", out, "--preview", "--no-cache")
    assert_one_line_error(result, mentions=f"{out}: permission denied")
    assert not out.exists()
