"""douga studio's logic (workspace, uploads, schedule, generator status), without a browser."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from douga.demo import make_demo_song
from douga.errors import InputError
from douga.ui.workspace import (
    MAX_BYTES,
    Workspace,
    generator_status,
    safe_name,
    schedule_rows,
)


@pytest.fixture(scope="module")
def uploads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files as a browser would upload them (in a temp folder outside the workspace)."""
    import soundfile as sf

    folder = tmp_path_factory.mktemp("uploads")
    sf.write(folder / "My Song.wav", make_demo_song(seconds=4.0, sr=22050), 22050)
    for i, colour in enumerate([(200, 40, 40), (40, 40, 200), (40, 200, 40)]):
        img = np.zeros((48, 64, 3), np.uint8)
        img[:] = colour
        Image.fromarray(img).save(folder / f"kf {i + 1}.png")
    (folder / "words.lrc").write_text("[00:01.00]hello\n[00:02.50]world\n", encoding="utf-8")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (folder / "notes.txt").write_text("hi", encoding="utf-8")
    (folder / "bad.lrc").write_text("no timestamps here\x00", encoding="utf-8")
    return folder


def test_safe_name() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\me\\kf 01.png") == "kf_01.png"
    assert safe_name("..hidden") == "hidden"
    assert safe_name("") == "file"
    long = safe_name("b" * 130 + ".png")
    assert long.endswith(".png") and len(long) == 104


def test_paths_stay_inside_the_workspace(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "root", "proj")
    assert ws.folder == (tmp_path / "root" / "proj").resolve()
    for bad in ("..", "../elsewhere", "/etc", "proj/../../x", ""):
        with pytest.raises(InputError):
            ws.inside(bad)
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", tmp_path / "root" / "link")
    with pytest.raises(InputError, match="outside the workspace"):
        ws.inside("link")
    with pytest.raises(InputError, match="outside the workspace"):
        Workspace(tmp_path / "root", "../x")


def test_a_project_from_uploads(tmp_path: Path, uploads: Path) -> None:
    ws = Workspace(tmp_path, "mad")
    assert ws.project() is None
    project = ws.add(song=uploads / "My Song.wav", lyrics=uploads / "words.lrc",
                     keyframes=[uploads / "kf 1.png", uploads / "kf 2.png", uploads / "kf 1.png"])
    assert project.audio.name == "song.wav" and project.lyrics.name == "lyrics.lrc"
    assert [kf.image.name for kf in project.keyframes] == ["kf_1.png", "kf_2.png", "kf_1_2.png"]
    assert all(kf.image.is_file() for kf in project.keyframes)
    project = ws.edit(style="ink")
    assert ws.project_file.is_file() and project.style == "ink"
    assert ws.edit(style=None).style is None
    assert ws.listing() == ["mad"]
    rows = schedule_rows(project)
    assert rows[0] == [1, "kf/kf_1.png", "", "", False, ""]
    # reorder, pin, cut, text and drop a row, as the table edits would
    rows[0][0], rows[1][0] = 2, 1
    rows[1][3], rows[1][4], rows[1][2] = "1:3", "true", "she turns"
    rows[2][1] = ""
    project = ws.edit(rows)
    assert [Path(kf.image).name for kf in project.keyframes] == ["kf_2.png", "kf_1.png"]
    assert str(project.keyframes[0].at) == "1:3" and project.keyframes[0].cut
    assert project.keyframes[0].text == "she turns"
    assert ws.open("mad").keyframes == project.keyframes


def test_bad_uploads_are_refused_and_nothing_is_written(tmp_path: Path, uploads: Path) -> None:
    ws = Workspace(tmp_path, "mad")
    song, kf = uploads / "My Song.wav", uploads / "kf 1.png"
    fake = tmp_path / "fake.wav"
    fake.write_bytes(b"RIFF....WAVEjunk")
    big = tmp_path / "big.lrc"
    big.write_bytes(b"[00:01.00]x\n" * (MAX_BYTES["lyrics"] // 10))
    for kwargs, message in (
            ({"song": song, "keyframes": [kf, uploads / "broken.png"]}, r"broken\.png"),
            ({"song": song, "keyframes": [uploads / "notes.txt"]}, "expected a keyframe"),
            ({"song": kf, "keyframes": [kf]}, "expected a song"),
            ({"song": fake, "keyframes": [kf]}, r"fake\.wav"),
            ({"song": song, "keyframes": [kf], "lyrics": uploads / "bad.lrc"}, r"bad\.lrc"),
            ({"song": song, "keyframes": [kf], "lyrics": big}, "at most"),
            ({"keyframes": [kf]}, "needs a song"),
            ({"song": song}, "needs a song and at least one keyframe")):
        with pytest.raises(InputError, match=message):
            ws.add(**kwargs)  # type: ignore[arg-type]
        leftovers = [p for p in ws.folder.rglob("*") if p.is_file()] if ws.folder.exists() else []
        assert leftovers == [], kwargs
    # a bad upload into an existing project leaves it as it was
    ws.add(song=song, keyframes=[kf])
    before = sorted(p.relative_to(ws.folder) for p in ws.folder.rglob("*"))
    text = ws.project_file.read_text()
    for kwargs in ({"song": fake}, {"song": uploads / "notes.txt"},
                   {"keyframes": [kf, uploads / "broken.png"]}):
        with pytest.raises(InputError):
            ws.add(**kwargs)  # type: ignore[arg-type]
        assert sorted(p.relative_to(ws.folder) for p in ws.folder.rglob("*")) == before
        assert ws.project_file.read_text() == text


def test_schedule_errors_name_the_row(tmp_path: Path, uploads: Path) -> None:
    ws = Workspace(tmp_path, "mad")
    ws.add(song=uploads / "My Song.wav", keyframes=[uploads / "kf 1.png", uploads / "kf 2.png"])
    rows = schedule_rows(ws.project())  # type: ignore[arg-type]
    with pytest.raises(InputError, match="order"):
        ws.edit([["first", *rows[0][1:]], rows[1]])
    rows[1][3] = "soon"
    with pytest.raises(InputError, match=r"schedule: keyframes\[1\]\.at"):
        ws.edit(rows)
    rows[1][3], rows[1][1] = "", "../../outside.png"
    with pytest.raises(InputError, match="outside the workspace"):
        ws.edit(rows)
    with pytest.raises(InputError, match=r"output\.width"):
        ws.edit(schedule_rows(ws.project()), output={"width": 7, "height": 96, "fps": 12})
    assert len(ws.project().keyframes) == 2  # type: ignore[union-attr]
    assert ws.project().output.width == 1280  # type: ignore[union-attr]


def test_a_project_naming_files_outside_is_refused(tmp_path: Path, uploads: Path) -> None:
    import shutil

    ws = Workspace(tmp_path / "root", "mad")
    ws.add(song=uploads / "My Song.wav", keyframes=[uploads / "kf 1.png"])
    shutil.copy(uploads / "words.lrc", tmp_path / "secret.lrc")
    text = ws.project_file.read_text()
    ws.project_file.write_text(text + "lyrics: ../../secret.lrc\n")
    with pytest.raises(InputError, match=r"lyrics: .*outside the workspace"):
        ws.project()
    with pytest.raises(InputError, match="outside the workspace"):
        Workspace(tmp_path / "root").open("mad")
    (tmp_path / "elsewhere").mkdir()
    other = Workspace(tmp_path / "root", "other")
    other.folder.mkdir()
    os.symlink(tmp_path / "elsewhere", other.folder / "kf")  # kf/ leads out of the root
    with pytest.raises(InputError, match="outside the workspace"):
        other.add(song=uploads / "My Song.wav", keyframes=[uploads / "kf 2.png"])
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_generator_status_says_what_is_missing(tmp_path: Path, uploads: Path) -> None:
    ws = Workspace(tmp_path, "mad")
    project = ws.add(song=uploads / "My Song.wav", keyframes=[uploads / "kf 1.png"])
    status = {s.name: s for s in generator_status(project)}
    assert status["flow"].available and status["crossfade"].available
    assert not status["learned"].available and "checkpoint" in status["learned"].reason
    assert not status["clip"].available and "CLIP weights" in status["clip"].reason
    clip_dir = ws.folder / "clip"
    clip_dir.mkdir()
    project = ws.edit(guidance={"clip": "clip"})
    assert {s.name: s for s in generator_status(project)}["clip"].available


def test_ui_app_builds(tmp_path: Path) -> None:
    pytest.importorskip("gradio")
    from douga.ui.app import build_app

    app = build_app(tmp_path, name="proj")
    assert app.title == "douga studio"
