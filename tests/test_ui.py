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
    song = ws.add_song(uploads / "My Song.wav")
    kfs = ws.add_keyframes([uploads / "kf 1.png", uploads / "kf 2.png", uploads / "kf 1.png"])
    lyrics = ws.add_lyrics(uploads / "words.lrc")
    assert song.name == "song.wav" and lyrics.name == "lyrics.lrc"
    assert [p.name for p in kfs] == ["kf_1.png", "kf_2.png", "kf_1_2.png"]
    project = ws.update(song=song, keyframes=kfs, lyrics=lyrics, style="ink")
    assert ws.project_file.is_file() and project.style == "ink"
    assert [kf.image for kf in project.keyframes] == kfs
    assert ws.listing() == ["mad"]
    rows = schedule_rows(project)
    assert rows[0] == [1, "kf/kf_1.png", "", "", False, ""]
    # reorder, pin, cut, text and drop a row, as the table edits would
    rows[0][0], rows[1][0] = 2, 1
    rows[1][3], rows[1][4], rows[1][2] = "1:3", "true", "she turns"
    rows[2][1] = ""
    project = ws.apply_schedule(rows)
    assert [Path(kf.image).name for kf in project.keyframes] == ["kf_2.png", "kf_1.png"]
    assert str(project.keyframes[0].at) == "1:3" and project.keyframes[0].cut
    assert project.keyframes[0].text == "she turns"
    assert ws.open("mad").keyframes == project.keyframes


def test_bad_uploads_are_refused_and_nothing_is_written(tmp_path: Path, uploads: Path) -> None:
    ws = Workspace(tmp_path, "mad")
    with pytest.raises(InputError, match=r"broken\.png"):
        ws.add_keyframes([uploads / "broken.png"])
    with pytest.raises(InputError, match="expected a keyframe"):
        ws.add_keyframes([uploads / "notes.txt"])
    with pytest.raises(InputError, match="expected a song"):
        ws.add_song(uploads / "kf 1.png")
    with pytest.raises(InputError, match=r"bad\.lrc"):
        ws.add_lyrics(uploads / "bad.lrc")
    fake = tmp_path / "fake.wav"
    fake.write_bytes(b"RIFF....WAVEjunk")
    with pytest.raises(InputError, match=r"fake\.wav"):
        ws.add_song(fake)
    big = tmp_path / "big.lrc"
    big.write_bytes(b"[00:01.00]x\n" * (MAX_BYTES["lyrics"] // 10))
    with pytest.raises(InputError, match="at most"):
        ws.add_lyrics(big)
    leftovers = [p for p in ws.folder.rglob("*") if p.is_file()] if ws.folder.exists() else []
    assert leftovers == []
    with pytest.raises(InputError, match="song first"):
        ws.update(keyframes=[])


def test_schedule_errors_name_the_row(tmp_path: Path, uploads: Path) -> None:
    ws = Workspace(tmp_path, "mad")
    ws.update(song=ws.add_song(uploads / "My Song.wav"),
              keyframes=ws.add_keyframes([uploads / "kf 1.png", uploads / "kf 2.png"]))
    rows = schedule_rows(ws.project())  # type: ignore[arg-type]
    with pytest.raises(InputError, match="order"):
        ws.apply_schedule([["first", *rows[0][1:]], rows[1]])
    rows[1][3] = "soon"
    with pytest.raises(InputError, match=r"schedule: keyframes\[1\]\.at"):
        ws.apply_schedule(rows)
    rows[1][3], rows[1][1] = "", "../../outside.png"
    with pytest.raises(InputError):
        ws.apply_schedule(rows)
    assert len(ws.project().keyframes) == 2  # type: ignore[union-attr]


def test_generator_status_says_what_is_missing(tmp_path: Path, uploads: Path) -> None:
    ws = Workspace(tmp_path, "mad")
    project = ws.update(song=ws.add_song(uploads / "My Song.wav"),
                        keyframes=ws.add_keyframes([uploads / "kf 1.png"]))
    status = {s.name: s for s in generator_status(project)}
    assert status["flow"].available and status["crossfade"].available
    assert not status["learned"].available and "checkpoint" in status["learned"].reason
    assert not status["clip"].available and "CLIP weights" in status["clip"].reason
    clip_dir = tmp_path / "clip"
    clip_dir.mkdir()
    project = ws.update(guidance={"clip": str(clip_dir)})
    assert {s.name: s for s in generator_status(project)}["clip"].available


def test_ui_app_builds(tmp_path: Path) -> None:
    pytest.importorskip("gradio")
    from douga.ui.app import build_app

    app = build_app(tmp_path, name="proj")
    assert app.title == "douga studio"
